import { fc, test } from "@fast-check/vitest"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { isCorecashuError, KeysetError, type Proof, type Token } from "../../src/model/index.js"
import { base64UrlEncode } from "../../src/protocol/base64.js"
import { decodeCbor, encodeCbor } from "../../src/protocol/cbor.js"
import {
  decodeToken,
  decodeTokenBytes,
  decodeTokenEffect,
  encodeToken,
  encodeTokenBytes,
  encodeTokenEffect,
  resolveShortKeysetIds,
} from "../../src/protocol/token.js"
import { tokenV3Arb, tokenV4Arb } from "../support/token-arbitrary.js"
import { loadVector } from "../support/vectors.js"

const v3 = loadVector("00-tokens-v3.json")
const v4 = loadVector("00-tokens-v4.json")

const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, "hex"))

interface Failure {
  readonly tag: string
  readonly reason: string | undefined
  readonly path: string | undefined
}

/** Runs `f` expecting a tagged failure; returns its tag, reason and path. */
const failureOf = (f: () => unknown): Failure => {
  try {
    f()
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    const err = e as { _tag: string; reason?: string; path?: string }
    return { tag: err._tag, reason: err.reason, path: err.path }
  }
  throw new Error("expected a failure")
}

// biome-ignore lint/suspicious/noExplicitAny: vector JSON is untyped
type Json = any

/** The token a v3 vector's JSON describes, in the engine's model. */
const expectedV3 = (json: Json): Token => {
  const token: Json = {
    version: 3,
    entries: json.token.map((e: Json) => ({
      mint: e.mint,
      proofs: e.proofs.map((p: Json) => ({ amount: BigInt(p.amount), id: p.id, secret: p.secret, C: p.C })),
    })),
  }
  if (json.unit !== undefined) token.unit = json.unit
  if (json.memo !== undefined) token.memo = json.memo
  return token
}

/** The token a v4 vector's `token_cbor_as_json` describes, in the engine's model. */
const expectedV4 = (json: Json): Token => {
  const proofs = json.t.flatMap((g: Json) =>
    g.p.map((p: Json) => {
      const proof: Json = { amount: BigInt(p.a), id: g.i, secret: p.s, C: p.c }
      if (p.d !== undefined) proof.dleq = { e: p.d.e, s: p.d.s, r: p.d.r }
      if (p.w !== undefined) proof.witness = p.w
      return proof
    }),
  )
  const token: Json = { version: 4, entries: [{ mint: json.m, proofs }], unit: json.u }
  if (json.d !== undefined) token.memo = json.d
  return token
}

describe("NUT-00 v3 vectors (00-tokens-v3.json)", () => {
  it.each<[string, Json]>(v3.serialization.map((c: Json): [string, Json] => [c.section, c]))(
    "%s: decodes and re-encodes exactly",
    (_s, c) => {
      const token = decodeToken(c.serialized)
      expect(token).toEqual(expectedV3(c.token_json))
      expect(encodeToken(token, { version: 3, pad: c.serialized.endsWith("=") })).toBe(c.serialized)
    },
  )

  it.each<[string, Json]>(v3.deserialization_valid.map((c: Json): [string, Json] => [c.description, c]))(
    "%s",
    (_d, c) => {
      expect(decodeToken(c.token).version).toBe(3)
    },
  )

  it.each<[string, Json]>(
    v3.deserialization_invalid.vectors.map((c: Json): [string, Json] => [c.description, c]),
  )("rejects: %s", (_d, c) => {
    expect(failureOf(() => decodeToken(c.token))).toMatchObject({ tag: "DecodeError", reason: "prefix" })
  })

  it("decodes the padded and unpadded variants alike and re-encodes each", () => {
    const [a, b] = v3.padding_variants.vectors as Json[]
    const padded = decodeToken(a.token)
    const unpadded = decodeToken(b.token)
    expect(a.padded).toBe(true)
    expect(padded).toEqual(unpadded)
    expect(padded.memo).toBe("Thank you very much.")
    expect(encodeToken(padded, { version: 3, pad: true })).toBe(a.token)
    expect(encodeToken(unpadded, { version: 3 })).toBe(b.token)
  })
})

