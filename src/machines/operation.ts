/**
 * The pure saga API the engine uses: dispatch by kind, start, step, replay from the log, the phase recovery
 * switches on, and the legality check of a batch about to be appended.
 *
 * Machines run as pure transitions over a small plain snapshot (`SagaSnapshot`: kind, id, state, attempts),
 * never as live actors: the snapshot is cheap to keep per operation in flight and to rebuild from the log.
 *
 * @module
 */
import { Data } from "effect"
import { transition } from "xstate"
import type { OperationStarted, WalletEvent } from "../events/catalogue.js"
import type { OperationKind } from "../model/index.js"
import { checkstateMachine } from "./checkstate.js"
import { meltMachine } from "./melt.js"
import { mintMachine } from "./mint.js"
import { receiveMachine } from "./receive.js"
import { restoreMachine } from "./restore.js"
import {
  isOperationEvent,
  type OperationEvent,
  type OperationEventTag,
  type SagaMachine,
  type SagaState,
  toSagaEvent,
} from "./saga.js"
import { sendMachine } from "./send.js"
import { swapMachine } from "./swap.js"

/** Where one operation's saga stands: plain data, safe to keep, compare and rebuild. */
export interface SagaSnapshot {
  readonly kind: OperationKind
  readonly operationId: string
  readonly state: SagaState
  /** Request attempts that have left (the next replay is attempt `attempts + 1`). */
  readonly attempts: number
}

/**
 * An operation event that its saga does not allow now. Carries the kind, the state it was refused in and
 * the event's tag — never a payload value (no ids, quotes, amounts or tokens).
 */
export class IllegalOperationStep extends Data.TaggedError("IllegalOperationStep")<{
  readonly kind: OperationKind
  /** The saga's state, or `none` when the operation has not started. */
  readonly from: SagaState | "none"
  /** The refused event's tag (`none` for an empty history). */
  readonly event: OperationEventTag | "none"
  readonly message: string
}> {}

const MACHINES: Readonly<Record<OperationKind, SagaMachine>> = {
  swap: swapMachine,
  mint: mintMachine,
  melt: meltMachine,
  send: sendMachine,
  receive: receiveMachine,
  restore: restoreMachine,
  checkstate: checkstateMachine,
}

/** The saga machine of an operation kind. */
export const sagaMachineOf = (kind: OperationKind): SagaMachine => MACHINES[kind]

const illegal = (
  kind: OperationKind,
  from: SagaState | "none",
  event: OperationEventTag | "none",
  why: string,
): IllegalOperationStep =>
  new IllegalOperationStep({ kind, from, event, message: `${kind} saga in ${from}: ${event} ${why}` })

/** The snapshot of an operation that just started (the machine's initial state). */
export const startOperation = (started: OperationStarted): SagaSnapshot => {
  let initial = INITIAL.get(started.kind)
  if (initial === undefined) {
    const snapshot = MACHINES[started.kind].resolveState({ value: "started", context: { attempts: 0 } })
    initial = { state: snapshot.value as SagaState, attempts: snapshot.context.attempts }
    INITIAL.set(started.kind, initial)
  }
  return { kind: started.kind, operationId: started.operationId, ...initial }
}

/** Each kind's initial state, asked of its machine once. */
const INITIAL = new Map<OperationKind, { readonly state: SagaState; readonly attempts: number }>()

/** The outcome of one step. */
export type StepResult =
  | { readonly ok: true; readonly snapshot: SagaSnapshot }
  | { readonly ok: false; readonly error: IllegalOperationStep }

/**
 * The state one operation event leads a saga of `kind` to from `state` (having made `attempts` requests), or
 * undefined when its machine refuses it. Allocation-light and error-free: folds over long or damaged logs
 * call it once per event.
 */
export const nextSagaState = (
  kind: OperationKind,
  state: SagaState,
  attempts: number,
  event: Exclude<OperationEvent, OperationStarted>,
): SagaState | undefined => {
  const key = transitionKey(kind, state, event, attempts)
  let next = TRANSITIONS.get(key)
  if (next === undefined) {
    const machine = MACHINES[kind]
    const current = machine.resolveState({ value: state, context: { attempts } })
    const sagaEvent = toSagaEvent(event)
    // `can` evaluates the guards; every legal transition has a target, so a refused step is exactly `!can`.
    next = current.can(sagaEvent) ? (transition(machine, current, sagaEvent)[0].value as SagaState) : REFUSED
    TRANSITIONS.set(key, next)
  }
  return next === REFUSED ? undefined : next
}

/**
 * Where one operation event leads a saga, or undefined when its machine refuses it (or it is a second
 * `OperationStarted`, or an event of another operation or kind). No error is built.
 */
export const nextSnapshot = (snapshot: SagaSnapshot, event: OperationEvent): SagaSnapshot | undefined => {
  const { kind, state } = snapshot
  if (event._tag === "OperationStarted" || event.operationId !== snapshot.operationId || event.kind !== kind)
    return undefined
  const next = nextSagaState(kind, state, snapshot.attempts, event)
  if (next === undefined) return undefined
  return {
    kind,
    operationId: snapshot.operationId,
    state: next,
    // Every legal `OperationRequested` counts an attempt (the machines' `countAttempt`); nothing else does.
    attempts: event._tag === "OperationRequested" ? snapshot.attempts + 1 : snapshot.attempts,
  }
}

