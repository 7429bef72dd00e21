/**
 * NUT-03 `POST /v1/swap`: verify the inputs (signatures, NUT-10/11/14 conditions), enforce
 * `Σ inputs − fee == Σ outputs` (11005), refuse spent/pending inputs and already-signed outputs, then spend and
 * sign in one step.
 *
 * @module
 */
import { checkSpendingConditions } from "../../../../src/crypto/p2pk.js"
import { decodeMintResponse, encodeMintRequest } from "../../../../src/protocol/decode.js"
import { SwapRequestSchema, SwapResponseSchema } from "../../../../src/protocol/schemas/swap.js"
import { Code, refuse } from "../errors.js"
import {
  checkLimits,
  checkNotSigned,
  checkOutputs,
  checkUnspent,
  signOutput,
  verifyInputs,
} from "../signer.js"
import { type MintContext, nowSeconds } from "../state.js"

/** `POST /v1/swap`. */
export const postSwap = (ctx: MintContext, body: string): string => {
  const req = decodeMintResponse(SwapRequestSchema, body)
  checkLimits(ctx.config, req.inputs.length, req.outputs.length)
  const v = verifyInputs(req.inputs, ctx.keysets)
  checkOutputs(req.outputs, ctx.keysets, v.unit)
  const failed = checkSpendingConditions({ inputs: req.inputs, outputs: req.outputs, now: nowSeconds(ctx) })
  if (failed !== undefined) refuse(Code.ProofVerificationFailed, "spending conditions not met")
  let out = 0n
  for (const o of req.outputs) out += o.amount
  if (v.total - v.fee !== out) refuse(Code.TransactionUnbalanced, "inputs - fees != outputs")
  checkUnspent(v.Ys, ctx.ledger)
  checkNotSigned(req.outputs, ctx.ledger)
  ctx.ledger.spendAll(req.inputs, v.Ys)
  const signatures = req.outputs.map((o) => {
    const signature = signOutput(ctx.keysets.get(o.id)!, o.B_, o.amount)
    ctx.ledger.recordSigned({ output: o, signature })
    return signature
  })
  return encodeMintRequest(SwapResponseSchema, { signatures })
}
