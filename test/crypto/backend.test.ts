import { createRequire } from "node:module"
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js"
import { numberToBytesBE } from "@noble/curves/utils.js"
import fc from "fast-check"
import { afterEach, describe, expect, it } from "vitest"
import {
  availableBackends,
  BACKEND_ENV,
  getBackend,
  loadBackend,
  selectBackend,
} from "../../src/crypto/backend.js"
import { nobleBackend } from "../../src/crypto/backends/noble.js"
import type { Secp256k1Backend } from "../../src/crypto/backends/types.js"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { CryptoError, type CryptoReason } from "../../src/model/index.js"

const N = secp256k1.Point.CURVE().n
const P_FIELD = secp256k1.Point.CURVE().p
const be32 = (x: bigint): Uint8Array => numberToBytesBE(x, 32)
const scalarArb = fc.bigInt({ min: 1n, max: N - 1n }).map(be32)
const pointArb = scalarArb.map((k) => nobleBackend.mulBase(k))

/** The result as hex, or the tagged error's tag and reason: two backends must agree on either. */
const outcome = (f: () => Uint8Array): string => {
  try {
    return bytesToHex(f())
  } catch (e) {
    const err = e as { _tag?: string; reason?: string }
    return `${err._tag}:${err.reason}`
  }
}

const backends = availableBackends().map((n) => [n, loadBackend(n)!] as const)

const expectCryptoError = (f: () => unknown, reason: CryptoReason): void => {
  let thrown: unknown
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown).toBeInstanceOf(CryptoError)
  expect((thrown as CryptoError).reason).toBe(reason)
}

// A compressed encoding whose x is below p but not on the curve, found (not hard-coded) with noble.
const offCurve = (() => {
  for (let x = 1n; ; x++) {
    const b = new Uint8Array(33)
    b[0] = 2
    b.set(be32(x), 1)
    try {
      secp256k1.Point.fromBytes(b)
    } catch {
      return b
    }
  }
})()

const G = nobleBackend.mulBase(be32(1n))
const xTooLarge = Uint8Array.from([2, ...be32(P_FIELD + 1n)]) // x ≥ p: not a field element
const badPoints: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["empty", new Uint8Array(0)],
  ["32 bytes", G.subarray(1)],
  ["34 bytes", Uint8Array.from([...G, 0])],
  ["uncompressed G", nobleBackend.uncompress(G)],
  ["prefix 04 with 33 bytes", Uint8Array.from([4, ...G.subarray(1)])],
  ["prefix 00", Uint8Array.from([0, ...G.subarray(1)])],
  ["x not on curve", offCurve],
  ["x ≥ p", xTooLarge],
]
const badScalars: ReadonlyArray<readonly [string, Uint8Array]> = [
  ["zero", new Uint8Array(32)],
  ["n", be32(N)],
  ["n + 1", be32(N + 1n)],
  ["all ones", new Uint8Array(32).fill(0xff)],
  ["31 bytes", new Uint8Array(31).fill(1)],
  ["33 bytes", new Uint8Array(33).fill(1)],
]

