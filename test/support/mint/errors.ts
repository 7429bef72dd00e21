/**
 * Refusals of the test mint: a Cashu error code plus the text nutshell would send, answered as HTTP 400
 * `{detail, code}` (nutshell's `CashuError` handler). Internal to the test mint; handlers throw it, the router
 * turns it into a response.
 *
 * @module
 */

/** A request the test mint refuses with a Cashu error body. */
export class MintRefusal extends Error {
  constructor(
    readonly code: number,
    readonly detail: string,
    readonly status = 400,
  ) {
    super(detail)
    this.name = "MintRefusal"
  }
}

/** Throws a {@link MintRefusal}; typed `never` so handlers can use it in expressions. */
export const refuse = (code: number, detail: string, status = 400): never => {
  throw new MintRefusal(code, detail, status)
}

/** The codes the test mint emits (nuts `error_codes.md`; nutshell answers 0 for "not found"-style failures). */
export const Code = {
  Generic: 0,
  ProofVerificationFailed: 10001,
  ProofsAlreadySpent: 11001,
  ProofsPending: 11002,
  OutputsAlreadySigned: 11003,
  TransactionUnbalanced: 11005,
  AmountOutOfLimitRange: 11006,
  DuplicateInputs: 11007,
  DuplicateOutputs: 11008,
  MultipleUnits: 11009,
  UnitMismatch: 11010,
  UnitNotSupported: 11013,
  MaxInputsExceeded: 11014,
  MaxOutputsExceeded: 11015,
  KeysetUnknown: 12001,
  KeysetInactive: 12002,
  QuoteNotPaid: 20001,
  QuoteAlreadyIssued: 20002,
  LightningPaymentFailed: 20004,
  QuotePending: 20005,
  InvoiceAlreadyPaid: 20006,
  QuoteExpired: 20007,
  MintSignatureInvalid: 20008,
} as const
