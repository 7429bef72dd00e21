import { describe, expect, it } from "vitest"
import type { Proof } from "../../src/model/index.js"
import { encodeMintRequest } from "../../src/protocol/decode.js"
import { CheckStateResponseSchema } from "../../src/protocol/schemas/checkstate.js"
import {
  MeltQuoteBolt11RequestSchema,
  MeltQuoteBolt11ResponseSchema,
  MeltRequestSchema,
} from "../../src/protocol/schemas/melt.js"
import { SwapResponseSchema } from "../../src/protocol/schemas/swap.js"
import { blankOutputCount } from "../../src/protocol/split.js"
import { createTestMint, proofY, type TestMint } from "../support/mint/index.js"
import {
  activeKeyset,
  errorCode,
  get,
  mintProofs,
  ok,
  outputsFor,
  post,
  swapBody,
  unblind,
} from "./client.js"

const meltQuote = async (mint: TestMint, amount: bigint) =>
  ok(
    await post(
      mint,
      "/v1/melt/quote/bolt11",
      encodeMintRequest(MeltQuoteBolt11RequestSchema, { request: mint.invoice(amount), unit: "sat" }),
    ),
    MeltQuoteBolt11ResponseSchema,
  )

/** 64 sat in one proof, and a melt quote for 50 with a reserve of 10 (4 blank outputs). */
const setup = async (opts: Parameters<typeof createTestMint>[0] = {}) => {
  const mint = createTestMint({ ...opts, config: { feeReserve: () => 10n, ...opts.config } })
  const keyset = await activeKeyset(mint)
  const inputs = (await mintProofs(mint, 64n)) as Proof[]
  const quote = await meltQuote(mint, 50n)
  const blanks = outputsFor(keyset, Array(blankOutputCount(quote.fee_reserve)).fill(1n))
  const body = encodeMintRequest(MeltRequestSchema, { quote: quote.quote, inputs, outputs: blanks })
  return { mint, keyset, inputs, quote, blanks, body }
}

describe("test mint: melt (NUT-05/08/23)", () => {
  it("quotes the invoice's amount with the configured reserve", async () => {
    const { quote } = await setup()
    expect(quote.amount).toBe(50n)
    expect(quote.fee_reserve).toBe(10n)
    expect(quote.state).toBe("UNPAID")
  })

  it("pays and returns change onto the blank outputs in order, largest first", async () => {
    const { mint, keyset, inputs, quote, blanks, body } = await setup()
    const res = await ok(await post(mint, "/v1/melt/bolt11", body), MeltQuoteBolt11ResponseSchema)
    expect(res.state).toBe("PAID")
    expect(res.payment_preimage).toBeDefined()
    // 64 in − 50 paid − 1 lightning fee = 13 back: 8, 4, 1 on the first three blanks.
    const change = res.change ?? []
    expect(change.map((s) => s.amount)).toEqual([8n, 4n, 1n])
    const proofs = unblind(blanks.slice(0, change.length), change, keyset)
    expect(proofs.map((p) => p.amount)).toEqual([8n, 4n, 1n])
    expect(mint.isSpent(proofY(inputs[0]!.secret))).toBe(true)
    const again = await ok(
      await get(mint, `/v1/melt/quote/bolt11/${quote.quote}`),
      MeltQuoteBolt11ResponseSchema,
    )
    expect(again.state).toBe("PAID")
    expect(again.change).toEqual(change)
    expect(mint.stats().outstanding).toBe(13n)
  })

  it("refuses inputs short of amount + reserve (11005)", async () => {
    const mint = createTestMint({ config: { feeReserve: () => 10n } })
    const inputs = await mintProofs(mint, 32n)
    const quote = await meltQuote(mint, 30n)
    const body = encodeMintRequest(MeltRequestSchema, { quote: quote.quote, inputs })
    expect(await errorCode(await post(mint, "/v1/melt/bolt11", body))).toBe(11005)
    expect(mint.isSpent(proofY(inputs[0]!.secret))).toBe(false)
  })

  it("fails the payment with 20004 and leaves the inputs unspent", async () => {
    const { mint, inputs, quote, body } = await setup({ config: { meltOutcome: "failed" } })
    expect(await errorCode(await post(mint, "/v1/melt/bolt11", body))).toBe(20004)
    expect(mint.isSpent(proofY(inputs[0]!.secret))).toBe(false)
    expect(mint.isPending(proofY(inputs[0]!.secret))).toBe(false)
    expect(mint.meltQuote(quote.quote)?.state).toBe("UNPAID")
  })

  it("holds a pending payment's inputs (11002) until it settles, then signs the change", async () => {
    const { mint, keyset, inputs, quote, blanks, body } = await setup({ config: { meltOutcome: "pending" } })
    const res = await ok(await post(mint, "/v1/melt/bolt11", body), MeltQuoteBolt11ResponseSchema)
    expect(res.state).toBe("PENDING")
    const Y = proofY(inputs[0]!.secret)
    const states = await ok(
      await post(mint, "/v1/checkstate", JSON.stringify({ Ys: [Y] })),
      CheckStateResponseSchema,
    )
    expect(states.states[0]!.state).toBe("PENDING")
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(inputs, outputsFor(keyset, [64n]))))).toBe(
      11002,
    )
    expect(await errorCode(await post(mint, "/v1/melt/bolt11", body.replace("{", "{ ")))).toBe(20005)
    mint.settleMelt(quote.quote, "paid")
    expect(mint.isSpent(Y)).toBe(true)
    const settled = await ok(
      await get(mint, `/v1/melt/quote/bolt11/${quote.quote}`),
      MeltQuoteBolt11ResponseSchema,
    )
    expect(settled.state).toBe("PAID")
    expect(unblind(blanks.slice(0, 3), settled.change ?? [], keyset).map((p) => p.amount)).toEqual([
      8n,
      4n,
      1n,
    ])
  })

  it("releases a pending payment's inputs when it settles as failed", async () => {
    const { mint, keyset, inputs, quote, body } = await setup({ config: { meltOutcome: "pending" } })
    await ok(await post(mint, "/v1/melt/bolt11", body), MeltQuoteBolt11ResponseSchema)
    mint.settleMelt(quote.quote, "failed")
    expect(mint.isPending(proofY(inputs[0]!.secret))).toBe(false)
    await ok(await post(mint, "/v1/swap", swapBody(inputs, outputsFor(keyset, [64n]))), SwapResponseSchema)
  })
})
