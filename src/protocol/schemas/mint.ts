/**
 * Minting: NUT-04 (generic flow), NUT-23 (bolt11 quotes), NUT-20 (quote lock `pubkey` / request `signature`)
 * and NUT-29 (batch quote check and batch mint).
 *
 * Quote ids are bearer secrets (NUT-04): they travel in these records, so nothing here ever puts one into an
 * error message.
 *
 * @module
 */
import { Option, Schema, SchemaTransformation } from "effect"
import { AmountSchema, PositiveAmountSchema, SafeUintSchema } from "../amount.js"
import {
  BlindedMessageSchema,
  nullableKey,
  PointHexSchema,
  QuoteIdSchema,
  SchnorrSignatureHexSchema,
  SignaturesResponseSchema,
  UnitSchema,
} from "./common.js"

/**
 * Mint quote states. NUT-23: `UNPAID | PAID | ISSUED`. Nutshell also has `PENDING` (a mint operation for the
 * quote is in flight) and can report it, so it is accepted rather than failing the whole response.
 */
export const MintQuoteStateSchema = Schema.Literals(["UNPAID", "PAID", "PENDING", "ISSUED"])
/** A mint quote state. */
export type MintQuoteState = typeof MintQuoteStateSchema.Type

/** NUT-23 `PostMintQuoteBolt11Request` (+ NUT-20 `pubkey`): `{amount, unit, description?, pubkey?}`. */
export const MintQuoteBolt11RequestSchema = Schema.Struct({
  amount: PositiveAmountSchema,
  unit: UnitSchema,
  description: Schema.optionalKey(Schema.String),
  pubkey: Schema.optionalKey(PointHexSchema),
})
/** Decoded {@link MintQuoteBolt11RequestSchema}. */
export type MintQuoteBolt11Request = typeof MintQuoteBolt11RequestSchema.Type

/**
 * The NUT-20 quote lock. Nutshell 0.20.3 answers `GET /v1/mint/quote/bolt11/{id}` of an unlocked quote with
 * `"pubkey": ""` (seen against the live mint; its POST answers `null`): `""` and `null` decode to absent.
 */
const QuotePubkeySchema = Schema.optionalKey(
  Schema.NullOr(Schema.Union([PointHexSchema, Schema.Literal("")])),
).pipe(
  Schema.decodeTo(
    Schema.optionalKey(Schema.toType(PointHexSchema)),
    SchemaTransformation.transformOptional<string, string | null>({
      decode: (o) => Option.filter(o, (v): v is string => v !== null && v !== ""),
      encode: (o) => o,
    }),
  ),
)

/**
 * NUT-23 `PostMintQuoteBolt11Response` (also the answer of `GET /v1/mint/quote/bolt11/{id}` and the NUT-17
 * `bolt11_mint_quote` payload). `amount` and `unit` are required by the current spec but optional here: CDK
 * still types them as optional and the NUT-20 example omits them. `expiry` may be `null`. `amount_paid` /
 * `amount_issued` are nutshell/CDK extras (NUT-25 style), kept when present.
 */
export const MintQuoteBolt11ResponseSchema = Schema.Struct({
  quote: QuoteIdSchema,
  request: Schema.String,
  amount: nullableKey(AmountSchema),
  unit: nullableKey(UnitSchema),
  state: MintQuoteStateSchema,
  expiry: nullableKey(SafeUintSchema),
  pubkey: QuotePubkeySchema,
  amount_paid: nullableKey(AmountSchema),
  amount_issued: nullableKey(AmountSchema),
})
/** Decoded {@link MintQuoteBolt11ResponseSchema}. */
export type MintQuoteBolt11Response = typeof MintQuoteBolt11ResponseSchema.Type

/**
 * NUT-04 `PostMintRequest` (+ NUT-20 `signature`): `{quote, outputs, signature?}`. The output amounts must sum
 * to the quoted amount.
 */
export const MintRequestSchema = Schema.Struct({
  quote: QuoteIdSchema,
  outputs: Schema.Array(BlindedMessageSchema),
  signature: Schema.optionalKey(SchnorrSignatureHexSchema),
})
/** Decoded {@link MintRequestSchema}. */
export type MintRequest = typeof MintRequestSchema.Type

/** NUT-04 `PostMintResponse`: `{signatures: [BlindSignature]}`. */
export const MintResponseSchema = SignaturesResponseSchema
/** Decoded {@link MintResponseSchema}. */
export type MintResponse = typeof MintResponseSchema.Type

/** NUT-29 `POST /v1/mint/quote/{method}/check` request: `{quotes: [unique quote ids]}`. */
export const MintQuoteCheckRequestSchema = Schema.Struct({ quotes: Schema.Array(QuoteIdSchema) })
/** Decoded {@link MintQuoteCheckRequestSchema}. */
export type MintQuoteCheckRequest = typeof MintQuoteCheckRequestSchema.Type

/**
 * NUT-29 batch check response for bolt11: a bare JSON array of quote responses in request order. For another
 * method use `Schema.Array(<that method's quote schema>)`.
 */
export const MintQuoteBolt11CheckResponseSchema = Schema.Array(MintQuoteBolt11ResponseSchema)
/** Decoded {@link MintQuoteBolt11CheckResponseSchema}. */
export type MintQuoteBolt11CheckResponse = typeof MintQuoteBolt11CheckResponseSchema.Type

/**
 * NUT-29 `POST /v1/mint/{method}/batch` request: `{quotes, quote_amounts?, outputs, signatures?}`.
 * `signatures[i]` is the NUT-20 signature for `quotes[i]` or `null` for an unlocked quote. Shape only — the
 * batch rules live in `batch-mint.ts` (`validateBatchMintRequest`).
 */
export const BatchMintRequestSchema = Schema.Struct({
  quotes: Schema.Array(QuoteIdSchema),
  quote_amounts: nullableKey(Schema.Array(AmountSchema)),
  outputs: Schema.Array(BlindedMessageSchema),
  signatures: nullableKey(Schema.Array(Schema.NullOr(SchnorrSignatureHexSchema))),
})
/** Decoded {@link BatchMintRequestSchema}. */
export type BatchMintRequest = typeof BatchMintRequestSchema.Type

/** NUT-29 batch mint response: `{signatures: [BlindSignature]}`, one per output, in output order. */
export const BatchMintResponseSchema = SignaturesResponseSchema
/** Decoded {@link BatchMintResponseSchema}. */
export type BatchMintResponse = typeof BatchMintResponseSchema.Type
