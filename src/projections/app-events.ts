/**
 * App events (issue #15): the typed, versioned, secret-free domain events an app follows —
 * `wallet.events()` / `engine.events()` (`../engine/app-events.ts` runs them over the live log). Each is
 * derived from ONE recorded log event by a pure fold, {@link deriveAppEvents}`(state, recorded) → [state,
 * events]`, and carries that event's global sequence as its `position` (several app events may share one).
 *
 * **Secret-free by construction.** The log's payloads hold secrets (mnemonics, proof secrets, C and Y
 * values, blinding factors, quote ids — bearer credentials here —, tokens, invoices, preimages, NUT-20 keys,
 * request bodies). No app event is ever made by spreading a log event or a view: every constructor below
 * names each field it copies, and every field is one of a whitelist — wallet and operation ids, operation
 * kinds, the mint URL reduced to origin and path ({@link publicMintUrl}), units, payment methods and swap
 * purposes, amounts and counts, outcomes, compensation reasons and mint error codes. `time` and `position`
 * come from the envelope. `test/projections/app-events.test.ts` scans every app event of a real run for the
 * run's secrets.
 *
 * Operation ids are included: they are engine-generated (48 bits of time, 80 random bits — not derived from
 * any secret), they are what the wallet API already hands out (`mintQuote`, `send`, `history()`) and takes
 * back (`mint`, `melt`, `reclaim`), and knowing one gives no power over a wallet one does not hold. The mint
 * client's telemetry leaves them out only because it sees requests, not operations; it leaves quote ids
 * out, and so do these events.
 *
 * **Reuse, not a second interpretation.** Balances come from the balances projection's own fold
 * (`./balances.ts`), operation outcomes from the operations projection (`./operations.ts`, which steps the
 * same machine recovery acts on), so an app event can never disagree with `wallet.balances()` or
 * `wallet.history()`. The fold keeps its own projection states (never the runner's: sharing persistent maps
 * across two folds would make each reroot the other's history).
 *
 * What is derived from what:
 * - a proof event that changes a (wallet, mint, unit) balance → `BalanceChanged` per changed bucket;
 * - an operation's first event → `OperationStarted`;
 * - a mint's intent (`OperationPrepared`: the mint reported the quote paid and the wallet is claiming it)
 *   → `MintQuotePaid`;
 * - an operation entering `ambiguous` or `paymentPending` → `OperationPending` (in doubt);
 * - an operation becoming `completed` → `OperationSettled`, and also `TokenReceived` (receive) or `MeltPaid`
 *   (melt);
 * - an operation becoming `compensated` → `OperationReverted` (ended without effect, inputs spendable again).
 *
 * Tags are chosen apart from the error classes' (`OperationFailed`, `OperationInDoubt` are errors, and
 * `isCorecashuError` goes by tag).
 *
 * @module
 */
import { walletIdOfStream } from "../events/ids.js"
import type { CompensationReason, OperationKind } from "../model/index.js"
import type { RecordedEvent } from "../ports/event-store.js"
import { type Balance, type BalancesState, balancesProjection } from "./balances.js"
import { type OperationsState, type OperationView, operationsProjection } from "./operations.js"
import { foldPage } from "./projection.js"

/** The version of every app event type defined here; a changed shape gets a new version. */
export const APP_EVENT_VERSION = 1 as const

/** What every app event carries. */
export interface AppEventBase {
  /** The shape's version (1 for every type today). */
  readonly version: typeof APP_EVENT_VERSION
  /**
   * The global sequence of the log event it derives from. Resume with `events({ fromPosition })` passing the
   * last position fully handled: every app event of a later position follows, none of this one.
   */
  readonly position: number
  /** The wallet it is about. */
  readonly walletId: string
  /** When the log event was appended, epoch milliseconds. */
  readonly time: number
}

/** A balance by proof state, as `wallet.balances()` reports it. */
export interface BalanceAmounts {
  /** Arrived in a received token, not yet swapped (the sender can still spend it). */
  readonly incoming: bigint
  /** Spendable. */
  readonly unspent: bigint
  /** Held as inputs of an operation in flight. */
  readonly reserved: bigint
  /** In flight: sent in a token not yet claimed, or inputs of a melt whose payment is pending. */
  readonly pending: bigint
  /** Spent so far (ever growing). */
  readonly spent: bigint
}

/** A wallet's balance at one mint in one unit changed. */
export interface BalanceChangedEvent extends AppEventBase {
  readonly _tag: "BalanceChanged"
  /** The mint, its URL reduced to origin and path (equal to `Balance.mintUrl` for every URL the API takes). */
  readonly mintUrl: string
  readonly unit: string
  /** After the change. */
  readonly balance: BalanceAmounts
  /** Before it. */
  readonly previous: BalanceAmounts
}

/** An operation was recorded: what was asked for (no quote id, invoice or token). */
export interface OperationStartedEvent extends AppEventBase {
  readonly _tag: "OperationStarted"
  readonly operationId: string
  readonly kind: OperationKind
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  /** Mint, melt, send: the amount asked for; receive: the token's value. */
  readonly amount: bigint | undefined
  /** Melt: the fee reserve set aside. */
  readonly feeReserve: bigint | undefined
  /** Mint and melt: the payment method; swap: its purpose (`split`, `consolidate`, `reclaim`). */
  readonly detail: string | undefined
}

