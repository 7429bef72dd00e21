/**
 * The protocol core against both real reference mints (nutshell 0.20.3 and cdk-mintd 0.18.3, fake Lightning
 * backends; `test/support/real-mint.ts` lists how they differ): our schemas decode what they serve, their keyset
 * ids verify from their keys, and mint → checkstate → swap → checkstate works with our crypto, DLEQ required. A
 * second mint with `input_fee_ppk = 100` checks that fees are charged exactly. NUT-19: CDK answers a replayed
 * identical mint or swap request from its cache (and refuses the same quote or inputs with other outputs);
 * nutshell, which caches nothing without redis, refuses the replay. Plain `fetch` for I/O. Never skipped: if a
 * mint cannot start (cdk-mintd not built, say), its suite fails with the reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createOutputs, type PreparedOutput, unblindSignatures } from "../../src/crypto/bdhke.js"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { hashToCurveSecret } from "../../src/crypto/hash-to-curve.js"
import { type Keyset, KeysetError, type Proof } from "../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../src/protocol/decode.js"
import { feeForInputs } from "../../src/protocol/fees.js"
import { verifyKeysetId } from "../../src/protocol/keyset-id.js"
import { keysetFromWire } from "../../src/protocol/keysets.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
  cachedEndpoint,
  InfoResponseSchema,
  KeysetsResponseSchema,
  KeysResponseSchema,
  MintErrorBodySchema,
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  MintRequestSchema,
  MintResponseSchema,
  type ProofStateEntry,
  SwapRequestSchema,
  SwapResponseSchema,
} from "../../src/protocol/schemas/index.js"
import { splitAmount } from "../../src/protocol/split.js"
import { MINTS, type RealMint } from "../support/real-mint.js"

/** Covers a first-time virtualenv install (about a minute here) plus the mint's start. */
const START_TIMEOUT_MS = 360_000

interface HttpAnswer {
  readonly status: number
  readonly text: string
}

const get = async (base: string, path: string): Promise<HttpAnswer> => {
  const res = await fetch(base + path)
  return { status: res.status, text: await res.text() }
}

const post = async (base: string, path: string, body: string): Promise<HttpAnswer> => {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  })
  return { status: res.status, text: await res.text() }
}

/** The body of a 200 answer; anything else fails the test with the mint's error text. */
const ok = (answer: HttpAnswer, what: string): string => {
  if (answer.status !== 200) throw new Error(`${what}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`)
  return answer.text
}

/** Every keyset of `/v1/keys`, built with its id checked against its keys. */
const loadKeysets = async (base: string): Promise<Keyset[]> => {
  const keys = decodeMintResponse(KeysResponseSchema, ok(await get(base, "/v1/keys"), "GET /v1/keys"))
  return keys.keysets.map((wire) => keysetFromWire(wire, { active: true }))
}

const activeSatKeyset = (keysets: ReadonlyArray<Keyset>): Keyset => {
  const keyset = keysets.find((k) => k.active && k.unit === "sat" && /^0[01]/.test(k.id))
  if (keyset === undefined) throw new Error("the mint serves no active secp256k1 sat keyset")
  return keyset
}

const wireOutputs = (outputs: ReadonlyArray<PreparedOutput>) =>
  outputs.map(({ amount, id, B_ }) => ({ amount, id, B_ }))

const wireInputs = (proofs: ReadonlyArray<Proof>) =>
  proofs.map(({ amount, id, secret, C }) => ({ amount, id, secret, C }))

const outputsFor = (amount: bigint, keyset: Keyset): PreparedOutput[] =>
  createOutputs(splitAmount(amount, keyset.keys).map((a) => ({ amount: a, id: keyset.id })))

const sum = (proofs: ReadonlyArray<{ readonly amount: bigint }>): bigint =>
  proofs.reduce((s, p) => s + p.amount, 0n)

/** Requests a bolt11 quote and polls until the FakeWallet has paid it. Returns the quote id. */
const paidQuote = async (base: string, amount: bigint): Promise<string> => {
  const body = encodeMintRequest(MintQuoteBolt11RequestSchema, { amount, unit: "sat" })
  const quote = decodeMintResponse(
    MintQuoteBolt11ResponseSchema,
    ok(await post(base, "/v1/mint/quote/bolt11", body), "POST /v1/mint/quote/bolt11"),
  )
  expect(quote.amount).toBe(amount)
  expect(quote.request).toMatch(/^lnbc/)
  const deadline = Date.now() + 30_000
  let state = quote.state
  while (state !== "PAID") {
    if (Date.now() > deadline) throw new Error(`mint quote still ${state} after 30 s`)
    await new Promise((r) => setTimeout(r, 200))
    const text = ok(await get(base, `/v1/mint/quote/bolt11/${quote.quote}`), "GET /v1/mint/quote/bolt11/{id}")
    state = decodeMintResponse(MintQuoteBolt11ResponseSchema, text).state
  }
  return quote.quote
}

