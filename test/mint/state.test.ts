import { describe, expect, it } from "vitest"
import { encodeMintRequest } from "../../src/protocol/decode.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
  matchProofStates,
} from "../../src/protocol/schemas/checkstate.js"
import { RestoreRequestSchema, RestoreResponseSchema } from "../../src/protocol/schemas/restore.js"
import { SwapResponseSchema } from "../../src/protocol/schemas/swap.js"
import { createTestMint, proofY } from "../support/mint/index.js"
import { activeKeyset, mintProofs, ok, outputsFor, post, swapBody, unblind } from "./client.js"

describe("test mint: checkstate (NUT-07) and restore (NUT-09)", () => {
  it("reports UNSPENT and SPENT per Y, in request order", async () => {
    const mint = createTestMint()
    const keyset = await activeKeyset(mint)
    const [a, b] = await mintProofs(mint, 3n)
    await ok(await post(mint, "/v1/swap", swapBody([a!], outputsFor(keyset, [1n]))), SwapResponseSchema)
    const Ys = [proofY(b!.secret), proofY(a!.secret)]
    const res = await ok(
      await post(mint, "/v1/checkstate", encodeMintRequest(CheckStateRequestSchema, { Ys })),
      CheckStateResponseSchema,
    )
    expect(res.states.map((s) => s.state)).toEqual(["UNSPENT", "SPENT"])
    expect(matchProofStates(Ys, res).size).toBe(2)
  })

  it("restores exactly the outputs it signed, with their signatures, and skips the others", async () => {
    const mint = createTestMint()
    const keyset = await activeKeyset(mint)
    const inputs = await mintProofs(mint, 6n)
    const outputs = outputsFor(keyset, [2n, 4n])
    const swapped = await ok(await post(mint, "/v1/swap", swapBody(inputs, outputs)), SwapResponseSchema)
    const unknown = outputsFor(keyset, [1n])
    const asked = [unknown[0]!, outputs[1]!, outputs[0]!]
    const res = await ok(
      await post(mint, "/v1/restore", encodeMintRequest(RestoreRequestSchema, { outputs: asked })),
      RestoreResponseSchema,
    )
    expect(res.outputs.map((o) => o.B_)).toEqual([outputs[1]!.B_, outputs[0]!.B_])
    expect(res.signatures).toEqual([swapped.signatures[1], swapped.signatures[0]])
    expect(unblind([outputs[1]!, outputs[0]!], res.signatures, keyset).map((p) => p.amount)).toEqual([4n, 2n])
  })
})
