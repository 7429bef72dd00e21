import { describe, expect, it } from "vitest"
import { KeysetError, type KeysetKeys } from "../../src/model/index.js"
import {
  deriveKeysetId,
  isShortKeysetId,
  isSupportedKeysetId,
  keysetIdVersion,
  verifyKeysetId,
} from "../../src/protocol/keyset-id.js"
import { loadVector } from "../support/vectors.js"

const ids = loadVector("02-keyset-ids.json")
const toKeys = (keys: Record<string, string>): KeysetKeys =>
  new Map(Object.entries(keys).map(([a, k]) => [BigInt(a), k] as const))
const optBig = (v: number | null | undefined): bigint | undefined =>
  v === null || v === undefined ? undefined : BigInt(v)

const reason = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(KeysetError)
    return (e as KeysetError).reason
  }
  return "no error"
}

describe("NUT-02 keyset id vectors (tests/02-tests.md)", () => {
  for (const [i, v] of (
    ids.version_1 as Array<{ expected_id: string; keys: Record<string, string> }>
  ).entries()) {
    it(`v1 vector ${i + 1} derives ${v.expected_id}`, () => {
      const keys = toKeys(v.keys)
      expect(deriveKeysetId(keys, { version: 1 })).toBe(v.expected_id)
      expect(() => verifyKeysetId({ id: v.expected_id, unit: "sat", keys, inputFeePpk: 0n })).not.toThrow()
      expect(keysetIdVersion(v.expected_id)).toBe(1)
    })
  }

  for (const v of ids.version_2 as Array<{
    name: string
    expected_id: string
    unit: string
    input_fee_ppk: number
    final_expiry: number | null
    keys: Record<string, string>
  }>) {
    it(`v2 ${v.name} derives ${v.expected_id}`, () => {
      const keys = toKeys(v.keys)
      const finalExpiry = optBig(v.final_expiry)
      const inputFeePpk = BigInt(v.input_fee_ppk)
      expect(
        deriveKeysetId(keys, { version: 2, unit: v.unit, inputFeePpk, finalExpiry: finalExpiry ?? null }),
      ).toBe(v.expected_id)
      const keyset = {
        id: v.expected_id,
        unit: v.unit,
        keys,
        inputFeePpk,
        ...(finalExpiry === undefined ? {} : { finalExpiry }),
      }
      expect(() => verifyKeysetId(keyset)).not.toThrow()
      expect(keysetIdVersion(v.expected_id)).toBe(2)
    })
  }

  it("sorts amounts numerically: a lexicographic sort gives another id for the 64-key v1 vector", () => {
    const v = ids.version_1[1] as { expected_id: string; keys: Record<string, string> }
    const lexicographic = new Map(
      Object.entries(v.keys)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([, k], i) => [BigInt(i), k] as const),
    )
    expect(deriveKeysetId(lexicographic, { version: 1 })).not.toBe(v.expected_id)
    expect(deriveKeysetId(toKeys(v.keys), { version: 1 })).toBe(v.expected_id)
  })
})

describe("verifyKeysetId", () => {
  const v2 = ids.version_2[0] as {
    expected_id: string
    unit: string
    input_fee_ppk: number
    final_expiry: number
    keys: Record<string, string>
  }
  const base = {
    id: v2.expected_id,
    unit: v2.unit,
    keys: toKeys(v2.keys),
    inputFeePpk: BigInt(v2.input_fee_ppk),
    finalExpiry: BigInt(v2.final_expiry),
  }

  it("rejects a keyset whose metadata or keys differ from what its v2 id commits to", () => {
    expect(reason(() => verifyKeysetId({ ...base, inputFeePpk: base.inputFeePpk + 1n }))).toBe("id-mismatch")
    expect(reason(() => verifyKeysetId({ ...base, unit: "usd" }))).toBe("id-mismatch")
    expect(reason(() => verifyKeysetId({ ...base, finalExpiry: base.finalExpiry + 1n }))).toBe("id-mismatch")
    const swapped = new Map(base.keys)
    const [k1, k2] = [swapped.get(1n)!, swapped.get(2n)!]
    swapped.set(1n, k2).set(2n, k1)
    expect(reason(() => verifyKeysetId({ ...base, keys: swapped }))).toBe("id-mismatch")
  })

  it("rejects a v1 id that does not match its keys", () => {
    const v1 = ids.version_1[0] as { expected_id: string; keys: Record<string, string> }
    const other = ids.version_1[1] as { keys: Record<string, string> }
    expect(
      reason(() =>
        verifyKeysetId({ id: v1.expected_id, unit: "sat", keys: toKeys(other.keys), inputFeePpk: 0n }),
      ),
    ).toBe("id-mismatch")
  })

  it("accepts nutshell's '|final_expiry:0' preimage as well as the spec's (which omits 0)", () => {
    const keys = base.keys
    const spec = deriveKeysetId(keys, { version: 2, unit: "sat", finalExpiry: 0n })
    expect(spec).toBe(deriveKeysetId(keys, { version: 2, unit: "sat" }))
    expect(() =>
      verifyKeysetId({ id: spec, unit: "sat", keys, inputFeePpk: 0n, finalExpiry: 0n }),
    ).not.toThrow()
  })

  it("recognises 02… (BLS) ids and refuses them as unsupported", () => {
    const bls = "02" + "ab".repeat(32)
    expect(keysetIdVersion(bls)).toBe(3)
    expect(isSupportedKeysetId(bls)).toBe(false)
    expect(reason(() => verifyKeysetId({ ...base, id: bls }))).toBe("unsupported-version")
  })
})

describe("keysetIdVersion / short ids", () => {
  it.each([
    ["03" + "00".repeat(32), "unsupported-version"],
    ["00abc", "malformed-id"],
    ["01" + "00".repeat(7), "malformed-id"],
    ["00ABCDEF01234567", "malformed-id"],
    ["", "malformed-id"],
    ["I2yN+iRYfkzT", "malformed-id"],
  ])("rejects %j (%s)", (id, why) => {
    expect(reason(() => keysetIdVersion(id))).toBe(why)
    expect(isSupportedKeysetId(id)).toBe(false)
  })

  it("tells short v2 ids from v1 ids", () => {
    const v2 = (ids.version_2[0] as { expected_id: string }).expected_id
    expect(isShortKeysetId(v2.slice(0, 16))).toBe(true)
    expect(isShortKeysetId((ids.version_1[0] as { expected_id: string }).expected_id)).toBe(false)
    expect(isShortKeysetId(v2)).toBe(false)
  })

  it("derivation refuses keys that are not 33 bytes", () => {
    expect(reason(() => deriveKeysetId(new Map([[1n, "02" + "11".repeat(31)]]), { version: 1 }))).toBe(
      "malformed-key",
    )
  })
})
