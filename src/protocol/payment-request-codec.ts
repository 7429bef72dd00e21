/**
 * One entry point for a scanned or received payment request, whichever encoding it uses.
 *
 * NUT-26: a `creq` value starting with `creqA` (any case) is NUT-18 CBOR+base64; one that is bech32m with HRP
 * `creqb` is NUT-26; anything else is an error. Kept apart from the model module so the two codecs can
 * import the model without an import cycle.
 *
 * @module
 */
import { DecodeError } from "../model/index.js"
import {
  DEFAULT_PAYMENT_REQUEST_LIMITS,
  type PaymentRequest,
  type PaymentRequestLimits,
} from "./payment-request.js"
import { decodeCreqA, encodeCreqA } from "./payment-request-creqa.js"
import { decodeCreqB, encodeCreqB } from "./payment-request-creqb.js"

/** The two wire encodings of a payment request. */
export type PaymentRequestEncoding = "creqA" | "creqb"

/** Which encoding `encoded` claims by its prefix (case-insensitive), or `undefined` for neither. */
export const paymentRequestEncodingOf = (encoded: string): PaymentRequestEncoding | undefined => {
  const head = encoded.slice(0, 6).toLowerCase()
  if (head.startsWith("creqa")) return "creqA"
  if (head === "creqb1") return "creqb"
  return undefined
}

/**
 * Decodes a `creqA…` or `creqb1…`/`CREQB1…` payment request.
 *
 * @throws {DecodeError} `prefix` for neither prefix; otherwise whatever the matching decoder raises.
 */
export const decodePaymentRequest = (
  encoded: string,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): PaymentRequest => {
  if (typeof encoded !== "string") throw new DecodeError({ reason: "schema", message: "expected a string" })
  if (encoded.length > limits.maxInputLength) {
    throw new DecodeError({ reason: "too-large", message: "payment request too long" })
  }
  switch (paymentRequestEncodingOf(encoded)) {
    case "creqA":
      return decodeCreqA(encoded, limits)
    case "creqb":
      return decodeCreqB(encoded, limits)
    default:
      throw new DecodeError({ reason: "prefix", message: "not a payment request (expected creqA or creqb1)" })
  }
}

/**
 * Encodes `req` in the chosen encoding (`creqb`, uppercase, is the compact QR-friendly one).
 *
 * @throws {DecodeError} see `encodeCreqA` / `encodeCreqB`.
 */
export const encodePaymentRequest = (
  req: PaymentRequest,
  encoding: PaymentRequestEncoding,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): string => (encoding === "creqA" ? encodeCreqA(req, limits) : encodeCreqB(req, limits))