/** Mints `amount` sat on `keyset` and returns the proofs, DLEQ verified. */
const mintProofs = async (base: string, keyset: Keyset, amount: bigint): Promise<Proof[]> => {
  const quote = await paidQuote(base, amount)
  const outputs = outputsFor(amount, keyset)
  const body = encodeMintRequest(MintRequestSchema, { quote, outputs: wireOutputs(outputs) })
  const res = decodeMintResponse(
    MintResponseSchema,
    ok(await post(base, "/v1/mint/bolt11", body), "POST /v1/mint/bolt11"),
  )
  return unblindSignatures(outputs, res.signatures, keyset, { requireDleq: true })
}

const yOf = (proof: Proof): string => bytesToHex(hashToCurveSecret(proof.secret))

const statesOf = async (base: string, proofs: ReadonlyArray<Proof>): Promise<ProofStateEntry["state"][]> => {
  const Ys = proofs.map(yOf)
  const body = encodeMintRequest(CheckStateRequestSchema, { Ys })
  const res = decodeMintResponse(
    CheckStateResponseSchema,
    ok(await post(base, "/v1/checkstate", body), "POST /v1/checkstate"),
  )
  // The mint must answer exactly the Ys asked, in order.
  expect(res.states.map((s) => s.Y)).toEqual(Ys)
  return res.states.map((s) => s.state)
}

const swap = (base: string, inputs: ReadonlyArray<Proof>, outputs: ReadonlyArray<PreparedOutput>) =>
  post(
    base,
    "/v1/swap",
    encodeMintRequest(SwapRequestSchema, { inputs: wireInputs(inputs), outputs: wireOutputs(outputs) }),
  )

describe.each(MINTS)("$name reference mint, no fees", (profile) => {
  let mint: RealMint | undefined
  let base = ""

  beforeAll(async () => {
    mint = await profile.start()
    base = mint.url
  }, START_TIMEOUT_MS)

  afterAll(async () => {
    await mint?.stop()
  })

  it("serves /v1/info, /v1/keysets and /v1/keys that decode with our schemas; every keyset id verifies", async () => {
    const info = decodeMintResponse(InfoResponseSchema, ok(await get(base, "/v1/info"), "GET /v1/info"))
    expect(info.version).toMatch(profile.version)
    expect(info.nuts?.["12"]?.supported).toBe(true)

    const keysets = decodeMintResponse(
      KeysetsResponseSchema,
      ok(await get(base, "/v1/keysets"), "GET /v1/keysets"),
    )
    const active = keysets.keysets.filter((k) => k.active)
    expect(active.some((k) => k.unit === "sat" && /^0[01]/.test(k.id))).toBe(true)
    expect(active.every((k) => (k.input_fee_ppk ?? 0n) === 0n)).toBe(true)

    const keys = decodeMintResponse(KeysResponseSchema, ok(await get(base, "/v1/keys"), "GET /v1/keys"))
    expect(keys.keysets.length).toBeGreaterThan(0)
    for (const wire of keys.keysets) {
      const keyset = keysetFromWire(wire, { active: true, verifyId: false })
      verifyKeysetId(keyset)
      expect(active.map((k) => k.id)).toContain(keyset.id)
      // The check has teeth: one swapped key no longer derives to the served id.
      const [first, second] = [...keyset.keys.values()]
      const tampered = new Map(keyset.keys)
      tampered.set(1n, first === keyset.keys.get(1n) ? second! : first!)
      expect(() => verifyKeysetId({ ...keyset, keys: tampered })).toThrow(KeysetError)
    }
  })

  it("mints 100 sat (DLEQ required), checks them UNSPENT, swaps them and sees the old ones SPENT", async () => {
    const keyset = activeSatKeyset(await loadKeysets(base))
    const proofs = await mintProofs(base, keyset, 100n)
    expect(sum(proofs)).toBe(100n)
    expect(proofs.every((p) => p.dleq !== undefined && p.id === keyset.id)).toBe(true)
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "UNSPENT"))

    const outputs = outputsFor(100n, keyset)
    const res = decodeMintResponse(SwapResponseSchema, ok(await swap(base, proofs, outputs), "POST /v1/swap"))
    const fresh = unblindSignatures(outputs, res.signatures, keyset, { requireDleq: true })
    expect(sum(fresh)).toBe(100n)
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "SPENT"))
    expect(await statesOf(base, fresh)).toEqual(fresh.map(() => "UNSPENT"))

    // Spending the same inputs again is refused (NUT-00 11001 "proofs already spent").
    const again = await swap(base, proofs, outputsFor(100n, keyset))
    expect(again.status).toBe(400)
    expect(decodeMintResponse(MintErrorBodySchema, again.text).code).toBe(11001)
  })

  it(
    profile.nut19
      ? "NUT-19: a replayed identical mint or swap request is answered from the cache, byte for byte"
      : "no NUT-19: a replayed mint or swap request is refused, not answered again",
    async () => {
      const info = decodeMintResponse(InfoResponseSchema, ok(await get(base, "/v1/info"), "GET /v1/info"))
      for (const path of ["/v1/mint/bolt11", "/v1/melt/bolt11", "/v1/swap"])
        expect(cachedEndpoint(info, "POST", path)).toEqual(profile.nut19 ? { ttlSeconds: 300 } : undefined)
      const keyset = activeSatKeyset(await loadKeysets(base))
      const code = (answer: HttpAnswer): number => {
        expect(answer.status).toBe(400)
        return decodeMintResponse(MintErrorBodySchema, answer.text).code
      }

      // Mint: the same body twice. CDK answers the second from its cache (the quote is issued once: other
      // outputs for it are refused); nutshell refuses the second as an issued quote.
      const quote = await paidQuote(base, 64n)
      const outputs = outputsFor(64n, keyset)
      const mintBody = encodeMintRequest(MintRequestSchema, { quote, outputs: wireOutputs(outputs) })
      const minted = ok(await post(base, "/v1/mint/bolt11", mintBody), "POST /v1/mint/bolt11")
      const mintReplay = await post(base, "/v1/mint/bolt11", mintBody)
      if (profile.nut19) {
        expect(mintReplay.status).toBe(200)
        expect(mintReplay.text).toBe(minted)
      } else {
        expect(code(mintReplay)).toBe(11003) // outputs already signed (checked before the quote)
      }
      const otherOutputs = encodeMintRequest(MintRequestSchema, {
        quote,
        outputs: wireOutputs(outputsFor(64n, keyset)),
      })
      expect(code(await post(base, "/v1/mint/bolt11", otherOutputs))).toBe(20002)
      const proofs = unblindSignatures(
        outputs,
        decodeMintResponse(MintResponseSchema, minted).signatures,
        keyset,
        { requireDleq: true },
      )
      expect(sum(proofs)).toBe(64n)
      expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "UNSPENT"))

      // Swap: the same body twice. CDK's cached answer carries the same signatures; the inputs stay spent once.
      const swapOutputs = outputsFor(64n, keyset)
      const swapBody = encodeMintRequest(SwapRequestSchema, {
        inputs: wireInputs(proofs),
        outputs: wireOutputs(swapOutputs),
      })
      const swapped = ok(await post(base, "/v1/swap", swapBody), "POST /v1/swap")
      const swapReplay = await post(base, "/v1/swap", swapBody)
      if (profile.nut19) {
        expect(swapReplay.status).toBe(200)
        expect(swapReplay.text).toBe(swapped)
      } else {
        expect(code(swapReplay)).toBe(11001) // proofs already spent
      }
      expect(code(await swap(base, proofs, outputsFor(64n, keyset)))).toBe(11001)
      const fresh = unblindSignatures(
        swapOutputs,
        decodeMintResponse(SwapResponseSchema, swapped).signatures,
        keyset,
        { requireDleq: true },
      )
      expect(sum(fresh)).toBe(64n)
      expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "SPENT"))
      expect(await statesOf(base, fresh)).toEqual(fresh.map(() => "UNSPENT"))
    },
  )
})

