import { fc, test } from "@fast-check/vitest"
import { bech32 } from "@scure/base"
import { describe, expect, it } from "vitest"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { isCorecashuError } from "../../src/model/index.js"
import { decodeNostrProfile, encodeNprofile, encodeNpub } from "../../src/protocol/nip19.js"
import { loadVector } from "../support/vectors.js"

const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    expect(isCorecashuError(e)).toBe(true)
    return (e as { reason: string }).reason
  }
}

// NIP-19's own examples (nostr-protocol/nips 19.md).
const NIP19_NPUB = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
const NIP19_NPUB_HEX = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"
const NIP19_NPROFILE =
  "nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p"
const NIP19_NPROFILE_HEX = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d"

describe("NIP-19", () => {
  it("decodes and re-encodes the NIP-19 npub example", () => {
    expect(decodeNostrProfile(NIP19_NPUB)).toEqual({ pubkey: NIP19_NPUB_HEX, relays: [] })
    expect(encodeNpub(NIP19_NPUB_HEX)).toBe(NIP19_NPUB)
    expect(decodeNostrProfile(NIP19_NPUB.toUpperCase())).toEqual({ pubkey: NIP19_NPUB_HEX, relays: [] })
  })

  it("decodes and re-encodes the NIP-19 nprofile example", () => {
    const p = decodeNostrProfile(NIP19_NPROFILE)
    expect(p).toEqual({ pubkey: NIP19_NPROFILE_HEX, relays: ["wss://r.x.com", "wss://djbas.sadkb.com"] })
    expect(encodeNprofile(p)).toBe(NIP19_NPROFILE)
  })

  it("reads the nprofiles of the NUT-18/NUT-26 vectors (longer than 90 characters)", () => {
    const v = loadVector("26-payment-requests-bech32m.json")
    const basic = v.vectors[0].payment_request.t[0].a as string
    expect(basic.length).toBeGreaterThan(90)
    const p = decodeNostrProfile(basic)
    expect(p.pubkey).toHaveLength(64)
    expect(p.relays.length).toBeGreaterThan(0)
    expect(encodeNprofile(p)).toBe(basic)
    // 18.md's example puts a relay before the key: order of TLV entries must not matter.
    const v18 = loadVector("18-payment-requests.json")
    const p18 = decodeNostrProfile(v18.inline_example_18md.payment_request.t[0].a)
    expect(p18.pubkey).toHaveLength(64)
    expect(p18.relays.length).toBeGreaterThan(0)
  })

  it("ignores unknown nprofile TLV types", () => {
    const key = new Uint8Array(32).fill(7)
    const body = new Uint8Array([9, 2, 0xaa, 0xbb, 0, 32, ...key])
    const s = bech32.encode("nprofile", bech32.toWords(body), false)
    expect(decodeNostrProfile(s)).toEqual({ pubkey: bytesToHex(key), relays: [] })
  })

  const nprofile = (body: number[]) => bech32.encode("nprofile", bech32.toWords(new Uint8Array(body)), false)
  it.each([
    ["a bad checksum", NIP19_NPUB.slice(0, -1) + (NIP19_NPUB.endsWith("g") ? "q" : "g"), "bech32"],
    ["mixed case", NIP19_NPUB.slice(0, 10) + NIP19_NPUB.slice(10).toUpperCase(), "bech32"],
    ["another HRP", bech32.encode("nsec", bech32.toWords(new Uint8Array(32)), false), "prefix"],
    ["a short npub", bech32.encode("npub", bech32.toWords(new Uint8Array(31)), false), "tlv"],
    ["an nprofile without key", nprofile([1, 1, 0x61]), "tlv"],
    ["an nprofile with a 31-byte key", nprofile([0, 31, ...new Array(31).fill(1)]), "tlv"],
    ["two keys", nprofile([0, 32, ...new Array(32).fill(1), 0, 32, ...new Array(32).fill(2)]), "duplicate"],
    ["a truncated TLV", nprofile([0, 32, 1]), "tlv"],
    ["a dangling type byte", nprofile([0, 32, ...new Array(32).fill(1), 1]), "tlv"],
    ["invalid UTF-8 in a relay", nprofile([0, 32, ...new Array(32).fill(1), 1, 1, 0xff]), "schema"],
    ["a string over the length limit", "npub1" + "q".repeat(5000), "too-large"],
  ])("rejects %s", (_name, s, reason) => {
    expect(reasonOf(() => decodeNostrProfile(s))).toBe(reason)
  })

  it("bounds the relay count and rejects unencodable input", () => {
    const profile = { pubkey: NIP19_NPROFILE_HEX, relays: ["wss://a", "wss://b", "wss://c"] }
    expect(
      reasonOf(() => decodeNostrProfile(encodeNprofile(profile), { maxLength: 4096, maxRelays: 2 })),
    ).toBe("limit")
    expect(reasonOf(() => encodeNprofile({ pubkey: NIP19_NPROFILE_HEX, relays: ["x".repeat(256)] }))).toBe(
      "limit",
    )
    expect(reasonOf(() => encodeNpub("zz".repeat(32)))).toBe("hex")
    expect(reasonOf(() => encodeNpub("ab"))).toBe("hex")
  })

  test.prop(
    [
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.array(fc.string({ unit: "binary", maxLength: 40 }), { maxLength: 5 }),
    ],
    { numRuns: 200 },
  )("nprofile and npub round-trip", (key, relays) => {
    const pubkey = bytesToHex(key)
    expect(decodeNostrProfile(encodeNprofile({ pubkey, relays }))).toEqual({ pubkey, relays })
    expect(decodeNostrProfile(encodeNpub(pubkey))).toEqual({ pubkey, relays: [] })
  })
})
