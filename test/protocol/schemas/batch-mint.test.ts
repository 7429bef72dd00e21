import { secp256k1 } from "@noble/curves/secp256k1.js"
import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintValue } from "../../../src/protocol/decode.js"
import { mintErrorFromResponse } from "../../../src/protocol/mint-errors.js"
import { type BatchQuoteInfo, validateBatchMintRequest } from "../../../src/protocol/schemas/batch-mint.js"
import {
  type BatchMintRequest,
  BatchMintRequestSchema,
  BatchMintResponseSchema,
} from "../../../src/protocol/schemas/mint.js"
import { loadVector } from "../../support/vectors.js"

const vec = loadVector("29-batch-mint.json")
const KEYSET = "009a1f293253e41e"

/**
 * The NUT-29 vectors use placeholders (`keyset_1`, `<blinded_message>`, `<sig_for_quote_1_only>`). Replace each
 * distinct placeholder with a well-formed value of its kind so the wire schemas can decode the requests; the
 * behaviour under test (counts, duplicates, amounts) is unchanged.
 */
const realize = (value: unknown): unknown => {
  const points = new Map<string, string>()
  let next = 1n
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key))
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]))
    }
    if (v === "keyset_1") return KEYSET
    if (typeof v === "string" && v.startsWith("<")) {
      if (key === "signatures") return "ab".repeat(64)
      if (!points.has(v)) points.set(v, secp256k1.Point.BASE.multiply(next++).toHex(true))
      return points.get(v)
    }
    return v
  }
  return walk(value)
}

const request = (name: string): BatchMintRequest =>
  decodeMintValue(BatchMintRequestSchema, realize(vec[name].request))

const rejection = (f: () => unknown): DecodeError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error("expected the request to be rejected")
}

const info = (method: string, amount?: bigint, locked = false): BatchQuoteInfo =>
  amount === undefined ? { method, unit: "sat", locked } : { method, unit: "sat", locked, amount }

describe("NUT-29 vectors (tests/29-tests.md), wallet side", () => {
  it("successful_batch_mint: request and response decode and the request is valid", () => {
    expect(vec.successful_batch_mint.expected).toBe("valid")
    const req = request("successful_batch_mint")
    expect(() => validateBatchMintRequest(req, { method: "bolt11" })).not.toThrow()
    const quotes = new Map([
      [req.quotes[0]!, info("bolt11", 5n)],
      [req.quotes[1]!, info("bolt11", 3n)],
    ])
    expect(() => validateBatchMintRequest(req, { method: "bolt11", quotes })).not.toThrow()
    const res = decodeMintValue(BatchMintResponseSchema, realize(vec.successful_batch_mint.response))
    expect(res.signatures.map((s) => s.amount)).toEqual([8n])
  })

  it("rejects_empty_quotes", () => {
    expect(vec.rejects_empty_quotes.expected).toBe("reject")
    const e = rejection(() => validateBatchMintRequest(request("rejects_empty_quotes"), { method: "bolt11" }))
    expect(e.path).toBe("quotes")
  })

  it("rejects_duplicate_quotes (the mint's 11016)", () => {
    expect(vec.rejects_duplicate_quotes.error_code).toBe(11016)
    const e = rejection(() =>
      validateBatchMintRequest(request("rejects_duplicate_quotes"), { method: "bolt11" }),
    )
    expect(e.reason).toBe("duplicate")
    expect(e.path).toBe("quotes.1")
    expect(e.message).not.toContain("quote_id_dup")
  })

  it("rejects_mixed_methods: a bolt12 quote on the bolt11 batch endpoint", () => {
    const req = request("rejects_mixed_methods")
    const method = vec.rejects_mixed_methods.endpoint.split("/")[3] as string
    expect(method).toBe("bolt11")
    const quotes = new Map([
      [req.quotes[0]!, info("bolt11", 5n)],
      [req.quotes[1]!, info("bolt12", 3n)],
    ])
    expect(rejection(() => validateBatchMintRequest(req, { method, quotes })).path).toBe("quotes.1")
  })

  it("rejects_signature_length_mismatch", () => {
    const e = rejection(() =>
      validateBatchMintRequest(request("rejects_signature_length_mismatch"), { method: "bolt11" }),
    )
    expect(e.path).toBe("signatures")
  })

  it("atomic_failure: a quote the wallet does not know makes the whole batch invalid", () => {
    expect(vec.atomic_failure.request_raw).toContain("unknown_quote_id")
    const req: BatchMintRequest = {
      quotes: ["valid_quote_id", "unknown_quote_id"],
      outputs: [{ amount: 1n, id: KEYSET, B_: secp256k1.Point.BASE.toHex(true) }],
    }
    const quotes = new Map([["valid_quote_id", info("bolt11", 1n)]])
    expect(rejection(() => validateBatchMintRequest(req, { method: "bolt11", quotes })).path).toBe("quotes.1")
  })

  it("check_unknown_quotes: the example error body is not a NUT-00 error, so the HTTP status decides", () => {
    expect(
      mintErrorFromResponse(400, JSON.stringify(vec.check_unknown_quotes.example_error_response)),
    ).toBeUndefined()
  })

  it("nut20_signature_valid_ordering: the request shape decodes and passes for a locked quote", () => {
    const v = vec.nut20_signature_valid_ordering
    const req = decodeMintValue(BatchMintRequestSchema, v.request)
    const quotes = new Map([[v.quote as string, info("bolt11", 2n, true)]])
    expect(() => validateBatchMintRequest(req, { method: "bolt11", quotes })).not.toThrow()
  })
})

