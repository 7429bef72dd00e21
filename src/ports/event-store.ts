/**
 * The `EventStore` service: the engine's single source of truth. Backends (in-memory, LevelDB, JetStream)
 * implement this contract and pass the same contract test suite (`test/ports/event-store-contract.ts`).
 *
 * Semantics every backend keeps:
 * - `append` is atomic across the events it is given and durable when it succeeds (the LevelDB backend
 *   acknowledges only after its group-commit batch is fsynced). An append that fails with anything but
 *   {@link WrongExpectedVersion} may have been stored all the same — a lost acknowledgement (JetStream), a
 *   write or fsync that failed after the bytes left — so its outcome is unknown: the caller re-reads the
 *   stream before relying on its version, and a retry with the same ids answers `deduplicated` if it landed.
 * - `expectedVersion` is the stream's current version (0 for a new stream) or `"any"`; a stale value fails
 *   with {@link WrongExpectedVersion} and appends nothing.
 * - Idempotent on event ids: appending events whose ids are all already stored, in the same stream and order,
 *   is a no-op that reports the original positions (`deduplicated: true`), whatever `expectedVersion` says.
 *   A batch mixing stored and new ids, or reusing an id in another stream, is a conflict.
 *   Conflicts of either kind fail with {@link WrongExpectedVersion} (as in EventStoreDB) and append nothing.
 * - An empty batch appends nothing but still checks `expectedVersion`; it answers
 *   `{ firstSequence: head + 1, lastSequence: head, streamVersion, deduplicated: false }`.
 * - One global sequence (1, 2, 3, … without gaps) across streams; `readAll`/`subscribe` deliver events in
 *   that order, and `subscribe` catches up from `fromSequence` then tails live, without gaps or duplicates.
 * - `close` is idempotent; afterwards every method fails with `StoreUnavailable("closed")`, and live
 *   subscriptions end with that failure.
 *
 * @module
 */
import { Context, type Effect, type Stream } from "effect"
import type { WalletEvent } from "../events/catalogue.js"
import type { Envelope, StoredEvent } from "../events/envelope.js"
import type { StoreError, WrongExpectedVersion } from "../model/index.js"

/** An event to append: the caller picks the id (its idempotency key). */
export interface NewEvent {
  readonly eventId: string
  readonly event: WalletEvent
}

/** A decoded event with its envelope. */
export interface RecordedEvent {
  readonly envelope: Envelope
  readonly event: WalletEvent
}

/** Where an append landed. */
export interface AppendResult {
  /** Global sequence of the first appended (or previously stored) event. */
  readonly firstSequence: number
  /** Global sequence of the last one. */
  readonly lastSequence: number
  /** The stream's version after the append; pass it as the next `expectedVersion`. */
  readonly streamVersion: number
  /** True when every id was already stored and nothing new was written. */
  readonly deduplicated: boolean
}

/** `0` = the stream must not exist yet; `n` = the stream must be at version n; `"any"` = no check. */
export type ExpectedVersion = number | "any"

/** The event store contract. */
export interface EventStoreShape {
  readonly append: (
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
  ) => Effect.Effect<AppendResult, WrongExpectedVersion | StoreError>
  /** Events of one stream from `fromVersion` (1-based, inclusive; default 1). */
  readonly read: (
    streamId: string,
    fromVersion?: number,
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError>
  /** The stream's current version (0 when it does not exist). */
  readonly streamVersion: (streamId: string) => Effect.Effect<number, StoreError>
  /** Every event from `fromSequence` (inclusive; default 1) up to the head at the time of the call. */
  readonly readAll: (fromSequence?: number) => Stream.Stream<RecordedEvent, StoreError>
  /** Stored (still encrypted) events, for chain checks without the passphrase. */
  readonly readRaw: (fromSequence?: number) => Stream.Stream<StoredEvent, StoreError>
  /** Catch up from `fromSequence`, then tail new events as they are appended; never ends by itself. */
  readonly subscribe: (fromSequence?: number) => Stream.Stream<RecordedEvent, StoreError>
  /** The last global sequence (0 for an empty log). */
  readonly head: Effect.Effect<number, StoreError>
  readonly close: Effect.Effect<void>
  /**
   * Optional: the backend's own structural check of everything the record stream does not show (e.g. the
   * LevelDB store's unhashed indexes against its records). The audit runs it after its pass over the log.
   */
  readonly verifyStructure?: Effect.Effect<unknown, StoreError>
}

/** The `EventStore` service key. */
export class EventStore extends Context.Service<EventStore, EventStoreShape>()("corecashu/EventStore") {}