describe("NUT-00 v4 vectors (00-tokens-v4.json)", () => {
  it.each<[string, Json]>(v4.serialization.map((c: Json): [string, Json] => [c.section, c]))(
    "%s: decodes and re-encodes exactly",
    (_s, c) => {
      const token = decodeToken(c.serialized)
      expect(token).toEqual(expectedV4(c.token_cbor_as_json))
      expect(encodeToken(token, { pad: c.serialized.endsWith("=") })).toBe(c.serialized)
    },
  )

  it.each<[string, Json]>(v4.raw_binary.map((c: Json): [string, Json] => [c.section, c]))(
    "%s: raw crawB decodes and re-encodes exactly",
    (_s, c) => {
      const token = decodeTokenBytes(fromHex(c.raw_hex))
      expect(token).toEqual(expectedV4(c.token_cbor_as_json))
      expect(Buffer.from(encodeTokenBytes(token)).toString("hex")).toBe(c.raw_hex)
    },
  )

  it("accepts every spelling of the same token: URI prefix, either alphabet, with or without padding", () => {
    for (const c of v4.serialization as Json[]) {
      const s: string = c.serialized
      const body = s.slice(6).replace(/=+$/, "")
      const padding = "=".repeat((4 - (body.length % 4)) % 4)
      const std = body.replace(/-/g, "+").replace(/_/g, "/")
      const expected = decodeToken(s)
      for (const variant of [
        `cashuB${body}`,
        `cashuB${body}${padding}`,
        `cashuB${std}`,
        `cashuB${std}${padding}`,
        `cashu:${s}`,
        `CASHU:${s}`,
        `Cashu:cashuB${std}`,
      ])
        expect(decodeToken(variant)).toEqual(expected)
    }
  })

  it("the multi-keyset vector keeps proofs in group order and both ids", () => {
    const token = decodeToken(v4.serialization[1].serialized)
    expect(token.entries[0]!.proofs.map((p) => p.id)).toEqual([
      "00ffd48b8f5ecf80",
      "00ad268c4d1f5826",
      "00ad268c4d1f5826",
    ])
  })
})

// --- crafted v4 inputs -------------------------------------------------------------------------------------

const C1 = "02" + "11".repeat(32)
const C2 = "03" + "22".repeat(32)

/** A generic CBOR value of a valid two-proof v4 token, for mutation. */
// biome-ignore lint/suspicious/noExplicitAny: mutated freely by the tests
const baseV4 = (): any => ({
  t: [
    {
      i: fromHex("00ad268c4d1f5826"),
      p: [
        { a: 1, s: "secret-one", c: fromHex(C1) },
        { a: 2, s: "secret-two", c: fromHex(C2) },
      ],
    },
  ],
  d: "memo",
  m: "http://localhost:3338",
  u: "sat",
})
const baseToken: Token = {
  version: 4,
  entries: [
    {
      mint: "http://localhost:3338",
      proofs: [
        { amount: 1n, id: "00ad268c4d1f5826", secret: "secret-one", C: C1 },
        { amount: 2n, id: "00ad268c4d1f5826", secret: "secret-two", C: C2 },
      ],
    },
  ],
  unit: "sat",
  memo: "memo",
}

const cashuB = (bytes: Uint8Array): string => "cashuB" + base64UrlEncode(bytes)
const v4Of = (value: unknown): string => cashuB(encodeCbor(value))
/** Encodes `value`, then replaces the first occurrence of byte sequence `from` by `to` (same length). */
const patched = (value: unknown, from: number[], to: number[]): string => {
  const bytes = encodeCbor(value)
  const hex = Buffer.from(bytes).toString("hex")
  const at = hex.indexOf(Buffer.from(from).toString("hex"))
  expect(at % 2).toBe(0)
  const out = fromHex(hex.slice(0, at) + Buffer.from(to).toString("hex") + hex.slice(at + from.length * 2))
  return cashuB(out)
}
const withV4 = (f: (t: ReturnType<typeof baseV4>) => void): string => {
  const t = baseV4()
  f(t)
  return v4Of(t)
}