/** The mint reported a mint quote paid, and the wallet is claiming its proofs. */
export interface MintQuotePaidEvent extends AppEventBase {
  readonly _tag: "MintQuotePaid"
  readonly operationId: string
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  readonly amount: bigint | undefined
}

/**
 * An operation's outcome is not known yet: a melt's payment is in flight (`payment-pending`), or a request
 * failed ambiguously (`ambiguous`: in doubt, the mint may have acted). Its inputs stay held; recovery (or the
 * mint's answer) settles it, and `OperationSettled` or `OperationReverted` follows.
 */
export interface OperationPendingEvent extends AppEventBase {
  readonly _tag: "OperationPending"
  readonly operationId: string
  readonly kind: OperationKind
  readonly reason: "payment-pending" | "ambiguous"
  /** The mint's error code, when one was recorded. */
  readonly code: number | undefined
}

/** An operation completed. */
export interface OperationSettledEvent extends AppEventBase {
  readonly _tag: "OperationSettled"
  readonly operationId: string
  readonly kind: OperationKind
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  /** What it achieved (swap: the value out; restore: the value found). */
  readonly amount: bigint | undefined
  /** Fees paid (melt: Lightning fee + input fee; swap, send, receive: input fees). */
  readonly fee: bigint | undefined
}

/** An operation ended without effect: whatever it held is spendable again. */
export interface OperationRevertedEvent extends AppEventBase {
  readonly _tag: "OperationReverted"
  readonly operationId: string
  readonly kind: OperationKind
  readonly reason: CompensationReason
  /** The mint's error code, when one was recorded. */
  readonly code: number | undefined
}

/** A received token's value is now the wallet's (its proofs were swapped for the wallet's own). */
export interface TokenReceivedEvent extends AppEventBase {
  readonly _tag: "TokenReceived"
  readonly operationId: string
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  /** The value received, fees deducted. */
  readonly amount: bigint
  readonly fee: bigint
}

/** A melt's payment succeeded. */
export interface MeltPaidEvent extends AppEventBase {
  readonly _tag: "MeltPaid"
  readonly operationId: string
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  /** The amount paid to the payee. */
  readonly amount: bigint
  readonly feeReserve: bigint
  /** The Lightning fee actually paid. */
  readonly feePaid: bigint
  /** NUT-02 input fees. */
  readonly inputFee: bigint
  /** Value returned as NUT-08 change. */
  readonly change: bigint
}

/** Every app event. Switch on `_tag`. */
export type AppEvent =
  | BalanceChangedEvent
  | OperationStartedEvent
  | MintQuotePaidEvent
  | OperationPendingEvent
  | OperationSettledEvent
  | OperationRevertedEvent
  | TokenReceivedEvent
  | MeltPaidEvent

/** Every app event tag. */
export type AppEventTag = AppEvent["_tag"]

/** Every app event tag, in the order of {@link AppEvent}. */
export const APP_EVENT_TAGS: ReadonlyArray<AppEventTag> = [
  "BalanceChanged",
  "OperationStarted",
  "MintQuotePaid",
  "OperationPending",
  "OperationSettled",
  "OperationReverted",
  "TokenReceived",
  "MeltPaid",
]

/** The fold's state: its own balances and operations projection states. */
export interface AppEventState {
  readonly balances: BalancesState
  readonly operations: OperationsState
}

/** The state before any event. */
export const initialAppEventState: AppEventState = {
  balances: balancesProjection.initial,
  operations: operationsProjection.initial,
}

/**
 * A mint URL with only its origin and path (`https://mint.example/base`): no credentials, query or fragment,
 * whatever a received token named. For the URLs the API accepts (`addMint`, `send`, …) it is the URL itself.
 */
export const publicMintUrl = (mintUrl: string): string => {
  try {
    const u = new URL(mintUrl)
    return (u.origin + u.pathname).replace(/\/+$/, "")
  } catch {
    return "invalid"
  }
}

const optionalMintUrl = (mintUrl: string | undefined): string | undefined =>
  mintUrl === undefined ? undefined : publicMintUrl(mintUrl)

const amounts = (b: Balance | undefined): BalanceAmounts => ({
  incoming: b?.incoming ?? 0n,
  unspent: b?.unspent ?? 0n,
  reserved: b?.reserved ?? 0n,
  pending: b?.pending ?? 0n,
  spent: b?.spent ?? 0n,
})

const sameAmounts = (a: BalanceAmounts, b: BalanceAmounts): boolean =>
  a.incoming === b.incoming &&
  a.unspent === b.unspent &&
  a.reserved === b.reserved &&
  a.pending === b.pending &&
  a.spent === b.spent

/** The balances of a stream, copied out of the (newest) state before it is evolved. */
const bucketsOf = (state: BalancesState, stream: string): Map<string, Balance> => {
  const out = new Map<string, Balance>()
  state.wallets.get(stream)?.buckets.forEach((b, key) => {
    out.set(key, b)
  })
  return out
}

