/**
 * The operation decider: the one place that says what an operation may record next and what it then is.
 *
 * An operation's state is a tagged union (`state` is the discriminant, the saga state of `./saga.ts`) whose
 * members carry exactly the data that state has: a `prepared` operation has its intent, an operation in
 * flight has its intent, its attempts and when the first one left, a `signed` one its signatures, a
 * `completed` one its completion record. Two pure functions work on it, after Emmett's deciders:
 *
 * - {@link decideOperation}`(state, commands, now) → events` turns what the engine wants to do (prepare,
 *   send the next attempt, record a recovery pass, sign, complete, compensate, …) into the log events that
 *   say so, with their deterministic ids and the numbering of attempts, recovery passes and pendings — or
 *   refuses with {@link IllegalOperationStep} when the kind's saga machine does not allow it now;
 * - {@link evolveOperation}`(state, event) → state` folds one recorded event (the live path, replay after a
 *   crash and the runtime's append check all use it).
 *
 * The ordering rules themselves are the kind's xstate machine (`./saga.ts` + the `SagaSpec` of each kind):
 * evolve steps it, so a history the machine refuses never becomes a state. Recovery switches on `state`
 * (`sagaPhase`), and the history projection's status is {@link operationStatusOf} the same state.
 *
 * @module
 */

import type {
  OperationCompensated,
  OperationCompleted,
  OperationPending,
  OperationPrepared,
  OperationRecovering,
  OperationStarted,
  Signature,
  WalletEvent,
} from "../events/catalogue.js"
import { type OperationStep, operationEventId } from "../events/ids.js"
import type { CompensationReason, OperationKind } from "../model/index.js"
import type { NewEvent, RecordedEvent } from "../ports/event-store.js"
import { IllegalOperationStep, startOperation, stepOperation } from "./operation.js"
import { isOperationEvent, type OperationEvent, type SagaState } from "./saga.js"

/** What every state of an operation knows. */
interface Common {
  readonly kind: OperationKind
  readonly operationId: string
  /** What was asked for (per kind; narrow with {@link startedOfKind}). */
  readonly started: OperationStarted
  /** Request attempts that have left (the next replay is attempt `attempts + 1`). */
  readonly attempts: number
  /** Recovery passes recorded (the next is pass `recoveries + 1`). */
  readonly recoveries: number
  /** `OperationPending` records so far (numbers the next pending step's event ids). */
  readonly pendings: number
}

/** Started: the request is recorded; nothing is reserved and nothing left (a mint quote waits here). */
export interface OperationStartedState extends Common {
  readonly state: "started"
}

/** Prepared: the durable intent is recorded; no request has left yet. */
export interface OperationPreparedState extends Common {
  readonly state: "prepared"
  readonly prepared: OperationPrepared
}

/**
 * A request left and the outcome is not recorded: `requested` (waiting for the answer), `ambiguous` (the
 * answer was lost), `paymentPending` (a melt's payment in flight), `recovered`/`compensating` (a recovery
 * pass found the outcome and its effect is being recorded).
 */
export interface OperationInFlightState extends Common {
  readonly state: "requested" | "ambiguous" | "paymentPending" | "recovered" | "compensating"
  /** The intent; absent only for the read-only kinds (restore, checkstate), which request directly. */
  readonly prepared: OperationPrepared | undefined
  /** When attempt 1 was recorded (epoch ms): a NUT-19 replay window starts here. */
  readonly firstSentAt: number
}

/** Signed: the mint's validated signatures are recorded; their effects (finalisation) are not yet. */
export interface OperationSignedState extends Common {
  readonly state: "signed"
  readonly prepared: OperationPrepared | undefined
  readonly firstSentAt: number
  readonly signatures: ReadonlyArray<Signature>
}

/** Completed: what the operation achieved. Final. */
export interface OperationCompletedState extends Common {
  readonly state: "completed"
  readonly completed: OperationCompleted
}

/** Compensated: ended without effect; what it held is released. Final. */
export interface OperationCompensatedState extends Common {
  readonly state: "compensated"
  readonly compensated: OperationCompensated
}

/** Where an operation stands, with that state's data. */
export type OperationState =
  | OperationStartedState
  | OperationPreparedState
  | OperationInFlightState
  | OperationSignedState
  | OperationCompletedState
  | OperationCompensatedState

