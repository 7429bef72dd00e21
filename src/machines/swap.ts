/**
 * The swap saga (NUT-03): inputs reserved and outputs blinded in one durable intent, one request, the
 * signatures, then finalisation (after CDK's swap saga; its recovery: `src/engine/ops/swap-recovery.ts`).
 *
 * `started → prepared → requested → signed → completed`. Before the request it compensates freely; after
 * it, only on the mint's definitive answer (`rejected`) or when recovery (local → replay → checkstate →
 * restore) found the inputs unspent (`not-processed`). A swap always has outputs, so it never completes
 * without signatures (recovered by replay or restore when the answer was lost).
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a swap may do beyond the shared skeleton. */
export const swapSpec: SagaSpec = {
  kind: "swap",
  prepareRequired: true,
  signs: true,
  batches: false,
  completesUnsent: false,
  completesUnsigned: false,
  paymentPending: false,
  quoteStateDecides: false,
  compensations: {
    started: ["cancelled"],
    prepared: ["cancelled", "not-processed"],
    requested: ["rejected"],
    ambiguous: [],
    // Recovery found the inputs spent by someone else and none of our outputs signed (a reclaim that lost
    // the race with the token's recipient: `src/engine/ops/checkstate.ts`): the inputs are recorded spent.
    compensating: ["not-processed", "rejected", "token-spent"],
  },
}

/** The swap saga machine. */
export const swapMachine = sagaMachine(swapSpec)
