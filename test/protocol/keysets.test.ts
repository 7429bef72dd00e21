import { describe, expect, it } from "vitest"
import { type Keyset, KeysetError, type KeysetKeys } from "../../src/model/index.js"
import { decodeMintResponse } from "../../src/protocol/decode.js"
import { deriveKeysetId } from "../../src/protocol/keyset-id.js"
import {
  KeysetRegistry,
  keysetFromWire,
  keysetsFromKeysResponse,
  validateKeysetKeys,
} from "../../src/protocol/keysets.js"
import { KeysResponseSchema } from "../../src/protocol/schemas/keys.js"
import { loadVector } from "../support/vectors.js"

const vectors = loadVector("01-keysets.json")
const ids = loadVector("02-keyset-ids.json")
const toKeys = (keys: Record<string, string>): KeysetKeys =>
  new Map(Object.entries(keys).map(([a, k]) => [BigInt(a), k] as const))

const reason = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(KeysetError)
    return (e as KeysetError).reason
  }
  return "no error"
}

/** A full GET /v1/keys answer around a vector's keys, as a mint would send it (JSON text). */
const keysResponseText = (keys: Record<string, string>, id: string, extra = ""): string =>
  `{"keysets":[{"id":"${id}","unit":"sat","active":true,"input_fee_ppk":0${extra},"keys":${JSON.stringify(keys)}}]}`

describe("NUT-01 keyset vectors (tests/01-tests.md)", () => {
  for (const v of vectors.invalid as Array<{ description: string; keys: Record<string, string> }>) {
    it(`rejects: ${v.description}`, () => {
      expect(reason(() => validateKeysetKeys(toKeys(v.keys)))).toBe("malformed-key")
      // Also through the wire path: the response decodes (keys are only hex-checked there) but the keyset is refused.
      const decoded = decodeMintResponse(KeysResponseSchema, keysResponseText(v.keys, "00456a94ab4e1c46"))
      const { accepted, rejected } = keysetsFromKeysResponse(decoded)
      expect(accepted).toHaveLength(0)
      expect(rejected.map((r) => r.error.reason)).toEqual(["malformed-key"])
    })
  }

  for (const v of vectors.valid as Array<{ description: string; keys: Record<string, string> }>) {
    it(`accepts: ${v.description}`, () => {
      const keys = toKeys(v.keys)
      expect(() => validateKeysetKeys(keys)).not.toThrow()
      const id = deriveKeysetId(keys, { version: 1 })
      const decoded = decodeMintResponse(KeysResponseSchema, keysResponseText(v.keys, id))
      const keyset = keysetFromWire(decoded.keysets[0]!)
      expect(keyset.id).toBe(id)
      expect([...keyset.keys.keys()].sort((a, b) => (a < b ? -1 : 1))).toEqual(
        Object.keys(v.keys)
          .map(BigInt)
          .sort((a, b) => (a < b ? -1 : 1)),
      )
    })
  }

  it("keeps the 2^63 amount exact through JSON text", () => {
    const v = (vectors.valid as Array<{ keys: Record<string, string> }>)[1]!
    const id = deriveKeysetId(toKeys(v.keys), { version: 1 })
    const keyset = keysetFromWire(
      decodeMintResponse(KeysResponseSchema, keysResponseText(v.keys, id)).keysets[0]!,
    )
    expect(keyset.keys.has(2n ** 63n)).toBe(true)
  })
})

describe("keysetFromWire", () => {
  const v2 = ids.version_2[0] as {
    expected_id: string
    unit: string
    input_fee_ppk: number
    final_expiry: number
    keys: Record<string, string>
  }
  const text = `{"keysets":[{"id":"${v2.expected_id}","unit":"sat","active":false,"input_fee_ppk":${v2.input_fee_ppk},"final_expiry":${v2.final_expiry},"keys":${JSON.stringify(v2.keys)}}]}`

  it("builds the model keyset and verifies the v2 id against fee and expiry", () => {
    const keyset = keysetFromWire(decodeMintResponse(KeysResponseSchema, text).keysets[0]!)
    expect(keyset).toMatchObject({
      id: v2.expected_id,
      unit: "sat",
      active: false,
      inputFeePpk: BigInt(v2.input_fee_ppk),
      finalExpiry: BigInt(v2.final_expiry),
    })
  })

  it("refuses a keyset served under an id its data does not derive", () => {
    const tampered = text.replace(
      `"input_fee_ppk":${v2.input_fee_ppk}`,
      `"input_fee_ppk":${v2.input_fee_ppk + 1}`,
    )
    expect(reason(() => keysetFromWire(decodeMintResponse(KeysResponseSchema, tampered).keysets[0]!))).toBe(
      "id-mismatch",
    )
  })

  it("applies NUT-02 defaults: missing fee ⇒ 0, missing active ⇒ the caller's choice (false by default)", () => {
    const keys = toKeys((vectors.valid[0] as { keys: Record<string, string> }).keys)
    const id = deriveKeysetId(keys, { version: 1 })
    const wire = decodeMintResponse(
      KeysResponseSchema,
      `{"keysets":[{"id":"${id}","unit":"sat","keys":${JSON.stringify((vectors.valid[0] as { keys: object }).keys)}}]}`,
    ).keysets[0]!
    expect(keysetFromWire(wire)).toMatchObject({ inputFeePpk: 0n, active: false })
    expect(keysetFromWire(wire, { active: true }).active).toBe(true)
    expect(keysetFromWire(wire).finalExpiry).toBeUndefined()
  })

  it("skips 02… BLS keysets next to a usable one", () => {
    const keys = (vectors.valid[0] as { keys: Record<string, string> }).keys
    const good = deriveKeysetId(toKeys(keys), { version: 1 })
    const bls = `02${"cd".repeat(32)}`
    const blsKeys = JSON.stringify({ "1": "a".repeat(192) })
    const body = `{"keysets":[{"id":"${bls}","unit":"sat","active":true,"keys":${blsKeys}},{"id":"${good}","unit":"sat","active":true,"keys":${JSON.stringify(keys)}}]}`
    const { accepted, rejected } = keysetsFromKeysResponse(decodeMintResponse(KeysResponseSchema, body), {
      active: true,
    })
    expect(accepted.map((k) => k.id)).toEqual([good])
    expect(rejected).toEqual([{ id: bls, error: expect.objectContaining({ reason: "unsupported-version" }) }])
  })

  it("refuses empty key maps and non-positive amounts", () => {
    expect(reason(() => validateKeysetKeys(new Map()))).toBe("malformed-key")
    const key = (vectors.valid[0] as { keys: Record<string, string> }).keys["1"]!
    expect(reason(() => validateKeysetKeys(new Map([[0n, key]])))).toBe("malformed-key")
  })
})