/** What the engine wants to record about an operation (one command, one step of the saga). */
export type OperationCommand =
  /** Begin the operation. */
  | { readonly _tag: "Start"; readonly started: OperationStarted }
  /** Record the durable intent; `effects` (counters, reservations) precede it in the same step. */
  | {
      readonly _tag: "Prepare"
      readonly prepared: OperationPrepared
      readonly effects?: ReadonlyArray<WalletEvent>
    }
  /** The next request attempt is about to leave (attempt `attempts + 1`; 2+ are byte-identical replays). */
  | { readonly _tag: "Request" }
  /** What one recovery pass found. */
  | {
      readonly _tag: "Recover"
      readonly step: OperationRecovering["step"]
      readonly outcome: OperationRecovering["outcome"]
      readonly code?: number | undefined
    }
  /** The mint's validated signatures. */
  | { readonly _tag: "Sign"; readonly signatures: ReadonlyArray<Signature> }
  /** The outcome is not known yet; `effects` (e.g. inputs turning pending) follow in the same step. */
  | {
      readonly _tag: "Pend"
      readonly reason: OperationPending["reason"]
      readonly code?: number | undefined
      readonly effects?: ReadonlyArray<WalletEvent>
    }
  /** What the operation achieved; `effects` (proofs issued and spent) precede it. */
  | {
      readonly _tag: "Complete"
      readonly completed: OperationCompleted
      readonly effects?: ReadonlyArray<WalletEvent>
    }
  /** Ended without effect; `effects` (inputs released or spent) precede it. */
  | {
      readonly _tag: "Compensate"
      readonly reason: CompensationReason
      readonly code?: number | undefined
      readonly effects?: ReadonlyArray<WalletEvent>
    }

/** The events one decision appends, and the state they lead to. */
export interface OperationDecision {
  readonly events: ReadonlyArray<NewEvent>
  readonly state: OperationState
}

const refuse = (kind: OperationKind, from: SagaState | "none", event: OperationEvent["_tag"], why: string) =>
  new IllegalOperationStep({ kind, from, event, message: `${kind} saga in ${from}: ${event} ${why}` })

/** The intent of an operation, in any state that has one. */
export const intentOf = (s: OperationState): OperationPrepared | undefined =>
  "prepared" in s ? s.prepared : undefined

/** When the operation's first request left, in any state after one did. */
export const firstSentAtOf = (s: OperationState): number | undefined =>
  "firstSentAt" in s ? s.firstSentAt : undefined

/** The started record of an operation of kind `kind`, or undefined for another kind. */
export const startedOfKind = <K extends OperationKind>(
  s: { readonly started: OperationStarted },
  kind: K,
): Extract<OperationStarted, { readonly kind: K }> | undefined => {
  const started = s.started
  return isKind(started, kind) ? started : undefined
}

const isKind = <K extends OperationKind>(
  started: OperationStarted,
  kind: K,
): started is Extract<OperationStarted, { readonly kind: K }> => started.kind === kind

/** True for `completed` and `compensated`. */
export const isEnded = (s: OperationState): s is OperationCompletedState | OperationCompensatedState =>
  s.state === "completed" || s.state === "compensated"

/**
 * Folds one operation event into the operation's state (`at`: when it was recorded, epoch ms). Refused:
 * anything the kind's saga machine does not allow now, and a completion record of another kind.
 */
export const evolveOperation = (
  s: OperationState | undefined,
  event: OperationEvent,
  at: number,
): OperationState | IllegalOperationStep => {
  if (s === undefined) {
    if (event._tag !== "OperationStarted") return refuse(event.kind, "none", event._tag, "before the start")
    const snapshot = startOperation(event)
    return {
      state: "started",
      kind: snapshot.kind,
      operationId: snapshot.operationId,
      started: event,
      attempts: 0,
      recoveries: 0,
      pendings: 0,
    }
  }
  const step = stepOperation(s, event)
  if (!step.ok) return step.error
  const next = step.snapshot.state
  const common: Common = {
    kind: s.kind,
    operationId: s.operationId,
    started: s.started,
    attempts: step.snapshot.attempts,
    recoveries: event._tag === "OperationRecovering" ? Math.max(s.recoveries, event.attempt) : s.recoveries,
    pendings: event._tag === "OperationPending" ? s.pendings + 1 : s.pendings,
  }
  const prepared = event._tag === "OperationPrepared" ? event : intentOf(s)
  const firstSentAt = firstSentAtOf(s) ?? at
  switch (next) {
    case "started":
      return { ...common, state: next }
    case "prepared":
      return prepared === undefined
        ? refuse(s.kind, s.state, event._tag, "leaves no intent")
        : { ...common, state: next, prepared }
    case "requested":
    case "ambiguous":
    case "paymentPending":
    case "recovered":
    case "compensating":
      return { ...common, state: next, prepared, firstSentAt }
    case "signed":
      return {
        ...common,
        state: next,
        prepared,
        firstSentAt,
        signatures:
          event._tag === "OperationSigned" ? event.signatures : s.state === "signed" ? s.signatures : [],
      }
    case "completed":
      return event._tag === "OperationCompleted" && event.kind === s.kind
        ? { ...common, state: next, completed: event }
        : refuse(s.kind, s.state, event._tag, "does not complete it")
    case "compensated":
      return event._tag === "OperationCompensated"
        ? { ...common, state: next, compensated: event }
        : refuse(s.kind, s.state, event._tag, "does not compensate it")
  }
}

/**
 * Rebuilds an operation's state from its recorded events in log order (other operations' and non-operation
 * events are skipped). Undefined when the operation has not started; refused when the history is illegal.
 */
