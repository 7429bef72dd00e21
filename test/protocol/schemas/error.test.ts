import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse } from "../../../src/protocol/decode.js"
import { MintErrorBodySchema } from "../../../src/protocol/schemas/error.js"

describe("mint error body (NUT-00)", () => {
  it("decodes {detail, code}", () => {
    expect(
      decodeMintResponse(MintErrorBodySchema, '{"detail": "Proofs already spent", "code": 11001}'),
    ).toEqual({
      detail: "Proofs already spent",
      code: 11001,
    })
  })

  it.each(['{"detail": "Rate limit exceeded."}', '{"detail": "x", "code": "11001"}', '{"code": 1.5}', "[]"])(
    "refuses %s (not a Cashu error)",
    (text) => {
      expect(() => decodeMintResponse(MintErrorBodySchema, text)).toThrow(DecodeError)
    },
  )
})
