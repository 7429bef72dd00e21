/**
 * Melting: NUT-05 (generic flow), NUT-23 (bolt11 quotes), NUT-08 (blank outputs and `change`), NUT-15 (`mpp`
 * option).
 *
 * @module
 */
import { Schema } from "effect"
import { AmountSchema, PositiveAmountSchema, SafeUintSchema } from "../amount.js"
import {
  BlindedMessageSchema,
  BlindSignatureSchema,
  MintInputProofSchema,
  nullableKey,
  QuoteIdSchema,
  UnitSchema,
} from "./common.js"

/**
 * Melt quote states. NUT-05: `UNPAID | PENDING | PAID`. CDK mints also report `FAILED` and `UNKNOWN`; they are
 * accepted so the wallet sees them (and treats `UNKNOWN` like `PENDING`) instead of failing the whole decode.
 */
export const MeltQuoteStateSchema = Schema.Literals(["UNPAID", "PENDING", "PAID", "FAILED", "UNKNOWN"])
/** A melt quote state. */
export type MeltQuoteState = typeof MeltQuoteStateSchema.Type

/**
 * NUT-23 `PostMeltQuoteBolt11Request`: `{request, unit, options?}`. `options.amountless.amount_msat` pays an
 * amountless invoice (NUT-23); `options.mpp.amount` (msat) asks for a partial payment (NUT-15).
 */
export const MeltQuoteBolt11RequestSchema = Schema.Struct({
  request: Schema.String.check(Schema.isNonEmpty()),
  unit: UnitSchema,
  options: Schema.optionalKey(
    Schema.Struct({
      amountless: Schema.optionalKey(Schema.Struct({ amount_msat: PositiveAmountSchema })),
      mpp: Schema.optionalKey(Schema.Struct({ amount: PositiveAmountSchema })),
    }),
  ),
})
/** Decoded {@link MeltQuoteBolt11RequestSchema}. */
export type MeltQuoteBolt11Request = typeof MeltQuoteBolt11RequestSchema.Type

/**
 * NUT-23 `PostMeltQuoteBolt11Response` — the answer to the quote request, to `GET /v1/melt/quote/bolt11/{id}`,
 * to `POST /v1/melt/bolt11` and the NUT-17 `bolt11_melt_quote` payload. `change` (NUT-08) holds signatures for
 * the non-zero blank outputs, in blank-output order. `unit`, `request`, `expiry` may be missing or `null`
 * (CDK/nutshell type them optional).
 */
export const MeltQuoteBolt11ResponseSchema = Schema.Struct({
  quote: QuoteIdSchema,
  amount: AmountSchema,
  fee_reserve: AmountSchema,
  state: MeltQuoteStateSchema,
  unit: nullableKey(UnitSchema),
  request: nullableKey(Schema.String),
  expiry: nullableKey(SafeUintSchema),
  payment_preimage: nullableKey(Schema.String),
  change: nullableKey(Schema.Array(BlindSignatureSchema)),
})
/** Decoded {@link MeltQuoteBolt11ResponseSchema}. */
export type MeltQuoteBolt11Response = typeof MeltQuoteBolt11ResponseSchema.Type

/**
 * NUT-05 method-agnostic melt quote fields (`{quote, amount, unit, state, expiry}`), for methods this module
 * has no dedicated schema for. Method-specific fields are dropped.
 */
export const MeltQuoteResponseSchema = Schema.Struct({
  quote: QuoteIdSchema,
  amount: AmountSchema,
  state: MeltQuoteStateSchema,
  unit: nullableKey(UnitSchema),
  expiry: nullableKey(SafeUintSchema),
})
/** Decoded {@link MeltQuoteResponseSchema}. */
export type MeltQuoteResponse = typeof MeltQuoteResponseSchema.Type

/**
 * NUT-05/NUT-08 `PostMeltRequest`: `{quote, inputs, outputs?, prefer_async?}`. `outputs` are the NUT-08 blank
 * outputs (count from `blankOutputCount`); inputs must cover `amount + fee_reserve + input fees`.
 */
export const MeltRequestSchema = Schema.Struct({
  quote: QuoteIdSchema,
  inputs: Schema.Array(MintInputProofSchema),
  outputs: Schema.optionalKey(Schema.Array(BlindedMessageSchema)),
  prefer_async: Schema.optionalKey(Schema.Boolean),
})
/** Decoded {@link MeltRequestSchema}. */
export type MeltRequest = typeof MeltRequestSchema.Type

/** `POST /v1/melt/bolt11` answers with the melt quote record (plus `change`). */
export const MeltResponseBolt11Schema = MeltQuoteBolt11ResponseSchema
/** Decoded {@link MeltResponseBolt11Schema}. */
export type MeltResponseBolt11 = MeltQuoteBolt11Response
