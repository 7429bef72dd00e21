/**
 * What an operation's own events say about it: the request (`OperationStarted`), the durable intent
 * (`OperationPrepared`: inputs, outputs, exact request bytes), how many attempts left and when the first one
 * did. The live path builds it as it appends; recovery rebuilds it from the log — the same finalisation and
 * compensation code then serves both, so a recovered operation ends exactly as an uninterrupted one would.
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationCompleted, OperationPrepared, OperationStarted } from "../../events/catalogue.js"
import type { RecordedEvent } from "../../events/store.js"
import { EngineInvariant } from "../errors.js"
import type { WalletRuntime } from "../runtime.js"

/** An operation as its events describe it. */
export interface OpContext {
  readonly operationId: string
  readonly started: OperationStarted
  /** Absent until the intent was appended. */
  readonly prepared: OperationPrepared | undefined
  /** Request attempts recorded so far (0: nothing left). */
  readonly attempts: number
  /** When attempt 1 was recorded (epoch ms): the NUT-19 replay window starts here. */
  readonly firstSentAt: number | undefined
  /** Recovery attempts recorded so far. */
  readonly recoveries: number
  /** Pending/requested appends recorded so far (numbers the next `pending` step's event ids). */
  readonly pendings: number
  readonly ended: "completed" | "compensated" | undefined
}

/** Folds an operation's recorded events into its context. */
export const opContextOf = (
  operationId: string,
  events: ReadonlyArray<RecordedEvent>,
): OpContext | undefined => {
  let started: OperationStarted | undefined
  let prepared: OperationPrepared | undefined
  let attempts = 0
  let firstSentAt: number | undefined
  let recoveries = 0
  let pendings = 0
  let ended: OpContext["ended"]
  for (const r of events) {
    const e = r.event
    if (!("operationId" in e) || e.operationId !== operationId) continue
    switch (e._tag) {
      case "OperationStarted":
        started = e
        break
      case "OperationPrepared":
        prepared = e
        break
      case "OperationRequested":
        attempts = Math.max(attempts, e.attempt)
        if (e.attempt === 1) firstSentAt = r.envelope.time
        break
      case "OperationRecovering":
        recoveries = Math.max(recoveries, e.attempt)
        break
      case "OperationPending":
        pendings++
        break
      case "OperationCompleted":
        ended = "completed"
        break
      case "OperationCompensated":
        ended = "compensated"
        break
    }
  }
  if (started === undefined) return undefined
  return { operationId, started, prepared, attempts, firstSentAt, recoveries, pendings, ended }
}

/** Loads an operation's context from the wallet's log. */
export const loadOpContext = (
  rt: WalletRuntime,
  operationId: string,
): Effect.Effect<OpContext, EngineInvariant> =>
  rt.operationEvents(operationId).pipe(
    Effect.flatMap((events) => {
      const ctx = opContextOf(operationId, events)
      return ctx === undefined
        ? Effect.fail(
            new EngineInvariant({ message: `operation ${operationId} has no OperationStarted event` }),
          )
        : Effect.succeed(ctx)
    }),
  )

/** The mint URL and unit every started operation names (checkstate and restore have no unit). */
export const opMint = (
  s: OperationStarted,
): { readonly mintUrl: string; readonly unit: string | undefined } =>
  s.kind === "restore" || s.kind === "checkstate"
    ? { mintUrl: s.mintUrl, unit: undefined }
    : { mintUrl: s.mintUrl, unit: s.unit }

/** The operation's `OperationCompleted` event, when it has one (e.g. when recovery finished it first). */
export const loadCompleted = (
  rt: WalletRuntime,
  operationId: string,
): Effect.Effect<OperationCompleted | undefined, EngineInvariant> =>
  rt
    .operationEvents(operationId)
    .pipe(
      Effect.map(
        (events) =>
          events.map((r) => r.event).find((e): e is OperationCompleted => e._tag === "OperationCompleted") ??
          undefined,
      ),
    )
