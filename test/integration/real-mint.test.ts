/**
 * The protocol core against the real reference mint (nutshell 0.20.3, FakeWallet): our schemas decode what it
 * serves, its keyset ids verify from their keys, and mint → checkstate → swap → checkstate works with our
 * crypto, DLEQ required. A second mint with `input_fee_ppk = 100` checks that fees are charged exactly. Plain
 * `fetch` for I/O (the Effect MintClient comes later). Never skipped: if the mint cannot start, this fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createOutputs, type PreparedOutput, unblindSignatures } from "../../src/crypto/bdhke.js"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { hashToCurveSecret } from "../../src/crypto/hash-to-curve.js"
import { KeysetError } from "../../src/errors.js"
import { decodeMintResponse, encodeMintRequest } from "../../src/protocol/decode.js"
import { feeForInputs } from "../../src/protocol/fees.js"
import { verifyKeysetId } from "../../src/protocol/keyset-id.js"
import { keysetFromWire } from "../../src/protocol/keysets.js"
import type { Keyset, Proof } from "../../src/protocol/models.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
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
import { type RealMint, startRealMint } from "../support/real-mint.js"

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

describe("nutshell reference mint, no fees", () => {
  let mint: RealMint | undefined
  let base = ""

  beforeAll(async () => {
    mint = await startRealMint()
    base = mint.url
  }, START_TIMEOUT_MS)

  afterAll(async () => {
    await mint?.stop()
  })

  it("serves /v1/info, /v1/keysets and /v1/keys that decode with our schemas; every keyset id verifies", async () => {
    const info = decodeMintResponse(InfoResponseSchema, ok(await get(base, "/v1/info"), "GET /v1/info"))
    expect(info.version).toMatch(/^Nutshell\/0\.20\.3$/)
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
})

describe("nutshell reference mint, input_fee_ppk = 100", () => {
  let mint: RealMint | undefined
  let base = ""

  beforeAll(async () => {
    mint = await startRealMint({ inputFeePpk: 100 })
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
    // NUT-00 names 11005 "transaction not balanced"; nutshell 0.20.3 raises its generic TransactionError (11000)
    // with the text "inputs (…) - fees (…) vs outputs (…) are not balanced".
    expect([11005, 11000]).toContain(error.code)
    expect(String(error.detail)).toMatch(/not balanced/)
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "UNSPENT"))

    const outputs = outputsFor(100n - fee, keyset)
    const res = decodeMintResponse(SwapResponseSchema, ok(await swap(base, proofs, outputs), "POST /v1/swap"))
    const fresh = unblindSignatures(outputs, res.signatures, keyset, { requireDleq: true })
    expect(sum(fresh)).toBe(100n - fee)
    expect(await statesOf(base, proofs)).toEqual(proofs.map(() => "SPENT"))
  })
})
