import { describe, expect, it } from "vitest"
import { MintProtocolError } from "../../src/model/index.js"
import {
  classifyErrorCode,
  classifyErrorResponse,
  classifyHttpStatus,
  classifyMintError,
  MINT_ERROR_CODES,
  mintErrorFromResponse,
  mintErrorInfo,
} from "../../src/protocol/mint-errors.js"

describe("error-code table", () => {
  it("lists exactly the codes of nuts error_codes.md", () => {
    const spec = [
      10001,
      ...Array.from({ length: 17 }, (_, i) => 11001 + i),
      12001,
      12002,
      12003,
      ...Array.from({ length: 9 }, (_, i) => 20001 + i),
      30001,
      30002,
      31001,
      31002,
      31003,
      31004,
    ]
    expect(MINT_ERROR_CODES.map((r) => r.code)).toEqual(spec)
    expect(new Set(MINT_ERROR_CODES.map((r) => r.name)).size).toBe(spec.length)
  })
})

describe("classification of mint answers: definitive or ambiguous", () => {
  it.each([
    // Ambiguous: may be the echo of our own earlier success, or still in flight.
    [11001, "ambiguous"],
    [11002, "ambiguous"],
    [11003, "ambiguous"],
    [11004, "ambiguous"],
    [20005, "ambiguous"],
    // Definitive: validation / logic refusals.
    [10001, "definitive"],
    [11005, "definitive"],
    [11007, "definitive"],
    [11008, "definitive"],
    [11014, "definitive"],
    [11015, "definitive"],
    [12001, "definitive"],
    [12002, "definitive"],
    [20001, "definitive"],
    [20007, "definitive"],
    // Outside the table: nutshell's catch-all 0, CDK's internal 50000 — unknown means ambiguous.
    [0, "ambiguous"],
    [50000, "ambiguous"],
    [99999, "ambiguous"],
    [11000, "ambiguous"],
    // Nutshell's auth codes stand for the spec's 3xxxx ones.
    [80001, "definitive"],
    [81004, "definitive"],
  ] as const)("code %i is %s", (code, kind) => {
    expect(classifyErrorCode(code)).toBe(kind)
    expect(classifyMintError(code)).toBe(kind)
  })

  it.each([
    [500, "ambiguous"],
    [502, "ambiguous"],
    [503, "ambiguous"],
    [504, "ambiguous"],
    [400, "definitive"],
    [404, "definitive"],
    [422, "definitive"],
    [429, "definitive"],
    [302, "ambiguous"],
    [200, "ambiguous"],
  ] as const)("HTTP %i without a Cashu body is %s", (status, kind) => {
    expect(classifyHttpStatus(status)).toBe(kind)
    expect(classifyMintError({ status })).toBe(kind)
  })

  it.each([
    ["timeout", "ambiguous"],
    ["connection", "ambiguous"],
    ["invalid-response", "ambiguous"],
    ["not-sent", "definitive"],
  ] as const)("transport failure %s is %s", (kind, expected) => {
    expect(classifyMintError(kind)).toBe(expected)
  })

  it("a 5xx stays ambiguous whatever code its body carries; a 4xx follows the code", () => {
    expect(classifyErrorResponse(500, 11005)).toBe("ambiguous")
    expect(classifyErrorResponse(400, 11001)).toBe("ambiguous")
    expect(classifyErrorResponse(400, 11005)).toBe("definitive")
    expect(classifyMintError({ status: 400, code: 12002 })).toBe("definitive")
  })
})

describe("mintErrorFromResponse", () => {
  it("reads a nutshell error body", () => {
    const e = mintErrorFromResponse(400, '{"detail": "proofs already spent", "code": 11001}')
    expect(e).toBeInstanceOf(MintProtocolError)
    expect(e).toMatchObject({
      code: 11001,
      codeName: "ProofsAlreadySpent",
      detail: "proofs already spent",
      status: 400,
      kind: "ambiguous",
    })
    expect(e!._tag).toBe("MintProtocolError")
  })

  it("keeps the mint's detail out of the message and truncates it", () => {
    const long = "x".repeat(5000)
    const e = mintErrorFromResponse(400, JSON.stringify({ detail: long, code: 11005 }))!
    expect(e.kind).toBe("definitive")
    expect(e.detail.length).toBeLessThan(long.length)
    expect(e.message).not.toContain("xxx")
  })

  it.each([
    ['{"detail": "Rate limit exceeded."}', 429],
    ['{"detail": [{"loc": ["body", "outputs"], "msg": "field required"}]}', 422],
    ['{"code": "UNKNOWN_QUOTE", "error": "one or more quote IDs are unknown"}', 400],
    ["<html>Bad Gateway</html>", 502],
    ["", 400],
  ])("returns undefined for a non-Cashu body %j (status decides)", (body, status) => {
    expect(mintErrorFromResponse(status, body)).toBeUndefined()
  })

  it("masks quote ids and long hex echoed into detail", () => {
    const quote = "019e6d5a-2347-7000-8322-05d51d498303"
    const secret = "407915bc212be61a77e3e6d2aeb4c727980bda51cd06a6afc29e2861768a7837"
    const e = mintErrorFromResponse(
      400,
      JSON.stringify({
        detail: `Mint quote ${quote} not found, ${secret}, keyset 009a1f293253e41e`,
        code: 11000,
      }),
    )!
    expect(e.detail).not.toContain(quote)
    expect(e.detail).not.toContain(secret)
    expect(e.detail).toContain("009a1f293253e41e")
    expect(e.kind).toBe("ambiguous")
  })

  it("classifies a code-0 catch-all and a 5xx body as ambiguous", () => {
    expect(mintErrorFromResponse(400, '{"detail": "database is locked", "code": 0}')!.kind).toBe("ambiguous")
    expect(mintErrorFromResponse(503, '{"detail": "x", "code": 11005}')!.kind).toBe("ambiguous")
    expect(mintErrorFromResponse(400, '{"code": 11007}')).toMatchObject({ detail: "", kind: "definitive" })
  })

  it("looks codes up by table and alias", () => {
    expect(mintErrorInfo(80002)?.code).toBe(30002)
    expect(mintErrorInfo(12345)).toBeUndefined()
  })
})
