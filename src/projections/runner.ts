/**
 * Keeps projections up to date from the live subscription of the {@link EventStore}, with checkpoints.
 *
 * Opening loads each projection's checkpoint (of the same projection version), after checking it against
 * the log: a sealed checkpoint past the head, or naming another event at its sequence, proves a rollback
 * or a rewrite and fails the open with `StoreCorrupted`. It then subscribes from the oldest
 * checkpoint's next sequence, and returns once every projection has caught up with the head as it was at
 * open. From then on a background fiber folds each new event into every projection; `awaitSequence` lets a
 * writer wait until its own append is visible. Checkpoints are written every `checkpointEvery` events (and
 * at least a quarter of the log's length since the last save), on demand, and when the scope closes; none
 * during the catch-up of open. `rebuild` discards every state and folds the whole log again.
 *
 * Why the spacing (issue #15): a save serialises every projection's whole state, which grows with the log.
 * Saving every fixed number of events made a catch-up of N events cost O(N²) (a cold open of a 100k-event
 * log spent 9 of its 14 s saving ten checkpoints); spaced by a fraction of the log, the saves of a log's
 * whole life cost O(N), and the catch-up of open none — its state is saved by the next save, or at close.
 *
 * States are immutable (see `./pmap.ts`): `state(p)` may be read at any time, and a state read earlier stays
 * what it was.
 *
 * @module
 */
import { Deferred, Effect, Fiber, type Scope, Stream } from "effect"
import { GENESIS_HASH } from "../events/envelope.js"
import { StoreCorrupted, type StoreError, type StoreUnavailable, type VaultError } from "../model/index.js"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../ports/event-store.js"
import type { CheckpointStore } from "./checkpoint.js"
import { type AnyProjection, foldPage, type Projection } from "./projection.js"

/** Options of {@link startProjectionRunner}. */
export interface RunnerOptions {
  readonly projections: ReadonlyArray<AnyProjection>
  /** Where checkpoints are loaded from and saved to; none: every open replays the log. */
  readonly checkpoints?: CheckpointStore
  /**
   * Save checkpoints after this many events since the last save, and at least a quarter of the log's length
   * (default 50,000; 0: only on demand). Never during the catch-up of open.
   */
  readonly checkpointEvery?: number
}

/** A running set of projections. */
export interface ProjectionRunner {
  /** The current state of `projection` (one of those the runner was started with). */
  readonly state: <S>(projection: Projection<S>) => S
  /** The last sequence folded into every projection. */
  readonly position: () => number
  /** Waits until every projection has folded `sequence` (fails if the subscription failed). */
  readonly awaitSequence: (sequence: number) => Effect.Effect<void, StoreError>
  /** Saves a checkpoint of every projection now. */
  readonly checkpoint: Effect.Effect<void, StoreUnavailable | VaultError>
  /** Folds the whole log again from empty states, then resumes the live fold. */
  readonly rebuild: Effect.Effect<void, StoreError>
}

interface Slot {
  readonly projection: AnyProjection
  state: unknown
  sequence: number
  hash: string
  /** The sequence of the last checkpoint saved (or loaded). */
  saved: number
}

/**
 * Checks that a sealed checkpoint at `sequence` with `hash` belongs to this log. A checkpoint is written only
 * from events already durable in the log, so one that names a sequence past the head, or another event at
 * its sequence, proves that the log was rolled back or rewritten: that fails with `StoreCorrupted` (never a
 * quiet rebuild from the shorter log, which would hide lost events).
 */
const checkAgainstLog = (
  store: EventStoreShape,
  name: string,
  sequence: number,
  hash: string,
  head: number,
): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (sequence === 0) {
      if (hash === GENESIS_HASH) return
      return yield* new StoreCorrupted({
        firstBadSequence: 0,
        message: `the checkpoint of projection ${name} is malformed`,
      })
    }
    if (sequence > head)
      return yield* new StoreCorrupted({
        firstBadSequence: head + 1,
        message:
          `the log ends at sequence ${head}, but the sealed checkpoint of projection ${name} was taken at ` +
          `${sequence}: events the log held were rolled back or cut`,
      })
    const first = yield* Stream.runHead(Stream.take(store.readRaw(sequence), 1))
    if (
      first._tag === "Some" &&
      first.value.envelope.sequence === sequence &&
      first.value.envelope.hash === hash
    )
      return
    return yield* new StoreCorrupted({
      firstBadSequence: sequence,
      message: `event ${sequence} is not the one the sealed checkpoint of projection ${name} recorded`,
    })
  })

/**
 * Starts the projections: loads checkpoints, catches up with the head and keeps folding live events until
 * the scope closes (a last checkpoint is then saved, best effort).
 */
