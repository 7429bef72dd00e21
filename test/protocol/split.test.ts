import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { AmountError, MAX_AMOUNT } from "../../src/model/index.js"
import { blankOutputCount, denominationsOf, splitAmount } from "../../src/protocol/split.js"

const POW2 = Array.from({ length: 64 }, (_, i) => 1n << BigInt(i))
const sum = (xs: ReadonlyArray<bigint>) => xs.reduce((a, b) => a + b, 0n)
const isAscending = (xs: ReadonlyArray<bigint>) => xs.every((x, i) => i === 0 || xs[i - 1]! <= x)

/** A random subset of powers of two that always contains 1 (so every amount is splittable). */
const keysetDenoms = fc.subarray(POW2.slice(1)).map((d) => [1n, ...d])

describe("splitAmount", () => {
  test.prop([fc.bigInt({ min: 0n, max: MAX_AMOUNT })])(
    "with a full power-of-two keyset: sums to the amount, uses only keyset amounts, one piece per set bit",
    (amount) => {
      const parts = splitAmount(amount, POW2)
      expect(sum(parts)).toBe(amount)
      expect(parts.every((p) => POW2.includes(p))).toBe(true)
      expect(parts.length).toBe(
        amount
          .toString(2)
          .split("")
          .filter((b) => b === "1").length,
      )
      expect(isAscending(parts)).toBe(true)
    },
  )

  test.prop([fc.bigInt({ min: 0n, max: 1n << 12n }), keysetDenoms])(
    "with a partial keyset: sums to the amount and uses only its denominations",
    (amount, denoms) => {
      const parts = splitAmount(amount, denoms, { maxOutputs: 1 << 13 })
      expect(sum(parts)).toBe(amount)
      expect(parts.every((p) => denoms.includes(p))).toBe(true)
    },
  )

  test.prop([
    fc.array(fc.bigInt({ min: 1n, max: 1n << 30n }), { maxLength: 5 }),
    fc.bigInt({ min: 0n, max: 1n << 30n }),
  ])("honours a target split: its pieces appear and the rest fills up to the amount", (target, extra) => {
    const amount = sum(target) + extra
    const parts = splitAmount(amount, POW2, { target, order: "desc" })
    expect(sum(parts)).toBe(amount)
    expect(parts.every((p, i) => i === 0 || parts[i - 1]! >= p)).toBe(true)
    // Every power-of-two target piece is kept whole.
    const remaining = [...parts]
    for (const t of target.filter((t) => POW2.includes(t))) {
      const at = remaining.indexOf(t)
      expect(at).toBeGreaterThanOrEqual(0)
      remaining.splice(at, 1)
    }
  })

  it("accepts a keyset's key map as the denomination source", () => {
    const keys = new Map([
      [4n, "k4"],
      [1n, "k1"],
      [2n, "k2"],
    ])
    expect(denominationsOf(keys)).toEqual([4n, 2n, 1n])
    expect(sum(splitAmount(7n, keys))).toBe(7n)
  })

  it("fails with AmountError when the amount cannot be made or would need too many outputs", () => {
    const reason = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        expect(e).toBeInstanceOf(AmountError)
        return (e as AmountError).reason
      }
      return "none"
    }
    expect(reason(() => splitAmount(3n, [2n, 4n]))).toBe("unsplittable")
    expect(reason(() => splitAmount(MAX_AMOUNT, [1n]))).toBe("unsplittable")
    expect(reason(() => splitAmount(5n, POW2, { target: [8n] }))).toBe("unsplittable")
    expect(reason(() => splitAmount(5n, POW2, { target: [0n] }))).toBe("zero")
    expect(reason(() => splitAmount(-1n, POW2))).toBe("negative")
    expect(reason(() => splitAmount(MAX_AMOUNT + 1n, POW2))).toBe("overflow")
    expect(splitAmount(0n, [])).toEqual([])
  })
})

describe("blankOutputCount (NUT-08)", () => {
  it("matches the NUT-08 example: fee_reserve 1000 → 10 blank outputs; 0 → 0", () => {
    expect(blankOutputCount(1000n)).toBe(10)
    expect(blankOutputCount(0n)).toBe(0)
  })

  test.prop([fc.bigInt({ min: 1n, max: MAX_AMOUNT })])(
    "is max(ceil(log2(fee_reserve)), 1), exact on bigints",
    (fr) => {
      const n = blankOutputCount(fr)
      expect(n).toBeGreaterThanOrEqual(1)
      // ceil(log2(fr)) = n when n > 1: 2^(n-1) < fr ≤ 2^n; n = 1 covers fr ∈ {1, 2}.
      if (n > 1) {
        expect(1n << BigInt(n - 1) < fr).toBe(true)
        expect(fr <= 1n << BigInt(n)).toBe(true)
      } else expect(fr <= 2n).toBe(true)
    },
  )

  test.prop([fc.bigInt({ min: 1n, max: 1n << 40n })])(
    "blank outputs can always carry the whole reserve back",
    (fr) => {
      // n outputs of distinct powers of two 1..2^(n-1) can return any change up to 2^n − 1 ≥ fr − 1.
      expect((1n << BigInt(blankOutputCount(fr))) - 1n >= fr - 1n).toBe(true)
    },
  )

  it("fails on negative reserves", () => {
    expect(() => blankOutputCount(-1n)).toThrow(AmountError)
  })
})