describe("backend selection", () => {
  afterEach(() => {
    delete process.env[BACKEND_ENV]
    selectBackend("auto")
  })

  it("always offers noble, lists backends fastest first, and loads only what works", () => {
    const names = availableBackends()
    expect(names).toContain("noble")
    const order = ["native", "wasm", "noble"]
    expect([...names].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(names)
  })

  it("reports native available exactly when the compiled binding loads (never the elliptic fallback)", () => {
    let bindingLoads = true
    try {
      createRequire(import.meta.url)("secp256k1/bindings.js")
    } catch {
      bindingLoads = false
    }
    expect(availableBackends().includes("native")).toBe(bindingLoads)
  })

  it("picks the first available of native → wasm → noble when not forced", () => {
    delete process.env[BACKEND_ENV]
    expect(selectBackend("auto").name).toBe(availableBackends()[0])
    expect(getBackend().name).toBe(availableBackends()[0])
  })

  it.each(backends)("selectBackend(%s) switches the default", (name) => {
    expect(selectBackend(name).name).toBe(name)
    expect(getBackend().name).toBe(name)
  })

  it("honours the environment override and rejects unknown names with a tagged error", () => {
    process.env[BACKEND_ENV] = "noble"
    expect(selectBackend("auto").name).toBe("noble")
    process.env[BACKEND_ENV] = "elliptic"
    expectCryptoError(() => selectBackend("auto"), "backend-unavailable")
  })
})

describe.each(backends)("%s backend", (_name, b: Secp256k1Backend) => {
  const runs = { numRuns: 12 }

  it("agrees with noble on mulBase, mul, mulPublic", () => {
    fc.assert(
      fc.property(pointArb, scalarArb, (P, k) => {
        const expected = bytesToHex(nobleBackend.mulPublic(P, k))
        expect(bytesToHex(b.mul(P, k))).toBe(expected)
        expect(bytesToHex(b.mulPublic(P, k))).toBe(expected)
        expect(bytesToHex(b.mulBase(k))).toBe(bytesToHex(nobleBackend.mulBase(k)))
      }),
      runs,
    )
  })

  it("agrees with noble on mulAddPublic, with and without an explicit first point", () => {
    fc.assert(
      fc.property(pointArb, pointArb, scalarArb, scalarArb, (P, Q, x, y) => {
        expect(bytesToHex(b.mulAddPublic(null, x, Q, y))).toBe(
          bytesToHex(nobleBackend.mulAddPublic(null, x, Q, y)),
        )
        expect(bytesToHex(b.mulAddPublic(P, x, Q, y))).toBe(bytesToHex(nobleBackend.mulAddPublic(P, x, Q, y)))
      }),
      runs,
    )
  })

  it("agrees with noble on add, sub, negate, uncompress", () => {
    fc.assert(
      fc.property(pointArb, pointArb, (P, Q) => {
        // P = ±Q makes the sum or difference the point at infinity: then both must refuse alike.
        expect(outcome(() => b.add(P, Q))).toEqual(outcome(() => nobleBackend.add(P, Q)))
        expect(outcome(() => b.sub(P, Q))).toEqual(outcome(() => nobleBackend.sub(P, Q)))
        expect(bytesToHex(b.negate(P))).toBe(bytesToHex(nobleBackend.negate(P)))
        expect(bytesToHex(b.uncompress(P))).toBe(bytesToHex(nobleBackend.uncompress(P)))
      }),
      runs,
    )
  })

  it("agrees with noble on BIP340 verification, and never throws on malformed input", () => {
    const msgArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
    fc.assert(
      fc.property(scalarArb, scalarArb, msgArb, fc.nat(63), (sk, other, msg, at) => {
        const x = schnorr.getPublicKey(sk)
        const sig = schnorr.sign(msg, sk)
        expect(b.verifySchnorr(sig, msg, x)).toBe(true)
        const bent = sig.slice()
        bent[at] = bent[at]! ^ 1
        expect(b.verifySchnorr(bent, msg, x)).toBe(nobleBackend.verifySchnorr(bent, msg, x))
        expect(b.verifySchnorr(bent, msg, x)).toBe(false)
        const y = schnorr.getPublicKey(other)
        expect(b.verifySchnorr(sig, msg, y)).toBe(nobleBackend.verifySchnorr(sig, msg, y))
      }),
      runs,
    )
    const sig = schnorr.sign(new Uint8Array(32), be32(3n))
    const x = schnorr.getPublicKey(be32(3n))
    // x = 5 is not the x of any point (found with noble: lift_x fails), wrong lengths, an all-ones signature.
    const offX = be32(5n)
    expect(() => secp256k1.Point.fromBytes(Uint8Array.from([2, ...offX]))).toThrow()
    for (const [s, m, k] of [
      [sig, new Uint8Array(32), offX],
      [sig.slice(1), new Uint8Array(32), x],
      [sig, new Uint8Array(31), x],
      [sig, new Uint8Array(32), x.slice(1)],
      [new Uint8Array(64).fill(0xff), new Uint8Array(32), x],
    ] as const) {
      expect(b.verifySchnorr(s, m, k)).toBe(false)
    }
  })

  it("refuses a sum or difference at infinity with a tagged error", () => {
    const P = nobleBackend.mulBase(be32(7n))
    expect(outcome(() => b.add(P, b.negate(P)))).toBe("CryptoError:point-at-infinity")
    expect(outcome(() => b.sub(P, P))).toBe("CryptoError:point-at-infinity")
  })

  it("agrees with noble on isPoint for arbitrary bytes, and never throws", () => {
    const prefixed = fc
      .tuple(fc.constantFrom(2, 3), fc.uint8Array({ minLength: 32, maxLength: 32 }))
      .map(([p, x]) => Uint8Array.from([p, ...x]))
    fc.assert(
      fc.property(fc.oneof(prefixed, fc.uint8Array({ maxLength: 70 })), (bytes) => {
        expect(b.isPoint(bytes)).toBe(nobleBackend.isPoint(bytes))
      }),
      { numRuns: 300 },
    )
  })

  it("does not mutate its inputs", () => {
    const P = nobleBackend.mulBase(be32(5n))
    const k = be32(7n)
    const [P0, k0] = [P.slice(), k.slice()]
    b.mul(P, k)
    b.mulPublic(P, k)
    b.negate(P)
    b.sub(P, G)
    b.mulAddPublic(P, k, P, k)
    expect(P).toEqual(P0)
    expect(k).toEqual(k0)
  })

  it("reports a cancelled sum as point-at-infinity", () => {
    const P = nobleBackend.mulBase(be32(12345n))
    const a = be32(99n)
    expectCryptoError(() => b.add(P, b.negate(P)), "point-at-infinity")
    expectCryptoError(() => b.sub(P, P), "point-at-infinity")
    expectCryptoError(() => b.mulAddPublic(null, a, G, be32(N - 99n)), "point-at-infinity")
    expectCryptoError(() => b.mulAddPublic(P, a, P, be32(N - 99n)), "point-at-infinity")
  })

  it.each(badPoints)("rejects a malformed point (%s) in every operation", (_label, bad) => {
    const k = be32(3n)
    expect(b.isPoint(bad)).toBe(false)
    for (const f of [
      () => b.mul(bad, k),
      () => b.mulPublic(bad, k),
      () => b.mulAddPublic(bad, k, G, k),
      () => b.mulAddPublic(null, k, bad, k),
      () => b.mulAddPublic(G, k, bad, k),
      () => b.add(bad, G),
      () => b.add(G, bad),
      () => b.sub(G, bad),
      () => b.sub(bad, G),
      () => b.negate(bad),
      () => b.uncompress(bad),
    ])
      expectCryptoError(f, "invalid-point")
  })

  it.each(badScalars)("rejects a malformed scalar (%s) in every operation", (_label, bad) => {
    for (const f of [
      () => b.mulBase(bad),
      () => b.mul(G, bad),
      () => b.mulPublic(G, bad),
      () => b.mulAddPublic(null, bad, G, be32(2n)),
      () => b.mulAddPublic(G, be32(2n), G, bad),
    ])
      expectCryptoError(f, "invalid-scalar")
  })
})
