/**
 * Building an operation's append: each event gets a deterministic id `op:<operationId>:<step>[:<attempt>]:<i>`
 * so that a retried append (after an ambiguous store error) is deduplicated by the store, never doubled.
 *
 * @module
 */
import type { WalletEvent } from "../../events/catalogue.js"
import { type OperationStep, operationEventId } from "../../events/ids.js"
import type { NewEvent } from "../../ports/event-store.js"

/** The events of one step of an operation, with their ids. `attempt` numbers repeatable steps. */
export const stepEvents = (
  operationId: string,
  step: OperationStep,
  events: ReadonlyArray<WalletEvent>,
  attempt?: number,
): NewEvent[] =>
  events.map((event, i) => ({ eventId: operationEventId(operationId, step, i, attempt), event }))

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
