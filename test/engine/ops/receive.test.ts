/**
 * Receive: refusals decided before anything is written.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { Engine } from "../../../src/engine/engine.js"
import { isCorecashuError } from "../../../src/model/index.js"
import { decodeToken, encodeToken } from "../../../src/protocol/token.js"
import { openTestEngine, testMint } from "../../support/engine.js"

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close()
})

describe("receive", () => {
  it("a token whose amounts sum to 2^64 or more is an AmountError, and nothing is written", async () => {
    // With an input fee the value after fees (2^64 − 2) still splits into outputs: only the sum overflows.
    const mint = testMint("overflow", { inputFeePpk: 1000n })
    const engine = await openTestEngine([mint])
    engines.push(engine)
    const [a, b] = [
      await engine.createWallet({ walletId: "a" }),
      await engine.createWallet({ walletId: "b" }),
    ]
    for (const w of [a, b]) await w.addMint(mint.baseUrl)
    const q = await a.mintQuote({ mintUrl: mint.baseUrl, amount: 16n })
    await a.mint(q.operationId)
    const sent = await a.send({ mintUrl: mint.baseUrl, amount: 6n })
    const token = decodeToken(sent.token)
    const proofs = token.entries[0]!.proofs.slice(0, 2)
    expect(proofs).toHaveLength(2)
    // Each amount fits u64 (the decoder takes it), their sum does not. No DLEQ: nothing else to refuse.
    const forged = encodeToken({
      ...token,
      entries: [
        {
          ...token.entries[0]!,
          proofs: proofs.map(({ dleq: _d, ...p }) => ({ ...p, amount: 2n ** 63n })),
        },
      ],
    })
    const before = b.history().length
    let err: unknown
    try {
      await b.receive(forged)
    } catch (e) {
      err = e
    }
    expect(isCorecashuError(err)).toBe(true)
    expect(err).toMatchObject({ _tag: "AmountError", reason: "overflow" })
    expect(b.history()).toHaveLength(before)
    expect(b.balance()).toBe(0n)
    // The wallet still works: the genuine token is received.
    await b.receive(sent.token)
    expect(b.balance()).toBeGreaterThan(0n)
  })
})
