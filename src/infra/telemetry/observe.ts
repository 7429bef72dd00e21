/**
 * What an engine observes of its own I/O, without touching the stores or the mint client inside: wrappers
 * around the `EventStore`, the `CheckpointStore` and the `MintClient` that time each call, record the Effect
 * metrics below, and keep a small per-engine {@link Observations} record that `engine.health()` reads.
 *
 * Metrics (labels are bounded: operation kind, outcome, error tag, mint origin; never a wallet id, quote id,
 * path, token or amount):
 *
 * - `corecashu_operations_started_total{kind}`: operations started (their `OperationStarted` appended).
 * - `corecashu_operations_total{kind, outcome}`: operations ended, `outcome` = `completed` | `compensated`.
 * - `corecashu_operation_duration_seconds{kind, outcome}`: start to end, for operations this process started.
 * - `corecashu_log_append_duration_seconds{outcome}`: one append to the log (fsync or server ack included);
 *   `outcome` = `ok` or the error tag.
 * - `corecashu_log_append_events`: events per successful append (the group size).
 *
 * The counters are counted from the events appended, so recovery's settlements count like the rest; an
 * append that turned out to be a duplicate (`deduplicated`) counts nothing.
 *
 * @module
 */
import { Duration, Effect, Exit, Metric } from "effect"
import type { MintCallError } from "../../model/index.js"
import type { EventStoreShape, NewEvent } from "../../ports/event-store.js"
import type { MintClientShape } from "../../ports/mint-client.js"
import type { CheckpointStore } from "../../projections/checkpoint.js"
import { mintOrigin } from "../mint-client/telemetry.js"

/** Operations started, by kind. */
export const operationsStarted = Metric.counter("corecashu_operations_started_total", {
  description: "Operations started, by kind",
  incremental: true,
})

/** Operations ended, by kind and outcome. */
export const operationsEnded = Metric.counter("corecashu_operations_total", {
  description: "Operations ended, by kind and outcome (completed or compensated)",
  incremental: true,
})

/** Operation duration from start to end (operations started by this process). */
export const operationDuration = Metric.histogram("corecashu_operation_duration_seconds", {
  description: "Operation duration from start to end, seconds (operations started by this process)",
  boundaries: Metric.exponentialBoundaries({ start: 0.005, factor: 2, count: 20 }),
})

/** Latency of one log append. */
export const logAppendDuration = Metric.histogram("corecashu_log_append_duration_seconds", {
  description: "Log append latency (durable: fsync or server ack), seconds, by outcome",
  boundaries: Metric.exponentialBoundaries({ start: 0.0005, factor: 2, count: 16 }),
})

/** Events per append. */
export const logAppendEvents = Metric.histogram("corecashu_log_append_events", {
  description: "Events per successful log append (group size)",
  boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 12 }),
})

/** What one mint's calls showed this engine. */
export interface MintObservation {
  /** The mint's origin (`https://mint.example`). */
  readonly mint: string
  /** When the last call ended (epoch ms). */
  readonly lastCallAt: number
  /** `ok` or the error tag of the last call. */
  readonly lastOutcome: string
  /** For `MintNotSent`: why (`circuit-open`, `rate-limited`, `invalid-request`). */
  readonly lastNotSentReason: string | undefined
  /** When a call last got an answer from the mint (epoch ms). */
  readonly lastAnsweredAt: number | undefined
  /** Whether the last call that said anything about it found the mint up. */
  readonly reachable: boolean | undefined
  /** Calls in a row that found the mint down (no answer, timeout, 5xx, open circuit). */
  readonly consecutiveFailures: number
}

/** A per-engine record of what its log, checkpoints and mint calls showed; read by `engine.health()`. */
export class Observations {
  /** Last successful append (epoch ms). */
  lastAppendOkAt: number | undefined
  /** Last failed append: when and its error tag (a `WrongExpectedVersion` is a decision race, not counted). */
  lastAppendError: { readonly at: number; readonly tag: string } | undefined
  /** Last checkpoint saved by this engine: when, and the sequence of the projection saved last. */
  lastCheckpointSave: { readonly at: number; readonly sequence: number } | undefined
  /** Last checkpoint save that failed. */
  lastCheckpointError: { readonly at: number; readonly tag: string } | undefined
  /** The lowest sequence of the checkpoints loaded at open (0: none loaded). */
  checkpointLoadedSequence: number | undefined
  readonly mints = new Map<string, MintObservation>()
  /** Start time (epoch ms) of operations this process started and that have not ended, by operation id. */
  readonly started = new Map<string, number>()

  constructor(readonly now: () => number) {}
}

const tagOf = (cause: unknown): string =>
  typeof cause === "object" && cause !== null && "_tag" in cause ? String(cause._tag) : "defect"

const failureTag = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  if (Exit.hasInterrupts(exit)) return "interrupted"
  const fail = exit.cause.reasons.find((r) => r._tag === "Fail")
  return fail === undefined ? "defect" : tagOf((fail as { readonly error: unknown }).error)
}

