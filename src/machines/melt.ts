/**
 * The melt saga (NUT-05, NUT-23 bolt11, NUT-08 blank outputs for change).
 *
 * `started (quoted) → prepared → requested → (signed →) completed`: a melt without change outputs completes
 * on the answer alone. The synchronous call has no timeout; an answer saying the payment is in flight, or
 * a timeout, leaves it `paymentPending` (inputs stay pending). Only a quote-state check decides a melt
 * after an unknown outcome (after CDK): paid → `recovered` → completed (change
 * restored); failed without a payment proof → `compensating` → `compensated(payment-failed)`; still
 * pending, or the check failed → stays pending. A checkstate of the inputs cannot decide, since a paying
 * melt's inputs are pending whatever the payment's fate.
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a melt may do beyond the shared skeleton. */
export const meltSpec: SagaSpec = {
  kind: "melt",
  prepareRequired: true,
  signs: true,
  batches: false,
  completesUnsent: false,
  completesUnsigned: true,
  paymentPending: true,
  quoteStateDecides: true,
  compensations: {
    started: ["cancelled", "quote-expired"],
    prepared: ["cancelled", "not-processed"],
    // The mint's own answer to the melt is definitive: an error code, or the quote's failed state.
    requested: ["rejected", "payment-failed"],
    ambiguous: [],
    compensating: ["not-processed", "rejected", "payment-failed"],
  },
}

/** The melt saga machine. */
export const meltMachine = sagaMachine(meltSpec)
