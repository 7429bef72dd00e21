/**
 * NUT-07 `POST /v1/checkstate` (UNSPENT / PENDING / SPENT per Y, with the spending witness) and NUT-09
 * `POST /v1/restore` (the stored signature of every output whose `B_` the mint has signed, in request order).
 *
 * @module
 */
import { decodeMintResponse, encodeMintRequest } from "../../../../src/protocol/decode.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
} from "../../../../src/protocol/schemas/checkstate.js"
import { RestoreRequestSchema, RestoreResponseSchema } from "../../../../src/protocol/schemas/restore.js"
import type { MintContext } from "../state.js"

/** `POST /v1/checkstate`. */
export const postCheckState = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(CheckStateRequestSchema, body)
  const states = req.Ys.map((Y) => {
    const witness = ctx.ledger.spentEntry(Y)?.witness
    return { Y, state: ctx.ledger.state(Y), ...(witness !== undefined ? { witness } : {}) }
  })
  return encodeMintRequest(CheckStateResponseSchema, { states })
}

/** `POST /v1/restore`. */
export const postRestore = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(RestoreRequestSchema, body)
  const found = req.outputs.flatMap((o) => {
    const entry = ctx.ledger.signedEntry(o.B_)
    return entry === undefined ? [] : [entry]
  })
  return encodeMintRequest(RestoreResponseSchema, {
    outputs: found.map((e) => e.output),
    signatures: found.map((e) => e.signature),
  })
}
