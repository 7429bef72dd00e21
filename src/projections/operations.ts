/**
 * Operations in flight and history, per wallet: each operation's kind, status, amounts, fee, attempts,
 * recoveries and timestamps.
 *
 * Status is the operation's saga state as the decider sees it (`../machines/decider.ts`,
 * `operationStatusOf`): the view steps the same machine (`stepOperation`) over the same events, so history
 * can never disagree with what recovery acts on. `started → prepared → requested → signed → completed`,
 * with `pending` for every state whose outcome is not known or is being settled (ambiguous, payment in
 * flight, recovered, compensating) and `compensated` (ended without effect). `completed` and `compensated`
 * are terminal: a later event of the operation (a stray recovery record) updates its counters and
 * timestamps, never its outcome. An event the machine refuses (only a foreign or damaged log holds one: the
 * audit reports it) leaves the state where it was.
 *
 * The view holds no secrets: no quote ids, invoices, tokens or request bodies (they stay in the log).
 *
 * @module
 */
import { type OperationStatus, operationStatusOf } from "../machines/decider.js"
import { nextSagaState, startOperation } from "../machines/operation.js"
import { type OperationEvent, SAGA_STATES, type SagaState } from "../machines/saga.js"
import type { CompensationReason, OperationKind } from "../model/index.js"
import type { RecordedEvent } from "../ports/event-store.js"
import { canonicalJson, fields, LineWriter, readLines } from "./canonical.js"
import { PMap } from "./pmap.js"
import type { Projection } from "./projection.js"

export type { OperationStatus }

const STATUSES: ReadonlyArray<OperationStatus> = [
  "started",
  "prepared",
  "requested",
  "signed",
  "pending",
  "completed",
  "compensated",
]

/** True for `completed` and `compensated`. */
export const isTerminal = (s: OperationStatus): boolean => s === "completed" || s === "compensated"

/** One operation as history shows it. */
export interface OperationView {
  readonly operationId: string
  readonly kind: OperationKind
  readonly status: OperationStatus
  /** The saga state behind `status` (finer: `ambiguous`, `paymentPending`, `recovered`… all show `pending`). */
  readonly sagaState: SagaState
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  /** What was asked for (started), then what was achieved (completed). */
  readonly amount: bigint | undefined
  /** Fees paid (melt: lightning fee + input fee; swap, send, receive: input fees). */
  readonly fee: bigint | undefined
  /** Melt: the fee reserve set aside. */
  readonly feeReserve: bigint | undefined
  /** Swap purpose, or mint/melt payment method. */
  readonly detail: string | undefined
  /** Inputs and outputs of the prepared request. */
  readonly inputs: number
  readonly outputs: number
  /** Highest request attempt (2 and more are byte-identical replays). */
  readonly attempts: number
  readonly recoveries: number
  readonly lastRecovery: string | undefined
  readonly pendingReason: "payment-pending" | "ambiguous" | undefined
  readonly compensation: CompensationReason | undefined
  /** The last mint error code recorded. */
  readonly code: number | undefined
  readonly startedAt: number
  readonly updatedAt: number
  readonly firstSequence: number
  readonly lastSequence: number
}

/** The projection's state: wallets by stream id, operations by id. */
export interface OperationsState {
  readonly wallets: PMap<string, PMap<string, OperationView>>
}

const fresh = (operationId: string, kind: OperationKind, rec: RecordedEvent): OperationView => ({
  operationId,
  kind,
  status: "started",
  sagaState: "started",
  mintUrl: undefined,
  unit: undefined,
  amount: undefined,
  fee: undefined,
  feeReserve: undefined,
  detail: undefined,
  inputs: 0,
  outputs: 0,
  attempts: 0,
  recoveries: 0,
  lastRecovery: undefined,
  pendingReason: undefined,
  compensation: undefined,
  code: undefined,
  startedAt: rec.envelope.time,
  updatedAt: rec.envelope.time,
  firstSequence: rec.envelope.sequence,
  lastSequence: rec.envelope.sequence,
})