describe("validateBatchMintRequest, further rules", () => {
  const B = (k: bigint) => secp256k1.Point.BASE.multiply(k).toHex(true)
  const base: BatchMintRequest = {
    quotes: ["q1", "q2"],
    outputs: [
      { amount: 4n, id: KEYSET, B_: B(1n) },
      { amount: 4n, id: KEYSET, B_: B(2n) },
    ],
  }

  it("checks NUT-20 signatures against the quotes' locks", () => {
    const quotes = new Map([
      ["q1", info("bolt11", 4n, true)],
      ["q2", info("bolt11", 4n, false)],
    ])
    expect(rejection(() => validateBatchMintRequest(base, { method: "bolt11", quotes })).path).toBe(
      "signatures",
    )
    const sig = "ab".repeat(64)
    expect(() =>
      validateBatchMintRequest({ ...base, signatures: [sig, null] }, { method: "bolt11", quotes }),
    ).not.toThrow()
    expect(
      rejection(() =>
        validateBatchMintRequest({ ...base, signatures: [sig, sig] }, { method: "bolt11", quotes }),
      ).path,
    ).toBe("signatures.1")
    expect(
      rejection(() =>
        validateBatchMintRequest({ ...base, signatures: [null, null] }, { method: "bolt11", quotes }),
      ).path,
    ).toBe("signatures.0")
  })

  it("balances outputs: exact for bolt11, at most for bolt12 (which needs quote_amounts)", () => {
    const quotes = new Map([
      ["q1", info("bolt11", 4n)],
      ["q2", info("bolt11", 5n)],
    ])
    expect(rejection(() => validateBatchMintRequest(base, { method: "bolt11", quotes })).path).toBe("outputs")
    expect(
      rejection(() => validateBatchMintRequest({ ...base, quote_amounts: [4n, 5n] }, { method: "bolt11" }))
        .path,
    ).toBe("outputs")
    expect(rejection(() => validateBatchMintRequest(base, { method: "bolt12" })).path).toBe("quote_amounts")
    expect(() =>
      validateBatchMintRequest({ ...base, quote_amounts: [4n, 5n] }, { method: "bolt12" }),
    ).not.toThrow()
    expect(
      rejection(() => validateBatchMintRequest({ ...base, quote_amounts: [4n, 3n] }, { method: "bolt12" }))
        .path,
    ).toBe("outputs")
    expect(
      rejection(() => validateBatchMintRequest({ ...base, quote_amounts: [4n] }, { method: "bolt12" })).path,
    ).toBe("quote_amounts")
  })

  it("enforces max_batch_size, unique outputs, one unit", () => {
    expect(
      rejection(() => validateBatchMintRequest(base, { method: "bolt11", maxBatchSize: 1 })).reason,
    ).toBe("limit")
    const dup = { ...base, outputs: [base.outputs[0]!, base.outputs[0]!] }
    expect(rejection(() => validateBatchMintRequest(dup, { method: "bolt11" })).reason).toBe("duplicate")
    const quotes = new Map<string, BatchQuoteInfo>([
      ["q1", { method: "bolt11", unit: "sat", locked: false }],
      ["q2", { method: "bolt11", unit: "usd", locked: false }],
    ])
    expect(rejection(() => validateBatchMintRequest(base, { method: "bolt11", quotes })).path).toBe(
      "quotes.1",
    )
    expect(
      rejection(() => validateBatchMintRequest({ ...base, outputs: [] }, { method: "bolt11" })).path,
    ).toBe("outputs")
  })
})
