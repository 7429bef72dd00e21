/**
 * Fee previews: what a send, a receive or a melt would spend and charge, without doing any of it.
 *
 * Each preview runs the operation's own planning code on the wallet's current view — {@link planSend} for a
 * send, {@link planMelt} for a melt, {@link checkTokenProofs} for a receive: the same coin selection
 * (`../../protocol/coin-selection.ts`) and the same NUT-02 fee arithmetic (`../../protocol/fees.ts`), so what
 * the operation then charges equals the preview when the wallet's state has not changed in between. A
 * preview fails with the error the operation would raise (`InsufficientFunds`, `UnknownMint`,
 * `TokenRejected`, `QuoteRejected`, …).
 *
 * Money first: a preview appends nothing, reserves nothing and sends nothing that moves money. It takes no
 * writer permit and no operation claim: it reads the projections once, synchronously (one consistent state).
 * A concurrent operation of the same wallet may change the selection before the real call runs: a preview
 * is exact for the state it read, not a reservation. It does not wait for a recovery pass either (a wallet
 * just opened with operations in doubt may free inputs once recovery runs). The only I/O is read-only: a
 * receive preview of a token whose keysets the wallet has not learned (an untrusted mint, a rotated keyset)
 * fetches the mint's keysets and keys, and records none of them.
 *
 * @module
 */
import { Effect } from "effect"
import {
  InvalidArgument,
  KeysetError,
  QuoteRejected,
  TokenRejected,
  UnknownMint,
  type WalletError,
} from "../../model/index.js"
import type { LiveProof } from "../../projections/proofs.js"
import { fetchKeysets, keysetsAfterSync } from "../mints.js"
import type { WalletRuntime } from "../runtime.js"
import { meltStarted, planMelt } from "./melt-steps.js"
import {
  checkTokenProofs,
  needsKeysets,
  type ReceiveOptions,
  refuseTaken,
  type TokenKeysets,
  tokenEntry,
} from "./receive.js"
import { planSend, type SendRequest } from "./send.js"

/** A proof an operation would spend: its amount and keyset, never its secret. */
export interface PreviewProof {
  readonly amount: bigint
  /** The proof's keyset id (its NUT-02 fee rate is that keyset's). */
  readonly keysetId: string
}

/** What `wallet.send(req)` would do now (`wallet.prepareSend`). */
export interface SendPreview {
  readonly mintUrl: string
  readonly unit: string
  readonly amount: bigint
  /** `true`: the proofs add up to the amount exactly and become the token, no request and no fee. */
  readonly offline: boolean
  /** The wallet's proofs the send would spend (offline: the token's; otherwise the swap's inputs). */
  readonly proofs: ReadonlyArray<PreviewProof>
  /** NUT-02 input fee of the swap (0 offline): `SendResult.fee` of the send. */
  readonly fee: bigint
  /** Value the swap returns to the wallet as new proofs (0 offline). */
  readonly change: bigint
  /** What leaves the spendable balance: `amount + fee`. */
  readonly total: bigint
}

/** What `wallet.receive(token)` would do now (`wallet.prepareReceive`). */
export interface ReceivePreview {
  readonly mintUrl: string
  readonly unit: string
  /** The token's value: Σ of its proofs. */
  readonly amount: bigint
  /** NUT-02 input fee of the swap that takes the proofs in: `ReceiveResult.fee`. */
  readonly fee: bigint
  /** What the wallet would be credited: `amount − fee` (`ReceiveResult.amount`). */
  readonly credited: bigint
  /** The token's proofs (amount, full keyset id). */
  readonly proofs: ReadonlyArray<PreviewProof>
  /** Whether the wallet already trusts the mint for the unit (if not, `receive` needs `trustMint: true`). */
  readonly trusted: boolean
}

/** What `wallet.melt(operationId)` would do now (`wallet.prepareMelt`). */
export interface MeltPreview {
  readonly operationId: string
  readonly mintUrl: string
  readonly unit: string
  /** The quote's amount (what the invoice pays). */
  readonly amount: bigint
  /** The quote's fee reserve (the most the Lightning fee may take; the unused part comes back as change). */
  readonly feeReserve: bigint
  /** The wallet's proofs the melt would spend. */
  readonly proofs: ReadonlyArray<PreviewProof>
  /** NUT-02 input fee of those proofs: `MeltResult.inputFee`. */
  readonly inputFee: bigint
  /**
   * The most the melt can take from the balance: `amount + feeReserve + inputFee` (the melt charges
   * `amount + feePaid + inputFee`, with `feePaid ≤ feeReserve` from an honest mint).
   */
  readonly maxTotal: bigint
}

