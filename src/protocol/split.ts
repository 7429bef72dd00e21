/**
 * Splitting an amount into a keyset's denominations, and the NUT-08 blank-output count.
 *
 * The split is greedy, largest denomination first, which is exact and minimal for power-of-two keysets (the only
 * kind mints issue in practice). For other denomination sets greedy may miss a split that exists; it then fails
 * rather than guess. The result is sorted ascending by default: NUT-03 asks wallets to order outputs by amount
 * so the mint cannot read the payment amount from the order.
 *
 * @module
 */
import { type Amount, AmountError, type KeysetKeys } from "../model/index.js"
import { assertAmount } from "./amount.js"

/** Default cap on the number of pieces (mints cap outputs per request; CDK's default is 1000). */
export const DEFAULT_MAX_OUTPUTS = 1000

/** Options of {@link splitAmount}. */
export interface SplitOptions {
  /**
   * Preferred pieces (e.g. the amounts to send). Each is itself split into denominations (a piece that is a
   * denomination stays whole); the remainder `amount − Σ target` is split greedily. Must not exceed `amount`.
   */
  readonly target?: ReadonlyArray<Amount>
  /** `asc` (default, NUT-03) or `desc`. */
  readonly order?: "asc" | "desc"
  /** Fail instead of producing more pieces than this. Default {@link DEFAULT_MAX_OUTPUTS}. */
  readonly maxOutputs?: number
}

const desc = (a: bigint, b: bigint): number => (a > b ? -1 : a < b ? 1 : 0)

/** The positive denominations of a keyset (its key amounts), largest first, without duplicates. */
export const denominationsOf = (source: KeysetKeys | Iterable<Amount>): ReadonlyArray<Amount> => {
  const amounts = source instanceof Map ? (source as KeysetKeys).keys() : (source as Iterable<Amount>)
  return [...new Set(amounts)].filter((a) => a > 0n).sort(desc)
}

/** Greedy split of `amount` over `denoms` (largest first) appended to `out`; counts are computed, not looped. */
const greedy = (amount: Amount, denoms: ReadonlyArray<Amount>, out: Amount[], maxOutputs: number): void => {
  let rest = amount
  for (const d of denoms) {
    if (rest === 0n) break
    const count = rest / d
    if (count === 0n) continue
    if (BigInt(out.length) + count > BigInt(maxOutputs)) {
      throw new AmountError({
        reason: "unsplittable",
        message: `split needs more than ${maxOutputs} outputs`,
      })
    }
    for (let i = 0n; i < count; i++) out.push(d)
    rest -= count * d
  }
  if (rest !== 0n) {
    throw new AmountError({
      reason: "unsplittable",
      message: "amount cannot be made from the keyset's denominations",
    })
  }
}

/**
 * Splits `amount` into the given denominations.
 *
 * @throws {AmountError} `negative`/`overflow` for an out-of-range amount or target piece, `zero` for a target piece
 *   of 0, `unsplittable` when the denominations cannot make the amount (or a piece), when the target exceeds the
 *   amount, or when more than `maxOutputs` pieces would be needed.
 */
export const splitAmount = (
  amount: Amount,
  denominations: KeysetKeys | Iterable<Amount>,
  options: SplitOptions = {},
): Amount[] => {
  assertAmount(amount)
  const denoms = denominationsOf(denominations)
  const maxOutputs = options.maxOutputs ?? DEFAULT_MAX_OUTPUTS
  const out: Amount[] = []
  let rest = amount
  for (const piece of options.target ?? []) {
    assertAmount(piece, "target piece")
    if (piece === 0n) throw new AmountError({ reason: "zero", message: "target piece of 0" })
    if (piece > rest)
      throw new AmountError({ reason: "unsplittable", message: "target split exceeds the amount" })
    greedy(piece, denoms, out, maxOutputs)
    rest -= piece
  }
  greedy(rest, denoms, out, maxOutputs)
  return out.sort(options.order === "desc" ? desc : (a, b) => desc(b, a))
}

/**
 * NUT-08: how many blank outputs to attach to a melt so the mint can return overpaid fees:
 * `0 if fee_reserve == 0 else max(ceil(log2(fee_reserve)), 1)`, computed exactly on the bigint
 * (`ceil(log2(x)) = bitLength(x − 1)` for x ≥ 1; e.g. 1000 → 10).
 *
 * @throws {AmountError} `negative` / `overflow`.
 */
export const blankOutputCount = (feeReserve: Amount): number => {
  assertAmount(feeReserve, "fee reserve")
  if (feeReserve === 0n) return 0
  const x = feeReserve - 1n
  const ceilLog2 = x === 0n ? 0 : x.toString(2).length
  return Math.max(ceilLog2, 1)
}
