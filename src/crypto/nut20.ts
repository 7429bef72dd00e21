/**
 * NUT-20 mint-quote signatures (and their NUT-29 batch form).
 *
 * A quote created with a `pubkey` can only be minted with a BIP340 signature over
 * `SHA256(utf8(quote_id) ‖ utf8(B_0) ‖ … ‖ utf8(B_{n−1}))` — the `B_` as their hex text, not their bytes. In a
 * NUT-29 batch, `signatures[i]` signs `quote_id[i]` followed by ALL the batch's outputs, and is `null` for a
 * quote without a pubkey.
 *
 * @module
 */
import type { BlindedMessage } from "../protocol/models.js"
import { utf8 } from "./bytes.js"
import { type PrivateKeyInput, sha256Utf8, signDigest, verifyDigest, xOnlyFromCompressed } from "./schnorr.js"

/** An output as NUT-20 sees it: only `B_` is signed. */
export type QuoteOutput = Pick<BlindedMessage, "B_">

const messageText = (quoteId: string, outputs: ReadonlyArray<QuoteOutput>): string => {
  let msg = quoteId
  for (const o of outputs) msg += o.B_
  return msg
}

/** The bytes NUT-20 signs before hashing: `utf8(quote_id) ‖ utf8(B_0) ‖ …`. */
export const mintQuoteMessage = (quoteId: string, outputs: ReadonlyArray<QuoteOutput>): Uint8Array =>
  utf8(messageText(quoteId, outputs))

/** Signs a mint request for a locked quote with the quote's private key; returns the 64-byte signature as hex. */
export const signMintQuote = (
  quoteId: string,
  outputs: ReadonlyArray<QuoteOutput>,
  privateKey: PrivateKeyInput,
): string => signDigest(sha256Utf8(messageText(quoteId, outputs)), privateKey)

/**
 * True when `signature` is a valid NUT-20 signature by `pubkey` (33-byte compressed hex) over the quote and
 * outputs. Never throws: a malformed key or signature is simply invalid.
 */
export const verifyMintQuoteSignature = (
  quoteId: string,
  outputs: ReadonlyArray<QuoteOutput>,
  signature: string,
  pubkey: string,
): boolean => {
  const xOnly = xOnlyFromCompressed(pubkey)
  return xOnly !== undefined && verifyDigest(signature, sha256Utf8(messageText(quoteId, outputs)), xOnly)
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

/** The NUT-29 `signatures` array: a signature over `quote_id[i] ‖ all B_` per locked quote, `null` otherwise. */
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
