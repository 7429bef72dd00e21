/**
 * Receive: take a token's proofs into the wallet by swapping them for fresh ones (only a swap settles them:
 * until then the sender can still spend them).
 *
 * Before anything is recorded the token must hold up: one mint the wallet trusts (or is told to trust), a
 * unit the mint has, every keyset id a keyset of THAT mint (short v4 ids resolved against it), DLEQs verified
 * when present, P2PK-locked proofs signed with the wallet's key (a lock to a key we do not hold is refused),
 * value above the input fee, every amount one the keyset signs. Then one append records `OperationStarted`
 * (the token itself, kept for ever), `ProofsReceived` (incoming) and the swap intent, and the swap runs
 * (`./swap.ts`). A receive that ends without effect (refused, a forged token, never processed) drops its
 * incoming proofs (`ProofsDropped`): they were never the wallet's, and a forged token's amounts must not
 * linger in any balance. The token stays in the log; receiving it again takes the proofs up anew.
 *
 * @module
 */
import { Effect } from "effect"
import { bytesToHex } from "../../crypto/bytes.js"
import { verifyProofDleq } from "../../crypto/dleq.js"
import { hashToCurveSecret } from "../../crypto/hash-to-curve.js"
import { parseSecret } from "../../crypto/nut10.js"
import { signP2pkProof } from "../../crypto/p2pk.js"
import { publicKeyHex } from "../../crypto/schnorr.js"
import type { OperationStarted, StoredProof } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf } from "../../machines/decider.js"
import {
  type EngineInvariant,
  type Proof,
  type TokenEntry as TokenEntryModel,
  TokenRejected,
  type WalletError,
} from "../../model/index.js"
import type { KeysetView } from "../../projections/mints.js"
import { operationsOf, operationsProjection } from "../../projections/operations.js"
import { sumAmounts as sumAmountsChecked } from "../../protocol/amount.js"
import { feeForInputs } from "../../protocol/fees.js"
import { decodeToken } from "../../protocol/token.js"
import { normaliseMintUrl, syncMint } from "../mints.js"
import { keysOf } from "../outputs.js"
import { attempt } from "../pure.js"
import type { WalletRuntime, WalletView } from "../runtime.js"
import { ifAny } from "./lists.js"
import { activeKeysetOrFail, driveNew, outputsFor, settledOrFail } from "./shared.js"
import { appendSwapIntent, requestSwap } from "./swap.js"
import { recoverSwapAdvancing } from "./swap-recovery.js"

/** Options of `wallet.receive(token, options)`. */
export interface ReceiveOptions {
  /** Trust the token's mint if the wallet does not yet (default false: an unknown mint is refused). */
  readonly trustMint?: boolean
  /** Private keys (hex) to sign P2PK-locked proofs with, besides the wallet's own key. */
  readonly privateKeys?: ReadonlyArray<string>
}

/** What a receive brought in. */
export interface ReceiveResult {
  readonly operationId: string
  readonly mintUrl: string
  readonly unit: string
  /** Value added to the wallet (token value minus input fees). */
  readonly amount: bigint
  readonly fee: bigint
}

const reject = (reason: TokenRejected["reason"], message: string) => new TokenRejected({ reason, message })

/** Signs a P2PK-locked proof with the first key that is in its lock; refuses locks to foreign keys. */
const unlock = (proof: Proof, keys: ReadonlyArray<string>): Proof | TokenRejected => {
  const parsed = parseSecret(proof.secret)
  if (parsed.type === "plain") return proof
  if (parsed.kind !== "P2PK")
    return reject("locked", "the token holds HTLC-locked proofs; receiving them needs the preimage")
  const pubkeys = new Set([
    parsed.data.toLowerCase(),
    ...parsed.tags.filter((t) => t[0] === "pubkeys").flatMap((t) => t.slice(1).map((k) => k.toLowerCase())),
  ])
  const key = keys.find((k) => pubkeys.has(publicKeyHex(k).toLowerCase()))
  if (key === undefined) return reject("locked", "the token is locked to a key this wallet does not hold")
  return signP2pkProof(proof, key)
}

/** Whether an unfinished receive operation already spends any of `ys`. */
const heldByReceiveInFlight = (rt: WalletRuntime, ys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const wanted = new Set(ys)
    const ops = operationsOf(rt.services.runner.state(operationsProjection), rt.stream, {
      inFlight: true,
      kind: "receive",
    })
    for (const op of ops) {
      if (rt.isClaimed(op.operationId)) return true
      const s = yield* rt.existingOperation(op.operationId)
      if (intentOf(s)?.inputs.some((y) => wanted.has(y)) === true) return true
    }
    return false
  })

