import { HDKey } from "@scure/bip32"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesToBigInt, bytesToHex } from "../../src/crypto/bytes.js"
import {
  deriveBlindingFactor,
  deriveOutputSecrets,
  deriveRange,
  deriveSecret,
  forgetSeed,
  isValidMnemonic,
  keysetIdInt,
  MAX_V1_COUNTER,
  mnemonicToSeed,
  outputDeriver,
  v1DerivationPath,
} from "../../src/crypto/nut13.js"
import { CURVE_ORDER } from "../../src/crypto/schnorr.js"
import { expectTagged } from "../support/errors.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("13-derivation.json")

const V1_ID: string = v.version_1_keyset_id_int.keyset_id
const V2_ID: string = v.version_2_secret_derivation.keyset_id
const seed = mnemonicToSeed(v.version_1_secret_derivation.mnemonic)

describe("NUT-13 keyset_id_int (v1)", () => {
  it("matches the vector, read under its misspelt key `keyest_id_int`", () => {
    // The spec spells the key `keyest_id_int`; reading `keyset_id_int` would silently compare against undefined.
    expect(v.version_1_keyset_id_int).not.toHaveProperty("keyset_id_int")
    expect(typeof v.version_1_keyset_id_int.keyest_id_int).toBe("number")
    expect(keysetIdInt(V1_ID)).toBe(v.version_1_keyset_id_int.keyest_id_int)
  })

  it("builds the vector's derivation paths", () => {
    const template: string = v.version_1_keyset_id_int.derivation_path
    const paths: Record<string, string> = v.version_1_secret_derivation.derivation_paths
    for (let i = 0; i < 5; i++) {
      expect(v1DerivationPath(V1_ID, i)).toBe(paths[`derivation_path_${i}`])
      expect(v1DerivationPath(V1_ID, i)).toBe(template.replace("{counter}", String(i)))
    }
  })
})

describe("NUT-13 v1 (BIP32) vectors", () => {
  const sec = v.version_1_secret_derivation
  it("the section's implied keyset id is the one of the keyset_id_int section", () => {
    expect(sec.keyset_id_implied.startsWith(V1_ID)).toBe(true)
    expect(sec.derivation_path_base).toBe(v.version_1_keyset_id_int.derivation_path)
  })
  for (let i = 0; i < 5; i++) {
    it(`counter ${i}: secret and r`, () => {
      expect(deriveSecret(seed, V1_ID, i)).toBe(sec.secrets[`secret_${i}`])
      expect(bytesToHex(deriveBlindingFactor(seed, V1_ID, i))).toBe(sec.blinding_factors[`r_${i}`])
    })
  }
})

describe("NUT-13 v2 (HMAC-SHA256) vectors", () => {
  const sec = v.version_2_secret_derivation
  it("uses the same mnemonic as v1", () => {
    expect(sec.mnemonic).toBe(v.version_1_secret_derivation.mnemonic)
  })
  for (let i = 0; i < 5; i++) {
    it(`counter ${i}: secret and r`, () => {
      const out = deriveOutputSecrets(seed, V2_ID, i)
      expect(out.counter).toBe(i)
      expect(out.secret).toBe(sec.secrets[`secret_${i}`])
      expect(bytesToHex(out.r)).toBe(sec.blinding_factors[`r_${i}`])
    })
  }
})

describe("deriveRange", () => {
  for (const id of [V1_ID, V2_ID]) {
    it(`matches single derivations (${id.slice(0, 2)})`, () => {
      const range = deriveRange(seed, id, 1, 4)
      expect(range.map((o) => o.counter)).toEqual([1, 2, 3, 4])
      range.forEach((o) => {
        expect(o).toEqual(deriveOutputSecrets(seed, id, o.counter))
      })
      expect(deriveRange(seed, id, 7, 0)).toEqual([])
    })
  }

  it("rejects a range that leaves the v1 counter space before deriving anything", () => {
    expectTagged(() => deriveRange(seed, V1_ID, MAX_V1_COUNTER - 1, 3), "CryptoError", "derivation")
    expect(deriveRange(seed, V1_ID, MAX_V1_COUNTER - 1, 2)).toHaveLength(2)
    expectTagged(() => deriveRange(seed, V1_ID, 0, -1), "CryptoError", "derivation")
    expectTagged(() => deriveRange(seed, V1_ID, 0, 10_001), "CryptoError", "derivation")
  })
})

describe("v1 derivation matches a full BIP32 path derivation", () => {
  const root = HDKey.fromMasterSeed(seed)
  it("for random counters", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_V1_COUNTER }), (counter) => {
        const node = root.derive(v1DerivationPath(V1_ID, counter))
        const out = deriveOutputSecrets(seed, V1_ID, counter)
        expect(out.secret).toBe(bytesToHex(node.deriveChild(0).privateKey!))
        expect(bytesToHex(out.r)).toBe(bytesToHex(node.deriveChild(1).privateKey!))
      }),
      { numRuns: 15 },
    )
  })
})

