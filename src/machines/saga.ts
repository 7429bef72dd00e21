/**
 * The shape every operation saga shares, and the builder of its xstate v5 machine.
 *
 * An operation's events (`OperationPrepared … OperationRecovering`, catalogue) move it through these states:
 *
 * ```
 *  started ─Prepared─► prepared ─Requested(1)─► requested ─Signed─► signed ─Completed─► completed
 *     │                   │                        │   ▲  └Pending(ambiguous)─► ambiguous ─┐
 *     │                   │                        │   └──Requested(n+1) replay ◄──────────┤
 *     └──Compensated──────┴──Compensated──►        │      Pending(payment-pending) (melt) ─► paymentPending
 *        (nothing left: cancelled, …)   compensated ◄── Compensated(definitive answer)
 *                                                      Recovering(recovered)   ─► recovered ─► signed | completed
 *                                                      Recovering(compensated) ─► compensating ─► compensated
 * ```
 *
 * - **Before any request** (`started`, `prepared`) compensating is always safe: nothing left the wallet.
 * - **After a request** inputs are released only on a definitive outcome: the mint's direct definitive
 *   answer (`requested` → `compensated`, e.g. `rejected`), or a recovery that found the request had no
 *   effect (`Recovering{outcome: compensated}` → `compensating` → `compensated`). An ambiguous failure
 *   (`ambiguous`) can never be compensated directly: the mint may have applied it.
 * - A replay (`Requested` attempt n+1, byte-identical) is legal only once attempt n left and its outcome is
 *   unknown; attempts are numbered 1, 2, 3… without gaps.
 * - `recovered` and `compensating` are what recovery found but has not yet recorded the effect of; a crash
 *   there re-runs recovery, so they accept whatever a new recovery pass finds.
 * - `completed` and `compensated` are final: nothing follows them.
 *
 * Each kind (`./swap.ts`, `./mint.ts`, …) is this skeleton plus a `SagaSpec`: which optional paths it has
 * and which compensation reasons each state admits.
 *
 * @module
 */

import { assign, setup } from "xstate"
import type {
  OperationCompensated,
  OperationCompleted,
  OperationPending,
  OperationPrepared,
  OperationRecovering,
  OperationRequested,
  OperationSigned,
  OperationStarted,
} from "../events/catalogue.js"
import type { CompensationReason, OperationKind } from "../model/index.js"

/** Where a saga stands (see the module diagram). */
export type SagaState =
  | "started"
  | "prepared"
  | "requested"
  | "ambiguous"
  | "paymentPending"
  | "recovered"
  | "compensating"
  | "signed"
  | "completed"
  | "compensated"

/** Every saga state, in diagram order. */
export const SAGA_STATES: ReadonlyArray<SagaState> = [
  "started",
  "prepared",
  "requested",
  "ambiguous",
  "paymentPending",
  "recovered",
  "compensating",
  "signed",
  "completed",
  "compensated",
]

/** Every operation event of the catalogue. */
export type OperationEvent =
  | OperationStarted
  | OperationPrepared
  | OperationRequested
  | OperationSigned
  | OperationPending
  | OperationCompleted
  | OperationCompensated
  | OperationRecovering

/** The tag of an operation event. */
export type OperationEventTag = OperationEvent["_tag"]

/** Every operation event tag, in catalogue order. */
export const OPERATION_EVENT_TAGS: ReadonlyArray<OperationEventTag> = [
  "OperationStarted",
  "OperationPrepared",
  "OperationRequested",
  "OperationSigned",
  "OperationPending",
  "OperationCompleted",
  "OperationCompensated",
  "OperationRecovering",
]

const OPERATION_TAG_SET: ReadonlySet<string> = new Set(OPERATION_EVENT_TAGS)

/** True for the operation events (the events a saga machine folds). */
export const isOperationEvent = (e: { readonly _tag: string }): e is OperationEvent =>
  OPERATION_TAG_SET.has(e._tag)

/** A saga step as the machine sees it: the fields of the event that decide legality, nothing else. */
export type SagaEvent =
  | { readonly type: "OperationPrepared" }
  | { readonly type: "OperationRequested"; readonly attempt: number }
  | { readonly type: "OperationSigned" }
  | { readonly type: "OperationPending"; readonly reason: OperationPending["reason"] }
  | { readonly type: "OperationCompleted" }
  | { readonly type: "OperationCompensated"; readonly reason: CompensationReason }
  | {
      readonly type: "OperationRecovering"
      readonly step: OperationRecovering["step"]
      readonly outcome: OperationRecovering["outcome"]
    }

/** The machine's view of a catalogue event (`OperationStarted` is the machine's input, not an event). */
export const toSagaEvent = (e: Exclude<OperationEvent, OperationStarted>): SagaEvent => {
  switch (e._tag) {
    case "OperationPrepared":
    case "OperationSigned":
    case "OperationCompleted":
      return { type: e._tag }
    case "OperationRequested":
      return { type: e._tag, attempt: e.attempt }
    case "OperationPending":
      return { type: e._tag, reason: e.reason }
    case "OperationCompensated":
      return { type: e._tag, reason: e.reason }
    case "OperationRecovering":
      return { type: e._tag, step: e.step, outcome: e.outcome }
  }
}

/** The saga's context: how many request attempts have left (0 before the first). */
export interface SagaContext {
  readonly attempts: number
}

/** The states from which a saga may be compensated, each with its own admissible reasons. */
export type CompensableState = "started" | "prepared" | "requested" | "ambiguous" | "compensating"

