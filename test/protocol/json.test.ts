import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError } from "../../src/model/index.js"
import { parseJson, stringifyJson } from "../../src/protocol/json.js"
import { DEFAULT_LIMITS } from "../../src/protocol/limits.js"

const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return (e as { reason: string }).reason
  }
}

describe("parseJson", () => {
  it("parses integers above 2^53 exactly as bigint and small ones as numbers", () => {
    const v = parseJson('{"a":18446744073709551615,"b":9007199254740991,"c":-9007199254740993}') as Record<
      string,
      unknown
    >
    expect(v.a).toBe(18446744073709551615n)
    expect(v.b).toBe(9007199254740991)
    expect(v.c).toBe(-9007199254740993n)
  })

  it("agrees with JSON.parse on ordinary documents", () => {
    const text = '{"x":[1,2.5,-3e2,true,false,null,"a\\u00e9\\n\\"b"],"y":{"z":{}},"w":[]}'
    expect(parseJson(text)).toEqual(JSON.parse(text))
  })

  it.each([
    ['{"a":1,"a":2}', "duplicate"],
    ['{"__proto__":{"polluted":true}}', "forbidden-key"],
    ["[".repeat(DEFAULT_LIMITS.maxDepth + 1) + "]".repeat(DEFAULT_LIMITS.maxDepth + 1), "depth"],
    ["1".repeat(21), "limit"],
    ["[1,]", "json"],
    ['{"a":1', "json"],
    ['"\u0001"', "json"],
    ['"\\x"', "json"],
    ["01", "json"],
    ["NaN", "json"],
    ["1 2", "json"],
    ["", "json"],
  ])("rejects %j with reason %s", (text, reason) => {
    expect(reasonOf(() => parseJson(text))).toBe(reason)
  })

  it("rejects oversized input before parsing", () => {
    expect(reasonOf(() => parseJson(" ".repeat(DEFAULT_LIMITS.maxBytes + 1)))).toBe("too-large")
  })

  it("does not overflow the stack on deep nesting", () => {
    expect(reasonOf(() => parseJson("[".repeat(200_000)))).toBe("depth")
  })

  test.prop([fc.jsonValue({ maxDepth: 6 })], { numRuns: 300 })(
    "agrees with JSON.parse on generated JSON",
    (v) => {
      const text = JSON.stringify(v)
      // Rejected by design, and nothing else may be: integer literals longer than the 20-digit limit, and
      // `__proto__` keys (fast-check generates them; JSON.parse would turn them into prototype setters).
      const reason = reasonOf(() => parseJson(text))
      if (reason !== undefined) {
        if (reason === "forbidden-key") expect(text).toContain('"__proto__":')
        else {
          expect(reason).toBe("limit")
          expect(text).toMatch(/\d{21,}/)
        }
        return
      }
      const ours = parseJson(text)
      // JSON.parse rounds big integers; only compare where it is exact.
      expect(stringifyJson(ours)).toBe(stringifyJson(JSON.parse(text, (_k, x) => x)))
    },
  )

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })])("round-trips u64 amounts exactly", (a) => {
    const v = parseJson(stringifyJson({ amount: a })) as { amount: number | bigint }
    expect(BigInt(v.amount)).toBe(a)
  })

  test.prop([fc.string({ maxLength: 200 })], { numRuns: 2000 })("never throws an untyped error", (s) => {
    try {
      parseJson(s)
    } catch (e) {
      expect(isCorecashuError(e)).toBe(true)
    }
  })
})
