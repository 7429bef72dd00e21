import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import {
  type Attester,
  decodeAttestation,
  encodeAttestation,
  MAX_ATTESTATION_LINE,
  makeAttestation,
  tagHolds,
} from "../../src/events/attestation.js"
import { createVault } from "../../src/infra/vault.js"

const attesterOf = (): Attester => {
  const { vault } = createVault({ key: new Uint8Array(32).fill(9) })
  return { keyId: vault.keyId, authenticate: vault.authenticate }
}
const HASH = "ab".repeat(32)

describe("head attestations", () => {
  it("round-trip through their line, and the tag holds only for the key and fields that made it", () => {
    const attester = attesterOf()
    const a = makeAttestation(42, HASH, 1_700_000_000_000, attester)
    expect(decodeAttestation(encodeAttestation(a))).toEqual(a)
    expect(tagHolds(a, attester)).toBe(true)
    for (const change of [{ sequence: 43 }, { time: a.time + 1 }, { hash: "cd".repeat(32) }])
      expect(tagHolds({ ...a, ...change }, attester)).toBe(false)
    const { vault: other } = createVault({ key: new Uint8Array(32).fill(8) })
    expect(tagHolds(a, { keyId: a.keyId!, authenticate: other.authenticate })).toBe(false)
    expect(tagHolds(makeAttestation(42, HASH, 1), attester)).toBe(false)
  })

  it("refuses malformed lines with a typed DecodeError", () => {
    const good = encodeAttestation(makeAttestation(1, HASH, 2, attesterOf()))
    const bad = [
      "",
      "null",
      "[]",
      "{",
      `${good.slice(0, -1)},"extra":1}`,
      good.replace('"v":1', '"v":2'),
      good.replace(/"sequence":1/, '"sequence":-1'),
      good.replace(/"sequence":1/, '"sequence":1.5'),
      good.replace(HASH, "AB".repeat(32)),
      good.replace(/"tag":"[0-9a-f]+"/, '"tag":"00"'),
      JSON.stringify({ v: 1, sequence: 1, hash: HASH, time: 2, tag: HASH }),
      `{"v":1,"pad":"${"x".repeat(MAX_ATTESTATION_LINE)}"}`,
    ]
    for (const line of bad) expect(decodeAttestation(line)).toMatchObject({ _tag: "DecodeError" })
  })

  test.prop([fc.string({ maxLength: 2000 })])("never throws on any line", (line) => {
    const r = decodeAttestation(line)
    expect("v" in r || r._tag === "DecodeError").toBe(true)
  })
})
