/**
 * An in-memory {@link EventStoreShape}: the reference backend for unit tests and simulations. It keeps the
 * same stored form as a durable backend — encoded payloads passed through a {@link PayloadSealer}, envelopes
 * with real chain hashes — so that code tested against it (codec, vault, projections, audit) meets the same
 * bytes it will meet on disk. It passes the same contract suite (`test/ports/event-store-contract.ts`).
 *
 * Durability is the life of the {@link MemoryLog}: a store opened again over the same log (after `close`)
 * sees everything, which lets the contract's reopen tests run here too. Like a data directory, a log is held
 * by one open store at a time (a second opener gets {@link StoreLocked}).
 *
 * @module
 */
import { Effect, Layer, Option, Stream } from "effect"
import { decodeEvent, encodeEvent } from "../events/codec.js"
import { computeEventHash, type Envelope, GENESIS_HASH, type StoredEvent } from "../events/envelope.js"
import { identitySealer, type PayloadSealer, payloadAad } from "../events/sealer.js"
import {
  EventCodecError,
  type StoreError,
  StoreLocked,
  StoreUnavailable,
  VaultError,
  WrongExpectedVersion,
} from "../model/index.js"
import {
  type AppendResult,
  EventStore,
  type EventStoreShape,
  type ExpectedVersion,
  type NewEvent,
  type RecordedEvent,
} from "../ports/event-store.js"

/** The data of an in-memory log, shared by the stores opened over it one after another. */
export interface MemoryLog {
  /** @internal */ readonly events: StoredEvent[]
  /** @internal stream → sequence of each version (index = version − 1). */
  readonly streams: Map<string, number[]>
  /** @internal event id → sequence. */
  readonly ids: Map<string, number>
  /** @internal whether an open store holds the log. */
  held: boolean
}

/** A new, empty in-memory log. */
export const makeMemoryLog = (): MemoryLog => ({
  events: [],
  streams: new Map(),
  ids: new Map(),
  held: false,
})

/** Options of {@link makeMemoryEventStore}. */
export interface MemoryEventStoreOptions {
  /** Seals payloads (e.g. the vault's AES-GCM sealer); identity by default. */
  readonly sealer?: PayloadSealer
  /** Epoch milliseconds for envelopes; `Date.now` by default. */
  readonly clock?: () => number
  /** Open over an existing log (a "reopen"); a fresh one by default. */
  readonly log?: MemoryLog
}

/** Events per chunk emitted by `readAll`, `readRaw` and `subscribe`. */
const PAGE = 512

const closedError = (): StoreUnavailable =>
  new StoreUnavailable({ reason: "closed", message: "the event store is closed" })

/** Turns what a codec or sealer threw into the typed failure, or a defect when it is not one of ours. */
const storeFailure = (e: unknown): Effect.Effect<never, StoreError> =>
  e instanceof EventCodecError || e instanceof VaultError ? Effect.fail(e) : Effect.die(e)

const conflict = (
  streamId: string,
  expected: ExpectedVersion,
  actual: number,
  message: string,
): WrongExpectedVersion =>
  new WrongExpectedVersion({ streamId, expected: expected === "any" ? -1 : expected, actual, message })

/**
 * Opens an in-memory event store.
 *
 * @returns fails with {@link StoreLocked} when `options.log` is held by another open store.
 */
export const makeMemoryEventStore = (
  options: MemoryEventStoreOptions = {},
): Effect.Effect<EventStoreShape, StoreLocked> =>
  Effect.suspend(() => {
    const log = options.log ?? makeMemoryLog()
    if (log.held) {
      return Effect.fail(
        new StoreLocked({ dataDir: "<memory>", message: "the in-memory log is already open" }),
      )
    }
    log.held = true
    return Effect.succeed(openStore(log, options.sealer ?? identitySealer, options.clock ?? Date.now))
  })