describe.each(MINTS)("$name reference mint, input_fee_ppk = 100", (profile) => {
  let mint: RealMint | undefined
  let base = ""

  beforeAll(async () => {
    mint = await profile.start({ inputFeePpk: 100 })
    base = mint.url
  }, START_TIMEOUT_MS)

  afterAll(async () => {
    await mint?.stop()
  })

  it("advertises the fee, refuses a swap that ignores it and accepts one that pays feeForInputs exactly", async () => {
    const keysets = decodeMintResponse(
      KeysetsResponseSchema,
      ok(await get(base, "/v1/keysets"), "GET /v1/keysets"),
    )
    const keyset = activeSatKeyset(await loadKeysets(base))
    expect(keysets.keysets.find((k) => k.id === keyset.id)?.input_fee_ppk).toBe(100n)
    expect(keyset.inputFeePpk).toBe(100n)

    const proofs = await mintProofs(base, keyset, 100n)
    expect(sum(proofs)).toBe(100n)
    const fee = feeForInputs(proofs, new Map([[keyset.id, keyset]]))
    // 100 = 64 + 32 + 4: three inputs at 100 ppk → ceil(300 / 1000) = 1 sat.
    expect(proofs.length).toBe(3)
    expect(fee).toBe(1n)

    const ignoring = await swap(base, proofs, outputsFor(100n, keyset))
    expect(ignoring.status).toBe(400)
    const error = decodeMintResponse(MintErrorBodySchema, ignoring.text)
    // NUT-00 names 11005 "transaction not balanced" (CDK); nutshell 0.20.3 uses its generic 11000.
    expect(error.code).toBe(profile.unbalanced.code)
    expect(error.detail).toBe(profile.unbalanced.detail({ inputs: 100n, outputs: 100n, fee }))
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "UNSPENT"))

    const outputs = outputsFor(100n - fee, keyset)
    const res = decodeMintResponse(SwapResponseSchema, ok(await swap(base, proofs, outputs), "POST /v1/swap"))
    const fresh = unblindSignatures(outputs, res.signatures, keyset, { requireDleq: true })
    expect(sum(fresh)).toBe(100n - fee)
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "SPENT"))
  })
})
