import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError } from "../../src/model/index.js"
import { decodeCbor, encodeCbor } from "../../src/protocol/cbor.js"

const reasonOf = (bytes: Uint8Array): string | undefined => {
  try {
    decodeCbor(bytes)
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return (e as { reason: string }).reason
  }
}
const utf8 = (s: string) => new TextEncoder().encode(s)

describe("decodeCbor", () => {
  it("keeps insertion order when encoding and decodes u64 as bigint", () => {
    const bytes = encodeCbor({ t: 1, m: "x", a: 18446744073709551615n })
    // map(3) "t" 1 "m" "x" "a" uint64
    expect(Array.from(bytes.slice(0, 4))).toEqual([0xa3, 0x61, 0x74, 0x01])
    expect(decodeCbor(bytes)).toEqual({ t: 1, m: "x", a: 18446744073709551615n })
  })

  it.each([
    ["deeply nested arrays", new Uint8Array(100_000).fill(0x81), "depth"],
    ["an array declaring 2^32 items", new Uint8Array([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]), "cbor"],
    ["a string longer than the input", new Uint8Array([0x7a, 0xff, 0xff, 0xff, 0xff, 0x61]), "limit"],
    ["truncated input", new Uint8Array([0xa1, 0x61, 0x61]), "cbor"],
    ["trailing bytes", new Uint8Array([0x01, 0x02]), "cbor"],
    ["an indefinite-length array", new Uint8Array([0x9f, 0x01, 0xff]), "cbor"],
    ["a tag", new Uint8Array([0xc1, 0x01]), "cbor"],
    ["a reserved header", new Uint8Array([0x1c]), "cbor"],
    ["duplicate map keys", new Uint8Array([0xa2, 0x61, 0x61, 1, 0x61, 0x61, 2]), "duplicate"],
    ["a __proto__ key", new Uint8Array([0xa1, 0x69, ...utf8("__proto__"), 1]), "forbidden-key"],
    ["undefined", new Uint8Array([0xf7]), "cbor"],
    ["empty input", new Uint8Array([]), "cbor"],
  ])("rejects %s", (_name, bytes, reason) => {
    expect(reasonOf(bytes)).toBe(reason)
  })

  it("accepts __proto__ as a value, only rejects it as a key", () => {
    expect(decodeCbor(encodeCbor({ k: "__proto__" }))).toEqual({ k: "__proto__" })
  })

  test.prop([fc.uint8Array({ maxLength: 64 })], { numRuns: 5000 })("never throws an untyped error", (b) => {
    try {
      decodeCbor(b)
    } catch (e) {
      expect(isCorecashuError(e)).toBe(true)
    }
  })

  test.prop([fc.jsonValue({ maxDepth: 5 })], { numRuns: 300 })("decodes what it encodes", (v) => {
    // -0 has no distinct CBOR integer form
    const text = JSON.stringify(v)
    const value = JSON.parse(text)
    // A `__proto__` key (fast-check generates them) is refused by design, whatever else the value holds.
    if (text.includes('"__proto__":')) {
      expect(() => decodeCbor(encodeCbor(value))).toThrow(
        expect.objectContaining({ reason: "forbidden-key" }),
      )
      return
    }
    expect(decodeCbor(encodeCbor(value))).toEqual(value)
  })
})
