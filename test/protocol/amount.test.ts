import { fc, test } from "@fast-check/vitest"
import { Result, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { AmountError, MAX_AMOUNT } from "../../src/model/index.js"
import {
  AmountSchema,
  amountToJson,
  assertAmount,
  PositiveAmountSchema,
  parseAmountKey,
  SafeUintSchema,
  sumAmounts,
} from "../../src/protocol/amount.js"
import { parseJson, stringifyJson } from "../../src/protocol/json.js"

const decode = (text: string) => Schema.decodeUnknownResult(AmountSchema)(parseJson(text))

describe("AmountSchema", () => {
  test.prop([fc.bigInt({ min: 0n, max: MAX_AMOUNT })])("decodes every u64 JSON literal exactly", (a) => {
    const r = decode(a.toString())
    expect(Result.isSuccess(r) && r.success).toBe(a)
  })

  test.prop([fc.bigInt({ min: 0n, max: MAX_AMOUNT })])(
    "encodes to a number while safe and a bigint above, and round-trips through JSON text",
    (a) => {
      const encoded = Schema.encodeSync(AmountSchema)(a)
      expect(typeof encoded).toBe(a <= BigInt(Number.MAX_SAFE_INTEGER) ? "number" : "bigint")
      expect(stringifyJson(encoded)).toBe(a.toString())
      expect(amountToJson(a)).toBe(encoded)
    },
  )

  it.each(["-1", "1.5", "1e300", "18446744073709551616", '"5"', "true", "null", "-18446744073709551615"])(
    "rejects %s",
    (text) => {
      expect(Result.isFailure(decode(text))).toBe(true)
    },
  )

  it("rejects values a JS caller might pass that JSON cannot carry", () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, -0.5, 2 ** 53, -1n, MAX_AMOUNT + 1n]) {
      expect(Result.isFailure(Schema.decodeUnknownResult(AmountSchema)(v))).toBe(true)
    }
  })

  it("PositiveAmountSchema rejects 0 and accepts 1", () => {
    expect(Result.isFailure(Schema.decodeUnknownResult(PositiveAmountSchema)(0))).toBe(true)
    expect(Schema.decodeUnknownSync(PositiveAmountSchema)(1)).toBe(1n)
  })

  it("SafeUintSchema keeps numbers and refuses what would round", () => {
    expect(Schema.decodeUnknownSync(SafeUintSchema)(1701704757)).toBe(1701704757)
    expect(Result.isFailure(Schema.decodeUnknownResult(SafeUintSchema)(2n ** 60n))).toBe(true)
    expect(Result.isFailure(Schema.decodeUnknownResult(SafeUintSchema)(-1))).toBe(true)
  })
})

describe("parseAmountKey", () => {
  test.prop([fc.bigInt({ min: 0n, max: MAX_AMOUNT })])("reads canonical decimals", (a) => {
    expect(parseAmountKey(a.toString())).toBe(a)
  })

  it.each(["01", "+1", " 1", "1 ", "0x10", "1e3", "", "-1", "18446744073709551616", "1.0", "１"])(
    "refuses %j, which BigInt() might accept or alias",
    (text) => {
      expect(parseAmountKey(text)).toBeUndefined()
    },
  )
})

describe("sumAmounts / assertAmount", () => {
  test.prop([fc.array(fc.bigInt({ min: 0n, max: 1n << 58n }), { maxLength: 20 })])("sums exactly", (xs) => {
    expect(sumAmounts(xs)).toBe(xs.reduce((a, b) => a + b, 0n))
  })

  it("fails with typed errors on overflow and negatives", () => {
    expect(() => sumAmounts([MAX_AMOUNT, 1n])).toThrow(AmountError)
    expect(() => sumAmounts([1n, -1n])).toThrow(AmountError)
    expect(() => assertAmount(-1n)).toThrow(AmountError)
    expect(assertAmount(MAX_AMOUNT)).toBe(MAX_AMOUNT)
  })
})
