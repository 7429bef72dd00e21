/**
 * NUT-07 token state check: `POST /v1/checkstate`.
 *
 * A mint's answer is untrusted: {@link matchProofStates} maps the returned states onto the `Y`s that were asked
 * for and fails on a missing, extra or repeated `Y` — an empty or partial answer must never read as "all spent"
 * (that would write off proofs the mint still holds unspent).
 *
 * @module
 */
import { Schema } from "effect"
import { DecodeError } from "../../model/index.js"
import { nullableKey, PointHexSchema } from "./common.js"

/** NUT-07 proof states. */
export const ProofStateSchema = Schema.Literals(["UNSPENT", "PENDING", "SPENT"])

/** `PostCheckStateRequest`: `{Ys: [hex]}` with `Y = hash_to_curve(utf8(secret))`. */
export const CheckStateRequestSchema = Schema.Struct({ Ys: Schema.Array(PointHexSchema) })
/** Decoded {@link CheckStateRequestSchema}. */
export type CheckStateRequest = typeof CheckStateRequestSchema.Type

/**
 * One proof state `{Y, state, witness?}` — an element of the checkstate response and the NUT-17 `proof_state`
 * payload (whose examples omit `witness`). `witness` is the serialised NUT-10 witness used to spend it (e.g. an
 * HTLC preimage), absent or `null` when none.
 */
export const ProofStateEntrySchema = Schema.Struct({
  Y: PointHexSchema,
  state: ProofStateSchema,
  witness: nullableKey(Schema.String),
})
/** Decoded {@link ProofStateEntrySchema}. */
export type ProofStateEntry = typeof ProofStateEntrySchema.Type

/** `PostCheckStateResponse`: `{states: [{Y, state, witness}]}`, in request order. */
export const CheckStateResponseSchema = Schema.Struct({ states: Schema.Array(ProofStateEntrySchema) })
/** Decoded {@link CheckStateResponseSchema}. */
export type CheckStateResponse = typeof CheckStateResponseSchema.Type

/**
 * Matches a checkstate response to the requested `Ys` (compared case-insensitively; decoded `Y`s are lowercase).
 * NUT-07 promises request order, but the match is by `Y` so a reordered answer is still read correctly.
 *
 * @returns the state of every requested `Y`, keyed by the lowercase `Y`.
 * @throws {DecodeError} `duplicate` when a `Y` is answered twice, `schema` when one is missing or unasked.
 */
export const matchProofStates = (
  requestedYs: ReadonlyArray<string>,
  response: CheckStateResponse,
): ReadonlyMap<string, ProofStateEntry> => {
  const wanted = new Set(requestedYs.map((y) => y.toLowerCase()))
  const out = new Map<string, ProofStateEntry>()
  response.states.forEach((entry, i) => {
    if (!wanted.has(entry.Y)) {
      throw new DecodeError({
        reason: "schema",
        message: "checkstate answered a Y that was not asked",
        path: `states.${i}.Y`,
      })
    }
    if (out.has(entry.Y)) {
      throw new DecodeError({
        reason: "duplicate",
        message: "checkstate answered a Y twice",
        path: `states.${i}.Y`,
      })
    }
    out.set(entry.Y, entry)
  })
  if (out.size !== wanted.size) {
    throw new DecodeError({
      reason: "schema",
      message: `checkstate left ${wanted.size - out.size} Y(s) unanswered`,
      path: "states",
    })
  }
  return out
}
