/**
 * Choosing which proofs to spend.
 *
 * Goal: inputs `S` with `Σ S − fee(S) ≥ amount`, where `fee(S)` is the NUT-02 fee of `S` itself — so the fee is
 * part of what is being solved for, not a constant. Preference order:
 * 1. an **exact** set, `Σ S == amount + fee(S)` (an offline send needs no swap and no change);
 * 2. otherwise the set with the least change, then the fewest inputs.
 * Among proofs of equal amount, those of inactive keysets go first (NUT-02: wallets SHOULD spend them first),
 * then cheaper ones. Everything is deterministic (no randomness: the same proofs in the same order give the
 * same answer) and roughly linear after one sort, so thousands of proofs are fine.
 *
 * How:
 * - exact: greedy largest-first subset sum for `T = amount + f`, iterating the fee guess `f` to a fixed point
 *   (greedy is exact for power-of-two denominations); for ≤ `exhaustiveLimit` candidates, a full subset search
 *   backs it up, so small wallets always find an exact set when one exists;
 * - otherwise: take proofs largest-first while they do not overshoot, then close the gap with the smallest
 *   proof that covers it; compare with the smallest single proof that covers everything.
 *
 * Proofs whose amount is below the fee they add (`amount < ceil(ppk/1000)`) or that are 0 are never selected:
 * they can only lower the value of a set.
 *
 * @module
 */
import { type Amount, AmountError, KeysetError } from "../model/index.js"
import { assertAmount } from "./amount.js"
import { feeFromPpkSum } from "./fees.js"

/** What selection needs from a proof; callers keep their own richer records. */
export interface SelectableProof {
  readonly amount: Amount
  /** Keyset id. */
  readonly id: string
}

/** What selection needs from a keyset. */
export interface SelectionKeyset {
  readonly inputFeePpk: bigint
  readonly active: boolean
}

/** Keysets by id: a map (e.g. of model `Keyset`s) or a lookup returning `undefined` for unknown ids. */
export type SelectionKeysets =
  | ReadonlyMap<string, SelectionKeyset>
  | ((id: string) => SelectionKeyset | undefined)

/** Options of {@link selectProofs}. */
export interface SelectionOptions {
  /** Charge NUT-02 input fees (default `true`). `false` solves `Σ S ≥ amount` (fees handled elsewhere). */
  readonly includeFees?: boolean
  /** Up to this many candidate proofs (at most 20), back the greedy exact search with a full subset search. Default 16. */
  readonly exhaustiveLimit?: number
}

/** The chosen inputs and what they cost. */
export interface SelectionPreview<P> {
  /** The inputs, in the order they appear in the given proofs. */
  readonly inputs: ReadonlyArray<P>
  /** NUT-02 fee of `inputs` (0 when fees are not included). */
  readonly fee: Amount
  /** `Σ inputs − fee − amount` (≥ 0). */
  readonly change: Amount
  /** `change == 0`. */
  readonly exact: boolean
}

/** Hard cap of the full subset search (2^20 subsets). */
const MAX_EXHAUSTIVE = 20

interface Item<P> {
  readonly proof: P
  readonly amount: Amount
  readonly ppk: bigint
  readonly inactive: boolean
  readonly index: number
}

/** Largest amount first; then inactive keysets; then cheaper; then input order. */
const compareItems = <P>(x: Item<P>, y: Item<P>): number => {
  if (x.amount !== y.amount) return x.amount > y.amount ? -1 : 1
  if (x.inactive !== y.inactive) return x.inactive ? -1 : 1
  if (x.ppk !== y.ppk) return x.ppk < y.ppk ? -1 : 1
  return x.index - y.index
}

const lookup = (keysets: SelectionKeysets, id: string): SelectionKeyset => {
  const keyset = typeof keysets === "function" ? keysets(id) : keysets.get(id)
  if (keyset === undefined)
    throw new KeysetError({ reason: "unknown-id", message: "proof of an unknown keyset", keysetId: id })
  if (keyset.inputFeePpk < 0n)
    throw new AmountError({ reason: "negative", message: "input_fee_ppk is negative" })
  return keyset
}

/** Net value of a set: Σ amounts − fee. */
const net = (sum: bigint, ppk: bigint): bigint => sum - feeFromPpkSum(ppk)

/** Greedy largest-first subset with sum exactly `target`, or undefined. */
const greedyExact = <P>(items: ReadonlyArray<Item<P>>, target: bigint): Item<P>[] | undefined => {
  const chosen: Item<P>[] = []
  let rest = target
  for (const item of items) {
    if (rest === 0n) break
    if (item.amount <= rest) {
      chosen.push(item)
      rest -= item.amount
    }
  }
  return rest === 0n ? chosen : undefined
}

const sumOf = <P>(set: ReadonlyArray<Item<P>>, key: "amount" | "ppk"): bigint => {
  let s = 0n
  for (const item of set) s += item[key]
  return s
}

/** Fixed-point search over the fee guess for an exact set. */
const exactByGreedy = <P>(
  items: ReadonlyArray<Item<P>>,
  amount: bigint,
  maxFee: bigint,
): Item<P>[] | undefined => {
  let fee = 0n
  for (let round = 0; round < 64 && fee <= maxFee; round++) {
    const set = greedyExact(items, amount + fee)
    if (set === undefined) {
      fee += 1n
      continue
    }
    const actual = feeFromPpkSum(sumOf(set, "ppk"))
    if (actual === fee) return set
    // A larger fee means the target moves up by at least that much; a smaller one means this target is not
    // reachable with a set paying exactly `fee` via greedy, so try the next target.
    fee = actual > fee ? actual : fee + 1n
  }
  return undefined
}