/**
 * Folds `events` into `state` without deriving app events (warming a fold up to a resume position). Pure:
 * `state` stays what it was.
 */
export const absorbAppEvents = (state: AppEventState, events: ReadonlyArray<RecordedEvent>): AppEventState =>
  events.length === 0
    ? state
    : {
        balances: foldPage(balancesProjection, state.balances, events),
        operations: foldPage(operationsProjection, state.operations, events),
      }

/**
 * The state after `recorded` and the app events derived from it (none for most log events, and none for a
 * stream that is not a wallet's). Pure and total.
 */
export const deriveAppEvents = (
  state: AppEventState,
  recorded: RecordedEvent,
): readonly [AppEventState, ReadonlyArray<AppEvent>] => {
  const { envelope, event: e } = recorded
  const walletId = walletIdOfStream(envelope.streamId)
  const stream = envelope.streamId
  const base: Base = {
    version: APP_EVENT_VERSION,
    position: envelope.sequence,
    walletId: walletId ?? "",
    time: envelope.time,
  }
  switch (e._tag) {
    case "ProofsIssued":
    case "ProofsReceived":
    case "ProofsReserved":
    case "ProofsReleased":
    case "ProofsPending":
    case "ProofsSpent":
    case "ProofsDropped": {
      const before = bucketsOf(state.balances, stream)
      const balances = balancesProjection.evolve(state.balances, recorded)
      const next = balances === state.balances ? state : { ...state, balances }
      if (walletId === undefined || next === state) return [next, []]
      const out: AppEvent[] = []
      for (const [key, b] of bucketsOf(balances, stream)) {
        const previous = amounts(before.get(key))
        const balance = amounts(b)
        if (sameAmounts(previous, balance)) continue
        out.push({
          _tag: "BalanceChanged",
          ...base,
          mintUrl: publicMintUrl(b.mintUrl),
          unit: b.unit,
          balance,
          previous,
        })
      }
      return [next, out]
    }
    case "OperationStarted":
    case "OperationPrepared":
    case "OperationRequested":
    case "OperationSigned":
    case "OperationPending":
    case "OperationCompleted":
    case "OperationCompensated":
    case "OperationRecovering": {
      const ops = state.operations.wallets.get(stream)
      const before = ops?.get(e.operationId)
      const operations = operationsProjection.evolve(state.operations, recorded)
      const next = { ...state, operations }
      const after = operations.wallets.get(stream)?.get(e.operationId)
      if (walletId === undefined || after === undefined) return [next, []]
      return [next, operationEvents(base, e, before, after)]
    }
    default:
      return [state, []]
  }
}

type Base = Pick<AppEventBase, "version" | "position" | "walletId" | "time">

/** The app events of one operation step, from the operation's view before and after it. */
const operationEvents = (
  base: Base,
  e: Extract<RecordedEvent["event"], { readonly operationId: string; readonly kind: OperationKind }>,
  before: OperationView | undefined,
  after: OperationView,
): AppEvent[] => {
  const out: AppEvent[] = []
  const operationId = after.operationId
  const kind = after.kind
  const mintUrl = optionalMintUrl(after.mintUrl)
  const unit = after.unit
  if (before === undefined)
    out.push({
      _tag: "OperationStarted",
      ...base,
      operationId,
      kind,
      mintUrl,
      unit,
      amount: after.amount,
      feeReserve: after.feeReserve,
      detail: after.detail,
    })
  const changed = before?.sagaState !== after.sagaState
  if (!changed) return out
  if (e._tag === "OperationPrepared" && kind === "mint" && after.sagaState === "prepared")
    out.push({ _tag: "MintQuotePaid", ...base, operationId, mintUrl, unit, amount: after.amount })
  if (
    e._tag === "OperationPending" &&
    (after.sagaState === "ambiguous" || after.sagaState === "paymentPending")
  )
    out.push({ _tag: "OperationPending", ...base, operationId, kind, reason: e.reason, code: e.code })
  if (after.status === "compensated" && after.compensation !== undefined)
    out.push({
      _tag: "OperationReverted",
      ...base,
      operationId,
      kind,
      reason: after.compensation,
      code: after.code,
    })
  if (after.status === "completed") {
    out.push({
      _tag: "OperationSettled",
      ...base,
      operationId,
      kind,
      mintUrl,
      unit,
      amount: after.amount,
      fee: after.fee,
    })
    if (e._tag === "OperationCompleted" && e.kind === "receive")
      out.push({ _tag: "TokenReceived", ...base, operationId, mintUrl, unit, amount: e.amount, fee: e.fee })
    if (e._tag === "OperationCompleted" && e.kind === "melt")
      out.push({
        _tag: "MeltPaid",
        ...base,
        operationId,
        mintUrl,
        unit,
        amount: e.amount,
        feeReserve: e.feeReserve,
        feePaid: e.feePaid,
        inputFee: e.inputFee,
        change: e.change,
      })
  }
  return out
}
