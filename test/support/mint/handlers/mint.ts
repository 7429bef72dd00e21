/**
 * NUT-04/23 minting over bolt11: quote creation and lookup (fake invoices, paid automatically or by
 * `payQuote`), and `POST /v1/mint/bolt11` with the NUT-20 signature check for locked quotes.
 *
 * @module
 */
import { randomUUID } from "node:crypto"
import { verifyMintQuoteSignature } from "../../../../src/crypto/nut20.js"
import { decodeMintResponse, encodeMintRequest } from "../../../../src/protocol/decode.js"
import {
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  MintRequestSchema,
  MintResponseSchema,
} from "../../../../src/protocol/schemas/mint.js"
import { Code, refuse } from "../errors.js"
import { fakeInvoice } from "../invoice.js"
import { checkLimits, checkNotSigned, checkOutputs, signOutput } from "../signer.js"
import { type MintContext, type MintQuote, nowSeconds } from "../state.js"

const quoteBody = (q: MintQuote): string =>
  encodeMintRequest(MintQuoteBolt11ResponseSchema, {
    quote: q.quote,
    request: q.request,
    amount: q.amount,
    unit: q.unit,
    state: q.state,
    expiry: q.expiry,
    ...(q.pubkey !== undefined ? { pubkey: q.pubkey } : {}),
  })

/** The quote `id`, or a nutshell-style "not found" refusal. */
export const findMintQuote = (ctx: MintContext, id: string): MintQuote =>
  ctx.mintQuotes.get(id) ?? refuse(Code.Generic, "mint quote not found")

/** `POST /v1/mint/quote/bolt11`. */
export const postMintQuote = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(MintQuoteBolt11RequestSchema, body)
  if (ctx.keysets.active(req.unit) === undefined) refuse(Code.UnitNotSupported, "unit not supported")
  const q: MintQuote = {
    quote: randomUUID(),
    request: fakeInvoice(req.amount),
    amount: req.amount,
    unit: req.unit,
    state: ctx.config.autoPay ? "PAID" : "UNPAID",
    expiry: nowSeconds(ctx) + ctx.config.quoteTtlSeconds,
    ...(req.pubkey !== undefined ? { pubkey: req.pubkey } : {}),
  }
  ctx.mintQuotes.set(q.quote, q)
  return quoteBody(q)
}

/** `GET /v1/mint/quote/bolt11/{id}`. */
export const getMintQuote = (ctx: MintContext, id: string): string => quoteBody(findMintQuote(ctx, id))

/** `POST /v1/mint/bolt11`. */
export const postMint = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(MintRequestSchema, body)
  checkLimits(ctx.config, 0, req.outputs.length)
  const q = findMintQuote(ctx, req.quote)
  if (q.expiry < nowSeconds(ctx)) refuse(Code.QuoteExpired, "quote expired")
  if (q.state === "UNPAID") refuse(Code.QuoteNotPaid, "quote not paid")
  if (q.state === "ISSUED") refuse(Code.QuoteAlreadyIssued, "quote already issued")
  if (q.pubkey !== undefined) {
    if (
      req.signature === undefined ||
      !verifyMintQuoteSignature(q.quote, req.outputs, req.signature, q.pubkey)
    )
      refuse(Code.MintSignatureInvalid, "mint quote signature invalid")
  }
  checkOutputs(req.outputs, ctx.keysets, q.unit)
  let sum = 0n
  for (const o of req.outputs) sum += o.amount
  if (sum !== q.amount) refuse(Code.TransactionUnbalanced, "amount to mint does not match quote amount")
  checkNotSigned(req.outputs, ctx.ledger)
  const signatures = req.outputs.map((o) => {
    const signature = signOutput(ctx.keysets.get(o.id)!, o.B_, o.amount)
    ctx.ledger.recordSigned({ output: o, signature })
    return signature
  })
  q.state = "ISSUED"
  return encodeMintRequest(MintResponseSchema, { signatures })
}
