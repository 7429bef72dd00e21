/**
 * The receive saga: the token is validated (DLEQ, keysets of its mint, locks signed), then swapped into
 * fresh proofs: `started → prepared → requested → signed → completed`. The token stays in the log for ever
 * (it is in `OperationStarted`), whatever happens.
 *
 * Before the swap a token that fails validation ends `compensated(invalid-token)`, one already spent
 * `compensated(token-spent)`. After the swap request left, "already spent" (11001) is ambiguous — it may
 * be our own earlier attempt — so `token-spent` then needs a recovery that found the inputs spent and none
 * of our outputs signed (CDK PR #2308; the code table: `src/protocol/mint-errors.ts`).
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a receive may do beyond the shared skeleton. */
export const receiveSpec: SagaSpec = {
  kind: "receive",
  prepareRequired: true,
  signs: true,
  batches: false,
  completesUnsent: false,
  completesUnsigned: false,
  paymentPending: false,
  quoteStateDecides: false,
  compensations: {
    started: ["cancelled", "invalid-token", "token-spent"],
    prepared: ["cancelled", "not-processed"],
    requested: ["rejected"],
    ambiguous: [],
    compensating: ["not-processed", "rejected", "token-spent"],
  },
}

/** The receive saga machine. */
export const receiveMachine = sagaMachine(receiveSpec)