describe("KeysetRegistry", () => {
  const v1 = vectors.valid[0] as { keys: Record<string, string> }
  const v1Keys = toKeys(v1.keys)
  const v1Keyset: Keyset = {
    id: deriveKeysetId(v1Keys, { version: 1 }),
    unit: "sat",
    active: true,
    inputFeePpk: 0n,
    keys: v1Keys,
  }
  const v2Keyset = (unit: string, fee = 0n): Keyset => ({
    id: deriveKeysetId(v1Keys, { version: 2, unit, inputFeePpk: fee }),
    unit,
    active: true,
    inputFeePpk: fee,
    keys: v1Keys,
  })
  const A = "https://mint-a.example"
  const B = "https://mint-b.example"

  it("binds each id to one mint and refuses the same id from another mint", () => {
    const reg = KeysetRegistry.empty.add(`${A}/`, v1Keyset)
    expect(reg.mintOf(v1Keyset.id)).toBe(A)
    expect(reason(() => reg.add(B, v1Keyset))).toBe("id-collision")
    expect(KeysetRegistry.empty.size).toBe(0)
  })

  it("refuses a colliding id with other keys or unit, but updates the active flag", () => {
    const reg = KeysetRegistry.empty.add(A, v1Keyset)
    const otherKeys = toKeys((vectors.valid[1] as { keys: Record<string, string> }).keys)
    expect(reason(() => reg.add(A, { ...v1Keyset, keys: otherKeys }))).toBe("id-collision")
    expect(reason(() => reg.add(A, { ...v1Keyset, unit: "usd" }))).toBe("id-collision")
    const updated = reg.add(A, { ...v1Keyset, active: false, inputFeePpk: 100n })
    expect(updated.get(v1Keyset.id)!.keyset).toMatchObject({ active: false, inputFeePpk: 100n })
    expect(reg.get(v1Keyset.id)!.keyset.active).toBe(true)
  })

  it("refuses a v2 id re-served with another committed fee", () => {
    const k = v2Keyset("sat", 100n)
    expect(reason(() => KeysetRegistry.empty.add(A, k).add(A, { ...k, inputFeePpk: 0n }))).toBe(
      "id-collision",
    )
  })

  it("resolves full and short ids, scoped to a mint, and fails on ambiguity", () => {
    const sat = v2Keyset("sat")
    const usd = v2Keyset("usd")
    // A second keyset sharing sat's first 8 bytes: same short id, different full id.
    const twin: Keyset = { ...usd, id: sat.id.slice(0, 16) + usd.id.slice(16) }
    const reg = KeysetRegistry.empty.addAll(A, [sat, v1Keyset]).add(B, usd)
    expect(reg.resolve(sat.id).keyset).toBe(sat)
    expect(reg.resolve(sat.id.slice(0, 16), A).keyset).toBe(sat)
    expect(reg.resolve(v1Keyset.id, A).keyset).toBe(v1Keyset)
    expect(reason(() => reg.resolve(usd.id.slice(0, 16), A))).toBe("unknown-id")
    expect(reason(() => reg.resolve(usd.id, A))).toBe("unknown-id")
    expect(reason(() => reg.resolve("01" + "00".repeat(7)))).toBe("unknown-id")
    const ambiguous = reg.add(A, twin)
    expect(reason(() => ambiguous.resolve(sat.id.slice(0, 16), A))).toBe("ambiguous-short-id")
    expect(ambiguous.resolve(sat.id, A).keyset).toBe(sat)
    expect(ambiguous.keysetsOf(A).map((k) => k.id)).toEqual([sat.id, v1Keyset.id, twin.id])
  })

  it("refuses BLS and malformed ids", () => {
    expect(reason(() => KeysetRegistry.empty.add(A, { ...v1Keyset, id: "02" + "00".repeat(32) }))).toBe(
      "unsupported-version",
    )
    expect(reason(() => KeysetRegistry.empty.add(A, { ...v1Keyset, id: "zz" }))).toBe("malformed-id")
  })
})
