import { describe, expect, it } from "vitest"
import { verifyProof } from "../../src/crypto/bdhke.js"
import { signMintQuote } from "../../src/crypto/nut20.js"
import { createP2pkSecret, signP2pkProof } from "../../src/crypto/p2pk.js"
import { publicKeyHex } from "../../src/crypto/schnorr.js"
import { decodeMintResponse, encodeMintRequest } from "../../src/protocol/decode.js"
import { feeForInputs } from "../../src/protocol/fees.js"
import { keysetFromWire } from "../../src/protocol/keysets.js"
import { cachedEndpoint, InfoResponseSchema, supportsNut } from "../../src/protocol/schemas/info.js"
import { KeysetsResponseSchema, KeysResponseSchema } from "../../src/protocol/schemas/keys.js"
import {
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  MintRequestSchema,
  MintResponseSchema,
} from "../../src/protocol/schemas/mint.js"
import { SwapResponseSchema } from "../../src/protocol/schemas/swap.js"
import { splitAmount } from "../../src/protocol/split.js"
import { createTestMint, proofY } from "../support/mint/index.js"
import {
  activeKeyset,
  errorCode,
  get,
  mintProofs,
  ok,
  outputsFor,
  post,
  swapBody,
  total,
  unblind,
} from "./client.js"

describe("test mint: info and keys", () => {
  it("advertises the NUTs it implements and NUT-19 for swap/mint/melt", async () => {
    const mint = createTestMint()
    const info = await ok(await get(mint, "/v1/info"), InfoResponseSchema)
    for (const nut of ["7", "8", "9", "10", "11", "12", "14", "20"] as const)
      expect(supportsNut(info, nut)).toBe(true)
    expect(info.nuts?.["4"]?.methods).toEqual([
      { method: "bolt11", unit: "sat", options: { description: true } },
    ])
    for (const path of ["/v1/swap", "/v1/mint/bolt11", "/v1/melt/bolt11"])
      expect(cachedEndpoint(info, "POST", path)).toEqual({ ttlSeconds: 300 })
    expect(cachedEndpoint(info, "POST", "/v1/checkstate")).toBeUndefined()
  })

  it("serves keysets whose ids derive from their keys, with fees", async () => {
    const mint = createTestMint({ inputFeePpk: 100n, units: ["sat", "usd"] })
    const keys = await ok(await get(mint, "/v1/keys"), KeysResponseSchema)
    expect(keys.keysets.map((k) => k.unit)).toEqual(["sat", "usd"])
    for (const wire of keys.keysets) {
      const ks = keysetFromWire(wire)
      expect(ks.inputFeePpk).toBe(100n)
      expect(ks.keys.size).toBe(64)
    }
    const one = await ok(await get(mint, `/v1/keys/${keys.keysets[0]!.id}`), KeysResponseSchema)
    expect(one.keysets.map((k) => k.id)).toEqual([keys.keysets[0]!.id])
    expect(await errorCode(await get(mint, `/v1/keys/01${"ab".repeat(32)}`))).toBe(12001)
    const sets = await ok(await get(mint, "/v1/keysets"), KeysetsResponseSchema)
    expect(sets.keysets.every((k) => k.active && k.input_fee_ppk === 100n)).toBe(true)
  })

  it("derives the same keysets from the same seed and different ones from another", () => {
    const a = createTestMint({ seed: "s1" }).activeKeyset().id
    expect(createTestMint({ seed: "s1" }).activeKeyset().id).toBe(a)
    expect(createTestMint({ seed: "s2" }).activeKeyset().id).not.toBe(a)
  })

  it("answers unknown routes 404 and wrong methods 405, undecodable bodies 422", async () => {
    const mint = createTestMint()
    expect((await get(mint, "/v1/nope")).status).toBe(404)
    expect((await get(mint, "/v1/swap")).status).toBe(405)
    expect((await post(mint, "/v1/swap", "{not json")).status).toBe(422)
    expect((await post(mint, "/v1/swap", '{"inputs":[]}')).status).toBe(422)
  })
})

