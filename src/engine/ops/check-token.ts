/**
 * Token state check (NUT-07): the state of a token's proofs — unspent, pending or spent — without receiving it.
 *
 * **A read.** `checkToken` decodes the token (the bounded decoder), computes each proof's
 * `Y = hash_to_curve(secret)` and asks each mint the token names `POST /v1/checkstate` (≤ 100 Ys per
 * request, answers matched by Y with `matchProofStates`: a missing, extra or repeated Y fails the call, it is
 * never read as a state). It appends nothing to the log, reserves nothing, does not trust or add the mint and
 * needs none of its keys: a keyset the wallet does not know is fine. It does not wait for the wallet's
 * recovery pass either (it touches none of the wallet's state).
 *
 * **Privacy.** The mint learns the Ys asked about (not the secrets: a Y cannot be spent), so it can link the
 * check to the token when it is later swapped. The token's mint URL is contacted as it stands in the token
 * (checked to be an http(s) URL first): check tokens from strangers knowing that it makes this node call
 * their URL.
 *
 * Errors: a token that does not decode, holds no proof, holds the same proof twice or names a mint URL that
 * is not an http(s) URL fails with `InvalidArgument` (`argument: "token"`, a reason, never the token's
 * content); a mint's failure surfaces as from every other call (`MintRejected`, `MintUnreachable`,
 * `MintTimeout`, `MintAmbiguous`), and an answer that does not match the Ys asked for as a `DecodeError`.
 *
 * @module
 */
import { Effect } from "effect"
import { bytesToHex } from "../../crypto/bytes.js"
import { hashToCurveSecret } from "../../crypto/hash-to-curve.js"
import {
  DecodeError,
  EngineInvariant,
  InvalidArgument,
  type Proof,
  type ProofState,
  type WalletError,
} from "../../model/index.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import { decodeToken } from "../../protocol/token.js"
import { checked, mintUrl } from "../arguments.js"
import { normaliseMintUrl } from "../mints.js"
import { attempt } from "../pure.js"
import type { WalletRuntime } from "../runtime.js"
import { CHECKSTATE_BATCH } from "./restore.js"

/** One proof of a checked token ({@link TokenMintState.proofs}). */
export interface TokenProofState {
  /** The proof's amount, in the token's unit. */
  readonly amount: bigint
  /** The keyset id as the token names it (a v4 token may name it short). */
  readonly keysetId: string
  /** `hash_to_curve(secret)` (hex): what the mint was asked about. Public, not spendable. */
  readonly Y: string
  /** What the mint said: `UNSPENT` (still claimable), `PENDING` (in a payment in flight) or `SPENT`. */
  readonly state: ProofState
}

/** The proofs of one mint of a checked token, with their value by state ({@link TokenState.mints}). */
export interface TokenMintState {
  /** The mint's URL, normalised (no trailing `/`). */
  readonly mintUrl: string
  /** Every proof the token holds at this mint, in the token's order. */
  readonly proofs: ReadonlyArray<TokenProofState>
  /** Value the mint reports unspent. */
  readonly unspent: bigint
  /** Value the mint reports pending. */
  readonly pending: bigint
  /** Value the mint reports spent. */
  readonly spent: bigint
}

/**
 * What `wallet.checkToken(token)` found: per mint the state of each proof and the value by state, and the
 * totals over every mint. Nothing was recorded; a token fully `unspent` can still be claimed by whoever holds
 * it (the check reserves nothing).
 */
export interface TokenState {
  /** The token's unit (`sat` when the token names none). */
  readonly unit: string
  /** One entry per mint the token names, in the token's order. */
  readonly mints: ReadonlyArray<TokenMintState>
  /** Value unspent at every mint. */
  readonly unspent: bigint
  /** Value pending at every mint. */
  readonly pending: bigint
  /** Value spent at every mint. */
  readonly spent: bigint
}

const refuse = (reason: string): never => {
  throw new InvalidArgument({ argument: "token", reason, message: `invalid argument token: ${reason}` })
}

/** The token's proofs by mint (URL checked and normalised, entries of one mint merged), each with its Y. */
const proofsByMint = (tokenText: string) =>
  Effect.gen(function* () {
    const token = yield* checked(() => {
      try {
        return decodeToken(tokenText)
      } catch (e) {
        // The decoder's reasons and messages name no content of the token.
        if (e instanceof DecodeError)
          throw new InvalidArgument({
            argument: "token",
            reason: `does not decode (${e.reason})`,
            message: `invalid argument token: does not decode: ${e.message}`,
          })
        throw e
      }
    })
    const byMint = new Map<string, Proof[]>()
    for (const entry of token.entries) {
      const url = yield* checked(() => normaliseMintUrl(mintUrl(entry.mint, "token")))
      const list = byMint.get(url) ?? []
      list.push(...entry.proofs)
      byMint.set(url, list)
    }
    const mints: { mintUrl: string; proofs: { proof: Proof; Y: string }[] }[] = []
    const seen = new Set<string>()
    for (const [url, proofs] of byMint) {
      const withY: { proof: Proof; Y: string }[] = []
      for (const proof of proofs) {
        const Y = yield* attempt(() => bytesToHex(hashToCurveSecret(proof.secret)))
        if (seen.has(Y)) return yield* checked(() => refuse("holds the same proof twice"))
        seen.add(Y)
        withY.push({ proof, Y })
      }
      if (withY.length > 0) mints.push({ mintUrl: url, proofs: withY })
    }
    if (mints.length === 0) return yield* checked(() => refuse("holds no proofs"))
    return { unit: token.unit ?? "sat", mints }
  })

/** Checks the state of every proof of `tokenText` with its mint (see the module comment). Appends nothing. */
export const checkToken = (rt: WalletRuntime, tokenText: string): Effect.Effect<TokenState, WalletError> =>
  Effect.gen(function* () {
    const { unit, mints } = yield* proofsByMint(tokenText)
    const out: TokenMintState[] = []
    const total = { unspent: 0n, pending: 0n, spent: 0n }
    for (const m of mints) {
      const ys = m.proofs.map((p) => p.Y)
      const states = new Map<string, ProofState>()
      for (let i = 0; i < ys.length; i += CHECKSTATE_BATCH) {
        const chunk = ys.slice(i, i + CHECKSTATE_BATCH)
        const res = yield* rt.services.mint.checkState(m.mintUrl, chunk)
        const matched = yield* attempt(() => matchProofStates(chunk, res))
        for (const [y, e] of matched) states.set(y, e.state)
      }
      const sums = { unspent: 0n, pending: 0n, spent: 0n }
      const proofs: TokenProofState[] = []
      for (const { proof, Y } of m.proofs) {
        const state = states.get(Y)
        if (state === undefined)
          return yield* new EngineInvariant({ message: "checkstate left a Y of the token unanswered" })
        const key = state === "SPENT" ? "spent" : state === "PENDING" ? "pending" : "unspent"
        sums[key] += proof.amount
        total[key] += proof.amount
        proofs.push({ amount: proof.amount, keysetId: proof.id, Y, state })
      }
      out.push({ mintUrl: m.mintUrl, proofs, ...sums })
    }
    return { unit, mints: out, ...total }
  })
