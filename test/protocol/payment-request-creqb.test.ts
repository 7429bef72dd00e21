import { fc, test } from "@fast-check/vitest"
import { bech32, bech32m } from "@scure/base"
import { describe, expect, it } from "vitest"
import { concatBytes, utf8 } from "../../src/crypto/bytes.js"
import { isCorecashuError, MAX_AMOUNT } from "../../src/model/index.js"
import { decodeNostrProfile, encodeNpub } from "../../src/protocol/nip19.js"
import {
  DEFAULT_PAYMENT_REQUEST_LIMITS,
  type PaymentRequest,
  type PaymentRequestTransport,
  paymentRequestFromRaw,
  paymentRequestToRaw,
} from "../../src/protocol/payment-request.js"
import { decodeCreqB, encodeCreqB } from "../../src/protocol/payment-request-creqb.js"
import { paymentRequestArb } from "../support/payment-request-arbitrary.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("26-payment-requests-bech32m.json")
const all: Array<{ name: string; encoded: string; payment_request: unknown }> = [
  ...v.vectors,
  { ...v.inline_example_26md, name: "26.md inline example" },
]
const byName = (name: string) => all.find((x) => x.name === name)!

const failure = (f: () => unknown): { reason: string; path?: string } | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return e as { reason: string; path?: string }
  }
}

// known_quirks[3]: nostr targets are compared as key + relays, not as bech32 text.
const normalise = (req: PaymentRequest) => ({
  ...req,
  ...(req.transports === undefined
    ? {}
    : {
        transports: req.transports.map((t: PaymentRequestTransport) =>
          t.type === "nostr" ? { ...t, target: decodeNostrProfile(t.target) } : t,
        ),
      }),
})

// Test-side TLV writer (type u8, length u16 BE), to build malformed requests.
const tlv = (type: number, value: Uint8Array | number[]) => {
  const b = value instanceof Uint8Array ? value : Uint8Array.from(value)
  return concatBytes(Uint8Array.of(type, b.length >> 8, b.length & 0xff), b)
}
const creqb = (...parts: Uint8Array[]) =>
  bech32m.encode("creqb", bech32m.toWords(concatBytes(...parts)), false)
const u64 = (n: number) => Uint8Array.of(0, 0, 0, 0, 0, 0, n >> 8, n & 0xff)
const tuple = (...s: string[]) =>
  concatBytes(...s.map((x) => concatBytes(Uint8Array.of(utf8(x).length), utf8(x))))
const key32 = new Uint8Array(32).fill(0x11)
const sat = tlv(3, [0])

