import { fc, test } from "@fast-check/vitest"
import { expect } from "vitest"
import type { Proof } from "../../src/model/index.js"
import { SwapResponseSchema } from "../../src/protocol/schemas/swap.js"
import { splitAmount } from "../../src/protocol/split.js"
import { createTestMint, type FaultKind } from "../support/mint/index.js"
import { activeKeyset, mintProofs, ok, outputsFor, post, swapBody, total, unblind } from "./client.js"

const FAULTS: ReadonlyArray<FaultKind | "none"> = ["none", "drop-response", "drop-request", "error-500"]

/**
 * Random swaps under random faults, recovered by replaying the byte-identical request (NUT-19): the mint's
 * books (`issued − redeemed`) always equal what the wallet holds.
 */
test.prop([fc.array(fc.record({ fault: fc.constantFrom(...FAULTS), take: fc.nat(5) }), { maxLength: 6 })], {
  numRuns: 12,
})("swaps under faults conserve value", async (steps) => {
  const mint = createTestMint()
  const keyset = await activeKeyset(mint)
  let held: Proof[] = await mintProofs(mint, 100n)
  for (const step of steps) {
    const inputs = held.slice(0, Math.max(1, Math.min(step.take, held.length)))
    const amount = total(inputs)
    const outputs = outputsFor(keyset, splitAmount(amount, keyset.keys))
    const body = swapBody(inputs, outputs)
    if (step.fault !== "none") mint.faults.next({ path: "/v1/swap", kind: step.fault })
    let res = await post(mint, "/v1/swap", body).catch(() => undefined)
    if (res === undefined || res.status !== 200) res = await post(mint, "/v1/swap", body)
    const sigs = await ok(res, SwapResponseSchema)
    held = [...held.slice(inputs.length), ...unblind(outputs, sigs.signatures, keyset)]
    expect(mint.stats().outstanding).toBe(total(held))
  }
  expect(total(held)).toBe(100n)
})
