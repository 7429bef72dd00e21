/**
 * NUT-20 mint-quote signatures (and their NUT-29 batch form).
 *
 * A quote created with a `pubkey` can only be minted with a BIP340 signature over SHA-256 of a message built
 * from the quote id and the request's outputs. Two messages exist:
 *
 * - **v1** (what we sign; nutshell ≥ 0.20.2 and CDK 0.18 check it first; cashubtc/nuts PR #375):
 *   `"Cashu_MintQuoteSig_v1" ‖ len32(quote) ‖ utf8(quote) ‖ for each output: len32(amount) ‖ amount ‖
 *   len32(B_) ‖ B_`, where `len32` is a 4-byte big-endian byte length, `amount` the output amount as minimal
 *   big-endian bytes (empty for 0) and `B_` the raw point bytes. The tag itself is not length-prefixed.
 * - **legacy** (still the text of 20.md on the spec's main branch; mints accept it with a deprecation
 *   warning): `utf8(quote_id) ‖ utf8(B_0) ‖ … ‖ utf8(B_{n−1})`, the `B_` as their hex text.
 *
 * Verification accepts either. In a NUT-29 batch, `signatures[i]` signs `quote_id[i]` followed by ALL the
 * batch's outputs (same construction), and is `null` for a quote without a pubkey.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { type BlindedMessage, CryptoError } from "../model/index.js"
import { hexToBytesOrUndefined, utf8 } from "./bytes.js"
import { type PrivateKeyInput, signDigest, verifyDigest, xOnlyFromCompressed } from "./schnorr.js"

/** An output as NUT-20 sees it: its amount and `B_` are signed (the legacy message signs only `B_`). */
export type QuoteOutput = Pick<BlindedMessage, "amount" | "B_">

/** The domain-separation tag that opens a v1 message. */
export const MINT_QUOTE_SIG_TAG = "Cashu_MintQuoteSig_v1"

const TAG_BYTES = utf8(MINT_QUOTE_SIG_TAG)
const MAX_U64 = (1n << 64n) - 1n

/** Minimal big-endian bytes of a u64 amount (empty for 0); undefined when it is not one. */
const amountBytes = (amount: bigint): Uint8Array | undefined => {
  if (typeof amount !== "bigint" || amount < 0n || amount > MAX_U64) return undefined
  const out: number[] = []
  for (let a = amount; a > 0n; a >>= 8n) out.unshift(Number(a & 0xffn))
  return Uint8Array.from(out)
}

/**
 * The v1 message bytes, or undefined when an output is not signable (amount outside u64, `B_` not hex). The
 * framing makes the encoding injective: no two (quote, outputs) produce the same bytes.
 */
const v1Message = (quoteId: string, outputs: ReadonlyArray<QuoteOutput>): Uint8Array | undefined => {
  const items: Uint8Array[] = [utf8(quoteId)]
  for (const o of outputs) {
    const amount = amountBytes(o.amount)
    const B = hexToBytesOrUndefined(o.B_)
    if (amount === undefined || B === undefined) return undefined
    items.push(amount, B)
  }
  let size = TAG_BYTES.length
  for (const item of items) size += 4 + item.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out.set(TAG_BYTES, 0)
  let at = TAG_BYTES.length
  for (const item of items) {
    view.setUint32(at, item.length, false)
    out.set(item, at + 4)
    at += 4 + item.length
  }
  return out
}

/**
 * The bytes NUT-20 v1 signs before hashing (see the module comment). Fails with a {@link CryptoError}
 * (`signature`) when an output's amount is not a u64 or its `B_` is not hex.
 */
export const mintQuoteMessage = (quoteId: string, outputs: ReadonlyArray<QuoteOutput>): Uint8Array => {
  const msg = v1Message(quoteId, outputs)
  if (msg === undefined) {
    throw new CryptoError({ reason: "signature", message: "an output cannot be signed (amount or B_)" })
  }
  return msg
}

/** The bytes of the legacy message: `utf8(quote_id) ‖ utf8(B_0) ‖ …` (B_ as hex text). */
export const legacyMintQuoteMessage = (
  quoteId: string,
  outputs: ReadonlyArray<Pick<BlindedMessage, "B_">>,
): Uint8Array => {
  let msg = quoteId
  for (const o of outputs) msg += o.B_
  return utf8(msg)
}

/**
 * Signs a mint request for a locked quote with the quote's private key over the v1 message; returns the
 * 64-byte signature as hex.
 */
export const signMintQuote = (
  quoteId: string,
  outputs: ReadonlyArray<QuoteOutput>,
  privateKey: PrivateKeyInput,
): string => signDigest(sha256(mintQuoteMessage(quoteId, outputs)), privateKey)

/**
 * True when `signature` is a valid NUT-20 signature by `pubkey` (33-byte compressed hex) over the quote and
 * outputs, on the v1 message or the legacy one. Never throws: a malformed key, output or signature is simply
 * invalid.
 */
export const verifyMintQuoteSignature = (
  quoteId: string,
  outputs: ReadonlyArray<QuoteOutput>,
  signature: string,
  pubkey: string,
): boolean => {
  const xOnly = xOnlyFromCompressed(pubkey)
  if (xOnly === undefined) return false
  const v1 = v1Message(quoteId, outputs)
  if (v1 !== undefined && verifyDigest(signature, sha256(v1), xOnly)) return true
  return verifyDigest(signature, sha256(legacyMintQuoteMessage(quoteId, outputs)), xOnly)
}

/** One quote of a NUT-29 batch, as the signer sees it: its id and, for a locked quote, its private key. */
export interface BatchQuoteSigner {
  readonly quoteId: string
  readonly privateKey?: PrivateKeyInput
}

/** One quote of a NUT-29 batch, as a verifier sees it: its id and, for a locked quote, its public key. */
export interface BatchQuoteLock {
  readonly quoteId: string
  readonly pubkey?: string
}

/** The NUT-29 `signatures` array: a NUT-20 signature over `quote_id[i]` and ALL outputs per locked quote. */
export const signBatchMintQuotes = (
  quotes: ReadonlyArray<BatchQuoteSigner>,
  outputs: ReadonlyArray<QuoteOutput>,
): Array<string | null> =>
  quotes.map((q) => (q.privateKey === undefined ? null : signMintQuote(q.quoteId, outputs, q.privateKey)))

/**
 * NUT-29 rule 8: with any locked quote the array must exist and match `quotes` in length; every locked quote
 * needs a valid signature and every unlocked one a `null`. Without locked quotes the array may be absent.
 */
export const verifyBatchMintSignatures = (
  quotes: ReadonlyArray<BatchQuoteLock>,
  outputs: ReadonlyArray<QuoteOutput>,
  signatures: ReadonlyArray<string | null> | undefined,
): boolean => {
  if (signatures === undefined) return quotes.every((q) => q.pubkey === undefined)
  if (signatures.length !== quotes.length) return false
  return quotes.every((q, i) => {
    const sig = signatures[i]
    if (q.pubkey === undefined) return sig === null
    return typeof sig === "string" && verifyMintQuoteSignature(q.quoteId, outputs, sig, q.pubkey)
  })
}