/** What distinguishes one kind of saga from the shared skeleton. */
export interface SagaSpec {
  readonly kind: OperationKind
  /** False when the request needs no durable intent (read-only calls): `started` may request directly. */
  readonly prepareRequired: boolean
  /** True when the mint answers with signatures (`OperationSigned`). */
  readonly signs: boolean
  /** Restore scans in batches: after a batch's signatures, the next batch's request may leave. */
  readonly batches: boolean
  /** Completes with nothing sent at all (an offline send from exact proofs). */
  readonly completesUnsent: boolean
  /** Completes on the request's answer without signatures (a melt without change, a read-only call). */
  readonly completesUnsigned: boolean
  /** Has a payment that can stay pending at the mint (melt). */
  readonly paymentPending: boolean
  /**
   * Only a quote-state check may prove a payment failed (or succeeded while pending): the inputs of a
   * pending melt look spent or pending to a checkstate whatever the payment's fate.
   */
  readonly quoteStateDecides: boolean
  /** Admissible compensation reasons, per state. */
  readonly compensations: Readonly<Record<CompensableState, ReadonlyArray<CompensationReason>>>
}

type Guard = (args: { readonly context: SagaContext; readonly event: SagaEvent }) => boolean

const nextAttempt: Guard = ({ context, event }) =>
  event.type === "OperationRequested" && event.attempt === context.attempts + 1

const pendingBecause =
  (reason: OperationPending["reason"]): Guard =>
  ({ event }) =>
    event.type === "OperationPending" && event.reason === reason

const outcomeIs =
  (outcomes: ReadonlyArray<OperationRecovering["outcome"]>, step?: OperationRecovering["step"]): Guard =>
  ({ event }) =>
    event.type === "OperationRecovering" &&
    outcomes.includes(event.outcome) &&
    (step === undefined || event.step === step)

const UNDECIDED: ReadonlyArray<OperationRecovering["outcome"]> = ["pending", "skipped", "failed"]

/**
 * Builds the saga machine of one kind. Transitions are plain config objects with inline guards, so the
 * whole specification of a kind is this function plus its `SagaSpec`.
 */
export const sagaMachine = (spec: SagaSpec) => {
  const reasons =
    (state: CompensableState): Guard =>
    ({ event }) =>
      event.type === "OperationCompensated" && spec.compensations[state].includes(event.reason)
  const compensate = (state: CompensableState) =>
    spec.compensations[state].length === 0
      ? {}
      : { OperationCompensated: { target: "compensated" as const, guard: reasons(state) } }
  const request = { target: "requested" as const, guard: nextAttempt, actions: "countAttempt" as const }
  const sign = spec.signs ? { OperationSigned: { target: "signed" as const } } : {}
  const pend = {
    OperationPending: [
      ...(spec.paymentPending
        ? [{ target: "paymentPending" as const, guard: pendingBecause("payment-pending") }]
        : []),
      { target: "ambiguous" as const, guard: pendingBecause("ambiguous") },
    ],
  }
  // What a recovery pass may find once a request has left and its outcome is unknown.
  const recover = {
    OperationRecovering: [
      { target: "recovered" as const, guard: outcomeIs(["recovered"]) },
      {
        target: "compensating" as const,
        guard: outcomeIs(["compensated"], spec.quoteStateDecides ? "quote-state" : undefined),
      },
      ...(spec.paymentPending
        ? [{ target: "paymentPending" as const, guard: outcomeIs(["pending"], "quote-state") }]
        : []),
      { target: "ambiguous" as const, guard: outcomeIs(UNDECIDED) },
    ],
  }
  // A request left and its outcome is unknown: replay, record a pending, recover, or take the answer.
  const inFlight = { ...pend, ...recover, OperationRequested: request }
  // Before any request, recovery has nothing to find: its records leave the saga where it is.
  const idle = (self: "started" | "prepared") => ({ OperationRecovering: { target: self } })

  return setup({
    types: {
      context: {} as SagaContext,
      events: {} as SagaEvent,
      input: {} as SagaContext,
    },
    actions: {
      countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    },
  }).createMachine({
    id: spec.kind,
    initial: "started",
    context: ({ input }) => ({ attempts: input.attempts }),
    states: {
      started: {
        on: {
          OperationPrepared: { target: "prepared" },
          ...(spec.prepareRequired ? {} : { OperationRequested: request }),
          ...(spec.completesUnsent ? { OperationCompleted: { target: "completed" } } : {}),
          ...compensate("started"),
          ...idle("started"),
        },
      },
      prepared: {
        on: { OperationRequested: request, ...compensate("prepared"), ...idle("prepared") },
      },
      requested: {
        on: {
          ...inFlight,
          ...sign,
          ...(spec.completesUnsigned ? { OperationCompleted: { target: "completed" } } : {}),
          ...compensate("requested"),
        },
      },
      ambiguous: { on: { ...inFlight, ...sign, ...compensate("ambiguous") } },
      paymentPending: {
        on: {
          OperationPending: { target: "paymentPending" },
          OperationRecovering: [
            { target: "recovered", guard: outcomeIs(["recovered"], "quote-state") },
            { target: "compensating", guard: outcomeIs(["compensated"], "quote-state") },
            { target: "paymentPending", guard: outcomeIs(UNDECIDED) },
          ],
        },
      },
      recovered: {
        on: { ...inFlight, ...sign, OperationCompleted: { target: "completed" } },
      },
      compensating: { on: { ...inFlight, ...compensate("compensating") } },
      signed: {
        on: {
          OperationCompleted: { target: "completed" },
          // Signatures are stored: recovery can only finish the job, never undo it.
          OperationRecovering: { target: "signed", guard: outcomeIs(["recovered", ...UNDECIDED]) },
          ...(spec.batches ? { OperationRequested: request } : {}),
        },
      },
      completed: { type: "final" },
      compensated: { type: "final" },
    },
  })
}

/** A saga machine (every kind has the same state and event types). */
export type SagaMachine = ReturnType<typeof sagaMachine>
