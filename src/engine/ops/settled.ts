/**
 * What one attempt to settle an operation led to, with its constructors (so the ops never build the union
 * by hand), and the outcome an already-ended operation reads as.
 *
 * @module
 */
import type { CompensationReason, OperationCompleted, StoredProof } from "../../events/catalogue.js"
import type { OperationState } from "../../machines/decider.js"

/** The operation completed: its record and the proofs it issued (none when another path had finished it). */
export interface SettledCompleted {
  readonly _tag: "Completed"
  readonly completed: OperationCompleted
  readonly proofs: ReadonlyArray<StoredProof>
}

/** The operation ended without effect. */
export interface SettledCompensated {
  readonly _tag: "Compensated"
  readonly reason: CompensationReason
  readonly code: number | undefined
}

/** The outcome is not known yet; recovery will settle it. */
export interface SettledInDoubt {
  readonly _tag: "InDoubt"
  readonly code: number | undefined
}

/** A melt's payment is in flight at the mint (a normal outcome for a melt, not an error). */
export interface PaymentInFlight {
  readonly _tag: "PaymentPending"
}

/** The outcome of one attempt to settle an operation. */
export type Settled = SettledCompleted | SettledCompensated | SettledInDoubt

/** What one attempt to settle a melt led to. */
export type MeltOutcome = Settled | PaymentInFlight

export const completedWith = (
  completed: OperationCompleted,
  proofs: ReadonlyArray<StoredProof> = [],
): SettledCompleted => ({ _tag: "Completed", completed, proofs })

export const compensatedWith = (
  reason: CompensationReason,
  code: number | undefined = undefined,
): SettledCompensated => ({ _tag: "Compensated", reason, code })

export const inDoubt = (code: number | undefined = undefined): SettledInDoubt => ({ _tag: "InDoubt", code })

export const paymentInFlight: PaymentInFlight = { _tag: "PaymentPending" }

/** The outcome an operation that already ended reads as; undefined while it runs. */
export const endedOutcome = (s: OperationState): Settled | undefined => {
  switch (s.state) {
    case "completed":
      return completedWith(s.completed)
    case "compensated":
      return compensatedWith(s.compensated.reason, s.compensated.code)
    default:
      return undefined
  }
}
