/**
 * Interop with @cashu/cashu-ts 4.8 (the reference TypeScript wallet): tokens it writes decode with ours to the
 * same proofs, and ours decode with it. cashu-ts uses its own `Amount` class; amounts are converted here only.
 *
 * Byte identity: cashu-ts writes the top-level v4 map as `m, u, t, d` and proof maps as `a, s, c, d, pe, w`,
 * while the NUT-00 vectors (which we reproduce byte for byte) use `t, d, m, u` and nutshell's `a, s, c, d, w`.
 * So our re-encoding of a cashu-ts token is the same CBOR document with the map keys in the spec's order:
 * the test reorders cashu-ts's maps and then demands identical bytes.
 */
import {
  Amount,
  type Token as CtsToken,
  getDecodedToken,
  getDecodedTokenBinary,
  getEncodedToken,
  getEncodedTokenBinary,
} from "@cashu/cashu-ts"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import type { Proof, Token } from "../../src/model/index.js"
import { decodeCbor, encodeCbor } from "../../src/protocol/cbor.js"
import { decodeToken, decodeTokenBytes, encodeToken, encodeTokenBytes } from "../../src/protocol/token.js"
import { hexArb, tokenV4Arb } from "../support/token-arbitrary.js"
import { loadVector } from "../support/vectors.js"

type CtsProof = CtsToken["proofs"][number]

/** Our token → cashu-ts's shape (the witness as the object cashu-ts expects; it JSON-stringifies it). */
const toCts = (token: Token): CtsToken => {
  const entry = token.entries[0]!
  const out: CtsToken = {
    mint: entry.mint,
    proofs: entry.proofs.map((p) => {
      const q: Record<string, unknown> = { id: p.id, amount: Amount.from(p.amount), secret: p.secret, C: p.C }
      if (p.dleq !== undefined) q.dleq = { ...p.dleq }
      if (p.witness !== undefined) q.witness = JSON.parse(p.witness)
      if (p.p2pk_e !== undefined) q.p2pk_e = p.p2pk_e
      return q as unknown as CtsProof
    }),
  }
  if (token.unit !== undefined) out.unit = token.unit
  if (token.memo !== undefined) out.memo = token.memo
  return out
}

/** cashu-ts proofs → our model, for comparison. */
const fromCtsProofs = (proofs: readonly CtsProof[]): Proof[] =>
  proofs.map((p) => {
    const q: Record<string, unknown> = {
      amount: Amount.from(p.amount).toBigInt(),
      id: p.id,
      secret: p.secret,
      C: p.C,
    }
    if (p.dleq !== undefined) q.dleq = { ...p.dleq }
    if (p.witness !== undefined)
      q.witness = typeof p.witness === "string" ? p.witness : JSON.stringify(p.witness)
    if (p.p2pk_e !== undefined) q.p2pk_e = p.p2pk_e
    return q as unknown as Proof
  })

const proofsOf = (token: Token): readonly Proof[] => token.entries[0]!.proofs

// biome-ignore lint/suspicious/noExplicitAny: generic CBOR values
type Cbor = any
const ORDER: Record<string, string[]> = {
  top: ["t", "d", "m", "u"],
  group: ["i", "p"],
  proof: ["a", "s", "c", "d", "w", "pe"],
  dleq: ["e", "s", "r"],
}
const reorder = (value: Cbor, keys: string[]): Cbor => {
  expect(Object.keys(value).every((k) => keys.includes(k))).toBe(true)
  return Object.fromEntries(keys.filter((k) => k in value).map((k) => [k, value[k]]))
}
/** A v4 CBOR body with every map rewritten in the spec's key order. */
const inSpecOrder = (body: Uint8Array): Uint8Array => {
  const top = reorder(decodeCbor(body), ORDER.top!)
  top.t = top.t.map((g: Cbor) => {
    const group = reorder(g, ORDER.group!)
    group.p = group.p.map((p: Cbor) => {
      const proof = reorder(p, ORDER.proof!)
      if (proof.d !== undefined) proof.d = reorder(proof.d, ORDER.dleq!)
      return proof
    })
    return group
  })
  return encodeCbor(top)
}
const bodyOf = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.slice(6), "base64url"))
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")

/**
 * Tokens within what cashu-ts can carry: v1 or full v2 ids (it shortens v2 ids itself), DLEQs with `r` (it
 * refuses DLEQs without), JSON witnesses (it stringifies objects), non-empty memos and units (it drops an
 * empty memo and turns an empty unit into `sat`).
 */
