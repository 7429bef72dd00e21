/**
 * Fuzz test for the token decoders: >= 10,000 generated and mutated inputs per run. Every input must either
 * decode — and then re-encode and decode to the same token — or fail with one of the project's tagged errors.
 * No untyped throw, no hang. The seed is random per run (set TOKEN_FUZZ_SEED to replay) and is part of every
 * failure message.
 */
import { fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { isCorecashuError, type Token } from "../../src/model/index.js"
import { base64UrlEncode } from "../../src/protocol/base64.js"
import { decodeToken, decodeTokenBytes, encodeToken, encodeTokenBytes } from "../../src/protocol/token.js"
import { tokenV3Arb, tokenV4Arb } from "../support/token-arbitrary.js"
import { loadVector } from "../support/vectors.js"

const SEED = Number(process.env.TOKEN_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const INPUTS = 12_000

/** mulberry32: small, fast, seeded. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const random = prng(SEED)
const int = (n: number): number => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256))

// Bytes that change CBOR structure: big/indefinite lengths, tags, floats, null/undefined, break, maps/arrays.
const INTERESTING = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x3b, 0x40, 0x5b, 0x5f, 0x60, 0x7b, 0x7f, 0x80, 0x9b, 0x9f,
  0xa0, 0xbb, 0xbf, 0xc0, 0xc2, 0xf4, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff,
]
const HUGE_HEADERS = [
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x7b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xbb, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff],
  [0x5a, 0xff, 0xff, 0xff, 0xff],
  [0x9a, 0x00, 0x10, 0x00, 0x00],
  [0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
]

const splice = (b: Uint8Array, at: number, count: number, insert: ArrayLike<number>): Uint8Array => {
  const remove = Math.min(count, b.length - at)
  const out = new Uint8Array(b.length - remove + insert.length)
  out.set(b.subarray(0, at))
  out.set(insert, at)
  out.set(b.subarray(at + remove), at + insert.length)
  return out
}

/** One random structural mutation of a CBOR or JSON body. */
const mutateBytes = (b: Uint8Array): Uint8Array => {
  const at = int(b.length + 1)
  switch (int(10)) {
    case 0: {
      const out = b.slice()
      for (let k = 1 + int(4); k > 0 && out.length > 0; k--) out[int(out.length)]! ^= 1 << int(8)
      return out
    }
    case 1: {
      const out = b.slice()
      if (out.length > 0) out[int(out.length)] = random() < 0.5 ? pick(INTERESTING) : int(256)
      return out
    }
    case 2:
      return b.slice(0, int(b.length))
    case 3:
      return splice(b, at, 0, randomBytes(1 + int(8)))
    case 4:
      return splice(b, at, Math.min(b.length - at, 1 + int(16)), [])
    case 5: {
      const from = int(b.length)
      return splice(b, at, 0, b.subarray(from, from + 1 + int(64)))
    }
    case 6:
      return splice(b, at, int(3), pick(HUGE_HEADERS))
    case 7: {
      const depth = 1 + int(3000)
      const open = random() < 0.5 ? [0x81] : [0xa1, 0x61, 0x78]
      const nest: number[] = []
      for (let k = 0; k < depth; k++) nest.push(...open)
      nest.push(0x00)
      return splice(b, at, 0, nest)
    }
    case 8:
      return randomBytes(int(200))
    default: {
      const out = b.slice()
      const n = 1 + int(3)
      for (let k = 0; k < n && out.length > 0; k++) out[int(out.length)] = pick(INTERESTING)
      return out
    }
  }
}

const NUMBERS = [
  "-1",
  "1.5",
  "1.0",
  "1e3",
  "18446744073709551616",
  "99999999999999999999999",
  "-0",
  "NaN",
  '"7"',
  "null",
]
const JSON_CHARS = ['"', "\\", "{", "}", "[", "]", ",", ":", "\u0000", "\ud800", "é", "0", "-"]

/** One random mutation of v3 JSON text. */
const mutateJson = (json: string): string => {
  const at = int(json.length + 1)
  switch (int(6)) {
    case 0:
      return json.replace(/"amount":\d+/, `"amount":${pick(NUMBERS)}`)
    case 1: {
      const brace = json.indexOf("{", at)
      if (brace < 0) return json
      const key = pick(['"amount":1,', '"__proto__":{},', '"token":[],', '"secret":"x",', '"mint":"m",'])
      return json.slice(0, brace + 1) + key + json.slice(brace + 1)
    }
    case 2: {
      const depth = 1 + int(4000)
      return json.slice(0, at) + "[".repeat(depth) + "]".repeat(depth) + json.slice(at)
    }
    case 3:
      return json.slice(0, at) + pick(JSON_CHARS) + json.slice(at + int(2))
    case 4:
      return json.replace(/"secret":"[^"]*"/, `"secret":${pick(['""', "1", '"\\ud800"', "null", '"dup"'])}`)
    default:
      return json.slice(0, at)
  }
}

const B64_CHARS = [..."AZaz09-_+/=", "!", " ", "é", "\u2603", "\ud83d", "\n"]

/** One random mutation of the final token string. */
const mutateString = (s: string): string => {
  const at = int(s.length + 1)
  switch (int(6)) {
    case 0:
      return s.slice(0, at) + pick(B64_CHARS) + s.slice(at + 1)
    case 1:
      return s.slice(0, at)
    case 2:
      return (
        pick(["CASHU:", "cashu:", "cashu://", "web+cashu://", "Cashu", "", "cashu:cashu:"]) + s.slice(int(7))
      )
    case 3:
      return s.slice(0, 5) + pick(["A", "B", "C", "a", "b", "", "AB"]) + s.slice(6)
    case 4:
      return s + "=".repeat(1 + int(3))
    default:
      return (
        pick(["cashuA", "cashuB", "cashu:cashuB"]) + base64UrlEncode(randomBytes(int(300)), random() < 0.3)
      )
  }
}

const v3 = loadVector("00-tokens-v3.json")
const v4 = loadVector("00-tokens-v4.json")
const strings: string[] = [
  v3.serialization[0].serialized,
  ...v3.padding_variants.vectors.map((v: { token: string }) => v.token),
  ...v4.serialization.map((v: { serialized: string }) => v.serialized),
]
const generated: Token[] = [
  ...fc.sample(tokenV4Arb({ maxProofs: 6 }), { seed: SEED, numRuns: 30 }),
  ...fc.sample(tokenV3Arb({ maxProofs: 4 }), { seed: SEED, numRuns: 20 }),
]
for (const t of generated) strings.push(encodeToken(t, { version: t.version, pad: random() < 0.3 }))
const raws: Uint8Array[] = [
  Uint8Array.from(Buffer.from(v4.raw_binary[0].raw_hex, "hex")),
  ...generated.filter((t) => t.version === 4).map((t) => encodeTokenBytes(t)),
]

/** Body bytes (CBOR or JSON) of a valid token string. */
const bodyOf = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.slice(6), "base64url"))

