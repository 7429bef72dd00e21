/**
 * The restore saga (NUT-09 + NUT-13): scan each keyset in batches with a gap limit, check the states of
 * what comes back, keep the unspent, advance counters past the highest used.
 *
 * It has no inputs and sends only read-only, repeatable requests, so it needs no durable intent
 * (`OperationPrepared` is optional) and holds nothing to release: it may be cancelled or end on a mint
 * error at any point before signatures are stored. Each batch is one request attempt (`Requested` n+1
 * after the previous batch's `Signed`); it completes after its requests, with or without signatures.
 *
 * The catalogue's `OperationPrepared` carries one request; a multi-batch scan therefore records its
 * batches as successive attempts rather than as prepared requests.
 *
 * @module
 */
import { type SagaSpec, sagaMachine } from "./saga.js"

/** What a restore may do beyond the shared skeleton. */
export const restoreSpec: SagaSpec = {
  kind: "restore",
  prepareRequired: false,
  signs: true,
  batches: true,
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

/** The restore saga machine. */
export const restoreMachine = sagaMachine(restoreSpec)