const previewProofs = (proofs: ReadonlyArray<{ readonly amount: bigint; readonly id: string }>) =>
  proofs.map((p) => ({ amount: p.amount, keysetId: p.id }))

const livePreview = (inputs: ReadonlyArray<LiveProof>) => previewProofs(inputs.map((p) => p.proof))

/** Previews a send: {@link planSend} on the wallet's view now. Reads only. */
export const prepareSend = (rt: WalletRuntime, req: SendRequest): Effect.Effect<SendPreview, WalletError> =>
  Effect.gen(function* () {
    const plan = yield* planSend(rt.view(), req)
    const fee = plan._tag === "Offline" ? 0n : plan.fee
    return {
      mintUrl: req.mintUrl,
      unit: req.unit,
      amount: req.amount,
      offline: plan._tag === "Offline",
      proofs: livePreview(plan.inputs),
      fee,
      change: plan._tag === "Offline" ? 0n : plan.change,
      total: req.amount + fee,
    }
  })

/**
 * Previews a receive: the token decoded and checked as `receive` checks it ({@link checkTokenProofs}), and
 * the swap's input fee. When the wallet has not learned the keysets the token names, they are fetched from
 * the mint and looked at as a sync would leave them, without recording anything. Reads only.
 */
export const prepareReceive = (
  rt: WalletRuntime,
  tokenText: string,
  walletKey: string,
  options: ReceiveOptions = {},
): Effect.Effect<ReceivePreview, WalletError> =>
  Effect.gen(function* () {
    const te = yield* tokenEntry(tokenText)
    const { mintUrl, unit } = te
    const trusted = rt.view().trusts(mintUrl, unit)
    if (!trusted && options.trustMint !== true)
      return yield* new TokenRejected({
        reason: "unknown-mint",
        message: "the token's mint is not trusted by this wallet",
      })
    let keysets: TokenKeysets = rt.view()
    if (needsKeysets(rt.view(), te)) {
      const fetched = yield* fetchKeysets(rt, mintUrl, [unit])
      const view = rt.view()
      const after = keysetsAfterSync(view, mintUrl, fetched, rt.services.now())
      if (after instanceof KeysetError) return yield* after
      const byId = new Map(after.map((k) => [k.id, k]))
      keysets = {
        keyset: (id) => byId.get(id) ?? view.keyset(id),
        keysets: (url) => (url === mintUrl ? after : view.keysets(url)),
      }
    }
    const checked = yield* checkTokenProofs(keysets, te, [walletKey, ...(options.privateKeys ?? [])])
    yield* refuseTaken(rt, rt.view(), checked.proofs)
    if (!keysets.keysets(mintUrl).some((k) => k.active && k.unit === unit))
      return yield* new UnknownMint({
        mintUrl,
        unit,
        message: "no active keyset of this unit at this mint; add the mint first",
      })
    return {
      mintUrl,
      unit,
      amount: checked.amount,
      fee: checked.fee,
      credited: checked.amount - checked.fee,
      proofs: previewProofs(checked.proofs),
      trusted,
    }
  })

/**
 * Previews paying a recorded melt quote: {@link planMelt} on the wallet's view now. A melt already sent
 * (its inputs chosen and held) has nothing left to preview: `InvalidArgument` on `operationId`. An expired
 * quote fails as the melt would (`QuoteRejected`), without the melt's compensation. Reads only.
 */
export const prepareMelt = (
  rt: WalletRuntime,
  operationId: string,
): Effect.Effect<MeltPreview, WalletError> =>
  Effect.gen(function* () {
    const s = yield* rt.existingOperation(operationId)
    const started = yield* meltStarted(s)
    if (s.state !== "started")
      return yield* new InvalidArgument({
        argument: "operationId",
        reason: "the melt was already sent",
        message: "operationId: the melt was already sent; its inputs are chosen (see history())",
      })
    const { expiry } = started
    if (expiry !== undefined && expiry > 0 && expiry * 1000 <= rt.services.now())
      return yield* new QuoteRejected({ reason: "expired", message: "the melt quote has expired" })
    const plan = yield* planMelt(rt.view(), started)
    return {
      operationId,
      mintUrl: started.mintUrl,
      unit: started.unit,
      amount: started.amount,
      feeReserve: started.feeReserve,
      proofs: livePreview(plan.inputs),
      inputFee: plan.inputFee,
      maxTotal: started.amount + started.feeReserve + plan.inputFee,
    }
  })
