/**
 * NUT-09 restore: `POST /v1/restore`.
 *
 * The response pairs `outputs[i]` with `signatures[i]` and only lists outputs the mint has signed; equal lengths
 * are enforced here. Matching returned outputs to the ones the wallet asked for (by `B_`, ignoring any it did not
 * ask for) is the recovery code's job.
 *
 * @module
 */
import { Schema } from "effect"
import { BlindedMessageSchema, BlindSignatureSchema } from "./common.js"

/** `PostRestoreRequest`: `{outputs: [BlindedMessage]}`. */
export const RestoreRequestSchema = Schema.Struct({ outputs: Schema.Array(BlindedMessageSchema) })
/** Decoded {@link RestoreRequestSchema}. */
export type RestoreRequest = typeof RestoreRequestSchema.Type

/** `PostRestoreResponse`: `{outputs, signatures}` of equal length. */
export const RestoreResponseSchema = Schema.Struct({
  outputs: Schema.Array(BlindedMessageSchema),
  signatures: Schema.Array(BlindSignatureSchema),
}).check(
  Schema.makeFilter(
    (r: { readonly outputs: ReadonlyArray<unknown>; readonly signatures: ReadonlyArray<unknown> }) =>
      r.outputs.length === r.signatures.length || {
        path: ["signatures"],
        issue: "as many signatures as outputs",
      },
  ),
)
/** Decoded {@link RestoreResponseSchema}. */
export type RestoreResponse = typeof RestoreResponseSchema.Type