export const replayOperationState = (
  operationId: string,
  records: ReadonlyArray<RecordedEvent>,
): OperationState | undefined | IllegalOperationStep => {
  let s: OperationState | undefined
  for (const r of records) {
    const e = r.event
    if (!isOperationEvent(e) || e.operationId !== operationId) continue
    const next = evolveOperation(s, e, r.envelope.time)
    if (next instanceof IllegalOperationStep) return next
    s = next
  }
  return s
}

/** The events of one step, with their deterministic ids (`op:<id>:<step>[:<n>]:<i>`: a retried append dedupes). */
const stepEvents = (
  operationId: string,
  step: OperationStep,
  events: ReadonlyArray<WalletEvent>,
  attempt?: number,
): NewEvent[] =>
  events.map((event, i) => ({ eventId: operationEventId(operationId, step, i, attempt), event }))

/** One command's step: its name, attempt number, and events (the operation event among its effects). */
const stepOf = (
  s: OperationState | undefined,
  c: OperationCommand,
): { step: OperationStep; attempt?: number; events: WalletEvent[]; op: OperationEvent } | string => {
  if (c._tag === "Start") return { step: "started", events: [c.started], op: c.started }
  if (s === undefined) return "before the start"
  const { operationId, kind } = s
  switch (c._tag) {
    case "Prepare":
      if (c.prepared.operationId !== operationId || c.prepared.kind !== kind) return "of another operation"
      return { step: "prepared", events: [...(c.effects ?? []), c.prepared], op: c.prepared }
    case "Request": {
      const attempt = s.attempts + 1
      const op: OperationEvent = { _tag: "OperationRequested", operationId, kind, attempt }
      return { step: "requested", attempt, events: [op], op }
    }
    case "Recover": {
      const attempt = s.recoveries + 1
      const op: OperationEvent = {
        _tag: "OperationRecovering",
        operationId,
        kind,
        attempt,
        step: c.step,
        outcome: c.outcome,
        ...(c.code !== undefined ? { code: c.code } : {}),
      }
      return { step: "recovering", attempt, events: [op], op }
    }
    case "Sign": {
      const op: OperationEvent = { _tag: "OperationSigned", operationId, kind, signatures: [...c.signatures] }
      return { step: "signed", events: [op], op }
    }
    case "Pend": {
      const op: OperationEvent = {
        _tag: "OperationPending",
        operationId,
        kind,
        reason: c.reason,
        ...(c.code !== undefined ? { code: c.code } : {}),
      }
      return { step: "pending", attempt: s.pendings + 1, events: [op, ...(c.effects ?? [])], op }
    }
    case "Complete":
      if (c.completed.operationId !== operationId) return "of another operation"
      return { step: "completed", events: [...(c.effects ?? []), c.completed], op: c.completed }
    case "Compensate": {
      const op: OperationEvent = {
        _tag: "OperationCompensated",
        operationId,
        kind,
        reason: c.reason,
        ...(c.code !== undefined ? { code: c.code } : {}),
      }
      return { step: "compensated", events: [...(c.effects ?? []), op], op }
    }
  }
}

const COMMAND_EVENT: Readonly<Record<OperationCommand["_tag"], OperationEvent["_tag"]>> = {
  Start: "OperationStarted",
  Prepare: "OperationPrepared",
  Request: "OperationRequested",
  Recover: "OperationRecovering",
  Sign: "OperationSigned",
  Pend: "OperationPending",
  Complete: "OperationCompleted",
  Compensate: "OperationCompensated",
}

/**
 * Decides the events of `commands`, in order, on the operation's state now (`undefined`: not started; the
 * first command must be `Start`). Each command is one saga step; all of them go into one append. Refused
 * as a whole when any step is not allowed.
 */
export const decideOperation = (
  s: OperationState | undefined,
  commands: ReadonlyArray<OperationCommand>,
  now: number,
): OperationDecision | IllegalOperationStep => {
  let state = s
  const events: NewEvent[] = []
  for (const c of commands) {
    const step = stepOf(state, c)
    if (typeof step === "string") {
      const kind = state?.kind ?? (c._tag === "Start" ? c.started.kind : "swap")
      return refuse(kind, state?.state ?? "none", COMMAND_EVENT[c._tag], step)
    }
    const next = evolveOperation(state, step.op, now)
    if (next instanceof IllegalOperationStep) return next
    state = next
    const operationId = next.operationId
    events.push(...stepEvents(operationId, step.step, step.events, step.attempt))
  }
  if (state === undefined)
    return new IllegalOperationStep({
      kind: "swap",
      from: "none",
      event: "none",
      message: "a decision needs at least one command",
    })
  return { events, state }
}

/** How history shows an operation's state. */
export type OperationStatus =
  | "started"
  | "prepared"
  | "requested"
  | "signed"
  | "pending"
  | "completed"
  | "compensated"

/**
 * The history status of a saga state: the in-flight states whose outcome is not known (`ambiguous`,
 * `paymentPending`) and those recovery is settling (`recovered`, `compensating`) all show as `pending`.
 */
export const operationStatusOf = (state: SagaState): OperationStatus => {
  switch (state) {
    case "ambiguous":
    case "paymentPending":
    case "recovered":
    case "compensating":
      return "pending"
    default:
      return state
  }
}