describe("v4 decoding", () => {
  it("decodes the crafted base token", () => {
    expect(decodeToken(v4Of(baseV4()))).toEqual(baseToken)
  })

  it("accepts map keys in any order (p before i, u before t)", () => {
    const t = baseV4()
    const reordered = {
      u: t.u,
      m: t.m,
      d: t.d,
      t: t.t.map((g: Json) => ({ p: g.p.map((p: Json) => ({ c: p.c, s: p.s, a: p.a })), i: g.i })),
    }
    expect(decodeToken(v4Of(reordered))).toEqual(baseToken)
  })

  it("ignores unknown fields at every level (but still validates them)", () => {
    const t = baseV4()
    t.x = { nested: [1, 2, { deep: "yes" }], bytes: fromHex("00ff") }
    t.t[0].future = [true, false, null, 1.5]
    t.t[0].p[0].zz = "ignored"
    t.t[0].p[1].d = {
      e: fromHex("aa".repeat(32)),
      s: fromHex("bb".repeat(32)),
      r: fromHex("cc".repeat(32)),
      q: 1,
    }
    const token = decodeToken(v4Of(t))
    expect(token.entries[0]!.proofs[0]).toEqual(baseToken.entries[0]!.proofs[0])
    expect(token.entries[0]!.proofs[1]!.dleq).toEqual({
      e: "aa".repeat(32),
      s: "bb".repeat(32),
      r: "cc".repeat(32),
    })
  })

  it("treats null optional fields as absent (nutshell writes d: null)", () => {
    const t = baseV4()
    t.d = null
    t.t[0].p[0].d = null
    t.t[0].p[0].w = null
    t.t[0].p[0].pe = null
    const { memo: _memo, ...noMemo } = baseToken
    expect(decodeToken(v4Of(t))).toEqual(noMemo)
  })

  it("reads dleq, witness, p2pk_e and big amounts exactly", () => {
    const t = baseV4()
    Object.assign(t.t[0].p[0], {
      a: 18446744073709551615n,
      d: { e: fromHex("01".repeat(32)), s: fromHex("02".repeat(32)), r: fromHex("03".repeat(32)) },
      w: '{"signatures":["ab"]}',
      pe: fromHex(C2),
    })
    t.t[0].p[1].a = 2n ** 53n + 2n
    const proofs = decodeToken(v4Of(t)).entries[0]!.proofs
    expect(proofs[0]).toEqual({
      amount: 18446744073709551615n,
      id: "00ad268c4d1f5826",
      secret: "secret-one",
      C: C1,
      dleq: { e: "01".repeat(32), s: "02".repeat(32), r: "03".repeat(32) },
      witness: '{"signatures":["ab"]}',
      p2pk_e: C2,
    })
    expect(proofs[1]!.amount).toBe(2n ** 53n + 2n)
  })

  it("normalises the mint URL (strips trailing /)", () => {
    expect(decodeToken(withV4((t) => (t.m = "https://mint.example.com//"))).entries[0]!.mint).toBe(
      "https://mint.example.com",
    )
  })

  // Amount 1.5 as a half float (f9 3e00), for patching into other encodings of the amount.
  const withFloat = () => {
    const t = baseV4()
    t.t[0].p[0].a = 1.5
    return t
  }
  const tooBig = new Uint8Array([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
  it.each<[string, () => string, string, string?]>([
    ["a negative amount", () => withV4((t) => (t.t[0].p[0].a = -1)), "amount", "t.0.p.0.a"],
    ["a fractional amount", () => withV4((t) => (t.t[0].p[1].a = 1.5)), "amount", "t.0.p.1.a"],
    ["a NaN amount", () => withV4((t) => (t.t[0].p[0].a = Number.NaN)), "amount", "t.0.p.0.a"],
    [
      "a float amount with an integral value",
      () => patched(withFloat(), [0xf9, 0x3e, 0x00], [0xf9, 0x3c, 0x00]),
      "amount",
      "t.0.p.0.a",
    ],
    ["a string amount", () => withV4((t) => (t.t[0].p[0].a = "1")), "amount", "t.0.p.0.a"],
    [
      "an amount >= 2^64 (bignum tag)",
      () => patched(withFloat(), [0xf9, 0x3e, 0x00], [0xc2, 0x41, 0x01]),
      "amount",
      "t.0.p.0.a",
    ],
    ["a missing amount", () => withV4((t) => delete t.t[0].p[0].a), "schema", "t.0.p.0"],
    ["a missing secret", () => withV4((t) => delete t.t[0].p[1].s), "schema", "t.0.p.1"],
    ["a missing C", () => withV4((t) => delete t.t[0].p[0].c), "schema", "t.0.p.0"],
    ["a missing mint", () => withV4((t) => delete t.m), "schema", "m"],
    ["a missing unit", () => withV4((t) => delete t.u), "schema", "u"],
    ["a missing t", () => withV4((t) => delete t.t), "schema", "t"],
    ["a missing keyset id", () => withV4((t) => delete t.t[0].i), "schema", "t.0"],
    ["zero keyset groups", () => withV4((t) => (t.t = [])), "schema", "t"],
    ["a group with zero proofs", () => withV4((t) => (t.t[0].p = [])), "schema", "t.0.p"],
    ["a mint that is not text", () => withV4((t) => (t.m = 5)), "schema", "m"],
    ["an empty mint", () => withV4((t) => (t.m = "/")), "schema", "m"],
    [
      "a secret that is not text",
      () => withV4((t) => (t.t[0].p[0].s = fromHex("00"))),
      "schema",
      "t.0.p.0.s",
    ],
    ["an empty secret", () => withV4((t) => (t.t[0].p[0].s = "")), "schema", "t.0.p.0.s"],
    ["C as text", () => withV4((t) => (t.t[0].p[0].c = C1)), "schema", "t.0.p.0.c"],
    ["C of the wrong length", () => withV4((t) => (t.t[0].p[1].c = fromHex("02"))), "schema", "t.0.p.1.c"],
    ["a keyset id of the wrong length", () => withV4((t) => (t.t[0].i = fromHex("00ad"))), "schema", "t.0.i"],
    ["a keyset id as text", () => withV4((t) => (t.t[0].i = "00ad268c4d1f5826")), "schema", "t.0.i"],
    ["proofs that are not an array", () => withV4((t) => (t.t[0].p = {})), "schema", "t.0.p"],
    ["a proof that is not a map", () => withV4((t) => (t.t[0].p[0] = 1)), "schema", "t.0.p.0"],
    ["a token that is an array", () => v4Of([1, 2]), "schema"],
    ["dleq without s", () => withV4((t) => (t.t[0].p[0].d = { e: fromHex("aa") })), "schema", "t.0.p.0.d"],
    [
      "a dleq scalar over 32 bytes",
      () => withV4((t) => (t.t[0].p[0].d = { e: fromHex("aa".repeat(33)), s: fromHex("bb") })),
      "schema",
      "t.0.p.0.d.e",
    ],
    [
      "p2pk_e of the wrong length",
      () => withV4((t) => (t.t[0].p[0].pe = fromHex("02"))),
      "schema",
      "t.0.p.0.pe",
    ],
    ["a witness that is not text", () => withV4((t) => (t.t[0].p[0].w = 1)), "schema", "t.0.p.0.w"],
    [
      "two proofs with the same secret",
      () => withV4((t) => (t.t[0].p[1].s = "secret-one")),
      "duplicate",
      "t.0.p.1.s",
    ],
    [
      "the same secret in two groups",
      () => withV4((t) => t.t.push({ i: fromHex("00ffd48b8f5ecf80"), p: [t.t[0].p[0]] })),
      "duplicate",
      "t.1.p.0.s",
    ],
    [
      "a duplicate key in a proof",
      () => patched(baseV4(), [0x61, 0x73, 0x6a], [0x61, 0x61, 0x6a]),
      "duplicate",
      "t.0.p.0",
    ],
    [
      "a duplicate top-level key",
      () => patched(baseV4(), [0x61, 0x64, 0x64], [0x61, 0x6d, 0x64]),
      "duplicate",
    ],
    [
      "a duplicate unknown key",
      () => patched({ ...baseV4(), xa: 1, xb: 2 }, [0x62, 0x78, 0x62], [0x62, 0x78, 0x61]),
      "duplicate",
    ],
    [
      "a duplicate key inside an unknown value",
      () => patched({ ...baseV4(), x: { ka: 1, kb: 2 } }, [0x62, 0x6b, 0x62], [0x62, 0x6b, 0x61]),
      "duplicate",
    ],
    [
      "a __proto__ key",
      () => patched({ ...baseV4(), __prot0__: 1 }, [0x30, 0x5f, 0x5f], [0x6f, 0x5f, 0x5f]),
      "forbidden-key",
    ],
    [
      "a __proto__ key in a proof",
      () =>
        withV4(
          (t) => (t.t[0].p[0] = new Map<string, unknown>([...Object.entries(t.t[0].p[0]), ["__proto__", 1]])),
        ),
      "forbidden-key",
      "t.0.p.0",
    ],
    [
      "a __proto__ key inside an unknown value",
      () => v4Of({ ...baseV4(), x: new Map([["__proto__", 1]]) }),
      "forbidden-key",
    ],
    ["a CBOR tag", () => cashuB(Uint8Array.from([0xc0, ...encodeCbor(baseV4())])), "cbor"],
    [
      "a tag inside an unknown value",
      () => patched({ ...baseV4(), x: 7 }, [0x61, 0x78, 0x07], [0x61, 0x78, 0xc1]),
      "cbor",
    ],
    ["an indefinite-length map", () => patched(baseV4(), [0xa4], [0xbf]), "cbor"],
    ["a non-minimal length", () => patched(baseV4(), [0x61, 0x75, 0x63], [0x61, 0x75, 0x78]), "cbor"],
    ["trailing bytes", () => cashuB(Uint8Array.from([...encodeCbor(baseV4()), 0x00])), "cbor"],
    ["truncated CBOR", () => cashuB(encodeCbor(baseV4()).slice(0, 40)), "cbor"],
    ["empty CBOR", () => "cashuB", "cbor"],
    [
      "invalid UTF-8 in a secret",
      () => patched(baseV4(), [0x73, 0x65, 0x63, 0x72], [0x73, 0xff, 0x63, 0x72]),
      "cbor",
      "t.0.p.0.s",
    ],
    ["a byte string declaring 2^64-1 bytes", () => cashuB(tooBig), "schema"],
    [
      "an unknown value declaring 2^64-1 bytes",
      () => cashuB(Uint8Array.from([0xa1, 0x61, 0x78, ...tooBig])),
      "limit",
    ],
    [
      "an unknown value declaring 2^32 map entries",
      () => cashuB(Uint8Array.from([0xa1, 0x61, 0x78, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0])),
      "cbor",
    ],
    [
      "an array declaring 2^32 items",
      () => cashuB(Uint8Array.from([0xa1, 0x61, 0x74, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0])),
      "cbor",
      "t",
    ],
    [
      "deep nesting in an unknown field",
      () => cashuB(Uint8Array.from([0xa1, 0x61, 0x78, ...new Array(100_000).fill(0x81), 0x00])),
      "depth",
    ],
    ["a bad base64 body", () => "cashuB!!!!", "base64"],
    ["an unknown version", () => "cashuC" + base64UrlEncode(encodeCbor(baseV4())), "version"],
    ["no prefix", () => base64UrlEncode(encodeCbor(baseV4())), "prefix"],
    ["an empty string", () => "", "prefix"],
    ["a lower-case version letter", () => "cashub" + base64UrlEncode(encodeCbor(baseV4())), "version"],
  ])("rejects %s", (_name, make, reason, path) => {
    const failure = failureOf(() => decodeToken(make()))
    expect(failure.tag).toBe("DecodeError")
    expect(failure.reason).toBe(reason)
    if (path !== undefined) expect(failure.path).toBe(path)
  })

  it("enforces the limits, overridable per call", () => {
    const s = v4Of(baseV4())
    expect(() => decodeToken(s)).not.toThrow()
    const cases: [Parameters<typeof decodeToken>[1], string][] = [
      [{ limits: { maxBytes: s.length - 1 } }, "too-large"],
      [{ limits: { maxProofs: 1 } }, "limit"],
      [{ limits: { maxSecretLength: 9 } }, "limit"],
      [{ limits: { maxStringLength: 4 } }, "limit"],
      [{ limits: { maxItems: 10 } }, "limit"],
      [{ limits: { maxDepth: 4 } }, "depth"],
    ]
    for (const [opts, reason] of cases) expect(failureOf(() => decodeToken(s, opts)).reason).toBe(reason)
    const groups = withV4((t) =>
      t.t.push({ i: fromHex("00ffd48b8f5ecf80"), p: [{ a: 1, s: "x", c: fromHex(C1) }] }),
    )
    expect(failureOf(() => decodeToken(groups, { limits: { maxEntries: 1 } })).reason).toBe("limit")
  })

  it("rejects non-string input with a tagged error", () => {
    for (const bad of [undefined, null, 42, {}, Uint8Array.of(1)])
      expect(failureOf(() => decodeToken(bad as unknown as string)).reason).toBe("schema")
    expect(failureOf(() => decodeTokenBytes("crawB" as unknown as Uint8Array)).reason).toBe("schema")
  })
})

describe("raw binary tokens (crawB)", () => {
  const raw = (body: Uint8Array, version = 0x42) =>
    Uint8Array.from([0x63, 0x72, 0x61, 0x77, version, ...body])

  it("round-trips and agrees with the string form", () => {
    const bytes = encodeTokenBytes(baseToken)
    expect(decodeTokenBytes(bytes)).toEqual(baseToken)
    expect(decodeTokenBytes(raw(encodeCbor(baseV4())))).toEqual(decodeToken(encodeToken(baseToken)))
  })

  it.each<[string, Uint8Array, string]>([
    ["a wrong magic", Uint8Array.from([0x63, 0x72, 0x61, 0x78, 0x42, 0xa0]), "prefix"],
    ["too short", Uint8Array.from([0x63, 0x72]), "prefix"],
    ["an unsupported version", raw(encodeCbor(baseV4()), 0x41), "version"],
    ["an empty body", raw(new Uint8Array(0)), "cbor"],
    ["trailing bytes", raw(Uint8Array.from([...encodeCbor(baseV4()), 0])), "cbor"],
  ])("rejects %s", (_name, bytes, reason) => {
    expect(failureOf(() => decodeTokenBytes(bytes)).reason).toBe(reason)
  })

  it("decodes a view into a larger buffer", () => {
    const bytes = encodeTokenBytes(baseToken)
    const backing = new Uint8Array(bytes.length + 20)
    backing.set(bytes, 10)
    expect(decodeTokenBytes(backing.subarray(10, 10 + bytes.length))).toEqual(baseToken)
  })
})

// --- crafted v3 inputs -------------------------------------------------------------------------------------

const v3Json = (json: string): string => "cashuA" + base64UrlEncode(new TextEncoder().encode(json))
const proofJson = (amount: string, secret = "s1", extra = "") =>
  `{"amount":${amount},"id":"009a1f293253e41e","secret":"${secret}","C":"${C1}"${extra}}`
const tokenJson = (proofs: string, extra = "") =>
  `{"token":[{"mint":"https://mint.example","proofs":[${proofs}]}],"unit":"sat"${extra}}`

describe("v3 decoding", () => {
  it("decodes integers exactly, up to 2^64-1", () => {
    const token = decodeToken(v3Json(tokenJson(proofJson("18446744073709551615"))))
    expect(token.entries[0]!.proofs[0]!.amount).toBe(18446744073709551615n)
  })

  it("reads optional fields, treats null as absent, ignores unknown fields, lowercases hex", () => {
    const extra = `,"dleq":{"e":"${"AB".repeat(32)}","s":"${"cd".repeat(32)}","r":null},"witness":"w","p2pk_e":null,"x":[1,{"y":2}]`
    const token = decodeToken(v3Json(tokenJson(proofJson("1", "s1", extra), ',"memo":null,"z":true')))
    expect(token).toEqual({
      version: 3,
      entries: [
        {
          mint: "https://mint.example",
          proofs: [
            {
              amount: 1n,
              id: "009a1f293253e41e",
              secret: "s1",
              C: C1,
              dleq: { e: "ab".repeat(32), s: "cd".repeat(32) },
              witness: "w",
            },
          ],
        },
      ],
      unit: "sat",
    })
  })

  it("keeps several mints", () => {
    const json = `{"token":[{"mint":"https://a/","proofs":[${proofJson("1", "a")}]},{"mint":"https://b","proofs":[${proofJson("2", "b")}]}]}`
    const token = decodeToken(v3Json(json))
    expect(token.entries.map((e) => e.mint)).toEqual(["https://a", "https://b"])
    expect(decodeToken(encodeToken(token, { version: 3 }))).toEqual(token)
  })

  it.each<[string, string, string, string?]>([
    ["a negative amount", tokenJson(proofJson("-1")), "amount", "token.0.proofs.0.amount"],
    ["a fractional amount", tokenJson(proofJson("1.5")), "amount"],
    ["a float amount with an integral value", tokenJson(proofJson("1.0")), "amount"],
    ["an exponent amount", tokenJson(proofJson("1e3")), "amount"],
    ["an amount of 2^64", tokenJson(proofJson("18446744073709551616")), "amount", "token.0.proofs.0.amount"],
    ["an amount with too many digits", tokenJson(proofJson("1".repeat(25))), "limit"],
    ["a string amount", tokenJson(proofJson('"1"')), "amount", "token.0.proofs.0.amount"],
    ["a null amount", tokenJson(proofJson("null")), "amount", "token.0.proofs.0.amount"],
    ["bad hex in C", tokenJson(proofJson("1").replace(C1, "zz" + C1.slice(2))), "hex", "token.0.proofs.0.C"],
    ["bad hex in the id", tokenJson(proofJson("1").replace("009a", "0x9a")), "hex", "token.0.proofs.0.id"],
    ["odd-length hex", tokenJson(proofJson("1").replace(C1, C1 + "0")), "hex", "token.0.proofs.0.C"],
    [
      "a legacy base64 keyset id",
      tokenJson(proofJson("1").replace("009a1f293253e41e", "I2yN+iRYfkzT")),
      "hex",
    ],
    [
      "a missing secret",
      tokenJson(`{"amount":1,"id":"009a1f293253e41e","C":"${C1}"}`),
      "schema",
      "token.0.proofs.0.secret",
    ],
    [
      "duplicate secrets",
      tokenJson(`${proofJson("1")},${proofJson("2")}`),
      "duplicate",
      "token.0.proofs.1.secret",
    ],
    ["a duplicate key", tokenJson(proofJson("1", "s1", ',"amount":2')), "duplicate"],
    ["a __proto__ key", tokenJson(proofJson("1", "s1", ',"__proto__":{}')), "forbidden-key"],
    ["an empty token list", '{"token":[]}', "schema", "token"],
    ["an entry without proofs", '{"token":[{"mint":"https://a","proofs":[]}]}', "schema", "token.0.proofs"],
    ["a missing mint", `{"token":[{"proofs":[${proofJson("1")}]}]}`, "schema", "token.0.mint"],
    ["a non-object root", "[1]", "schema"],
    ["a memo that is not a string", tokenJson(proofJson("1"), ',"memo":5'), "schema", "memo"],
    [
      "a lone surrogate in a secret",
      tokenJson(proofJson("1", "\\ud800")),
      "schema",
      "token.0.proofs.0.secret",
    ],
    ["malformed JSON", '{"token":[', "json"],
    ["deep nesting", `{"x":${"[".repeat(5000)}${"]".repeat(5000)},"token":[]}`, "depth"],
  ])("rejects %s", (_name, json, reason, path) => {
    const failure = failureOf(() => decodeToken(v3Json(json)))
    expect(failure.tag).toBe("DecodeError")
    expect(failure.reason).toBe(reason)
    if (path !== undefined) expect(failure.path).toBe(path)
  })

  it("rejects invalid UTF-8 in the JSON body", () => {
    expect(
      failureOf(() => decodeToken("cashuA" + base64UrlEncode(Uint8Array.of(0x7b, 0xff, 0x7d)))).reason,
    ).toBe("json")
  })
})

// --- encoding ---------------------------------------------------------------------------------------------

describe("encoding", () => {
  const proof = (id: string, secret: string, amount = 1n): Proof => ({ amount, id, secret, C: C1 })

  it("defaults to v4, groups proofs by keyset id in order of first appearance", () => {
    const token: Token = {
      version: 4,
      entries: [
        {
          mint: "https://m",
          proofs: [
            proof("00aa000000000001", "a"),
            proof("00bb000000000002", "b"),
            proof("00aa000000000001", "c"),
          ],
        },
      ],
      unit: "sat",
    }
    const s = encodeToken(token)
    expect(s.startsWith("cashuB")).toBe(true)
    // biome-ignore lint/suspicious/noExplicitAny: generic CBOR view of the output
    const cbor = decodeCbor(Buffer.from(s.slice(6), "base64url")) as any
    expect(Object.keys(cbor)).toEqual(["t", "m", "u"])
    expect(cbor.t.map((g: Json) => Buffer.from(g.i).toString("hex"))).toEqual([
      "00aa000000000001",
      "00bb000000000002",
    ])
    expect(cbor.t.map((g: Json) => g.p.map((p: Json) => p.s))).toEqual([["a", "c"], ["b"]])
    expect(decodeToken(s).entries[0]!.proofs.map((p) => p.secret)).toEqual(["a", "c", "b"])
  })

  it("writes keyset ids exactly as given: short ids stay 8 bytes, full ids 33", () => {
    const full = "01" + "ab".repeat(32)
    for (const id of [full, full.slice(0, 16)]) {
      const token: Token = {
        version: 4,
        entries: [{ mint: "https://m", proofs: [proof(id, "a")] }],
        unit: "sat",
      }
      // biome-ignore lint/suspicious/noExplicitAny: generic CBOR view of the output
      const cbor = decodeCbor(encodeTokenBytes(token).subarray(5)) as any
      expect(Buffer.from(cbor.t[0].i).toString("hex")).toBe(id)
      expect(decodeToken(encodeToken(token)).entries[0]!.proofs[0]!.id).toBe(id)
    }
  })

  it("strips trailing / from the mint, writes a missing unit as sat, lowercases hex", () => {
    const token: Token = {
      version: 4,
      entries: [{ mint: "https://m/", proofs: [{ ...proof("00AA000000000001", "a"), C: C1.toUpperCase() }] }],
    }
    const back = decodeToken(encodeToken(token))
    expect(back.entries[0]!.mint).toBe("https://m")
    expect(back.unit).toBe("sat")
    expect(back.entries[0]!.proofs[0]).toEqual(proof("00aa000000000001", "a"))
    expect(decodeToken(encodeToken(token, { version: 3 })).entries[0]!.mint).toBe("https://m")
  })

  const twoMints: Token = {
    version: 3,
    entries: [
      { mint: "https://a", proofs: [proof("00aa000000000001", "a")] },
      { mint: "https://b", proofs: [proof("00aa000000000001", "b")] },
    ],
  }
  it.each<[string, () => unknown, string, string?]>([
    ["a v4 token with two mints", () => encodeToken(twoMints), "version", "entries"],
    ["a v4 token with no entries", () => encodeToken({ version: 4, entries: [] }), "version", "entries"],
    ["an unknown version", () => encodeToken(baseToken, { version: 5 as 4 }), "version"],
    ["raw bytes of a two-mint token", () => encodeTokenBytes(twoMints), "version"],
    [
      "no proofs",
      () => encodeToken({ version: 4, entries: [{ mint: "https://m", proofs: [] }] }),
      "schema",
      "proofs",
    ],
    [
      "a number amount",
      () =>
        encodeToken({
          ...baseToken,
          entries: [
            { mint: "m", proofs: [{ ...proof("00aa000000000001", "a"), amount: 1 as unknown as bigint }] },
          ],
        }),
      "amount",
      "proofs.0.amount",
    ],
    [
      "an amount of 2^64",
      () =>
        encodeToken({
          ...baseToken,
          entries: [{ mint: "m", proofs: [proof("00aa000000000001", "a", 1n << 64n)] }],
        }),
      "amount",
    ],
    [
      "a negative amount (v3)",
      () =>
        encodeToken(
          { ...twoMints, entries: [{ mint: "m", proofs: [proof("00aa000000000001", "a", -1n)] }] },
          { version: 3 },
        ),
      "amount",
      "entries.0.proofs.0.amount",
    ],
    [
      "bad hex in C",
      () =>
        encodeToken({
          ...baseToken,
          entries: [{ mint: "m", proofs: [{ ...proof("00aa000000000001", "a"), C: "xyz" }] }],
        }),
      "hex",
      "proofs.0.C",
    ],
    [
      "duplicate secrets",
      () =>
        encodeToken({
          ...baseToken,
          entries: [{ mint: "m", proofs: [proof("00aa000000000001", "a"), proof("00aa000000000001", "a")] }],
        }),
      "duplicate",
      "proofs.1.secret",
    ],
    [
      "duplicate secrets across v3 entries",
      () =>
        encodeToken({ ...twoMints, entries: [twoMints.entries[0]!, twoMints.entries[0]!] }, { version: 3 }),
      "duplicate",
    ],
    ["a lone surrogate in a memo", () => encodeToken({ ...baseToken, memo: "\ud800" }), "schema", "memo"],
    [
      "an empty mint",
      () => encodeToken({ ...baseToken, entries: [{ ...baseToken.entries[0]!, mint: "//" }] }),
      "schema",
      "mint",
    ],
  ])("rejects %s", (_name, run, reason, path) => {
    const failure = failureOf(run)
    expect(failure).toMatchObject({ tag: "DecodeError", reason })
    if (path !== undefined) expect(failure.path).toBe(path)
  })
})

// --- short keyset ids -------------------------------------------------------------------------------------

describe("short keyset ids", () => {
  const full = "01" + "ab".repeat(32)
  const other = "01" + "cd".repeat(32)
  const twin = full.slice(0, 16) + "ef".repeat(25) // same first 8 bytes as `full`
  const short = full.slice(0, 16)
  const shortToken: Token = {
    version: 4,
    entries: [
      {
        mint: "https://m",
        proofs: [
          { amount: 1n, id: short, secret: "a", C: C1 },
          { amount: 2n, id: "009a1f293253e41e", secret: "b", C: C1 },
        ],
      },
    ],
    unit: "sat",
  }

  it("decoding keeps the id as given", () => {
    expect(decodeToken(encodeToken(shortToken)).entries[0]!.proofs[0]!.id).toBe(short)
  })

  it("resolves a short id to the one full id it prefixes; v1 and full ids are untouched", () => {
    const resolved = resolveShortKeysetIds(shortToken, [other, full.toUpperCase()])
    expect(resolved.entries[0]!.proofs.map((p) => p.id)).toEqual([full, "009a1f293253e41e"])
    expect(resolveShortKeysetIds(resolved, [full, other])).toBe(resolved)
    expect(decodeToken(encodeToken(shortToken), { keysetIds: [full, other] })).toEqual(resolved)
    expect(
      decodeToken(encodeToken(shortToken, { version: 3 }), { keysetIds: new Set([full]) }).entries[0]!
        .proofs[0]!.id,
    ).toBe(full)
  })

  it("fails on ambiguity and on unknown ids with a KeysetError", () => {
    const ambiguous = failureOf(() => resolveShortKeysetIds(shortToken, [full, twin]))
    expect(ambiguous).toMatchObject({ tag: "KeysetError", reason: "ambiguous-short-id" })
    expect(failureOf(() => decodeToken(encodeToken(shortToken), { keysetIds: [full, twin] }))).toMatchObject({
      tag: "KeysetError",
      reason: "ambiguous-short-id",
    })
    expect(failureOf(() => resolveShortKeysetIds(shortToken, [other]))).toMatchObject({
      tag: "KeysetError",
      reason: "unknown-id",
    })
    // The same full id listed twice is not ambiguous.
    expect(resolveShortKeysetIds(shortToken, [full, full]).entries[0]!.proofs[0]!.id).toBe(full)
  })

  it("the Effect twins carry the tagged errors in the error channel", () => {
    const s = encodeToken(shortToken)
    expect(Effect.runSync(decodeTokenEffect(s, { keysetIds: [full] }))).toEqual(
      resolveShortKeysetIds(shortToken, [full]),
    )
    const failed = Effect.runSyncExit(decodeTokenEffect(s, { keysetIds: [full, twin] }))
    expect(Exit.isFailure(failed)).toBe(true)
    const error = Effect.runSync(Effect.flip(decodeTokenEffect(s, { keysetIds: [] })))
    expect(error).toBeInstanceOf(KeysetError)
    const decodeError = Effect.runSync(Effect.flip(decodeTokenEffect("nope")))
    expect(decodeError._tag).toBe("DecodeError")
    expect(Effect.runSync(encodeTokenEffect(shortToken))).toBe(s)
    expect(Effect.runSync(Effect.flip(encodeTokenEffect({ version: 4, entries: [] })))._tag).toBe(
      "DecodeError",
    )
  })
})

// --- properties -------------------------------------------------------------------------------------------

describe("properties", () => {
  test.prop([tokenV4Arb(), fc.boolean()], { numRuns: 150 })(
    "v4: decode ∘ encode is the identity",
    (token, pad) => {
      const s = encodeToken(token, { pad })
      expect(decodeToken(s)).toEqual(token)
      expect(encodeToken(decodeToken(s), { pad })).toBe(s)
      expect(decodeTokenBytes(encodeTokenBytes(token))).toEqual(token)
    },
  )

  test.prop([tokenV3Arb(), fc.boolean()], { numRuns: 150 })(
    "v3: decode ∘ encode is the identity",
    (token, pad) => {
      const s = encodeToken(token, { version: 3, pad })
      expect(decodeToken(s)).toEqual(token)
      expect(encodeToken(decodeToken(s), { version: 3, pad })).toBe(s)
    },
  )

  test.prop([tokenV4Arb({ maxProofs: 5 })], { numRuns: 80 })("v3 and v4 carry the same content", (token) => {
    const a = decodeToken(encodeToken(token, { version: 3 }))
    expect({ ...a, version: 4 }).toEqual(token)
  })
})
