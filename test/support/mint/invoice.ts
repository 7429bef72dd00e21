/**
 * The test mint's invoices: real, signed BOLT #11 regtest invoices (`lnbcrt<amount×10>n1…`), as a reference
 * mint's fake Lightning backend issues them (nutshell's FakeWallet, CDK's fakewallet), so a wallet that decodes
 * and checks the invoice (the engine's melt does) sees a valid one. Written by the test-side encoder
 * (`../bolt11-encode.ts`), read back with the project's decoder (`decodeBolt11`).
 *
 * Units: the invoice states `amount` sat (in the 100-msat `n` multiplier), whatever the quote's unit; the
 * mint reads it back as `amount` in the quote's unit. For `sat` that is exact; for other units it is a
 * convention of this fake (a wallet does not check fiat amounts against the invoice).
 *
 * Each invoice has a random payment hash and secret, the description "corecashu test mint", and is signed
 * by a fixed test node key (the payee the decoder recovers: {@link TEST_NODE_PUBKEY}).
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { randomBytes } from "@noble/hashes/utils.js"
import { bytesToHex, hexToBytes } from "../../../src/crypto/bytes.js"
import type { Amount } from "../../../src/model/index.js"
import { type Bolt11Invoice, decodeBolt11 } from "../../../src/protocol/bolt11.js"
import { amountOfMsat, encodeInvoice } from "../bolt11-encode.js"

/** The test mint's Lightning node key (fixed, test only). */
const TEST_NODE_KEY = hexToBytes("1111111111111111111111111111111111111111111111111111111111111111")
/** The payee of every test-mint invoice, compressed hex. */
export const TEST_NODE_PUBKEY = bytesToHex(secp256k1.getPublicKey(TEST_NODE_KEY, true))

/** Options of {@link fakeInvoice}. */
export interface FakeInvoiceOptions {
  /** Creation time, Unix seconds (default: now, by the system clock). */
  readonly timestamp?: number
  /** `x` field (default: absent, i.e. 3600 s). */
  readonly expirySeconds?: number
  /** State this exact amount in millisatoshis instead of `amount` sat (e.g. a sub-satoshi amount). */
  readonly amountMsat?: bigint
  /** Leave the amount out (an amountless invoice; the test mint refuses to quote it). */
  readonly amountless?: boolean
  /** Sign with another node key (32 bytes). */
  readonly privateKey?: Uint8Array
}

/** A fresh, unique, signed regtest invoice for `amount` (> 0) in the quote's unit (see the module comment). */
export const fakeInvoice = (amount: Amount, options: FakeInvoiceOptions = {}): string =>
  encodeInvoice({
    network: "regtest",
    amount:
      options.amountless === true
        ? undefined
        : options.amountMsat !== undefined
          ? amountOfMsat(options.amountMsat)
          : { digits: amount * 10n, multiplier: "n" },
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    ...(options.expirySeconds !== undefined ? { expirySeconds: options.expirySeconds } : {}),
    paymentHash: randomBytes(32),
    paymentSecret: randomBytes(32),
    description: "corecashu test mint",
    privateKey: options.privateKey ?? TEST_NODE_KEY,
  })

/**
 * The amount of an invoice the test mint can pay, or `undefined` when `request` is not one: not a valid
 * BOLT #11 invoice (checksum, signature, required fields: `decodeBolt11`), not regtest, or without an amount.
 * A sub-satoshi amount rounds up to whole satoshis (as nutshell quotes it). Expiry is not checked here: the
 * test mint quotes an expired invoice, so a wallet's own expiry check can be seen.
 */
export const parseFakeInvoice = (
  request: string,
): { readonly amount: Amount; readonly invoice: Bolt11Invoice } | undefined => {
  let invoice: Bolt11Invoice
  try {
    invoice = decodeBolt11(request)
  } catch {
    return undefined
  }
  if (invoice.network !== "regtest" || invoice.amountMsat === undefined) return undefined
  return { amount: (invoice.amountMsat + 999n) / 1000n, invoice }
}
