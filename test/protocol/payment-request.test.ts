import { test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError, MAX_AMOUNT } from "../../src/model/index.js"
import {
  DEFAULT_PAYMENT_REQUEST_LIMITS,
  type PaymentRequest,
  paymentRequestFromRaw,
  paymentRequestToRaw,
  validatePaymentRequest,
} from "../../src/protocol/payment-request.js"
import { paymentRequestArb } from "../support/payment-request-arbitrary.js"
import { loadVector } from "../support/vectors.js"

const failure = (f: () => unknown): { reason: string; path?: string } | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return e as { reason: string; path?: string }
  }
}

describe("paymentRequestFromRaw / paymentRequestToRaw", () => {
  it("maps every NUT-18 field of the 'Complete Payment Request' vector", () => {
    const raw = loadVector("18-payment-requests.json").vectors[1].payment_request
    const req = paymentRequestFromRaw(raw)
    expect(req).toEqual({
      id: raw.i,
      amount: BigInt(raw.a),
      unit: raw.u,
      singleUse: raw.s,
      mints: raw.m,
      description: raw.d,
      transports: [{ type: raw.t[0].t, target: raw.t[0].a }],
      nut10: { kind: raw.nut10.k, data: raw.nut10.d, tags: raw.nut10.t },
    })
    expect(paymentRequestToRaw(req)).toEqual(raw)
  })

  it("writes keys in the order of the spec's CBOR vectors (t i a u m d s nut10; t a g; k d t)", () => {
    const raw = paymentRequestToRaw({
      nut10: { kind: "P2PK", data: "d", tags: [["k", "v"]] },
      singleUse: true,
      description: "x",
      mints: ["m"],
      unit: "sat",
      amount: 1n,
      id: "i",
      transports: [{ tags: [["n", "17"]], target: "a", type: "post" }],
    })
    expect(Object.keys(raw)).toEqual(["t", "i", "a", "u", "m", "d", "s", "nut10"])
    expect(Object.keys(raw.t![0]!)).toEqual(["t", "a", "g"])
    expect(Object.keys(raw.nut10!)).toEqual(["k", "d", "t"])
  })

  it("keeps amounts exact: number while safe, bigint above 2^53", () => {
    expect(paymentRequestToRaw({ amount: 2n ** 53n - 1n, unit: "sat" }).a).toBe(2 ** 53 - 1)
    expect(paymentRequestToRaw({ amount: MAX_AMOUNT, unit: "sat" }).a).toBe(MAX_AMOUNT)
    expect(paymentRequestFromRaw({ a: MAX_AMOUNT, u: "sat" }).amount).toBe(MAX_AMOUNT)
  })

  it("treats null, undefined and empty lists as absent and ignores unknown keys", () => {
    expect(
      paymentRequestFromRaw({ i: null, a: undefined, m: [], t: [{ t: "post", a: "u", g: null }], pm: ["x"] }),
    ).toEqual({ transports: [{ type: "post", target: "u" }] })
    expect(
      paymentRequestToRaw({ mints: [], transports: [], nut10: { kind: "P2PK", data: "", tags: [] } }),
    ).toEqual({
      nut10: { k: "P2PK", d: "" },
    })
  })

  it("rejects 26.md's 'JSON representation' transport keys (type/target/tags): the wire keys are t/a/g", () => {
    const e = failure(() => paymentRequestFromRaw({ t: [{ type: "post", target: "https://x" }] }))
    expect(e).toMatchObject({ reason: "schema", path: "t.0.t" })
  })

  it.each([
    ["a non-map", [1], "schema", undefined],
    ["a byte-string id", { i: new Uint8Array(1) }, "schema", "i"],
    ["a negative amount", { a: -1, u: "sat" }, "amount", "amount"],
    ["a fractional amount", { a: 1.5, u: "sat" }, "amount", "a"],
    ["a string amount", { a: "10", u: "sat" }, "amount", "a"],
    ["an amount above u64", { a: MAX_AMOUNT + 1n, u: "sat" }, "amount", "amount"],
    ["an amount without unit", { a: 10 }, "schema", "unit"],
    ["an empty unit", { u: "" }, "schema", "unit"],
    ["a non-boolean s", { s: 1 }, "schema", "s"],
    ["a non-list m", { m: "https://mint" }, "schema", "m"],
    ["a numeric mint", { m: [1] }, "schema", "m.0"],
    ["a transport that is a list", { t: [["post", "u"]] }, "schema", "t.0"],
    ["a transport without target", { t: [{ t: "post" }] }, "schema", "t.0.a"],
    ["an empty tag tuple", { t: [{ t: "post", a: "u", g: [[]] }] }, "schema", "t.0.g.0"],
    ["a numeric tag value", { t: [{ t: "post", a: "u", g: [["n", 17]] }] }, "schema", "t.0.g.0.1"],
    ["an empty transport type", { t: [{ t: "", a: "u" }] }, "schema", "transports.0.type"],
    ["nut10 without data", { nut10: { k: "P2PK" } }, "schema", "nut10.d"],
    ["nut10 as a list", { nut10: ["P2PK", "d"] }, "schema", "nut10"],
    ["a lone surrogate", { d: "\uD800" }, "schema", "description"],
  ])("rejects %s", (_name, raw, reason, path) => {
    const e = failure(() => paymentRequestFromRaw(raw))
    expect(e?.reason).toBe(reason)
    expect(e?.path).toBe(path)
  })

  it("enforces every limit", () => {
    const limits = {
      ...DEFAULT_PAYMENT_REQUEST_LIMITS,
      maxMints: 1,
      maxTransports: 1,
      maxTags: 1,
      maxTagValues: 1,
    }
    const t = (g: unknown) => ({ t: [{ t: "post", a: "u", g }] })
    expect(failure(() => paymentRequestFromRaw({ m: ["a", "b"] }, limits))?.reason).toBe("limit")
    expect(
      failure(() =>
        paymentRequestFromRaw(
          {
            t: [
              { t: "p", a: "" },
              { t: "p", a: "" },
            ],
          },
          limits,
        ),
      )?.reason,
    ).toBe("limit")
    expect(failure(() => paymentRequestFromRaw(t([["a"], ["b"]]), limits))?.reason).toBe("limit")
    expect(failure(() => paymentRequestFromRaw(t([["a", "1", "2"]]), limits))?.reason).toBe("limit")
    expect(paymentRequestFromRaw(t([["a", "1"]]), limits).transports).toHaveLength(1)
    const long = "x".repeat(DEFAULT_PAYMENT_REQUEST_LIMITS.maxStringLength + 1)
    expect(failure(() => paymentRequestFromRaw({ d: long }))).toMatchObject({
      reason: "limit",
      path: "description",
    })
  })

  it("validatePaymentRequest rejects ill-typed models from untyped callers", () => {
    const bad = (r: unknown) => failure(() => validatePaymentRequest(r as PaymentRequest))?.reason
    expect(bad(null)).toBe("schema")
    expect(bad({ amount: 10, unit: "sat" })).toBe("amount")
    expect(bad({ mints: "x" })).toBe("schema")
    expect(bad({ transports: [null] })).toBe("schema")
    expect(bad({ nut10: { kind: "P2PK", data: 1 } })).toBe("schema")
    expect(bad({ singleUse: "yes" })).toBe("schema")
  })

  test.prop([paymentRequestArb], { numRuns: 200 })("fromRaw ∘ toRaw = identity on valid requests", (req) => {
    expect(paymentRequestFromRaw(paymentRequestToRaw(req))).toEqual(req)
  })
})