describe("derived values", () => {
  it("are 32-byte hex secrets and blinding factors in [1, n−1] for both versions", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.nat({ max: 1_000_000 }),
        (s, counter) => {
          for (const id of [V1_ID, V2_ID]) {
            const out = deriveOutputSecrets(s, id, counter)
            expect(out.secret).toMatch(/^[0-9a-f]{64}$/)
            const r = bytesToBigInt(out.r)
            expect(r > 0n && r < CURVE_ORDER).toBe(true)
          }
        },
      ),
      { numRuns: 20 },
    )
  })

  it("differ between counters and between keysets", () => {
    const a = deriveSecret(seed, V2_ID, 0)
    expect(deriveSecret(seed, V2_ID, 1)).not.toBe(a)
    expect(deriveSecret(seed, "01" + "00".repeat(32), 0)).not.toBe(a)
    expect(deriveSecret(seed, "00" + "11".repeat(7), 0)).not.toBe(deriveSecret(seed, V1_ID, 0))
  })

  it("v2 accepts counters beyond the v1 hardened range", () => {
    expect(deriveSecret(seed, V2_ID, 2 ** 31)).toMatch(/^[0-9a-f]{64}$/)
    expect(deriveSecret(seed, V2_ID, Number.MAX_SAFE_INTEGER)).toMatch(/^[0-9a-f]{64}$/)
  })

  it("keyset id case does not change the result", () => {
    expect(deriveSecret(seed, V2_ID.toUpperCase(), 3)).toBe(deriveSecret(seed, V2_ID, 3))
    expect(deriveSecret(seed, V1_ID.toUpperCase(), 3)).toBe(deriveSecret(seed, V1_ID, 3))
  })
})

describe("v1 parent-node cache", () => {
  it("is keyed by the seed object and dropped by forgetSeed", () => {
    const s = Uint8Array.from(seed)
    const derive = outputDeriver(s, V1_ID)
    const before = derive(0).secret
    s[0] = s[0]! ^ 1
    // The bound deriver and the cache still hold the parent of the original seed...
    expect(derive(0).secret).toBe(before)
    expect(deriveSecret(s, V1_ID, 0)).toBe(before)
    // ...until the cache is dropped.
    forgetSeed(s)
    expect(deriveSecret(s, V1_ID, 0)).not.toBe(before)
  })
})

describe("input validation", () => {
  const words: string[] = v.version_1_secret_derivation.mnemonic.split(" ")

  it("normalises case and whitespace of the mnemonic", () => {
    const messy = `  ${words.map((w) => w.toUpperCase()).join("   ")}\n`
    expect(isValidMnemonic(messy)).toBe(true)
    expect(bytesToHex(mnemonicToSeed(messy))).toBe(bytesToHex(seed))
  })

  it("rejects a bad checksum, an unknown word and a wrong length without echoing the words", () => {
    const badChecksum = [...words.slice(0, 11), words[0]].join(" ")
    const unknownWord = [...words.slice(0, 11), "notaword"].join(" ")
    const short = words.slice(0, 11).join(" ")
    for (const m of [badChecksum, unknownWord, short, "", "x".repeat(5000)]) {
      expect(isValidMnemonic(m)).toBe(false)
      expectTagged(() => mnemonicToSeed(m), "DecodeError", "mnemonic")
      try {
        mnemonicToSeed(m)
      } catch (e) {
        for (const w of words) expect(String((e as Error).message)).not.toContain(w)
      }
    }
  })

  it("requires a 64-byte seed", () => {
    expectTagged(() => deriveSecret(seed.subarray(0, 16), V2_ID, 0), "CryptoError", "derivation")
    expectTagged(() => deriveSecret(new Uint8Array(65), V1_ID, 0), "CryptoError", "derivation")
  })

  it("rejects unsupported and malformed keyset ids", () => {
    expectTagged(() => deriveSecret(seed, "02" + "ab".repeat(32), 0), "KeysetError", "unsupported-version")
    expectTagged(() => deriveSecret(seed, "9mlfd5vCzgGl", 0), "KeysetError", "unsupported-version")
    expectTagged(() => deriveSecret(seed, V2_ID.slice(0, 16), 0), "KeysetError", "malformed-id")
    expectTagged(() => deriveSecret(seed, V1_ID + "00", 0), "KeysetError", "malformed-id")
    expectTagged(() => deriveSecret(seed, "00zz1f293253e41e", 0), "KeysetError", "malformed-id")
    expectTagged(() => keysetIdInt(V2_ID), "KeysetError", "unsupported-version")
  })

  it("validates counters", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      expectTagged(() => deriveSecret(seed, V1_ID, bad), "CryptoError", "derivation")
    }
    expect(deriveSecret(seed, V1_ID, MAX_V1_COUNTER)).toMatch(/^[0-9a-f]{64}$/)
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.POSITIVE_INFINITY]) {
      expectTagged(() => deriveSecret(seed, V2_ID, bad), "CryptoError", "derivation")
    }
  })
})
