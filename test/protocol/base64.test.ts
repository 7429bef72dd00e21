import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError } from "../../src/model/index.js"
import { base64Decode, base64UrlEncode } from "../../src/protocol/base64.js"

const reasonOf = (text: string): string | undefined => {
  try {
    base64Decode(text)
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return (e as { reason: string }).reason
  }
}

/** The canonical unpadded URL-safe spelling of a base64 text in either alphabet. */
const canonical = (text: string): string => text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")

describe("base64UrlEncode", () => {
  test.prop([fc.uint8Array({ maxLength: 300 })])("matches Node's base64url, padded on request", (bytes) => {
    const reference = Buffer.from(bytes).toString("base64url")
    expect(base64UrlEncode(bytes)).toBe(reference)
    const padded = base64UrlEncode(bytes, true)
    expect(padded.length % 4).toBe(0)
    expect(canonical(padded)).toBe(reference)
  })

  it("encodes a view without reading outside it", () => {
    const backing = Uint8Array.from([0xff, 0x00, 0x01, 0x02, 0xff])
    expect(base64UrlEncode(backing.subarray(1, 4))).toBe(Buffer.from([0, 1, 2]).toString("base64url"))
  })
})

describe("base64Decode", () => {
  test.prop([fc.uint8Array({ maxLength: 300 })])(
    "accepts URL-safe and standard alphabets, padded and unpadded",
    (bytes) => {
      const std = Buffer.from(bytes).toString("base64")
      for (const text of [std, std.replace(/=+$/, ""), base64UrlEncode(bytes), base64UrlEncode(bytes, true)])
        expect(base64Decode(text)).toEqual(bytes)
    },
  )

  it("decodes from an offset", () => {
    expect(base64Decode("cashuBAAEC", 6)).toEqual(Uint8Array.from([0, 1, 2]))
  })

  it.each([
    ["a character outside both alphabets", "QUJD!"],
    ["whitespace", "QU JD"],
    ["a non-ASCII character", "QUJé"],
    ["a character above U+00FF", "QUJ\u2603"],
    ["an impossible length (4n+1)", "QUJDR"],
    ["padding on a full quantum", "QUJD="],
    ["too little padding", "QQ="],
    ["too much padding", "QQ==="],
    ["padding in the middle", "QQ==QUJD"],
    ["padding alone", "=="],
    ["non-zero trailing bits (2 chars)", "QR"],
    ["non-zero trailing bits (3 chars)", "QUK"],
  ])("rejects %s", (_name, text) => {
    expect(reasonOf(text)).toBe("base64")
  })

  test.prop([fc.string({ unit: fc.constantFrom(..."AQgw_-+/=!aZ09 é") })])(
    "everything it accepts is a canonical encoding (no two strings decode alike)",
    (text) => {
      let bytes: Uint8Array
      try {
        bytes = base64Decode(text)
      } catch (e) {
        expect(isCorecashuError(e)).toBe(true)
        return
      }
      expect(base64UrlEncode(bytes)).toBe(canonical(text))
    },
  )
})
