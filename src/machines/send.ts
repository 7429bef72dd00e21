/**
 * The send saga: offline from exact proofs when the wallet holds them (`started → completed`, nothing
 * sent: the proofs go reserved → pending with the completion), else a swap to send
 * (`started → prepared → requested → signed → completed`, with the swap's recovery).
 *
 * Completion hands the token over; its proofs stay pending until a checkstate sees them spent, and a
 * reclaim is a separate swap (`purpose: reclaim`), so the send saga itself ends at `completed`.
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a send may do beyond the shared skeleton. */
export const sendSpec: SagaSpec = {
  kind: "send",
  prepareRequired: true,
  signs: true,
  batches: false,
  completesUnsent: true,
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

/** The send saga machine. */
export const sendMachine = sagaMachine(sendSpec)