/**
 * The saga state after `e`: stepped by the operation's machine; unchanged once ended. A step the machine
 * refuses (only a foreign or damaged log holds one; the audit reports it) leaves the state where it was —
 * except an end: a recorded completion or compensation is the operation's outcome whatever led to it.
 */
const stateAfter = (
  op: OperationView,
  e: Exclude<OperationEvent, { _tag: "OperationStarted" }>,
): SagaState => {
  if (isTerminal(op.status)) return op.sagaState
  const next = e.kind === op.kind ? nextSagaState(op.kind, op.sagaState, op.attempts, e) : undefined
  if (next !== undefined) return next
  return e._tag === "OperationCompleted"
    ? "completed"
    : e._tag === "OperationCompensated"
      ? "compensated"
      : op.sagaState
}

const evolve = (state: OperationsState, rec: RecordedEvent): OperationsState => {
  const e = rec.event
  switch (e._tag) {
    case "OperationStarted":
    case "OperationPrepared":
    case "OperationRequested":
    case "OperationSigned":
    case "OperationPending":
    case "OperationCompleted":
    case "OperationCompensated":
    case "OperationRecovering":
      break
    default:
      return state
  }
  const stream = rec.envelope.streamId
  const ops = state.wallets.get(stream) ?? PMap.empty<string, OperationView>()
  const before = ops.get(e.operationId) ?? fresh(e.operationId, e.kind, rec)
  // One spread per event: the saga state is folded in with the timestamps (this fold runs over whole logs).
  const sagaState = e._tag === "OperationStarted" ? startOperation(e).state : stateAfter(before, e)
  const op: OperationView = {
    ...before,
    sagaState,
    status: operationStatusOf(sagaState),
    updatedAt: rec.envelope.time,
    lastSequence: rec.envelope.sequence,
  }
  let next: OperationView
  switch (e._tag) {
    case "OperationStarted": {
      const base = { ...op, mintUrl: e.mintUrl }
      switch (e.kind) {
        case "mint":
          next = { ...base, unit: e.unit, amount: e.amount, detail: e.method }
          break
        case "melt":
          next = { ...base, unit: e.unit, amount: e.amount, feeReserve: e.feeReserve, detail: e.method }
          break
        case "swap":
          next = { ...base, unit: e.unit, detail: e.purpose }
          break
        case "send":
        case "receive":
          next = { ...base, unit: e.unit, amount: e.amount }
          break
        case "restore":
        case "checkstate":
          next = base
          break
      }
      break
    }
    case "OperationPrepared":
      next = { ...op, inputs: e.inputs.length, outputs: e.outputs.length }
      break
    case "OperationRequested":
      next = { ...op, attempts: Math.max(op.attempts, e.attempt) }
      break
    case "OperationSigned":
      next = op
      break
    case "OperationPending":
      next = { ...op, pendingReason: e.reason, code: e.code ?? op.code }
      break
    case "OperationCompensated":
      next = {
        ...op,
        compensation: isTerminal(before.status) ? op.compensation : e.reason,
        code: e.code ?? op.code,
      }
      break
    case "OperationRecovering":
      next = {
        ...op,
        recoveries: op.recoveries + 1,
        lastRecovery: `${e.step}:${e.outcome}`,
        code: e.code ?? op.code,
      }
      break
    case "OperationCompleted": {
      if (isTerminal(before.status)) {
        next = op
        break
      }
      const done = op
      switch (e.kind) {
        case "mint":
          next = { ...done, amount: e.amount }
          break
        case "melt":
          next = { ...done, amount: e.amount, fee: e.feePaid + e.inputFee, feeReserve: e.feeReserve }
          break
        case "swap":
          next = { ...done, amount: e.amountOut, fee: e.fee }
          break
        case "send":
        case "receive":
          next = { ...done, amount: e.amount, fee: e.fee }
          break
        case "restore":
          next = { ...done, amount: e.amount }
          break
        case "checkstate":
          next = done
          break
      }
      break
    }
  }
  return { wallets: state.wallets.set(stream, ops.set(e.operationId, next)) }
}

