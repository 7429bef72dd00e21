import { fc, test } from "@fast-check/vitest"
import { Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { DecodeError, isCorecashuError } from "../../src/model/index.js"
import {
  decodeMintResponse,
  decodeMintResponseEffect,
  decodeMintValue,
  encodeMintRequest,
} from "../../src/protocol/decode.js"
import { parseJson } from "../../src/protocol/json.js"
import { SwapRequestSchema, SwapResponseSchema } from "../../src/protocol/schemas/swap.js"

const C_ = "02634a2c2b34bec9e8a4aba4361f6bf202d7fa2365379b0840afe249a7a9d71239"
const ID = "009a1f293253e41e"

const failure = (f: () => unknown): DecodeError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error("expected a DecodeError")
}

describe("decodeMintResponse", () => {
  it("keeps amounts above 2^53 exact (JSON.parse would round them)", () => {
    const big = 2n ** 63n + 1n
    const text = `{"signatures":[{"id":"${ID}","amount":${big},"C_":"${C_}"}]}`
    expect(BigInt(JSON.parse(text).signatures[0].amount)).not.toBe(big)
    expect(decodeMintResponse(SwapResponseSchema, text).signatures[0]!.amount).toBe(big)
  })

  it("reports the path of the first bad field", () => {
    const text = `{"signatures":[{"id":"${ID}","amount":1,"C_":"${C_}"},{"id":"${ID}","amount":-2,"C_":"${C_}"}]}`
    const e = failure(() => decodeMintResponse(SwapResponseSchema, text))
    expect(e.reason).toBe("schema")
    expect(e.path).toBe("signatures.1.amount")
  })

  it("rejects fractional amounts with a typed error and keeps the value out of the message", () => {
    const text = `{"signatures":[{"id":"${ID}","amount":1.5,"C_":"${C_}"}]}`
    const e = failure(() => decodeMintResponse(SwapResponseSchema, text))
    expect(e.path).toBe("signatures.0.amount")
    expect(e.message).not.toContain("1.5")
  })

  it("passes parser failures through as DecodeError", () => {
    expect(failure(() => decodeMintResponse(SwapResponseSchema, '{"signatures":[}')).reason).toBe("json")
    expect(
      failure(() => decodeMintResponse(SwapResponseSchema, '{"signatures":[],"signatures":[]}')).reason,
    ).toBe("duplicate")
  })

  it("has an Effect form failing with DecodeError", () => {
    const exit = Effect.runSyncExit(decodeMintResponseEffect(SwapResponseSchema, "[]"))
    expect(Exit.isFailure(exit)).toBe(true)
    const ok = Effect.runSync(decodeMintResponseEffect(SwapResponseSchema, '{"signatures":[]}'))
    expect(ok.signatures).toEqual([])
  })

  test.prop([fc.string({ maxLength: 300 })], { numRuns: 500 })("only ever throws tagged errors", (s) => {
    try {
      decodeMintResponse(SwapResponseSchema, s)
    } catch (e) {
      expect(isCorecashuError(e)).toBe(true)
    }
  })

  it("decodeMintValue decodes parsed values", () => {
    expect(decodeMintValue(Schema.Struct({ a: Schema.String }), { a: "x", b: 1 })).toEqual({ a: "x" })
  })
})

describe("encodeMintRequest", () => {
  it("writes exact bigints, drops fields the mint must not see, and decodes back", () => {
    const big = 2n ** 63n
    const request = {
      inputs: [
        {
          amount: big,
          id: ID,
          secret: "s1",
          C: C_,
          dleq: { e: "a".repeat(64), s: "b".repeat(64), r: "c".repeat(64) },
          p2pk_e: C_,
        },
      ],
      outputs: [{ amount: 1n, id: ID, B_: C_ }],
    }
    const text = encodeMintRequest(SwapRequestSchema, request)
    const raw = parseJson(text) as { inputs: Array<Record<string, unknown>> }
    expect(raw.inputs[0]!.amount).toBe(big)
    expect(Object.keys(raw.inputs[0]!).sort()).toEqual(["C", "amount", "id", "secret"])
    expect(decodeMintResponse(SwapRequestSchema, text)).toEqual({
      inputs: [{ amount: big, id: ID, secret: "s1", C: C_ }],
      outputs: request.outputs,
    })
  })

  it("fails with a DecodeError for an invalid request value", () => {
    const e = failure(() =>
      encodeMintRequest(SwapRequestSchema, { inputs: [], outputs: [{ amount: -1n, id: ID, B_: C_ }] }),
    )
    expect(e.path).toBe("outputs.0.amount")
  })
})