describe("creqb vectors (tests/26-test.md)", () => {
  it.each(all.map((x) => [x.name, x] as const))(
    "%s: decodes to its JSON and re-encodes byte for byte",
    (_n, x) => {
      const expected = paymentRequestFromRaw(x.payment_request)
      const decoded = decodeCreqB(x.encoded)
      expect(normalise(decoded)).toEqual(normalise(expected))
      // Encoders emit uppercase (NUT-26 SHOULD); the vectors are uppercase.
      expect(encodeCreqB(expected)).toBe(x.encoded)
      expect(encodeCreqB(decoded)).toBe(x.encoded)
      // Decoders MUST accept lowercase too.
      expect(decodeCreqB(x.encoded.toLowerCase())).toEqual(decoded)
    },
  )

  it("rebuilds an nprofile when relays are present (the Basic vector's exact string)", () => {
    const x = byName("Basic Payment Request")
    const t = decodeCreqB(x.encoded).transports![0]!
    expect(t.target).toBe((x.payment_request as { t: Array<{ a: string }> }).t[0]!.a)
    // Relays travel as "r" tuples; only the "n" tag is left as a tag.
    expect(t.tags).toEqual([["n", "17"]])
  })

  it("rebuilds an npub when there are no relays, even though the vector JSON shows an nprofile", () => {
    const x = byName("Minimal Nostr Transport (pubkey only)")
    const jsonTarget = (x.payment_request as { t: Array<{ a: string }> }).t[0]!.a
    expect(jsonTarget.startsWith("nprofile1")).toBe(true)
    const t = decodeCreqB(x.encoded).transports![0]!
    expect(t.target.startsWith("npub1")).toBe(true)
    expect(decodeNostrProfile(t.target)).toEqual(decodeNostrProfile(jsonTarget))
    expect(t.tags).toBeUndefined()
  })

  it("turns the relays of 'Relay Tag Extraction from nprofile' into r tuples and back", () => {
    const x = byName("Relay Tag Extraction from nprofile")
    const t = decodeCreqB(x.encoded).transports![0]!
    expect(decodeNostrProfile(t.target).relays).toEqual([
      "wss://relay1.example.com",
      "wss://relay2.example.com",
      "wss://relay3.example.com",
    ])
    expect(t.tags).toBeUndefined()
  })

  // known_quirks[0]
  it("keeps the HTLC vector's odd nut10.d ('a]0e66…', not a 64-hex hash) exactly", () => {
    const x = byName("NUT-10 HTLC Locking (kind=1)")
    const req = decodeCreqB(x.encoded)
    expect(req.nut10?.kind).toBe("HTLC")
    expect(req.nut10?.data).toBe((x.payment_request as { nut10: { d: string } }).nut10.d)
    expect(req.nut10?.data).toHaveLength(66)
    expect(req.nut10?.data.startsWith("a]")).toBe(true)
    expect(req.nut10?.data).not.toMatch(/^[0-9a-f]{64}$/)
    expect(req.nut10?.tags).toEqual([
      ["locktime", "1700000000"],
      ["refund", "033281c37677ea273eb7183b783067f5244933ef78d8c3f15b1a77cb246099c26e"],
    ])
  })

  // known_quirks[1]: vectors use NUT-18's t/a/g, and so does the raw form.
  it("uses NUT-18 transport keys t/a/g", () => {
    const x = byName("Multiple Transports")
    const raw = paymentRequestToRaw(decodeCreqB(x.encoded))
    expect(Object.keys(raw.t![2]!)).toEqual(["t", "a", "g"])
    expect(raw.t![2]).toEqual({
      t: "post",
      a: "https://api2.example.com/payment",
      g: [["priority", "backup"]],
    })
  })

  // known_quirks[2]: the nostr transport carries the NIP-17 tag.
  it("carries ['n','17'] on the nostr transport", () => {
    expect(decodeCreqB(byName("Nostr Transport Payment Request").encoded).transports![0]!.tags).toEqual([
      ["n", "17"],
      ["n", "9735"],
    ])
  })

  it("decodes unit 0x00 as sat and other units as UTF-8", () => {
    expect(decodeCreqB(byName("Non-Sat Unit (msat)").encoded).unit).toBe("msat")
    expect(decodeCreqB(byName("Custom Currency Unit").encoded).unit).toBe("btc")
    expect(decodeCreqB(byName("Minimal Payment Request").encoded).unit).toBe("sat")
    // A spelled-out "sat" decodes too, and re-encodes compactly.
    const spelled = creqb(tlv(3, utf8("sat")))
    expect(decodeCreqB(spelled)).toEqual({ unit: "sat" })
    expect(encodeCreqB({ unit: "sat" })).toBe(creqb(sat).toUpperCase())
  })
})

