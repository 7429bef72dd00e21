import { numberToBytesBE } from "@noble/curves/utils.js"
import { describe, expect, it } from "vitest"
import { availableBackends, loadBackend } from "../../src/crypto/backend.js"
import { nobleBackend } from "../../src/crypto/backends/noble.js"
import type { Secp256k1Backend } from "../../src/crypto/backends/types.js"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { keyPoint, prepareKeys } from "../../src/crypto/keys.js"
import { CryptoError } from "../../src/model/index.js"

const backends = availableBackends().map((n) => [n, loadBackend(n)!] as const)
const point = (k: bigint): Uint8Array => nobleBackend.mulBase(numberToBytesBE(k, 32))

const reasonOf = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(CryptoError)
    return (e as CryptoError).reason
  }
  return undefined
}

describe.each(backends)("keys on %s", (name, b: Secp256k1Backend) => {
  it("derives −K and the uncompressed form once, whatever the input spelling", () => {
    const K = point(BigInt(1000 + name.length))
    const kp = keyPoint(bytesToHex(K).toUpperCase(), b)
    expect(kp.hex).toBe(bytesToHex(K))
    expect(kp.bytes).toEqual(K)
    expect(kp.negated).toEqual(nobleBackend.negate(K))
    expect(kp.uncompressed).toEqual(nobleBackend.uncompress(K))
    expect(keyPoint(bytesToHex(K), b)).toBe(kp)
    expect(keyPoint(K, b)).toBe(kp)
  })

  it("copies a byte key, so later changes to the caller's array cannot corrupt the cache", () => {
    const K = point(BigInt(2000 + name.length))
    const kp = keyPoint(K, b)
    K[5] = K[5]! ^ 1
    expect(kp.bytes).toEqual(point(BigInt(2000 + name.length)))
  })

  it("rejects keys that are not compressed points on the curve", () => {
    const K = point(3n)
    expect(reasonOf(() => keyPoint(nobleBackend.uncompress(K), b))).toBe("invalid-point")
    expect(reasonOf(() => keyPoint(bytesToHex(K).slice(2), b))).toBe("invalid-point")
    expect(reasonOf(() => keyPoint("02" + "00".repeat(32), b))).toBe("invalid-point")
    expect(reasonOf(() => keyPoint("not hex", b))).toBe("invalid-point")
  })

  it("prepares a keyset once per map object and decodes each key lazily", () => {
    const keys = new Map<bigint, string>([
      [1n, bytesToHex(point(11n))],
      [2n, "02" + "00".repeat(32)], // a bad key that only fails when used
    ])
    const prepared = prepareKeys(keys, b)
    expect(prepareKeys(keys, b)).toBe(prepared)
    expect(prepared.get(1n)?.hex).toBe(bytesToHex(point(11n)))
    expect(prepared.get(1n)).toBe(prepared.get(1n))
    expect(prepared.get(4n)).toBeUndefined()
    expect(reasonOf(() => prepared.get(2n))).toBe("invalid-point")
  })
})