/**
 * Applies one operation event to a saga. Refused: a second `OperationStarted`, an event of another
 * operation or kind, and anything its machine does not allow in the current state.
 */
export const stepOperation = (snapshot: SagaSnapshot, event: OperationEvent): StepResult => {
  const next = nextSnapshot(snapshot, event)
  if (next !== undefined) return { ok: true, snapshot: next }
  const { kind, state } = snapshot
  const why =
    event._tag === "OperationStarted"
      ? "after the start"
      : event.operationId !== snapshot.operationId
        ? "of another operation"
        : event.kind !== kind
          ? `of a ${event.kind} operation`
          : "is not allowed"
  return { ok: false, error: illegal(kind, state, event._tag, why) }
}

/**
 * The machines' answers, memoised: a step's legality and target depend only on the kind, the state, the
 * event's saga fields and — for a request — whether its attempt is the next one (the only guard that reads
 * the context). Asking xstate once per distinct step keeps the fold cheap enough for projections and
 * replays of long logs; `test/machines/operation.test.ts` checks the table against the machines.
 */
const TRANSITIONS = new Map<string, SagaState | typeof REFUSED>()
const REFUSED = "refused" as const

const transitionKey = (
  kind: OperationKind,
  state: SagaState,
  e: Exclude<OperationEvent, OperationStarted>,
  attempts: number,
): string => {
  switch (e._tag) {
    case "OperationRequested":
      return `${kind}|${state}|${e._tag}|${e.attempt === attempts + 1}`
    case "OperationPending":
    case "OperationCompensated":
      return `${kind}|${state}|${e._tag}|${e.reason}`
    case "OperationRecovering":
      return `${kind}|${state}|${e._tag}|${e.step}|${e.outcome}`
    default:
      return `${kind}|${state}|${e._tag}`
  }
}

const fold = (
  snapshot: SagaSnapshot | undefined,
  events: Iterable<OperationEvent>,
): SagaSnapshot | undefined | IllegalOperationStep => {
  let current = snapshot
  for (const e of events) {
    if (current === undefined) {
      if (e._tag !== "OperationStarted") return illegal(e.kind, "none", e._tag, "before the start")
      current = startOperation(e)
      continue
    }
    const r = stepOperation(current, e)
    if (!r.ok) return r.error
    current = r.snapshot
  }
  return current
}

/**
 * Rebuilds an operation's saga from its events in log order (recovery, after a crash). The history must
 * begin with `OperationStarted` and be legal step by step.
 */
export const replayOperation = (
  events: ReadonlyArray<OperationEvent>,
): SagaSnapshot | IllegalOperationStep => {
  const first = events[0]
  if (first === undefined)
    return new IllegalOperationStep({
      kind: "swap",
      from: "none",
      event: "none",
      message: "an operation's history cannot be empty",
    })
  return fold(undefined, events) ?? illegal(first.kind, "none", first._tag, "before the start")
}

/**
 * Checks the operation events of a batch the engine is about to append, against the operation's saga now
 * (`undefined` for an operation that has not started: the batch must start it). Other events (proofs,
 * counters, keysets) are ignored; operation events of a different operation are refused, since one append
 * carries one operation's step. Returns the snapshot after the batch, or the first refused step.
 */
export function assertBatchLegal(
  snapshot: SagaSnapshot,
  events: ReadonlyArray<WalletEvent>,
): SagaSnapshot | IllegalOperationStep
export function assertBatchLegal(
  snapshot: SagaSnapshot | undefined,
  events: ReadonlyArray<WalletEvent>,
): SagaSnapshot | undefined | IllegalOperationStep
export function assertBatchLegal(
  snapshot: SagaSnapshot | undefined,
  events: ReadonlyArray<WalletEvent>,
): SagaSnapshot | undefined | IllegalOperationStep {
  return fold(snapshot, events.filter(isOperationEvent))
}

/** What recovery does with an operation, by where its saga stands. */
export type SagaPhase =
  /** A mint quote waiting for the user's payment: poll the quote, or let it expire. */
  | { readonly _tag: "AwaitingPayment" }
  /** Nothing left the wallet yet (started or prepared, no request): compensate, or send. */
  | { readonly _tag: "NotSent" }
  /**
   * A request left and its outcome is unknown (or recovery found it but did not record its effect yet):
   * run local → replay → checkstate → restore (a melt: the quote state).
   */
  | { readonly _tag: "InFlight"; readonly attempts: number }
  /** A melt whose payment is in flight at the mint: poll the quote state; inputs stay pending. */
  | { readonly _tag: "PaymentPending" }
  /** The mint's signatures are stored; finalisation is missing. */
  | { readonly _tag: "Signed" }
  /** The operation ended. */
  | { readonly _tag: "Done"; readonly outcome: "completed" | "compensated" }

/** The phase of a saga (what recovery switches on). */
export const sagaPhase = (snapshot: SagaSnapshot): SagaPhase => {
  switch (snapshot.state) {
    case "started":
      return snapshot.kind === "mint" ? { _tag: "AwaitingPayment" } : { _tag: "NotSent" }
    case "prepared":
      return { _tag: "NotSent" }
    case "requested":
    case "ambiguous":
    case "recovered":
    case "compensating":
      return { _tag: "InFlight", attempts: snapshot.attempts }
    case "paymentPending":
      return { _tag: "PaymentPending" }
    case "signed":
      return { _tag: "Signed" }
    case "completed":
    case "compensated":
      return { _tag: "Done", outcome: snapshot.state }
  }
}
