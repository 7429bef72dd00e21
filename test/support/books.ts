/**
 * The one set of assertions every real-mint simulation's books must pass (`simulations/support/books.ts`):
 * nothing lost or counted twice, no proof held twice or stale at the mint, nothing stuck, the audit clean, and
 * value really moved (`held = minted − melted`, minted > 0).
 *
 * @module
 */
import { expect } from "vitest"
import type { Books } from "../../simulations/support/books.js"

/** Asserts the books balance and nothing is left open (see the module comment). */
export const expectCleanBooks = (b: Books): void => {
  expect(b.openOperations).toEqual([])
  expect(b.satsLost).toBe("0")
  expect(b.doubleCounted).toBe("0")
  expect(b.duplicates).toBe(0)
  expect(b.stale).toBe(0)
  expect(b.stuck).toEqual({
    inFlight: 0,
    inDoubt: 0,
    reserved: 0,
    incoming: 0,
    paidUnclaimed: 0,
    meltsPending: 0,
  })
  expect(b.audit).toBe(true)
  expect(BigInt(b.minted)).toBeGreaterThan(0n)
  expect(b.held).toBe(String(BigInt(b.minted) - BigInt(b.melted)))
}