describe("test mint: minting (NUT-04/20/23)", () => {
  it("mints 100 sat into proofs whose DLEQ and signatures verify", async () => {
    const mint = createTestMint()
    const proofs = await mintProofs(mint, 100n)
    expect(proofs.map((p) => p.amount)).toEqual([4n, 32n, 64n])
    const ks = mint.activeKeyset()
    for (const p of proofs) expect(verifyProof(p.secret, p.C, ks.privateKeys.get(p.amount)!)).toBe(true)
    expect(mint.stats().issued).toBe(100n)
    expect(mint.stats().requests["POST /v1/mint/bolt11"]).toBe(1)
  })

  it("refuses unpaid (20001) and already issued (20002) quotes, and unbalanced outputs (11005)", async () => {
    const mint = createTestMint({ config: { autoPay: false } })
    const keyset = await activeKeyset(mint)
    const quote = await ok(
      await post(
        mint,
        "/v1/mint/quote/bolt11",
        encodeMintRequest(MintQuoteBolt11RequestSchema, { amount: 8n, unit: "sat" }),
      ),
      MintQuoteBolt11ResponseSchema,
    )
    expect(quote.state).toBe("UNPAID")
    expect(quote.request.startsWith("lnbcrt80n1")).toBe(true)
    const outputs = outputsFor(keyset, [8n])
    const body = encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", body))).toBe(20001)
    mint.payQuote(quote.quote)
    const polled = await ok(
      await get(mint, `/v1/mint/quote/bolt11/${quote.quote}`),
      MintQuoteBolt11ResponseSchema,
    )
    expect(polled.state).toBe("PAID")
    const wrong = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [4n]),
    })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", wrong))).toBe(11005)
    await ok(await post(mint, "/v1/mint/bolt11", body), MintResponseSchema)
    const again = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [8n]),
    })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", again))).toBe(20002)
  })

  it("checks the NUT-20 signature of a locked quote", async () => {
    const mint = createTestMint()
    const keyset = await activeKeyset(mint)
    const sk = "11".repeat(32)
    const quote = await ok(
      await post(
        mint,
        "/v1/mint/quote/bolt11",
        encodeMintRequest(MintQuoteBolt11RequestSchema, {
          amount: 2n,
          unit: "sat",
          pubkey: publicKeyHex(sk),
        }),
      ),
      MintQuoteBolt11ResponseSchema,
    )
    const outputs = outputsFor(keyset, [2n])
    const unsigned = encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", unsigned))).toBe(20008)
    const badSig = signMintQuote(quote.quote, outputsFor(keyset, [2n]), sk)
    const bad = encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs, signature: badSig })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", bad))).toBe(20008)
    const signature = signMintQuote(quote.quote, outputs, sk)
    const res = await ok(
      await post(
        mint,
        "/v1/mint/bolt11",
        encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs, signature }),
      ),
      MintResponseSchema,
    )
    expect(unblind(outputs, res.signatures, keyset)).toHaveLength(1)
  })
})

describe("test mint: limits and expiry", () => {
  it("refuses too many inputs (11014) or outputs (11015), and expired quotes (20007)", async () => {
    let now = 1_700_000_000_000
    const mint = createTestMint({
      nowMs: () => now,
      config: { maxInputs: 2, maxOutputs: 3, quoteTtlSeconds: 60 },
    })
    const keyset = await activeKeyset(mint)
    const proofs = await mintProofs(mint, 7n)
    expect(proofs).toHaveLength(3)
    expect(
      await errorCode(await post(mint, "/v1/swap", swapBody(proofs, outputsFor(keyset, [4n, 2n, 1n])))),
    ).toBe(11014)
    const two = proofs.slice(1)
    expect(
      await errorCode(await post(mint, "/v1/swap", swapBody(two, outputsFor(keyset, [1n, 1n, 1n, 1n, 2n])))),
    ).toBe(11015)
    const quote = await ok(
      await post(
        mint,
        "/v1/mint/quote/bolt11",
        encodeMintRequest(MintQuoteBolt11RequestSchema, { amount: 1n, unit: "sat" }),
      ),
      MintQuoteBolt11ResponseSchema,
    )
    now += 61_000
    const body = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [1n]),
    })
    expect(await errorCode(await post(mint, "/v1/mint/bolt11", body))).toBe(20007)
  })
})

