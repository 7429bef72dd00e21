/**
 * Checkpoints of projection states: a projection's serialised state with the sequence (and that event's
 * hash) it reflects, so opening resumes from there instead of replaying the whole log.
 *
 * A checkpoint is a cache, never a source of truth: one that cannot be read, was written by another version,
 * or does not match the log (its sequence is past the head, or the event there has another hash) is dropped
 * and the projection rebuilds from the log.
 *
 * Checkpoints hold secrets (the backup projection holds mnemonics, the proofs projection proof secrets), so
 * a store only writes through a sealer — the vault — and never writes plaintext. The store on disk is
 * `../infra/checkpoint-file-store.ts`.
 *
 * @module
 */
import { Effect } from "effect"
import type { StoreUnavailable, VaultError } from "../model/index.js"

/** A projection's state at a position of the log. */
export interface Checkpoint {
  readonly projection: string
  readonly version: number
  /** The last sequence folded into `state` (0: none). */
  readonly sequence: number
  /** The hash of the event at `sequence` (the genesis hash for 0): ties the checkpoint to this log. */
  readonly hash: string
  /** The projection's canonical bytes. */
  readonly state: Uint8Array
}

/** Where checkpoints are kept. */
export interface CheckpointStore {
  /** The last checkpoint saved for `projection`, or undefined (none, or unreadable: dropped). */
  readonly load: (projection: string) => Effect.Effect<Checkpoint | undefined, StoreUnavailable>
  /** Replaces the checkpoint of `checkpoint.projection`. */
  readonly save: (checkpoint: Checkpoint) => Effect.Effect<void, StoreUnavailable | VaultError>
  /** Forgets the checkpoint of `projection`. */
  readonly remove: (projection: string) => Effect.Effect<void, StoreUnavailable>
}

/** Seals and opens bytes with associated data (the vault's `VaultShape` is one); both throw `VaultError`. */
export interface CheckpointSealer {
  readonly seal: (plaintext: Uint8Array, aad: Uint8Array) => Uint8Array
  readonly open: (sealed: Uint8Array, aad: Uint8Array) => Uint8Array
}

/** Checkpoints in memory (tests, and processes that do not persist projections). */
export const memoryCheckpointStore = (): CheckpointStore => {
  const saved = new Map<string, Checkpoint>()
  return {
    load: (projection) => Effect.sync(() => saved.get(projection)),
    save: (c) => Effect.sync(() => void saved.set(c.projection, { ...c, state: Uint8Array.from(c.state) })),
    remove: (projection) => Effect.sync(() => void saved.delete(projection)),
  }
}
