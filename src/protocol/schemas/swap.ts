/**
 * NUT-03 swap: `POST /v1/swap`.
 *
 * The response's `signatures` come back in output order (what nutshell and CDK do, and what NUT-29 states for
 * batches); matching each signature to its output is the caller's job.
 *
 * @module
 */
import { Schema } from "effect"
import { BlindedMessageSchema, MintInputProofSchema, SignaturesResponseSchema } from "./common.js"

/**
 * `PostSwapRequest`: `{inputs: [Proof], outputs: [BlindedMessage]}`. Encoding a model `Proof` writes only the
 * fields a mint needs (no `dleq`, no `p2pk_e`). NUT-03 asks wallets to order `outputs` by ascending amount.
 */
export const SwapRequestSchema = Schema.Struct({
  inputs: Schema.Array(MintInputProofSchema),
  outputs: Schema.Array(BlindedMessageSchema),
})
/** Decoded {@link SwapRequestSchema}. */
export type SwapRequest = typeof SwapRequestSchema.Type

/** `PostSwapResponse`: `{signatures: [BlindSignature]}`. */
export const SwapResponseSchema = SignaturesResponseSchema
/** Decoded {@link SwapResponseSchema}. */
export type SwapResponse = typeof SwapResponseSchema.Type
