/**
 * Fake bolt11 invoices for the test mint: a BOLT11-shaped human-readable part carrying the amount
 * (`lnbcrt<amount×10>n`, i.e. `amount` sat expressed in the 100-msat `n` multiplier, so clients that read the
 * amount from the invoice — cashu-ts does — see the right one), then `1` and random bech32-charset characters
 * (no checksum, not payable anywhere). The amount is read in the quote's unit. Anything else is refused like an
 * unparseable invoice.
 *
 * @module
 */
import { randomBytes } from "@noble/hashes/utils.js"
import type { Amount } from "../../../src/model/index.js"

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
const PATTERN = /^lnbcrt([1-9][0-9]{0,20})n1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/

/** A fresh, unique fake invoice for `amount` (> 0) in the quote's unit. */
export const fakeInvoice = (amount: Amount): string => {
  const data = Array.from(randomBytes(40), (b) => BECH32[b & 31]).join("")
  return `lnbcrt${amount * 10n}n1${data}`
}

/** The amount of a fake invoice, or `undefined` when `request` is not one. */
export const parseFakeInvoice = (request: string): { readonly amount: Amount } | undefined => {
  const m = PATTERN.exec(request)
  if (m === null) return undefined
  const tenths = BigInt(m[1]!)
  return tenths % 10n === 0n ? { amount: tenths / 10n } : undefined
}