const NAME = "operations"
const VERSION = 2

const viewRecord = (stream: string, v: OperationView): unknown => [stream, v.operationId, { ...v }]

const serialize = (state: OperationsState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, ops] of state.wallets.sorted())
    for (const [, v] of ops.sorted()) w.line(viewRecord(stream, v))
  return w.finish()
}

const KINDS: ReadonlyArray<OperationKind> = [
  "swap",
  "mint",
  "melt",
  "send",
  "receive",
  "restore",
  "checkstate",
]
const COMPENSATIONS: ReadonlyArray<CompensationReason> = [
  "rejected",
  "not-processed",
  "cancelled",
  "quote-expired",
  "payment-failed",
  "invalid-token",
  "token-spent",
]

const deserialize = (bytes: Uint8Array): OperationsState => {
  const f = fields(NAME)
  const wallets = new Map<string, Map<string, OperationView>>()
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const stream = f.str(r[0], "stream")
    const o = f.obj(r[2], "operation")
    const pending = o.pendingReason
    const view: OperationView = {
      operationId: f.str(o.operationId, "operationId"),
      kind: f.oneOf(o.kind, KINDS, "kind"),
      status: f.oneOf(o.status, STATUSES, "status"),
      sagaState: f.oneOf(o.sagaState, SAGA_STATES, "sagaState"),
      mintUrl: f.optStr(o.mintUrl, "mintUrl"),
      unit: f.optStr(o.unit, "unit"),
      amount: f.optBig(o.amount, "amount"),
      fee: f.optBig(o.fee, "fee"),
      feeReserve: f.optBig(o.feeReserve, "feeReserve"),
      detail: f.optStr(o.detail, "detail"),
      inputs: f.int(o.inputs, "inputs"),
      outputs: f.int(o.outputs, "outputs"),
      attempts: f.int(o.attempts, "attempts"),
      recoveries: f.int(o.recoveries, "recoveries"),
      lastRecovery: f.optStr(o.lastRecovery, "lastRecovery"),
      pendingReason:
        pending === undefined
          ? undefined
          : f.oneOf(pending, ["payment-pending", "ambiguous"] as const, "pending"),
      compensation:
        o.compensation === undefined ? undefined : f.oneOf(o.compensation, COMPENSATIONS, "reason"),
      code: f.optInt(o.code, "code"),
      startedAt: f.int(o.startedAt, "startedAt"),
      updatedAt: f.int(o.updatedAt, "updatedAt"),
      firstSequence: f.int(o.firstSequence, "firstSequence"),
      lastSequence: f.int(o.lastSequence, "lastSequence"),
    }
    if (canonicalJson(o) !== canonicalJson({ ...view })) f.fail("unexpected operation fields")
    let ops = wallets.get(stream)
    if (ops === undefined) {
      ops = new Map()
      wallets.set(stream, ops)
    }
    ops.set(view.operationId, view)
  })
  return { wallets: PMap.from([...wallets].map(([s, m]) => [s, PMap.from(m)] as const)) }
}

/** The operations projection. */
export const operationsProjection: Projection<OperationsState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  serialize,
  deserialize,
}

/** One operation of a wallet. */
export const operationOf = (
  state: OperationsState,
  stream: string,
  operationId: string,
): OperationView | undefined => state.wallets.get(stream)?.get(operationId)

/** A wallet's operations in the order they started; `inFlight` keeps only those not yet ended. */
export const operationsOf = (
  state: OperationsState,
  stream: string,
  filter: { readonly inFlight?: boolean; readonly kind?: OperationKind } = {},
): OperationView[] =>
  (state.wallets.get(stream)?.values() ?? [])
    .filter(
      (v) =>
        (filter.inFlight === undefined || filter.inFlight !== isTerminal(v.status)) &&
        (filter.kind === undefined || v.kind === filter.kind),
    )
    .sort((a, b) => a.firstSequence - b.firstSequence)
