/**
 * The test mint's books: the spent set keyed by `Y = hash_to_curve(secret)`, the pending set (inputs of an
 * unsettled melt), and every signature issued keyed by `B_` (which answers NUT-09 restore and refuses a second
 * signature on the same `B_`, 11003). Totals let simulations check that no value appeared or vanished.
 *
 * @module
 */
import type { Amount, BlindedMessage, BlindSignature, ProofState } from "../../../src/model/index.js"

/** A spent proof as the mint remembers it (the witness is echoed by NUT-07). */
export interface SpentEntry {
  readonly amount: Amount
  readonly witness?: string
}

/** A signed output: the request's message (with the amount actually signed) and the signature. */
export interface SignedEntry {
  readonly output: BlindedMessage
  readonly signature: BlindSignature
}

/** Spent, pending and signed sets plus value totals. */
export class Ledger {
  private readonly spent = new Map<string, SpentEntry>()
  private readonly pending = new Map<string, { readonly amount: Amount; readonly quote: string }>()
  private readonly signed = new Map<string, SignedEntry>()
  /** Σ amounts of all signatures issued. */
  issued = 0n
  /** Σ amounts of all proofs spent. */
  redeemed = 0n

  /** NUT-07 state of `Y`. */
  state(Y: string): ProofState {
    if (this.spent.has(Y)) return "SPENT"
    if (this.pending.has(Y)) return "PENDING"
    return "UNSPENT"
  }

  isSpent(Y: string): boolean {
    return this.spent.has(Y)
  }

  isPending(Y: string): boolean {
    return this.pending.has(Y)
  }

  spentEntry(Y: string): SpentEntry | undefined {
    return this.spent.get(Y)
  }

  /** Marks `Y` spent (and no longer pending). */
  markSpent(Y: string, entry: SpentEntry): void {
    this.pending.delete(Y)
    this.spent.set(Y, entry)
    this.redeemed += entry.amount
  }

  /** Marks every input spent; `Ys[i]` is the Y of `inputs[i]`. */
  spendAll(
    inputs: ReadonlyArray<{ readonly amount: Amount; readonly witness?: string }>,
    Ys: ReadonlyArray<string>,
  ): void {
    for (let i = 0; i < inputs.length; i++) {
      const p = inputs[i]!
      this.markSpent(Ys[i]!, { amount: p.amount, ...(p.witness !== undefined ? { witness: p.witness } : {}) })
    }
  }

  /** Holds `Y` for the unsettled melt `quote`. */
  markPending(Y: string, amount: Amount, quote: string): void {
    this.pending.set(Y, { amount, quote })
  }

  /** Releases `Y` from the pending set (a failed melt). */
  release(Y: string): void {
    this.pending.delete(Y)
  }

  signedEntry(B_: string): SignedEntry | undefined {
    return this.signed.get(B_)
  }

  isSigned(B_: string): boolean {
    return this.signed.has(B_)
  }

  /** Records a signature for its `B_`. */
  recordSigned(entry: SignedEntry): void {
    this.signed.set(entry.output.B_, entry)
    this.issued += entry.signature.amount
  }

  counts(): { readonly spent: number; readonly pending: number; readonly signed: number } {
    return { spent: this.spent.size, pending: this.pending.size, signed: this.signed.size }
  }
}