/** The one entry of a token a receive takes, with its mint (normalised) and unit. */
export interface TokenEntry {
  readonly entry: TokenEntryModel
  readonly mintUrl: string
  readonly unit: string
}

/** Decodes a token for a receive: one mint, at least one proof; refused as a receive refuses. */
export const tokenEntry = (tokenText: string): Effect.Effect<TokenEntry, WalletError> =>
  Effect.gen(function* () {
    const token = yield* attempt(() => decodeToken(tokenText))
    if (token.entries.length !== 1)
      return yield* reject("multi-mint", "a token must hold proofs of exactly one mint")
    const entry = token.entries[0]!
    if (entry.proofs.length === 0) return yield* reject("empty", "the token holds no proofs")
    return { entry, mintUrl: normaliseMintUrl(entry.mint), unit: token.unit ?? "sat" }
  })

/**
 * Whether the mint's keysets must be fetched before the token can be checked: the wallet does not trust the
 * mint for the unit yet, or the token names a keyset the wallet has not seen (a rotation, a new mint).
 */
export const needsKeysets = (view: WalletView, { entry, mintUrl, unit }: TokenEntry): boolean =>
  !view.trusts(mintUrl, unit) ||
  entry.proofs.some((p) => {
    const lower = p.id.toLowerCase()
    return view.keyset(lower) === undefined && !view.keysets(mintUrl).some((ks) => ks.id.startsWith(lower))
  })

/** Where a token's keysets are looked up: the wallet's view, or (a preview) the keysets a sync would leave. */
export interface TokenKeysets {
  readonly keyset: (id: string) => KeysetView | undefined
  readonly keysets: (mintUrl: string) => ReadonlyArray<KeysetView>
}

/** A token's proofs as the receive spends them, their value, and the NUT-02 input fee of the swap. */
export interface CheckedToken {
  /** Ids resolved to the mint's full keyset ids, P2PK locks signed, `Y` computed. */
  readonly proofs: ReadonlyArray<StoredProof>
  readonly amount: bigint
  readonly fee: bigint
}

/**
 * Checks a token's proofs against `keysets` (see the module comment: keyset of THIS mint and unit, an amount
 * the keyset signs, DLEQ, P2PK locks signed with one of `keys`, no proof twice, value above the input fee)
 * and computes the swap's input fee. Pure; the receive and its preview (`./preview.ts`) both run it.
 */
export const checkTokenProofs = (
  keysets: TokenKeysets,
  { entry, mintUrl, unit }: TokenEntry,
  keys: ReadonlyArray<string>,
): Effect.Effect<CheckedToken, WalletError> =>
  Effect.gen(function* () {
    const mintKeysets = keysets.keysets(mintUrl)
    const proofs: StoredProof[] = []
    for (const raw of entry.proofs) {
      const lower = raw.id.toLowerCase()
      const matches = mintKeysets.filter(
        (k) => k.id === lower || (lower.length < k.id.length && k.id.startsWith(lower)),
      )
      if (matches.length !== 1) {
        const foreign = keysets.keyset(lower)
        return yield* reject(
          "keyset",
          foreign !== undefined
            ? "a proof names a keyset of another mint"
            : "a proof names a keyset the mint does not have",
        )
      }
      const keyset = matches[0]!
      if (keyset.unit !== unit)
        return yield* reject("unit", "a proof's keyset is of another unit than the token")
      const proof: Proof = { ...raw, id: keyset.id }
      // An amount the keyset cannot sign is forged on its face: refused before anything is recorded.
      const K = keysOf(keyset).get(proof.amount)
      if (K === undefined) return yield* reject("keyset", "a proof's amount has no key in its keyset")
      if (proof.dleq !== undefined) {
        const ok = yield* attempt(() => proof.dleq?.r !== undefined && verifyProofDleq(proof, K))
        if (!ok && proof.dleq.r !== undefined) return yield* reject("dleq", "a proof's DLEQ does not hold")
      }
      const signed = yield* attempt(() => unlock(proof, keys))
      if (signed instanceof TokenRejected) return yield* signed
      const Y = bytesToHex(hashToCurveSecret(signed.secret))
      proofs.push({
        amount: signed.amount,
        id: signed.id,
        secret: signed.secret,
        C: signed.C,
        Y,
        ...(signed.dleq !== undefined ? { dleq: signed.dleq } : {}),
        ...(signed.witness !== undefined ? { witness: signed.witness } : {}),
      })
    }
    if (new Set(proofs.map((p) => p.Y)).size !== proofs.length)
      return yield* reject("empty", "the token holds the same proof twice")
    // Checked: each amount fits u64 but their sum need not; it is refused (AmountError) before any append.
    const amount = yield* attempt(() => sumAmountsChecked(proofs.map((p) => p.amount)))
    const fee = yield* attempt(() => feeForInputs(proofs, (id) => keysets.keyset(id)?.inputFeePpk))
    if (fee >= amount)
      return yield* reject("fees-exceed-value", "the token is worth less than the fee to receive it")
    return { proofs, amount, fee }
  })