/** Counts the operation events of one stored (not deduplicated) append. */
const countOperations = (obs: Observations, events: ReadonlyArray<NewEvent>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const updates: Array<Effect.Effect<void>> = []
    for (const { event: e } of events) {
      if (e._tag === "OperationStarted") {
        obs.started.set(e.operationId, obs.now())
        updates.push(Metric.update(Metric.withAttributes(operationsStarted, { kind: e.kind }), 1))
      } else if (e._tag === "OperationCompleted" || e._tag === "OperationCompensated") {
        const outcome = e._tag === "OperationCompleted" ? "completed" : "compensated"
        const labels = { kind: e.kind, outcome }
        updates.push(Metric.update(Metric.withAttributes(operationsEnded, labels), 1))
        const at = obs.started.get(e.operationId)
        if (at !== undefined) {
          obs.started.delete(e.operationId)
          const seconds = Math.max(0, obs.now() - at) / 1000
          updates.push(Metric.update(Metric.withAttributes(operationDuration, labels), seconds))
        }
      }
    }
    return updates.length === 0 ? Effect.void : Effect.asVoid(Effect.all(updates))
  })

/**
 * The store with its appends timed and counted (latency, group size, operations) and their outcome kept in
 * `obs`. Everything else passes through; the store's other fields (sealer, sync…) are kept.
 */
export const observeStore = <S extends EventStoreShape>(store: S, obs: Observations): S => ({
  ...store,
  append: (streamId, expectedVersion, events) =>
    Effect.timed(Effect.exit(store.append(streamId, expectedVersion, events))).pipe(
      Effect.flatMap(([duration, exit]) => {
        const outcome = failureTag(exit)
        if (Exit.isSuccess(exit)) obs.lastAppendOkAt = obs.now()
        else if (outcome !== "WrongExpectedVersion" && outcome !== "interrupted")
          obs.lastAppendError = { at: obs.now(), tag: outcome }
        return Effect.all([
          Metric.update(Metric.withAttributes(logAppendDuration, { outcome }), Duration.toSeconds(duration)),
          Exit.isSuccess(exit) && !exit.value.deduplicated
            ? Effect.andThen(Metric.update(logAppendEvents, events.length), countOperations(obs, events))
            : Effect.void,
        ]).pipe(Effect.andThen(exit))
      }),
    ),
})

/** The checkpoint store with its loads and saves noted in `obs` (checkpoint age and position). */
export const observeCheckpoints = (checkpoints: CheckpointStore, obs: Observations): CheckpointStore => ({
  load: (projection) =>
    Effect.tap(checkpoints.load(projection), (c) =>
      Effect.sync(() => {
        const s = c?.sequence ?? 0
        obs.checkpointLoadedSequence = Math.min(obs.checkpointLoadedSequence ?? s, s)
      }),
    ),
  save: (checkpoint) =>
    checkpoints.save(checkpoint).pipe(
      Effect.tapError((e) => Effect.sync(() => (obs.lastCheckpointError = { at: obs.now(), tag: e._tag }))),
      Effect.tap(() =>
        Effect.sync(() => {
          obs.lastCheckpointSave = { at: obs.now(), sequence: checkpoint.sequence }
        }),
      ),
    ),
  remove: (projection) => checkpoints.remove(projection),
})

/** Whether an error says the mint is down (`false`), up (`true`), or nothing about it (`undefined`). */
const reachability = (error: MintCallError): boolean | undefined => {
  switch (error._tag) {
    case "MintUnreachable":
    case "MintTimeout":
      return false
    case "MintNotSent":
      return error.reason === "circuit-open" ? false : undefined
    case "MintRejected":
    case "MintAmbiguous":
      return error.status < 500
    default:
      return true
  }
}

const noteMintCall = <A>(obs: Observations, mintUrl: string, exit: Exit.Exit<A, MintCallError>): void => {
  const mint = mintOrigin(mintUrl)
  const prev = obs.mints.get(mint)
  const at = obs.now()
  if (Exit.hasInterrupts(exit)) return
  let error: MintCallError | undefined
  if (Exit.isFailure(exit)) {
    const fail = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (fail === undefined) return
    error = (fail as { readonly error: MintCallError }).error
  }
  const up = error === undefined ? true : reachability(error)
  obs.mints.set(mint, {
    mint,
    lastCallAt: at,
    lastOutcome: error === undefined ? "ok" : error._tag,
    lastNotSentReason: error?._tag === "MintNotSent" ? error.reason : undefined,
    lastAnsweredAt: up === true ? at : prev?.lastAnsweredAt,
    reachable: up ?? prev?.reachable,
    consecutiveFailures:
      up === false
        ? (prev?.consecutiveFailures ?? 0) + 1
        : up === true
          ? 0
          : (prev?.consecutiveFailures ?? 0),
  })
}

/** The mint client with the outcome of every call noted in `obs` per mint origin (nothing else changes). */
export const observeMintClient = (client: MintClientShape, obs: Observations): MintClientShape => {
  const wrapped: Record<string, unknown> = {}
  for (const [name, fn] of Object.entries(client)) {
    if (typeof fn !== "function") {
      wrapped[name] = fn
      continue
    }
    wrapped[name] = (mintUrl: string, ...rest: unknown[]) =>
      Effect.onExit(
        (fn as (url: string, ...args: unknown[]) => Effect.Effect<unknown, MintCallError>)(mintUrl, ...rest),
        (exit) => Effect.sync(() => noteMintCall(obs, mintUrl, exit)),
      )
  }
  return wrapped as unknown as MintClientShape
}
