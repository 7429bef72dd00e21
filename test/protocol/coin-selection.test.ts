import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { AmountError, KeysetError } from "../../src/model/index.js"
import { type SelectionKeyset, selectProofs } from "../../src/protocol/coin-selection.js"
import { feeForInputs } from "../../src/protocol/fees.js"

interface P {
  readonly amount: bigint
  readonly id: string
  readonly n: number
}

const keysetArb = fc.record({ inputFeePpk: fc.bigInt({ min: 0n, max: 1000n }), active: fc.boolean() })
const keysetsArb = fc.tuple(keysetArb, keysetArb, keysetArb).map(
  ([a, b, c]) =>
    new Map<string, SelectionKeyset>([
      ["ka", a],
      ["kb", b],
      ["kc", c],
    ]),
)
const pow2 = fc.integer({ min: 0, max: 8 }).map((e) => 1n << BigInt(e))
const anyAmount = fc.bigInt({ min: 1n, max: 300n })
const proofsArb = (amount: fc.Arbitrary<bigint>, max: number) =>
  fc
    .array(fc.record({ amount, id: fc.constantFrom("ka", "kb", "kc") }), { maxLength: max })
    .map((ps) => ps.map((p, n) => ({ ...p, n })))

const value = (set: ReadonlyArray<P>, ks: Map<string, SelectionKeyset>) =>
  set.reduce((s, p) => s + p.amount, 0n) - feeForInputs(set, ks)

/** Every subset's net value (Σ − own fee), by brute force. */
const subsetValues = (proofs: ReadonlyArray<P>, ks: Map<string, SelectionKeyset>): bigint[] => {
  const out: bigint[] = []
  for (let mask = 0; mask < 1 << proofs.length; mask++) {
    out.push(
      value(
        proofs.filter((_, i) => (mask & (1 << i)) !== 0),
        ks,
      ),
    )
  }
  return out
}

const checkPreview = (
  preview: ReturnType<typeof selectProofs<P>>,
  proofs: ReadonlyArray<P>,
  amount: bigint,
  ks: Map<string, SelectionKeyset>,
) => {
  const fee = feeForInputs(preview.inputs, ks)
  const total = preview.inputs.reduce((s, p) => s + p.amount, 0n)
  expect(preview.fee).toBe(fee)
  expect(total - fee).toBeGreaterThanOrEqual(amount)
  expect(preview.change).toBe(total - fee - amount)
  expect(preview.exact).toBe(preview.change === 0n)
  // Inputs are distinct proofs from the given list, in their original order.
  const ns = preview.inputs.map((p) => p.n)
  expect(new Set(ns).size).toBe(ns.length)
  expect(ns).toEqual([...ns].sort((a, b) => a - b))
  for (const p of preview.inputs) expect(proofs[p.n]).toBe(p)
}

describe("selectProofs against brute force (≤ 12 proofs)", () => {
  test.prop([proofsArb(fc.oneof(pow2, anyAmount), 12), keysetsArb, fc.bigInt({ min: 0n, max: 600n })], {
    numRuns: 300,
  })(
    "covers amount + its own fee, finds an exact set whenever one exists, fails only when nothing covers",
    (proofs, ks, amount) => {
      const values = subsetValues(proofs, ks)
      const anyCovers = values.some((v) => v >= amount)
      const anyExact = values.some((v) => v === amount)
      let preview: ReturnType<typeof selectProofs<P>> | undefined
      try {
        preview = selectProofs(proofs, amount, ks)
      } catch (e) {
        expect(e).toBeInstanceOf(AmountError)
        expect((e as AmountError).reason).toBe("insufficient-funds")
        expect(anyCovers).toBe(false)
        return
      }
      expect(anyCovers).toBe(true)
      checkPreview(preview, proofs, amount, ks)
      expect(preview.exact).toBe(anyExact)
    },
  )

  test.prop([proofsArb(pow2, 12), keysetsArb, fc.bigInt({ min: 1n, max: 600n })], { numRuns: 200 })(
    "without fees and power-of-two proofs, the greedy search alone finds an exact set whenever one exists",
    (proofs, ks, amount) => {
      const free = new Map([...ks].map(([id, k]) => [id, { ...k, inputFeePpk: 0n }]))
      const values = subsetValues(proofs, free)
      if (!values.some((v) => v >= amount)) return
      const preview = selectProofs(proofs, amount, ks, { includeFees: false, exhaustiveLimit: 0 })
      expect(preview.fee).toBe(0n)
      checkPreview(preview, proofs, amount, free)
      expect(preview.exact).toBe(values.some((v) => v === amount))
    },
  )
})

describe("selectProofs preferences", () => {
  const ks = new Map<string, SelectionKeyset>([
    ["old", { inputFeePpk: 0n, active: false }],
    ["new", { inputFeePpk: 0n, active: true }],
  ])

  it("spends inactive-keyset proofs first when amounts tie", () => {
    const proofs = [
      { amount: 4n, id: "new", n: 0 },
      { amount: 4n, id: "old", n: 1 },
    ]
    expect(selectProofs(proofs, 4n, ks).inputs.map((p) => p.id)).toEqual(["old"])
    // And also when covering with change.
    expect(selectProofs(proofs, 3n, ks).inputs.map((p) => p.id)).toEqual(["old"])
  })

  it("prefers least change, then fewest inputs, when nothing is exact", () => {
    const proofs = [64n, 8n, 8n].map((amount, n) => ({ amount, id: "new", n }))
    const p = selectProofs(proofs, 12n, ks)
    expect(p.change).toBe(4n)
    expect(p.inputs.map((x) => x.amount)).toEqual([8n, 8n])
  })

  it("is deterministic", () => {
    const proofs = Array.from({ length: 50 }, (_, n) => ({
      amount: BigInt((n * 37) % 64) + 1n,
      id: n % 2 ? "old" : "new",
      n,
    }))
    const a = selectProofs(proofs, 300n, ks)
    const b = selectProofs(proofs, 300n, ks)
    expect(a).toEqual(b)
  })

  it("fails typed on unknown keysets and on insufficient funds", () => {
    expect(() => selectProofs([{ amount: 1n, id: "x", n: 0 }], 1n, ks)).toThrow(KeysetError)
    expect(() => selectProofs([{ amount: 1n, id: "new", n: 0 }], 2n, ks)).toThrow(AmountError)
  })

  it("returns an empty exact selection for 0", () => {
    expect(selectProofs([{ amount: 1n, id: "new", n: 0 }], 0n, ks)).toEqual({
      inputs: [],
      fee: 0n,
      change: 0n,
      exact: true,
    })
  })

  it("is fast for thousands of proofs with fees, and still exact when the wallet can be", () => {
    const feeKs = new Map<string, SelectionKeyset>([
      ["a", { inputFeePpk: 100n, active: true }],
      ["b", { inputFeePpk: 250n, active: false }],
    ])
    const proofs = Array.from({ length: 5000 }, (_, n) => ({
      amount: 1n << BigInt((n * 7919) % 20),
      id: n % 3 === 0 ? "b" : "a",
      n,
    }))
    const started = performance.now()
    for (const amount of [1n, 777n, 123_456n, 1_000_000n, 7_777_777n]) {
      const p = selectProofs(proofs, amount, feeKs)
      checkPreview(p, proofs, amount, feeKs)
      expect(p.exact).toBe(true)
    }
    expect(performance.now() - started).toBeLessThan(2000)
  })
})
