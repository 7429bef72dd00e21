/**
 * NUT-05/23 melting over bolt11: quotes for the test mint's own signed regtest invoices (amount read from the invoice, configurable fee
 * reserve), and a synchronous `POST /v1/melt/bolt11` whose payment ends as the mint's `meltOutcome` says:
 * `paid` (inputs spent, NUT-08 change signed onto the blank outputs in the order given, largest piece first),
 * `pending` (inputs held, 11002 for anyone reusing them, until `settleMelt`), or `failed` (20004, inputs
 * released).
 *
 * @module
 */
import { randomUUID } from "node:crypto"
import { checkSpendingConditions } from "../../../../src/crypto/p2pk.js"
import { decodeMintResponse, encodeMintRequest } from "../../../../src/protocol/decode.js"
import {
  MeltQuoteBolt11RequestSchema,
  MeltQuoteBolt11ResponseSchema,
  MeltRequestSchema,
} from "../../../../src/protocol/schemas/melt.js"
import { splitAmount } from "../../../../src/protocol/split.js"
import { Code, refuse } from "../errors.js"
import { parseFakeInvoice } from "../invoice.js"
import {
  checkLimits,
  checkNotSigned,
  checkOutputs,
  checkUnspent,
  signOutput,
  verifyInputs,
} from "../signer.js"
import { type MeltHold, type MeltQuote, type MintContext, nowSeconds } from "../state.js"

/** The melt quote as NUT-23 answers it (also the synchronous melt response). */
export const meltQuoteBody = (q: MeltQuote): string =>
  encodeMintRequest(MeltQuoteBolt11ResponseSchema, {
    quote: q.quote,
    amount: q.amount,
    fee_reserve: q.feeReserve,
    state: q.state,
    unit: q.unit,
    request: q.request,
    expiry: q.expiry,
    ...(q.preimage !== undefined ? { payment_preimage: q.preimage } : {}),
    ...(q.change !== undefined ? { change: q.change } : {}),
  })

/** The quote `id`, or a nutshell-style "not found" refusal. */
export const findMeltQuote = (ctx: MintContext, id: string): MeltQuote =>
  ctx.meltQuotes.get(id) ?? refuse(Code.Generic, "melt quote not found")

/** `POST /v1/melt/quote/bolt11`. */
export const postMeltQuote = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(MeltQuoteBolt11RequestSchema, body)
  if (ctx.keysets.active(req.unit) === undefined) refuse(Code.UnitNotSupported, "unit not supported")
  const invoice = parseFakeInvoice(req.request) ?? refuse(Code.Generic, "could not decode invoice")
  const q: MeltQuote = {
    quote: randomUUID(),
    request: req.request,
    amount: invoice.amount,
    feeReserve: ctx.config.feeReserve(invoice.amount),
    unit: req.unit,
    state: "UNPAID",
    expiry: nowSeconds(ctx) + ctx.config.quoteTtlSeconds,
  }
  ctx.meltQuotes.set(q.quote, q)
  return meltQuoteBody(q)
}

/** `GET /v1/melt/quote/bolt11/{id}`. */
export const getMeltQuote = (ctx: MintContext, id: string): string => meltQuoteBody(findMeltQuote(ctx, id))

/** Completes a held melt as paid: inputs spent, change signed onto the blank outputs, quote PAID. */
export const settlePaid = (ctx: MintContext, q: MeltQuote, hold: MeltHold): void => {
  const lnFee = minBig(ctx.config.lightningFee(q), q.feeReserve)
  ctx.ledger.spendAll(hold.inputs, hold.Ys)
  const overpaid = hold.total - hold.fee - q.amount - lnFee
  const change = []
  if (overpaid > 0n && hold.outputs.length > 0) {
    const first = ctx.keysets.get(hold.outputs[0]!.id)!
    // Largest pieces first onto the outputs in the order given; pieces beyond the outputs are lost (nutshell).
    const pieces = splitAmount(overpaid, first.keys, { order: "desc" }).slice(0, hold.outputs.length)
    for (let i = 0; i < pieces.length; i++) {
      const o = hold.outputs[i]!
      const amount = pieces[i]!
      const signature = signOutput(ctx.keysets.get(o.id)!, o.B_, amount)
      ctx.ledger.recordSigned({ output: { ...o, amount }, signature })
      change.push(signature)
    }
  }
  q.state = "PAID"
  q.preimage = "0".repeat(64)
  q.feePaid = lnFee
  q.change = change
  delete q.hold
}

/** Ends a held melt as failed: inputs released, quote back to UNPAID. */
export const settleFailed = (ctx: MintContext, q: MeltQuote, hold: MeltHold): void => {
  for (const Y of hold.Ys) ctx.ledger.release(Y)
  q.state = "UNPAID"
  delete q.hold
}

const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b)

/** `POST /v1/melt/bolt11` (synchronous). */
export const postMelt = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(MeltRequestSchema, body)
  const outputs = req.outputs ?? []
  checkLimits(ctx.config, req.inputs.length, outputs.length)
  const q = findMeltQuote(ctx, req.quote)
  if (q.state === "PAID") refuse(Code.InvoiceAlreadyPaid, "melt quote already paid")
  if (q.state === "PENDING") refuse(Code.QuotePending, "melt quote is pending")
  if (q.expiry < nowSeconds(ctx)) refuse(Code.QuoteExpired, "quote expired")
  const v = verifyInputs(req.inputs, ctx.keysets)
  if (v.unit !== q.unit) refuse(Code.UnitMismatch, "inputs and quote not of same unit")
  checkOutputs(outputs, ctx.keysets, q.unit, { blank: true })
  const failed = checkSpendingConditions({
    inputs: req.inputs,
    outputs,
    quoteId: q.quote,
    now: nowSeconds(ctx),
  })
  if (failed !== undefined) refuse(Code.ProofVerificationFailed, "spending conditions not met")
  if (v.total - v.fee < q.amount + q.feeReserve)
    refuse(Code.TransactionUnbalanced, "not enough inputs provided for melt")
  checkUnspent(v.Ys, ctx.ledger)
  checkNotSigned(outputs, ctx.ledger)
  for (const other of ctx.meltQuotes.values())
    if (other !== q && other.request === q.request && other.state !== "UNPAID")
      refuse(Code.InvoiceAlreadyPaid, "invoice already paid")
  const hold: MeltHold = { inputs: req.inputs, Ys: v.Ys, total: v.total, fee: v.fee, outputs }
  switch (ctx.config.meltOutcome) {
    case "paid":
      settlePaid(ctx, q, hold)
      break
    case "pending":
      for (let i = 0; i < v.Ys.length; i++) ctx.ledger.markPending(v.Ys[i]!, req.inputs[i]!.amount, q.quote)
      q.state = "PENDING"
      q.hold = hold
      break
    case "failed":
      return refuse(Code.LightningPaymentFailed, "Lightning payment failed")
  }
  return meltQuoteBody(q)
}
