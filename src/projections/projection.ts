/**
 * The shape every projection has: a pure fold over the log (Emmett-style `initial` + `evolve`), with
 * canonical bytes so that two states compare byte for byte and can be checkpointed.
 *
 * Rules every projection keeps:
 * - `evolve` is pure and total: it reads only its arguments, never throws, and returns the state unchanged
 *   (the very same object) for events it does not follow. A transition the audit would flag (e.g. a reserve
 *   of a spent proof) is ignored, deterministically, so a damaged log still folds.
 * - States are immutable to their holders (maps are {@link PMap}s), so a state handed out stays valid.
 * - `serialize` is canonical and `deserialize(serialize(s))` evolves exactly like `s`.
 * - Wallets are keyed by their stream id (`wallet/<id>`, see `../events/ids.ts`), as the envelope names them.
 *
 * @module
 */
import { ProjectionStateError } from "../model/index.js"
import type { RecordedEvent } from "../ports/event-store.js"

/** A pure fold over the event log. */
export interface Projection<S> {
  /** A stable name (checkpoint key). */
  readonly name: string
  /** Bumped whenever `evolve` or the serialised form changes: older checkpoints are then ignored. */
  readonly version: number
  /** The state before any event. */
  readonly initial: S
  /** The state after `event`. Pure and total. */
  readonly evolve: (state: S, event: RecordedEvent) => S
  /**
   * Optional batch fold: the state after `events` (in log order), exactly what folding `evolve` over them
   * gives, but cheaper (one new version per map per batch). Pure and total like `evolve`: `state` stays what
   * it was. Used for catch-up and rebuild, where events come a page at a time.
   */
  readonly evolveMany?: (state: S, events: ReadonlyArray<RecordedEvent>) => S
  /** Canonical bytes of `state` (see `./canonical.ts`). */
  readonly serialize: (state: S) => Uint8Array
  /** The state `serialize` wrote. Throws {@link ProjectionStateError} on bytes it did not write. */
  readonly deserialize: (bytes: Uint8Array) => S
}

/** Any projection, whatever its state type. */
// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of projections needs an existential state type
export type AnyProjection = Projection<any>

/** Folds a page of `events` into `state` with `projection`, in one batch when the projection has one. */
export const foldPage = <S>(projection: Projection<S>, state: S, events: ReadonlyArray<RecordedEvent>): S => {
  if (events.length === 0) return state
  if (projection.evolveMany !== undefined) return projection.evolveMany(state, events)
  let s = state
  for (const e of events) s = projection.evolve(s, e)
  return s
}

/** Folds `events` into `state` with `projection`. */
export const foldEvents = <S>(projection: Projection<S>, state: S, events: Iterable<RecordedEvent>): S => {
  let s = state
  for (const e of events) s = projection.evolve(s, e)
  return s
}
