/**
 * NUT-02 input fees: `fee(inputs) = ceil(Σ input_fee_ppk(keyset of each input) / 1000)`, all in `bigint`.
 *
 * The sum is rounded up once for the whole transaction (not per input): 100 ppk costs 1 for 1–10 inputs and 2
 * for 11–20. The mint checks `Σ inputs − fee == Σ outputs` on swap and melt, so the wallet must compute exactly
 * this value.
 *
 * @module
 */
import { AmountError, type Keyset, KeysetError } from "../model/index.js"

/**
 * Where the fee rate of a keyset comes from: a map of keysets (or of ppk values) by id, or a lookup function
 * returning `undefined` for an unknown id.
 */
export type FeeRateLookup =
  | ReadonlyMap<string, Pick<Keyset, "inputFeePpk"> | bigint>
  | ((keysetId: string) => bigint | undefined)

/** The fee rate (ppk) of `keysetId`. @throws {KeysetError} `unknown-id`; {@link AmountError} `negative`. */
export const inputFeePpkOf = (rates: FeeRateLookup, keysetId: string): bigint => {
  let ppk: bigint | undefined
  if (typeof rates === "function") ppk = rates(keysetId)
  else {
    const entry = rates.get(keysetId)
    ppk = typeof entry === "bigint" ? entry : entry?.inputFeePpk
  }
  if (ppk === undefined) {
    throw new KeysetError({ reason: "unknown-id", message: "no fee rate for keyset", keysetId })
  }
  if (ppk < 0n) throw new AmountError({ reason: "negative", message: "input_fee_ppk is negative" })
  return ppk
}

/** The fee for a total of `sumPpk` parts-per-thousand: `(sumPpk + 999) // 1000`. */
export const feeFromPpkSum = (sumPpk: bigint): bigint => {
  if (sumPpk < 0n) throw new AmountError({ reason: "negative", message: "fee ppk sum is negative" })
  return (sumPpk + 999n) / 1000n
}

/**
 * The NUT-02 fee a mint charges for spending `inputs`.
 *
 * @throws {KeysetError} `unknown-id` when an input's keyset has no known rate.
 */
export const feeForInputs = (inputs: Iterable<{ readonly id: string }>, rates: FeeRateLookup): bigint => {
  let sum = 0n
  for (const input of inputs) sum += inputFeePpkOf(rates, input.id)
  return feeFromPpkSum(sum)
}