/**
 * Full subset search (≤ 2^limit subsets) for an exact set; prefers fewer inputs, then more inactive-keyset
 * inputs, then the earliest set in sort order. Sums are built incrementally from the subset without its lowest
 * bit, so each subset costs two additions.
 */
const exactByExhaustion = <P>(items: ReadonlyArray<Item<P>>, amount: bigint): Item<P>[] | undefined => {
  const n = items.length
  const size = 1 << n
  const sums = new Array<bigint>(size)
  const ppks = new Array<bigint>(size)
  const counts = new Uint8Array(size)
  const inactive = new Uint8Array(size)
  sums[0] = 0n
  ppks[0] = 0n
  let best = -1
  for (let mask = 1; mask < size; mask++) {
    const low = 31 - Math.clz32(mask & -mask)
    const prev = mask & (mask - 1)
    const item = items[low]!
    const s = sums[prev]! + item.amount
    const p = ppks[prev]! + item.ppk
    sums[mask] = s
    ppks[mask] = p
    counts[mask] = counts[prev]! + 1
    inactive[mask] = inactive[prev]! + (item.inactive ? 1 : 0)
    if (s !== amount + feeFromPpkSum(p)) continue
    if (
      best < 0 ||
      counts[mask]! < counts[best]! ||
      (counts[mask] === counts[best] && inactive[mask]! > inactive[best]!)
    ) {
      best = mask
    }
  }
  if (best < 0) return undefined
  return items.filter((_, i) => (best & (1 << i)) !== 0)
}

/** Non-exact: fill largest-first without overshooting, then cover the gap with the smallest sufficient proof. */
const fillThenCover = <P>(items: ReadonlyArray<Item<P>>, amount: bigint): Item<P>[] => {
  const taken = new Uint8Array(items.length)
  const chosen: Item<P>[] = []
  let sum = 0n
  let ppk = 0n
  items.forEach((item, i) => {
    if (sum + item.amount <= amount + feeFromPpkSum(ppk + item.ppk)) {
      taken[i] = 1
      chosen.push(item)
      sum += item.amount
      ppk += item.ppk
    }
  })
  if (net(sum, ppk) >= amount) return chosen
  // Items are sorted largest first: a strictly smaller sufficient item replaces the current pick, so among equal
  // amounts the first in sort order (inactive keyset, cheaper) wins.
  let cover = -1
  items.forEach((item, i) => {
    if (taken[i] === 0 && (cover < 0 || item.amount < items[cover]!.amount)) {
      if (net(sum + item.amount, ppk + item.ppk) >= amount) cover = i
    }
  })
  if (cover >= 0) return [...chosen, items[cover]!]
  for (let i = 0; i < items.length && net(sum, ppk) < amount; i++) {
    if (taken[i] === 1) continue
    const item = items[i]!
    chosen.push(item)
    sum += item.amount
    ppk += item.ppk
  }
  return chosen
}

/** The smallest single proof that covers `amount` plus its own fee. */
const singleCover = <P>(items: ReadonlyArray<Item<P>>, amount: bigint): Item<P>[] | undefined => {
  let best: Item<P> | undefined
  for (const item of items) {
    if (net(item.amount, item.ppk) >= amount && (best === undefined || item.amount < best.amount)) best = item
  }
  return best === undefined ? undefined : [best]
}

/**
 * Selects inputs to pay `amount` (see the module notes for the strategy).
 *
 * @throws {AmountError} `insufficient-funds` when no subset covers `amount` plus its fee; `negative`/`overflow`
 *   for an out-of-range amount. {@link KeysetError} `unknown-id` for a proof of an unknown keyset.
 */
export const selectProofs = <P extends SelectableProof>(
  proofs: ReadonlyArray<P>,
  amount: Amount,
  keysets: SelectionKeysets,
  options: SelectionOptions = {},
): SelectionPreview<P> => {
  assertAmount(amount)
  const includeFees = options.includeFees ?? true
  const items: Item<P>[] = []
  proofs.forEach((proof, index) => {
    const keyset = lookup(keysets, proof.id)
    const ppk = includeFees ? keyset.inputFeePpk : 0n
    // A proof worth less than the fee it adds can only lower a set's value.
    if (proof.amount <= 0n || proof.amount < feeFromPpkSum(ppk)) return
    items.push({ proof, amount: proof.amount, ppk, inactive: !keyset.active, index })
  })
  items.sort(compareItems)

  const preview = (set: ReadonlyArray<Item<P>>): SelectionPreview<P> => {
    const fee = feeFromPpkSum(sumOf(set, "ppk"))
    const change = sumOf(set, "amount") - fee - amount
    const inputs = [...set].sort((x, y) => x.index - y.index).map((item) => item.proof)
    return { inputs, fee, change, exact: change === 0n }
  }

  if (amount === 0n) return preview([])
  const totalAmount = sumOf(items, "amount")
  const totalPpk = sumOf(items, "ppk")
  const available = net(totalAmount, totalPpk)
  if (available < amount) {
    throw new AmountError({
      reason: "insufficient-funds",
      message: `insufficient funds: ${available < 0n ? 0n : available} available after fees, ${amount} needed`,
    })
  }

  const exact =
    exactByGreedy(items, amount, feeFromPpkSum(totalPpk)) ??
    (items.length <= Math.min(options.exhaustiveLimit ?? 16, MAX_EXHAUSTIVE)
      ? exactByExhaustion(items, amount)
      : undefined)
  if (exact !== undefined) return preview(exact)

  const filled = preview(fillThenCover(items, amount))
  const single = singleCover(items, amount)
  if (single === undefined) return filled
  const alone = preview(single)
  return alone.change < filled.change ||
    (alone.change === filled.change && alone.inputs.length < filled.inputs.length)
    ? alone
    : filled
}