describe("test mint: swap (NUT-03)", () => {
  it("charges input fees exactly and refuses an unbalanced swap with 11005 without spending", async () => {
    const mint = createTestMint({ inputFeePpk: 100n })
    const keyset = await activeKeyset(mint)
    const proofs = await mintProofs(mint, 100n)
    const fee = feeForInputs(proofs, new Map([[keyset.id, keyset]]))
    expect(fee).toBe(1n)
    const tooMuch = outputsFor(keyset, splitAmount(100n, keyset.keys))
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(proofs, tooMuch)))).toBe(11005)
    const tooLittle = outputsFor(keyset, splitAmount(98n, keyset.keys))
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(proofs, tooLittle)))).toBe(11005)
    expect(proofs.some((p) => mint.isSpent(proofY(p.secret)))).toBe(false)
    const outputs = outputsFor(keyset, splitAmount(99n, keyset.keys))
    const res = await ok(await post(mint, "/v1/swap", swapBody(proofs, outputs)), SwapResponseSchema)
    expect(total(unblind(outputs, res.signatures, keyset))).toBe(99n)
    expect(proofs.every((p) => mint.isSpent(proofY(p.secret)))).toBe(true)
    expect(mint.stats().outstanding).toBe(99n)
  })

  it("refuses a double spend (11001), a re-signed B_ (11003), duplicate inputs (11007) and outputs (11008)", async () => {
    const mint = createTestMint({ cacheTtlSeconds: null })
    const keyset = await activeKeyset(mint)
    const proofs = await mintProofs(mint, 8n)
    const outputs = outputsFor(keyset, [8n])
    await ok(await post(mint, "/v1/swap", swapBody(proofs, outputs)), SwapResponseSchema)
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(proofs, outputsFor(keyset, [8n]))))).toBe(
      11001,
    )
    const fresh = await mintProofs(mint, 8n)
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(fresh, outputs)))).toBe(11003)
    expect(fresh.some((p) => mint.isSpent(proofY(p.secret)))).toBe(false)
    const two = await mintProofs(mint, 2n)
    const dupIn = swapBody([two[0]!, two[0]!], outputsFor(keyset, [2n, 2n]))
    expect(await errorCode(await post(mint, "/v1/swap", dupIn))).toBe(11007)
    const [o] = outputsFor(keyset, [1n])
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(two, [o!, o!])))).toBe(11008)
  })

  it("refuses a forged proof (10001)", async () => {
    const mint = createTestMint()
    const keyset = await activeKeyset(mint)
    const [p] = await mintProofs(mint, 1n)
    const forged = { ...p!, secret: `${p!.secret}00` }
    expect(await errorCode(await post(mint, "/v1/swap", swapBody([forged], outputsFor(keyset, [1n]))))).toBe(
      10001,
    )
  })

  it("enforces NUT-11 P2PK locks on inputs", async () => {
    const mint = createTestMint()
    const keyset = await activeKeyset(mint)
    const sk = "22".repeat(32)
    const [plain] = await mintProofs(mint, 4n)
    const lockedOutputs = outputsFor(keyset, [4n], [createP2pkSecret(publicKeyHex(sk))])
    const res = await ok(await post(mint, "/v1/swap", swapBody([plain!], lockedOutputs)), SwapResponseSchema)
    const [locked] = unblind(lockedOutputs, res.signatures, keyset)
    expect(await errorCode(await post(mint, "/v1/swap", swapBody([locked!], outputsFor(keyset, [4n]))))).toBe(
      10001,
    )
    const signed = signP2pkProof(locked!, sk)
    await ok(await post(mint, "/v1/swap", swapBody([signed], outputsFor(keyset, [4n]))), SwapResponseSchema)
  })
})

describe("test mint: keyset rotation", () => {
  it("deactivates the old keyset: no new signatures on it, but its proofs still redeem", async () => {
    const mint = createTestMint({ inputFeePpk: 0n })
    const old = await activeKeyset(mint)
    const proofs = await mintProofs(mint, 16n)
    const next = mint.rotateKeyset("sat", 200n)
    expect(next.id).not.toBe(old.id)
    const sets = await ok(await get(mint, "/v1/keysets"), KeysetsResponseSchema)
    expect(sets.keysets.map((k) => [k.id, k.active])).toEqual([
      [old.id, false],
      [next.id, true],
    ])
    const keys = await ok(await get(mint, "/v1/keys"), KeysResponseSchema)
    expect(keys.keysets.map((k) => k.id)).toEqual([next.id])
    expect(await errorCode(await post(mint, "/v1/swap", swapBody(proofs, outputsFor(old, [16n]))))).toBe(
      12002,
    )
    const current = await activeKeyset(mint)
    expect(current.inputFeePpk).toBe(200n)
    const outputs = outputsFor(current, [16n])
    const res = await ok(await post(mint, "/v1/swap", swapBody(proofs, outputs)), SwapResponseSchema)
    expect(unblind(outputs, res.signatures, current)[0]!.id).toBe(next.id)
    // The new keyset's fee applies to inputs from it: 1 input × 200 ppk → 1.
    const fresh = await mintProofs(mint, 8n)
    const body = swapBody(fresh, outputsFor(current, [4n, 2n, 1n]))
    expect(
      decodeMintResponse(SwapResponseSchema, await (await post(mint, "/v1/swap", body)).text()).signatures,
    ).toHaveLength(3)
  })
})