export const startProjectionRunner = (
  opts: RunnerOptions,
): Effect.Effect<ProjectionRunner, StoreError, EventStore | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const scope = yield* Effect.scope
    const every = opts.checkpointEvery ?? 50_000
    const names = new Set<string>()
    for (const p of opts.projections) {
      if (names.has(p.name)) return yield* Effect.die(new Error(`two projections are named ${p.name}`))
      names.add(p.name)
    }

    const head = yield* store.head
    const slots: Slot[] = []
    for (const projection of opts.projections) {
      const slot: Slot = { projection, state: projection.initial, sequence: 0, hash: GENESIS_HASH, saved: 0 }
      const cp = opts.checkpoints === undefined ? undefined : yield* opts.checkpoints.load(projection.name)
      // Whatever its version, a checkpoint that opened is evidence of where the log once was.
      if (cp !== undefined) yield* checkAgainstLog(store, projection.name, cp.sequence, cp.hash, head)
      if (cp !== undefined && cp.version === projection.version) {
        try {
          slot.state = projection.deserialize(cp.state)
          slot.sequence = cp.sequence
          slot.hash = cp.hash
          slot.saved = cp.sequence
        } catch {
          yield* Effect.logWarning(`checkpoint of projection ${projection.name} is unreadable; rebuilding`)
        }
      }
      slots.push(slot)
    }

    let position = Math.min(...slots.map((s) => s.sequence), head)
    let failure: StoreError | undefined
    let waiters: Array<{ readonly sequence: number; readonly done: Deferred.Deferred<void, StoreError> }> = []
    let sinceSave = 0
    let catchingUp = true

    const notify = () => {
      if (waiters.length === 0) return
      const keep: typeof waiters = []
      for (const w of waiters) {
        if (failure !== undefined) Deferred.doneUnsafe(w.done, Effect.fail(failure))
        else if (w.sequence <= position) Deferred.doneUnsafe(w.done, Effect.void)
        else keep.push(w)
      }
      waiters = keep
    }

    const saveAll: Effect.Effect<void, StoreUnavailable | VaultError> = Effect.suspend(() => {
      const cps = opts.checkpoints
      if (cps === undefined) return Effect.void
      return Effect.forEach(
        slots,
        (s) => {
          if (s.saved === s.sequence) return Effect.void
          const cp = {
            projection: s.projection.name,
            version: s.projection.version,
            sequence: s.sequence,
            hash: s.hash,
            state: s.projection.serialize(s.state),
          }
          return Effect.tap(cps.save(cp), () => Effect.sync(() => (s.saved = cp.sequence)))
        },
        { discard: true },
      )
    })

    // A page at a time: each projection folds the part of the page past its own sequence in one batch
    // (`foldPage`), which is what makes catch-up and rebuild cheap. Pages are in log order.
    const apply = (events: ReadonlyArray<RecordedEvent>) => {
      const last = events[events.length - 1]
      if (last === undefined) return
      for (const s of slots) {
        let from = 0
        while (from < events.length && events[from]!.envelope.sequence <= s.sequence) from++
        if (from === events.length) continue
        s.state = foldPage(s.projection, s.state, from === 0 ? events : events.slice(from))
        s.sequence = last.envelope.sequence
        s.hash = last.envelope.hash
      }
      position = Math.max(position, last.envelope.sequence)
      sinceSave += events.length
      notify()
    }

    const live = (from: number) =>
      Stream.runForEachArray(store.subscribe(from), (events) =>
        Effect.suspend(() => {
          apply(events)
          // The catch-up of open saves nothing: the events it folded count from when it reached the head.
          if (catchingUp) {
            if (position < head) return Effect.void
            catchingUp = false
            sinceSave = position - head
          }
          if (every > 0 && sinceSave >= Math.max(every, Math.floor(position / 4))) {
            sinceSave = 0
            return Effect.catch(saveAll, (e) =>
              Effect.logWarning(`saving projection checkpoints failed: ${e.message}`),
            )
          }
          return Effect.void
        }),
      ).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            failure = e
            notify()
          }),
        ),
      )

    let fiber = yield* Effect.forkIn(live(position + 1), scope)
    yield* Effect.addFinalizer(() => Effect.flatMap(Fiber.interrupt(fiber), () => Effect.ignore(saveAll)))

    const awaitSequence = (sequence: number): Effect.Effect<void, StoreError> =>
      Effect.suspend(() => {
        if (failure !== undefined) return Effect.fail(failure)
        if (sequence <= position) return Effect.void
        const done = Deferred.makeUnsafe<void, StoreError>()
        waiters.push({ sequence, done })
        return Deferred.await(done)
      })

    const rebuild: Effect.Effect<void, StoreError> = Effect.gen(function* () {
      yield* Fiber.interrupt(fiber)
      for (const s of slots) {
        s.state = s.projection.initial
        s.sequence = 0
        s.hash = GENESIS_HASH
        s.saved = -1
      }
      position = 0
      failure = undefined
      yield* Stream.runForEachArray(store.readAll(1), (events) => Effect.sync(() => apply(events))).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            failure = e
            notify()
          }),
        ),
      )
      sinceSave = 0
      yield* Effect.catch(saveAll, (e) =>
        Effect.logWarning(`saving projection checkpoints failed: ${e.message}`),
      )
      fiber = yield* Effect.forkIn(live(position + 1), scope)
    })

    // Opening returns once the head at open time is folded.
    yield* awaitSequence(head)

    const byProjection = new Map(slots.map((s) => [s.projection as AnyProjection, s]))
    return {
      state: <S>(projection: Projection<S>): S => {
        const s = byProjection.get(projection)
        if (s === undefined) throw new Error(`projection ${projection.name} is not run by this runner`)
        return s.state as S
      },
      position: () => position,
      awaitSequence,
      checkpoint: saveAll,
      rebuild,
    }
  })
