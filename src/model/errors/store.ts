/**
 * Tagged errors of the event log and the vault.
 *
 * @module
 */
import { Data } from "effect"

/** `append` was given an expected version that is no longer the stream's version (another writer won). */
export class WrongExpectedVersion extends Data.TaggedError("WrongExpectedVersion")<{
  readonly streamId: string
  readonly expected: number
  readonly actual: number
  readonly message: string
}> {}

/** Another process holds the data directory. */
export class StoreLocked extends Data.TaggedError("StoreLocked")<{
  readonly dataDir: string
  readonly message: string
}> {}

/** The log on disk is damaged (torn tail that cannot be recovered, broken chain, undecodable record). */
export class StoreCorrupted extends Data.TaggedError("StoreCorrupted")<{
  /** The first sequence number that is missing or invalid. */
  readonly firstBadSequence: number
  readonly message: string
}> {}

/**
 * The store was used after `close`, or an I/O operation failed. `in-doubt` (raised by the engine, not by a
 * store): an append whose outcome is not known — the store failed after it may have written it — so it
 * **may have been recorded or not**; repeating the call is safe (the wallet's stream is re-read first).
 */
export class StoreUnavailable extends Data.TaggedError("StoreUnavailable")<{
  readonly reason: "closed" | "io" | "in-doubt"
  readonly message: string
}> {}

/** An event's payload could not be encoded or decoded (unknown type, unknown version, bad bytes). */
export class EventCodecError extends Data.TaggedError("EventCodecError")<{
  readonly type: string
  readonly schemaVersion: number
  readonly message: string
}> {}

/** The vault could not seal or open data. */
export class VaultError extends Data.TaggedError("VaultError")<{
  readonly reason: "wrong-key" | "tampered" | "bad-parameters" | "missing-key"
  readonly message: string
}> {}

/** Every error an event-store operation can fail with. */
/** A serialised projection state could not be read back (wrong projection or version, malformed bytes). */
export class ProjectionStateError extends Data.TaggedError("ProjectionStateError")<{
  readonly projection: string
  readonly message: string
}> {}

/** Every tagged error of the event store and the vault. */
export type StoreError = StoreLocked | StoreCorrupted | StoreUnavailable | EventCodecError | VaultError
