/**
 * The checkstate saga (NUT-07) for pending proofs and sends: `started → requested → completed`. The call
 * is read-only and repeatable: no durable intent is needed (`OperationPrepared` is optional), no
 * signatures come back, and there is nothing to release, so it may be cancelled or end on a mint error
 * at any point. The proof transitions it observes (`ProofsSpent`, `ProofsReleased`) are proof events.
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a checkstate may do beyond the shared skeleton. */
export const checkstateSpec: SagaSpec = {
  kind: "checkstate",
  prepareRequired: false,
  signs: false,
  batches: false,
  completesUnsent: false,
  completesUnsigned: true,
  paymentPending: false,
  quoteStateDecides: false,
  compensations: {
    started: ["cancelled"],
    prepared: ["cancelled"],
    requested: ["cancelled", "rejected"],
    ambiguous: ["cancelled", "rejected"],
    compensating: ["cancelled", "rejected", "not-processed"],
  },
}

/** The checkstate saga machine. */
export const checkstateMachine = sagaMachine(checkstateSpec)