const openStore = (log: MemoryLog, sealer: PayloadSealer, clock: () => number): EventStoreShape => {
  let closed = false
  const waiters = new Set<() => void>()
  const wakeAll = (): void => {
    for (const wake of [...waiters]) wake()
  }

  const head = (): number => log.events.length
  const versionOf = (streamId: string): number => log.streams.get(streamId)?.length ?? 0

  /** Opens and decodes one stored event; throws the codec's or the sealer's typed error. */
  const decodeStored = (stored: StoredEvent): RecordedEvent => {
    const env = stored.envelope
    const bytes = sealer.open(stored.payload, payloadAad(env))
    return { envelope: env, event: decodeEvent(env.type, env.schemaVersion, bytes) }
  }

  /** The original positions of a retried batch, `"new"` when no id is stored, or a conflict message. */
  const checkIds = (streamId: string, events: ReadonlyArray<NewEvent>): AppendResult | "new" | string => {
    const seen = new Set<string>()
    let stored = 0
    for (const e of events) {
      if (seen.has(e.eventId)) return "an event id appears twice in the batch"
      seen.add(e.eventId)
      if (log.ids.has(e.eventId)) stored++
    }
    if (stored === 0) return "new"
    if (stored < events.length) return "the batch mixes stored and new event ids"
    const seqs = events.map((e) => log.ids.get(e.eventId)!)
    const first = log.events[seqs[0]! - 1]!.envelope
    for (let i = 0; i < seqs.length; i++) {
      const env = log.events[seqs[i]! - 1]!.envelope
      if (env.streamId !== streamId) return "an event id is already stored in another stream"
      if (env.streamVersion !== first.streamVersion + i)
        return "the stored event ids are not this batch, in order"
    }
    return {
      firstSequence: seqs[0]!,
      lastSequence: seqs[seqs.length - 1]!,
      streamVersion: first.streamVersion + seqs.length - 1,
      deduplicated: true,
    }
  }

  const append = (
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
  ): Effect.Effect<AppendResult, WrongExpectedVersion | StoreError> =>
    Effect.suspend((): Effect.Effect<AppendResult, WrongExpectedVersion | StoreError> => {
      if (closed) return Effect.fail(closedError())
      const current = versionOf(streamId)
      const ids = checkIds(streamId, events)
      if (typeof ids === "object") return Effect.succeed(ids)
      if (ids !== "new") return Effect.fail(conflict(streamId, expectedVersion, current, ids))
      if (expectedVersion !== "any" && expectedVersion !== current) {
        return Effect.fail(
          conflict(streamId, expectedVersion, current, "the stream is not at the expected version"),
        )
      }
      const start = head()
      if (events.length === 0) {
        return Effect.succeed({
          firstSequence: start + 1,
          lastSequence: start,
          streamVersion: current,
          deduplicated: false,
        })
      }
      // Build the whole batch first, then commit it in one step: a failure leaves nothing behind.
      const batch: StoredEvent[] = []
      try {
        const time = clock()
        let prevHash = log.events[start - 1]?.envelope.hash ?? GENESIS_HASH
        for (let i = 0; i < events.length; i++) {
          const { eventId, event } = events[i]!
          const encoded = encodeEvent(event)
          const fields: Omit<Envelope, "hash" | "prevHash"> = {
            sequence: start + 1 + i,
            streamId,
            streamVersion: current + 1 + i,
            eventId,
            type: encoded.type,
            schemaVersion: encoded.schemaVersion,
            time,
          }
          const payload = sealer.seal(encoded.bytes, payloadAad(fields))
          const hash = computeEventHash(prevHash, fields, payload)
          batch.push({ envelope: { ...fields, prevHash, hash }, payload })
          prevHash = hash
        }
      } catch (e) {
        return storeFailure(e)
      }
      let seqs = log.streams.get(streamId)
      if (seqs === undefined) {
        seqs = []
        log.streams.set(streamId, seqs)
      }
      for (const stored of batch) {
        log.events.push(stored)
        seqs.push(stored.envelope.sequence)
        log.ids.set(stored.envelope.eventId, stored.envelope.sequence)
      }
      wakeAll()
      return Effect.succeed({
        firstSequence: start + 1,
        lastSequence: start + events.length,
        streamVersion: current + events.length,
        deduplicated: false,
      })
    })

  const read = (streamId: string, fromVersion = 1): Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError> =>
    Effect.suspend((): Effect.Effect<ReadonlyArray<RecordedEvent>, StoreError> => {
      if (closed) return Effect.fail(closedError())
      const seqs = log.streams.get(streamId) ?? []
      try {
        return Effect.succeed(
          seqs.slice(Math.max(1, fromVersion) - 1).map((s) => decodeStored(log.events[s - 1]!)),
        )
      } catch (e) {
        return storeFailure(e)
      }
    })

  /**
   * Pages of events `[from, end]` read from the log by a cursor, so concurrent appends can neither be skipped
   * nor delivered twice. `end` undefined = follow the head for ever, waiting for appends when caught up.
   */
  const pages = <A>(
    fromSequence: number,
    end: (() => number) | undefined,
    get: (stored: StoredEvent) => A,
  ): Stream.Stream<A, StoreError> =>
    Stream.unwrap(
      Effect.sync(() => {
        const last = end?.()
        return Stream.paginate(Math.max(1, fromSequence), (cursor: number) =>
          Effect.suspend(
            (): Effect.Effect<readonly [ReadonlyArray<A>, Option.Option<number>], StoreError> => {
              if (closed) return Effect.fail(closedError())
              const upTo = Math.min(last ?? Number.POSITIVE_INFINITY, head(), cursor + PAGE - 1)
              if (upTo < cursor) {
                if (last !== undefined) return Effect.succeed([[], Option.none()] as const)
                return Effect.as(waitFor(cursor), [[], Option.some(cursor)] as const)
              }
              const out: A[] = []
              try {
                for (let s = cursor; s <= upTo; s++) out.push(get(log.events[s - 1]!))
              } catch (e) {
                return storeFailure(e)
              }
              const done = last !== undefined && upTo >= last
              return Effect.succeed([out, done ? Option.none() : Option.some(upTo + 1)] as const)
            },
          ),
        )
      }),
    )

  /** Waits until the log holds `sequence`, or fails when the store closes first. */
  const waitFor = (sequence: number): Effect.Effect<void, StoreUnavailable> =>
    Effect.callback<void, StoreUnavailable>((resume) => {
      if (closed) return resume(Effect.fail(closedError()))
      if (head() >= sequence) return resume(Effect.void)
      const wake = (): void => {
        if (!closed && head() < sequence) return
        waiters.delete(wake)
        resume(closed ? Effect.fail(closedError()) : Effect.void)
      }
      waiters.add(wake)
      return Effect.sync(() => {
        waiters.delete(wake)
      })
    })

  const guarded = <A>(f: () => A): Effect.Effect<A, StoreError> =>
    Effect.suspend(
      (): Effect.Effect<A, StoreError> => (closed ? Effect.fail(closedError()) : Effect.succeed(f())),
    )

  return {
    append,
    read,
    streamVersion: (streamId) => guarded(() => versionOf(streamId)),
    readAll: (fromSequence = 1) => pages(fromSequence, head, decodeStored),
    readRaw: (fromSequence = 1) => pages(fromSequence, head, (stored) => stored),
    subscribe: (fromSequence = 1) => pages(fromSequence, undefined, decodeStored),
    head: guarded(head),
    close: Effect.sync(() => {
      if (closed) return
      closed = true
      log.held = false
      wakeAll()
    }),
  }
}

/** An `EventStore` layer over a fresh in-memory log; the store closes with the layer's scope. */
export const memoryEventStoreLayer = (
  options: MemoryEventStoreOptions = {},
): Layer.Layer<EventStore, StoreLocked> =>
  Layer.effect(
    EventStore,
    Effect.acquireRelease(makeMemoryEventStore(options), (store) => store.close),
  )

/** The default in-memory `EventStore` layer (identity sealer, wall clock, fresh log). */
export const MemoryEventStoreLive: Layer.Layer<EventStore> = Layer.orDie(memoryEventStoreLayer())
