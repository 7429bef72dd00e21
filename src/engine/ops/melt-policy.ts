/**
 * What a wallet accepts in a melt quote, before anything is reserved: the fee reserve under a cap
 * (a mint that inflates the reserve to keep it is refused) and, for `bolt11`, an invoice that
 * decodes (checksum, signature, required fields: `src/protocol/bolt11.ts`), has not expired, and asks for the
 * quote's amount ({@link checkInvoice}).
 *
 * @module
 */
import { Effect } from "effect"
import { type DecodeError, QuoteRejected } from "../../model/index.js"
import { decodeBolt11Effect, isBolt11Expired } from "../../protocol/bolt11.js"

/**
 * The default fee-reserve cap: 10 % of the amount plus a base of 100 in the unit (100 000 for `msat`, i.e.
 * 100 sat). Why these numbers: honest mints reserve about 1–2 % with a small floor (nutshell: 1 %, at least
 * 2 sat; CDK: 2 %, at least 1–2 sat) and return what the route did not use as NUT-08 change, so this cap
 * never refuses them — while a mint that inflates the reserve to keep it is refused before
 * any proof is reserved. The base keeps small payments payable, where the mint's floor dominates the ratio.
 */
export const DEFAULT_FEE_RESERVE_CAP: {
  /** Percent of the quoted amount. */
  readonly percent: bigint
  /** Flat allowance per unit (units not listed use `otherBase`). */
  readonly base: Readonly<Record<string, bigint>>
  readonly otherBase: bigint
} = { percent: 10n, base: { sat: 100n, msat: 100_000n }, otherBase: 100n }

/** The largest fee reserve accepted by default for a melt of `amount` in `unit` (see the cap's comment). */
export const defaultMaxFeeReserve = (amount: bigint, unit: string): bigint =>
  (amount * DEFAULT_FEE_RESERVE_CAP.percent) / 100n +
  (DEFAULT_FEE_RESERVE_CAP.base[unit] ?? DEFAULT_FEE_RESERVE_CAP.otherBase)

/** Whether a quote of `amount` in `unit` charges what an invoice of `msat` asks (checked for sat and msat). */
export const amountMatches = (amount: bigint, unit: string, msat: bigint): boolean => {
  if (unit === "msat") return amount === msat
  if (unit === "sat") return amount === msat / 1000n || amount === (msat + 999n) / 1000n
  return true // fiat units: the mint's exchange rate is not ours to check
}

/** What {@link checkInvoice} compares the invoice with. */
export interface InvoiceCheck {
  /** The payment method (`bolt11` is checked; other methods' requests are the mint's business). */
  readonly method: string
  /** The quote's unit. */
  readonly unit: string
  /** The amount the mint quoted, in `unit`. */
  readonly quoteAmount: bigint
  /** The engine's clock, Unix seconds. */
  readonly nowSeconds: number
}

/**
 * Checks a melt's payment request against the mint's quote, before anything is recorded. For `bolt11`:
 *
 * - the invoice must decode (`decodeBolt11`: bech32 checksum, payee signature, required fields). A malformed
 *   invoice fails with the decoder's {@link DecodeError} as it is, not a `QuoteRejected`: the invoice is the
 *   caller's input, and the error says what is wrong with it (`reason`, `path`) — the same class a malformed
 *   token gets in `receive` — while `QuoteRejected` says the mint's quote is not acceptable for a valid
 *   request. Like every `DecodeError`, it names no invoice text, hash or secret;
 * - it must not have expired by the engine's clock (`QuoteRejected{expired}`: nobody can pay it);
 * - an invoice with an amount must ask for the quote's amount ({@link amountMatches}; else
 *   `QuoteRejected{amount-mismatch}`). An amountless invoice is not checked: the mint chose the amount.
 *
 * Other methods pass unchecked. `meltQuote` runs this on the mint's answer (the amount check needs the quote):
 * a mint that decodes invoices refuses a malformed one first, with its own code; this is the wallet's own
 * check, for a mint that would quote an invoice it should not.
 */
export const checkInvoice = (
  request: string,
  check: InvoiceCheck,
): Effect.Effect<void, DecodeError | QuoteRejected> =>
  Effect.gen(function* () {
    if (check.method !== "bolt11") return
    const invoice = yield* decodeBolt11Effect(request)
    if (isBolt11Expired(invoice, check.nowSeconds))
      return yield* new QuoteRejected({ reason: "expired", message: "the invoice has expired" })
    if (invoice.amountMsat !== undefined && !amountMatches(check.quoteAmount, check.unit, invoice.amountMsat))
      return yield* new QuoteRejected({
        reason: "amount-mismatch",
        message: `the quote's amount (${check.quoteAmount} ${check.unit}) is not the invoice's`,
      })
  })
