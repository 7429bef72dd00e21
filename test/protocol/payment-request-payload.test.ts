import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError, MAX_AMOUNT } from "../../src/model/index.js"
import { stringifyJson } from "../../src/protocol/json.js"
import { DEFAULT_TOKEN_LIMITS } from "../../src/protocol/limits.js"
import {
  decodePaymentRequestPayload,
  encodePaymentRequestPayload,
  type PaymentRequestPayload,
} from "../../src/protocol/payment-request-payload.js"
import { loadVector } from "../support/vectors.js"

// Proofs from the official vectors: the v3 token's two proofs, and NUT-12's proof with a DLEQ (incl. r).
const tokenProofs = loadVector("00-tokens-v3.json").serialization[0].token_json.token[0].proofs
const dleqProof = loadVector("12-dleq.json").proof_dleq.proof
const proofsJson = [...tokenProofs, dleqProof]

const failure = (f: () => unknown): { reason: string; path?: string } | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return e as { reason: string; path?: string }
  }
}
const payloadText = (over: Record<string, unknown> = {}, proof: Record<string, unknown> = {}) =>
  stringifyJson({
    id: "b7a90176",
    mint: "https://m",
    unit: "sat",
    proofs: [{ ...tokenProofs[0], ...proof }],
    ...over,
  })

describe("decodePaymentRequestPayload", () => {
  it("reads a payload built from vector proofs, amounts as bigint", () => {
    const text = stringifyJson({
      id: "b7a90176",
      memo: "thanks",
      mint: "https://m",
      unit: "sat",
      proofs: proofsJson,
    })
    const p = decodePaymentRequestPayload(text)
    expect(p.id).toBe("b7a90176")
    expect(p.memo).toBe("thanks")
    expect(p.proofs.map((x) => x.amount)).toEqual(proofsJson.map((x: { amount: number }) => BigInt(x.amount)))
    expect(p.proofs[2]).toEqual({ ...dleqProof, amount: 1n })
    expect(encodePaymentRequestPayload(p)).toBe(text)
  })

  it("keeps u64 amounts exact", () => {
    const text = payloadText().replace('"amount":2', `"amount":${MAX_AMOUNT}`)
    expect(decodePaymentRequestPayload(text).proofs[0]!.amount).toBe(MAX_AMOUNT)
  })

  it("normalises an object witness to its JSON string and treats null optionals as absent", () => {
    const p = decodePaymentRequestPayload(
      payloadText({ id: null, memo: null }, { witness: { signatures: ["ab"] } }),
    )
    expect(p.proofs[0]!.witness).toBe('{"signatures":["ab"]}')
    expect("id" in p).toBe(false)
    expect(
      decodePaymentRequestPayload(payloadText({}, { witness: '{"preimage":"00"}' })).proofs[0]!.witness,
    ).toBe('{"preimage":"00"}')
  })

  it.each([
    ["not JSON", "{", "json", undefined],
    ["a list", "[]", "schema", ""],
    ["a missing mint", payloadText({ mint: undefined }), "schema", "mint"],
    ["an empty unit", payloadText({ unit: "" }), "schema", "unit"],
    ["no proofs", payloadText({ proofs: [] }), "schema", "proofs"],
    ["proofs not a list", payloadText({ proofs: {} }), "schema", "proofs"],
    ["a negative amount", payloadText({}, { amount: -1 }), "amount", "proofs.0.amount"],
    ["a fractional amount", payloadText({}, { amount: 1.5 }), "amount", "proofs.0.amount"],
    [
      "an amount over u64",
      payloadText().replace('"amount":2', `"amount":${MAX_AMOUNT + 1n}`),
      "amount",
      "proofs.0.amount",
    ],
    ["a string amount", payloadText({}, { amount: "2" }), "amount", "proofs.0.amount"],
    ["a short C", payloadText({}, { C: "02ab" }), "hex", "proofs.0.C"],
    ["a non-hex id", payloadText({}, { id: "zz9a1f293253e41e" }), "hex", "proofs.0.id"],
    ["an empty secret", payloadText({}, { secret: "" }), "schema", "proofs.0.secret"],
    ["a malformed dleq", payloadText({}, { dleq: { e: "00", s: "00" } }), "hex", "proofs.0.dleq.e"],
    ["a numeric witness", payloadText({}, { witness: 5 }), "schema", "proofs.0.witness"],
    ["duplicate keys", '{"mint":"a","mint":"b"}', "duplicate", undefined],
    ["a __proto__ key", '{"__proto__":{}}', "forbidden-key", undefined],
  ])("rejects %s", (_n, text, reason, path) => {
    const e = failure(() => decodePaymentRequestPayload(text))
    expect(e?.reason).toBe(reason)
    if (path !== undefined) expect(e?.path).toBe(path)
  })

  it("enforces proof count, secret length and input size", () => {
    const many = stringifyJson({ mint: "m", unit: "sat", proofs: [tokenProofs[0], tokenProofs[1]] })
    expect(
      failure(() => decodePaymentRequestPayload(many, { ...DEFAULT_TOKEN_LIMITS, maxProofs: 1 }))?.reason,
    ).toBe("limit")
    const limits = { ...DEFAULT_TOKEN_LIMITS, maxSecretLength: 10 }
    expect(failure(() => decodePaymentRequestPayload(payloadText(), limits))?.reason).toBe("limit")
    expect(
      failure(() => decodePaymentRequestPayload(payloadText(), { ...limits, maxBytes: 10 }))?.reason,
    ).toBe("too-large")
    expect(failure(() => decodePaymentRequestPayload(7 as unknown as string))?.reason).toBe("schema")
  })

  const hex = (n: number) =>
    fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString("hex"))
  const proof = fc.record(
    {
      amount: fc.bigInt(0n, MAX_AMOUNT),
      id: hex(8),
      secret: fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
      C: hex(33),
      dleq: fc.record({ e: hex(32), s: hex(32), r: hex(32) }, { requiredKeys: ["e", "s"] }),
      witness: fc.string({ maxLength: 40 }),
      p2pk_e: hex(33),
    },
    { requiredKeys: ["amount", "id", "secret", "C"] },
  )
  const payload: fc.Arbitrary<PaymentRequestPayload> = fc.record(
    {
      id: fc.string({ unit: "binary", maxLength: 20 }),
      memo: fc.string({ unit: "binary", maxLength: 20 }),
      mint: fc.string({ maxLength: 30 }),
      unit: fc.constantFrom("sat", "msat", "usd"),
      proofs: fc.array(proof, { minLength: 1, maxLength: 4 }),
    },
    { requiredKeys: ["mint", "unit", "proofs"] },
  )
  test.prop([payload], { numRuns: 200 })("decode ∘ encode = identity", (p) => {
    expect(decodePaymentRequestPayload(encodePaymentRequestPayload(p))).toEqual(p)
  })
})