const interopTokenArb = tokenV4Arb({
  maxProofs: 8,
  dleqR: true,
  ids: fc.oneof(
    hexArb(7).map((h) => "00" + h),
    hexArb(32).map((h) => "01" + h),
  ),
}).map((t) => {
  const proofs = proofsOf(t).map((p) => {
    if (p.witness === undefined || p.witness.startsWith('{"signatures"')) return p
    const { witness: _w, ...rest } = p
    return rest
  })
  const { memo, ...rest } = t
  const out: Token = { ...rest, entries: [{ mint: t.entries[0]!.mint, proofs }], unit: t.unit || "sat" }
  return memo === undefined || memo === "" ? out : { ...out, memo }
})

const fullIdsOf = (token: Token): string[] => [...new Set(proofsOf(token).map((p) => p.id))]

describe("cashu-ts → ours", () => {
  test.prop([interopTokenArb], { numRuns: 100 })(
    "cashuB from cashu-ts decodes to the same token",
    (token) => {
      const theirs = getEncodedToken(toCts(token))
      // With the known keyset ids, short ids resolve back to the full ids we started from.
      expect(decodeToken(theirs, { keysetIds: fullIdsOf(token) })).toEqual(token)
      // Without them the ids stay as cashu-ts wrote them (8 bytes), and re-encoding gives the same CBOR document;
      // byte for byte once cashu-ts's key order is put into the spec's order.
      const kept = decodeToken(theirs)
      expect(proofsOf(kept).map((p) => p.id)).toEqual(proofsOf(token).map((p) => p.id.slice(0, 16)))
      const ours = encodeToken(kept)
      expect(decodeCbor(bodyOf(ours))).toEqual(decodeCbor(bodyOf(theirs)))
      expect(hex(bodyOf(ours))).toBe(hex(inSpecOrder(bodyOf(theirs))))
    },
  )

  test.prop([interopTokenArb], { numRuns: 60 })("crawB from cashu-ts decodes to the same token", (token) => {
    const theirs = getEncodedTokenBinary(toCts(token))
    const decoded = decodeTokenBytes(theirs, { keysetIds: fullIdsOf(token) })
    expect(decoded).toEqual(token)
    const ours = encodeTokenBytes(decodeTokenBytes(theirs))
    expect(hex(ours.subarray(0, 5))).toBe(hex(theirs.subarray(0, 5)))
    expect(hex(ours.subarray(5))).toBe(hex(inSpecOrder(theirs.subarray(5))))
  })
})

describe("ours → cashu-ts", () => {
  test.prop([interopTokenArb, fc.boolean()], { numRuns: 100 })(
    "our cashuB decodes in cashu-ts to the same proofs",
    (token, pad) => {
      const decoded = getDecodedToken(encodeToken(token, { pad }), fullIdsOf(token))
      expect(decoded.mint).toBe(token.entries[0]!.mint)
      expect(decoded.unit).toBe(token.unit)
      expect(decoded.memo).toBe(token.memo)
      expect(fromCtsProofs(decoded.proofs)).toEqual(proofsOf(token))
    },
  )

  test.prop([interopTokenArb], { numRuns: 60 })(
    "our crawB and cashuA decode in cashu-ts to the same proofs",
    (token) => {
      expect(fromCtsProofs(getDecodedTokenBinary(encodeTokenBytes(token)).proofs)).toEqual(proofsOf(token))
      const v3 = getDecodedToken(encodeToken(token, { version: 3 }), fullIdsOf(token))
      expect(fromCtsProofs(v3.proofs)).toEqual(proofsOf(token))
      expect(v3.memo).toBe(token.memo)
    },
  )

  it("short ids we keep are resolved by cashu-ts the same way", () => {
    const full = "01" + "ab".repeat(32)
    const token: Token = {
      version: 4,
      entries: [
        {
          mint: "https://m",
          proofs: [{ amount: 8n, id: full.slice(0, 16), secret: "s", C: "02" + "11".repeat(32) }],
        },
      ],
      unit: "sat",
    }
    const decoded = getDecodedToken(encodeToken(token), [full, "01" + "cd".repeat(32)])
    expect(decoded.proofs[0]!.id).toBe(full)
    expect(decodeToken(encodeToken(token), { keysetIds: [full] }).entries[0]!.proofs[0]!.id).toBe(full)
  })
})

describe("the NUT-00 vectors", () => {
  const v3 = loadVector("00-tokens-v3.json")
  const v4 = loadVector("00-tokens-v4.json")
  const strings: string[] = [
    v3.serialization[0].serialized,
    ...v3.padding_variants.vectors.map((v: { token: string }) => v.token),
    ...v4.serialization.map((v: { serialized: string }) => v.serialized),
  ]
  it.each(strings.map((s) => [s.slice(0, 24), s]))("%s… decodes alike in both", (_p, s) => {
    const ours = decodeToken(s)
    const theirs = getDecodedToken(s, [])
    expect(proofsOf(ours)).toEqual(fromCtsProofs(theirs.proofs))
    expect(ours.entries[0]!.mint).toBe(theirs.mint)
    expect(ours.memo).toBe(theirs.memo)
  })
})
