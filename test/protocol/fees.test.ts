import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { KeysetError } from "../../src/model/index.js"
import { feeForInputs, feeFromPpkSum, inputFeePpkOf } from "../../src/protocol/fees.js"
import { loadVector } from "../support/vectors.js"

const prose = loadVector("02-fees.json")

describe("NUT-02 fee prose examples (02.md — NOT official test vectors)", () => {
  it("the file marks itself as non-official", () => {
    expect(prose.official_test_vectors).toBe(false)
  })

  for (const ex of prose.prose_examples as Array<{
    input_fee_ppk: number
    n_inputs?: number
    n_inputs_range?: [number, number]
    expected_fee: number
  }>) {
    const [lo, hi] = ex.n_inputs_range ?? [ex.n_inputs!, ex.n_inputs!]
    it(`non-official: ${lo}–${hi} inputs at ${ex.input_fee_ppk} ppk cost ${ex.expected_fee}`, () => {
      const rates = new Map([["ks", { inputFeePpk: BigInt(ex.input_fee_ppk) }]])
      for (let n = lo; n <= hi; n++) {
        expect(
          feeForInputs(
            Array.from({ length: n }, () => ({ id: "ks" })),
            rates,
          ),
        ).toBe(BigInt(ex.expected_fee))
      }
    })
  }
})

describe("feeForInputs", () => {
  const rates = fc.dictionary(fc.constantFrom("a", "b", "c"), fc.bigInt({ min: 0n, max: 5000n }), {
    minKeys: 3,
  })
  const inputs = fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 60 })

  test.prop([rates, inputs])("is ceil(Σ ppk / 1000) computed exactly", (r, ids) => {
    const sum = ids.reduce((s, id) => s + r[id]!, 0n)
    const fee = feeForInputs(
      ids.map((id) => ({ id })),
      (id) => r[id],
    )
    expect(fee * 1000n >= sum).toBe(true)
    expect((fee - 1n) * 1000n < sum).toBe(true)
  })

  test.prop([rates, inputs, fc.constantFrom("a", "b", "c")])(
    "is monotone: one more input never lowers it",
    (r, ids, extra) => {
      const lookup = (id: string) => r[id]
      const before = feeForInputs(
        ids.map((id) => ({ id })),
        lookup,
      )
      const after = feeForInputs(
        [...ids, extra].map((id) => ({ id })),
        lookup,
      )
      expect(after >= before).toBe(true)
      expect(after - before <= feeFromPpkSum(r[extra]!)).toBe(true)
    },
  )

  it("accepts maps of keysets or of ppk values, and fails on an unknown keyset", () => {
    expect(feeForInputs([{ id: "x" }], new Map([["x", 1n]]))).toBe(1n)
    expect(feeForInputs([], new Map())).toBe(0n)
    expect(() => inputFeePpkOf(new Map(), "nope")).toThrow(KeysetError)
    expect(() => feeForInputs([{ id: "nope" }], () => undefined)).toThrow(KeysetError)
  })
})