describe("decodeCreqB", () => {
  it("ignores unknown tags at every level", () => {
    const base = creqb(tlv(1, utf8("x")), tlv(7, concatBytes(tlv(1, [1]), tlv(2, utf8("https://p")))))
    const noisy = creqb(
      tlv(0x63, [1, 2, 3]),
      tlv(1, utf8("x")),
      tlv(9, utf8("https://preferred")),
      tlv(7, concatBytes(tlv(9, [0]), tlv(1, [1]), tlv(2, utf8("https://p")), tlv(0xff, []))),
      tlv(8, concatBytes(tlv(1, [0]), tlv(4, [5]), tlv(2, utf8("02aa")))),
    )
    expect(decodeCreqB(noisy)).toEqual({ ...decodeCreqB(base), nut10: { kind: "P2PK", data: "02aa" } })
  })

  it("decodes u64 amounts exactly", () => {
    const max = Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255)
    expect(decodeCreqB(creqb(tlv(2, max), sat)).amount).toBe(MAX_AMOUNT)
  })

  const transport = (...p: Uint8Array[]) => tlv(7, concatBytes(...p))
  it.each([
    ["another HRP", bech32m.encode("creqc", bech32m.toWords(sat), false), "prefix"],
    ["an HRP that only starts with creqb1", bech32m.encode("creqb1x", bech32m.toWords(sat), false), "prefix"],
    ["a creqA string", "creqApWF0gaNhdGVub3N0cmFheKlucHJvZmlsZTFxeTI4", "prefix"],
    ["bech32 instead of bech32m", bech32.encode("creqb", bech32.toWords(sat), false), "bech32"],
    ["mixed case", "CREQB1" + creqb(sat).slice(6), "bech32"],
    ["a broken checksum", creqb(sat).slice(0, -1) + "q", "bech32"],
    ["a character outside the alphabet", creqb(sat).slice(0, 8) + "b" + creqb(sat).slice(9), "bech32"],
    ["a truncated TLV header", creqb(sat, Uint8Array.of(1, 0)), "tlv"],
    ["a TLV value past the end", creqb(Uint8Array.of(1, 0, 5, 0x61)), "tlv"],
    ["a 4-byte amount", creqb(tlv(2, [0, 0, 0, 1]), sat), "tlv"],
    ["single_use = 2", creqb(tlv(4, [2])), "tlv"],
    ["a 2-byte single_use", creqb(tlv(4, [0, 1])), "tlv"],
    ["two ids", creqb(tlv(1, utf8("a")), tlv(1, utf8("b"))), "duplicate"],
    [
      "two nut10 entries",
      creqb(tlv(8, concatBytes(tlv(1, [0]), tlv(2, []))), tlv(8, concatBytes(tlv(1, [0]), tlv(2, [])))),
      "duplicate",
    ],
    ["an amount without unit", creqb(tlv(2, u64(10))), "schema"],
    ["invalid UTF-8", creqb(tlv(6, [0xc3, 0x28])), "schema"],
    ["an empty unit", creqb(tlv(3, [])), "schema"],
    ["a transport without kind", creqb(transport(tlv(2, utf8("https://p")))), "tlv"],
    ["a transport without target", creqb(transport(tlv(1, [1]))), "tlv"],
    ["an unknown transport kind", creqb(transport(tlv(1, [2]), tlv(2, utf8("x")))), "schema"],
    ["a 31-byte nostr key", creqb(transport(tlv(1, [0]), tlv(2, key32.subarray(1)))), "tlv"],
    ["two transport kinds", creqb(transport(tlv(1, [1]), tlv(1, [1]), tlv(2, utf8("x")))), "duplicate"],
    ["an empty tag tuple", creqb(transport(tlv(1, [1]), tlv(2, utf8("x")), tlv(3, []))), "tlv"],
    ["a tag entry past its TLV", creqb(transport(tlv(1, [1]), tlv(2, utf8("x")), tlv(3, [5, 0x61]))), "tlv"],
    [
      "an r tuple with two relays",
      creqb(transport(tlv(1, [0]), tlv(2, key32), tlv(3, tuple("r", "wss://a", "wss://b")))),
      "tlv",
    ],
    ["an r tuple without relay", creqb(transport(tlv(1, [0]), tlv(2, key32), tlv(3, tuple("r")))), "tlv"],
    ["a nut10 without data", creqb(tlv(8, tlv(1, [0]))), "tlv"],
    ["an unknown nut10 kind", creqb(tlv(8, concatBytes(tlv(1, [7]), tlv(2, utf8("d"))))), "schema"],
  ])("rejects %s", (_name, s, reason) => {
    expect(failure(() => decodeCreqB(s))?.reason).toBe(reason)
  })

  it("enforces limits", () => {
    const small = {
      ...DEFAULT_PAYMENT_REQUEST_LIMITS,
      maxMints: 1,
      maxTransports: 1,
      maxTags: 1,
      maxTagValues: 1,
    }
    const post = tlv(7, concatBytes(tlv(1, [1]), tlv(2, utf8("u"))))
    expect(failure(() => decodeCreqB(creqb(tlv(5, utf8("a")), tlv(5, utf8("b"))), small))?.reason).toBe(
      "limit",
    )
    expect(failure(() => decodeCreqB(creqb(post, post), small))?.reason).toBe("limit")
    const twoTags = tlv(
      7,
      concatBytes(tlv(1, [1]), tlv(2, utf8("u")), tlv(3, tuple("a")), tlv(3, tuple("b"))),
    )
    expect(failure(() => decodeCreqB(creqb(twoTags), small))?.reason).toBe("limit")
    const twoValues = tlv(7, concatBytes(tlv(1, [1]), tlv(2, utf8("u")), tlv(3, tuple("a", "1", "2"))))
    expect(failure(() => decodeCreqB(creqb(twoValues), small))?.reason).toBe("limit")
    const longDescription = creqb(
      tlv(6, utf8("x".repeat(DEFAULT_PAYMENT_REQUEST_LIMITS.maxStringLength + 1))),
    )
    expect(failure(() => decodeCreqB(longDescription))?.reason).toBe("limit")
    const s = creqb(sat)
    expect(failure(() => decodeCreqB(s, { ...small, maxInputLength: s.length - 1 }))?.reason).toBe(
      "too-large",
    )
    expect(failure(() => decodeCreqB(null as unknown as string))?.reason).toBe("schema")
  })
})