const makeInput = (): string | Uint8Array => {
  const base = pick(strings)
  const prefix = base.slice(0, 6)
  switch (int(6)) {
    case 0:
    case 1:
      return prefix + base64UrlEncode(mutateBytes(bodyOf(base)), random() < 0.3)
    case 2:
      if (prefix === "cashuA") {
        const json = Buffer.from(bodyOf(base)).toString("utf8")
        return prefix + base64UrlEncode(new TextEncoder().encode(mutateJson(json)))
      }
      return prefix + base64UrlEncode(mutateBytes(mutateBytes(bodyOf(base))))
    case 3:
      return mutateString(base)
    case 4: {
      const raw = pick(raws)
      return random() < 0.9
        ? splice(mutateBytes(raw.subarray(5)), 0, 0, raw.subarray(0, 5))
        : mutateBytes(raw)
    }
    default:
      // Mutations of mutations: several steps away from a valid token.
      return prefix + base64UrlEncode(mutateBytes(mutateBytes(mutateBytes(bodyOf(base)))))
  }
}

describe(`token decoder fuzz (seed ${SEED})`, () => {
  it(`${INPUTS} mutated inputs either decode or fail with a tagged error`, () => {
    const reasons = new Map<string, number>()
    let accepted = 0
    let slowest = 0
    for (let n = 0; n < INPUTS; n++) {
      const input = makeInput()
      const started = performance.now()
      let token: Token
      try {
        token = typeof input === "string" ? decodeToken(input) : decodeTokenBytes(input)
      } catch (e) {
        if (!isCorecashuError(e))
          expect.fail(
            `seed ${SEED}, input ${n}: untyped throw ${String(e)} for ${JSON.stringify(String(input)).slice(0, 200)}`,
          )
        const reason = `${e._tag}:${"reason" in e ? e.reason : ""}`
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
        slowest = Math.max(slowest, performance.now() - started)
        continue
      }
      slowest = Math.max(slowest, performance.now() - started)
      accepted++
      // What the decoder accepts, the encoder must write back, and the result must decode to the same token.
      const again = decodeToken(encodeToken(token, { version: token.version }))
      if (JSON.stringify(again, bigints) !== JSON.stringify(token, bigints))
        expect.fail(`seed ${SEED}, input ${n}: re-encoding changed the token`)
    }
    // The fuzzer must reach deep into the decoder, not just bounce off the prefix check.
    expect(accepted, `seed ${SEED}`).toBeGreaterThan(50)
    expect(reasons.size, `seed ${SEED}: ${[...reasons.keys()].join(", ")}`).toBeGreaterThanOrEqual(8)
    for (const r of ["DecodeError:cbor", "DecodeError:base64", "DecodeError:schema", "DecodeError:depth"])
      expect(reasons.has(r), `seed ${SEED}: ${r} never seen`).toBe(true)
    expect(slowest, `seed ${SEED}: slowest input took ${slowest} ms`).toBeLessThan(2000)
  }, 120_000)
})

function bigints(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? `${v}n` : v
}
