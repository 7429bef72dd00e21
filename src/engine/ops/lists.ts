/**
 * Small list helpers for building an operation's effects: proof events need non-empty lists, amounts are
 * summed as bigints. (Event ids and step numbering are the decider's: `../../machines/decider.ts`.)
 *
 * @module
 */
import type { WalletEvent } from "../../events/catalogue.js"

/** A non-empty array, as the catalogue's `ys`/`proofs` fields want. */
export const nonEmpty = <T>(items: ReadonlyArray<T>): [T, ...T[]] | undefined =>
  items.length > 0 ? (items as [T, ...T[]]) : undefined

/** `[event]` when `items` is non-empty, else `[]` (proof events need at least one proof). */
export const ifAny = <T>(
  items: ReadonlyArray<T>,
  make: (items: [T, ...T[]]) => WalletEvent,
): WalletEvent[] => {
  const ne = nonEmpty(items)
  return ne === undefined ? [] : [make(ne)]
}

/** Σ amounts. */
export const sumAmounts = (items: Iterable<{ readonly amount: bigint }>): bigint => {
  let s = 0n
  for (const i of items) s += i.amount
  return s
}