describe("encodeCreqB", () => {
  const npub = encodeNpub("11".repeat(32))
  it.each([
    ["a transport type it cannot express", { transports: [{ type: "ws", target: "wss://x" }] }, "schema"],
    ["a nostr target that is not NIP-19", { transports: [{ type: "nostr", target: "hello" }] }, "bech32"],
    [
      "a nostr target that is an nsec-like HRP",
      { transports: [{ type: "nostr", target: bech32.encode("nsec", bech32.toWords(key32), false) }] },
      "prefix",
    ],
    ["a NUT-10 kind it cannot express", { nut10: { kind: "FOO", data: "x" } }, "schema"],
    [
      "a tag entry over 255 bytes",
      { transports: [{ type: "post", target: "u", tags: [["k", "é".repeat(128)]] }] },
      "limit",
    ],
    [
      "64 tags on an npub (exactly at the limit)",
      { transports: [{ type: "nostr", target: npub, tags: new Array(64).fill(["n", "17"]) }] },
      undefined,
    ],
    ["an amount above u64", { amount: MAX_AMOUNT + 1n, unit: "sat" }, "amount"],
    ["an amount without unit", { amount: 5n }, "schema"],
    ["a unit of U+0000 (creqB's code for sat)", { unit: "\u0000" }, "schema"],
  ] as Array<[string, PaymentRequest, string | undefined]>)("handles %s", (_name, req, reason) => {
    expect(failure(() => encodeCreqB(req))?.reason).toBe(reason)
  })

  it("counts nprofile relays as tags, and bounds the output", () => {
    const limits = { ...DEFAULT_PAYMENT_REQUEST_LIMITS, maxTags: 1 }
    const x = byName("Basic Payment Request")
    expect(failure(() => encodeCreqB(paymentRequestFromRaw(x.payment_request), limits))?.reason).toBe("limit")
    const short = { ...DEFAULT_PAYMENT_REQUEST_LIMITS, maxInputLength: 30 }
    expect(failure(() => encodeCreqB({ description: "a fairly long description" }, short))?.reason).toBe(
      "limit",
    )
  })

  it("writes a TLV value longer than 65535 bytes as an error, not a wrapped length", () => {
    const big = { ...DEFAULT_PAYMENT_REQUEST_LIMITS, maxStringLength: 70_000, maxInputLength: 1 << 20 }
    expect(failure(() => encodeCreqB({ description: "x".repeat(66_000) }, big))?.reason).toBe("limit")
  })

  test.prop([paymentRequestArb], { numRuns: 200 })(
    "decode ∘ encode = identity, upper and lower case",
    (req) => {
      const s = encodeCreqB(req)
      expect(s).toBe(s.toUpperCase())
      expect(decodeCreqB(s)).toEqual(req)
      expect(decodeCreqB(s.toLowerCase())).toEqual(req)
    },
  )

  test.prop([fc.bigInt(0n, MAX_AMOUNT)], { numRuns: 100 })("amounts survive exactly", (amount) => {
    expect(decodeCreqB(encodeCreqB({ amount, unit: "sat" })).amount).toBe(amount)
  })
})
