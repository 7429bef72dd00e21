/**
 * The mint saga (NUT-04, NUT-23 bolt11, NUT-20 locked quotes): `started` is the quote, waiting for the
 * user's payment; once paid, the outputs are prepared from reserved counters and claimed.
 *
 * `started (quoted) → prepared → requested → signed → completed`. An unpaid quote that expires ends
 * `compensated(quote-expired)` from `started`, before anything was prepared. After the claim request left,
 * recovery is replay-first, then restore (`src/engine/ops/mint-recovery.ts`); a mint has no inputs to
 * release, so `not-processed` just closes the attempt (the quote stays claimable by a new operation).
 *
 * The catalogue has no "quote paid" event: the payment is observed by polling, and the machine sees it only
 * as the `OperationPrepared` that follows.
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a mint may do beyond the shared skeleton. */
export const mintSpec: SagaSpec = {
  kind: "mint",
  prepareRequired: true,
  signs: true,
  batches: false,
  completesUnsent: false,
  completesUnsigned: false,
  paymentPending: false,
  quoteStateDecides: false,
  compensations: {
    started: ["cancelled", "quote-expired"],
    prepared: ["cancelled", "not-processed"],
    requested: ["rejected"],
    ambiguous: [],
    compensating: ["not-processed", "rejected"],
  },
}

/** The mint saga machine. */
export const mintMachine = sagaMachine(mintSpec)