/**
 * Refuses proofs the wallet holds or held (double receive) — except proofs still `incoming` from an earlier
 * receive of this token that ended without effect (a refusal, a crash before the request): taking them up
 * again is how that value is not stranded, unless a receive in flight holds them. Only reads.
 */
export const refuseTaken = (
  rt: WalletRuntime,
  v: WalletView,
  proofs: ReadonlyArray<StoredProof>,
): Effect.Effect<void, TokenRejected | EngineInvariant> =>
  Effect.gen(function* () {
    const incoming = proofs.filter((p) => v.proof(p.Y)?.state === "incoming")
    if (
      proofs.some((p) => (v.proof(p.Y) !== undefined && v.proof(p.Y)?.state !== "incoming") || v.isSpent(p.Y))
    )
      return yield* reject("already-spent", "the wallet already received (or spent) proofs of this token")
    if (
      incoming.length > 0 &&
      (yield* heldByReceiveInFlight(
        rt,
        incoming.map((p) => p.Y),
      ))
    )
      return yield* reject("already-spent", "another receive of this token is in flight")
  })

/** Receives a token (see the module comment). */
export const receive = (
  rt: WalletRuntime,
  tokenText: string,
  walletKey: string,
  options: ReceiveOptions = {},
): Effect.Effect<ReceiveResult, WalletError> =>
  Effect.gen(function* () {
    const te = yield* tokenEntry(tokenText)
    const { mintUrl, unit } = te
    if (!rt.view().trusts(mintUrl, unit) && options.trustMint !== true)
      return yield* reject("unknown-mint", "the token's mint is not trusted by this wallet")
    // Learn keysets the token names that the wallet has not seen (a keyset rotation, or a new mint).
    if (needsKeysets(rt.view(), te)) yield* syncMint(rt, mintUrl, [unit])
    const view = rt.view()
    const { proofs, amount, fee } = yield* checkTokenProofs(view, te, [
      walletKey,
      ...(options.privateKeys ?? []),
    ])

    const operationId = newOperationId(rt.services.now())
    const started: Extract<OperationStarted, { kind: "receive" }> = {
      _tag: "OperationStarted",
      operationId,
      kind: "receive",
      mintUrl,
      unit,
      token: tokenText,
      amount,
    }
    return yield* driveNew(
      rt,
      operationId,
      Effect.gen(function* () {
        const state = yield* rt.write((_, record) =>
          Effect.gen(function* () {
            const v = rt.view()
            // Under the writer: a proof we hold or held cannot be received again (double receive).
            yield* refuseTaken(rt, v, proofs)
            const fresh = proofs.filter((p) => v.proof(p.Y) === undefined)
            const keyset = yield* activeKeysetOrFail(v, mintUrl, unit)
            const outputs = yield* attempt(() => outputsFor(keyset, amount - fee, "keep"))
            return yield* appendSwapIntent(rt, record, {
              started,
              inputs: proofs,
              before: ifAny(fresh, (p) => ({
                _tag: "ProofsReceived",
                mintUrl,
                unit,
                operationId,
                proofs: p,
              })),
              reserve: false,
              outputs,
              keyset,
            })
          }),
        )
        const settled = yield* requestSwap(rt, state, recoverSwapAdvancing)
        const { completed } = yield* settledOrFail(state, settled)
        const got = completed.kind === "receive" ? completed : undefined
        return { operationId, mintUrl, unit, amount: got?.amount ?? amount - fee, fee: got?.fee ?? fee }
      }),
    )
  })
