/**
 * NUT-18 `creqA` payment requests: `"creqA" + base64url(CBOR(PaymentRequest))`.
 *
 * Decoding is lenient where the ecosystem is: the prefix is matched case-insensitively (NUT-26 says so), the
 * body may use the standard or the URL-safe base64 alphabet, padded or not (two spec vectors use the standard
 * alphabet), and a CBOR `undefined` field means absent (two spec vectors carry `"g": undefined`). Everything
 * else is strict and bounded. Encoding writes URL-safe base64 with padding and the vectors' key order, which
 * reproduces the spec's URL-safe vectors byte for byte.
 *
 * @module
 */
import { base64nopad, base64url, base64urlnopad } from "@scure/base"
import { DecodeError } from "../model/index.js"
import { decodeCbor, encodeCbor } from "./cbor.js"
import type { InputLimits } from "./limits.js"
import {
  DEFAULT_PAYMENT_REQUEST_LIMITS,
  type PaymentRequest,
  type PaymentRequestLimits,
  paymentRequestFromRaw,
  paymentRequestToRaw,
  validatePaymentRequest,
} from "./payment-request.js"

/** The NUT-18 version prefix (matched case-insensitively when decoding). */
export const CREQA_PREFIX = "creqA"

const URL_SAFE = /^[A-Za-z0-9_-]*$/
const STANDARD = /^[A-Za-z0-9+/]*$/

/**
 * Decodes base64 in either alphabet, with or without (correct) padding. Mixed alphabets, misplaced padding
 * and impossible lengths are rejected.
 */
const decodeBase64Loose = (text: string): Uint8Array => {
  const bad = (): never => {
    throw new DecodeError({ reason: "base64", message: "creqA body is not valid base64" })
  }
  let body = text
  const eq = text.indexOf("=")
  if (eq >= 0) {
    body = text.slice(0, eq)
    const pad = text.slice(eq)
    if (pad.length > 2 || pad !== "=".repeat(pad.length) || text.length % 4 !== 0) bad()
  }
  if (body.length % 4 === 1) bad()
  const coder = URL_SAFE.test(body) ? base64urlnopad : STANDARD.test(body) ? base64nopad : undefined
  if (coder === undefined) return bad()
  try {
    return coder.decode(body)
  } catch {
    // e.g. non-zero padding bits; @scure/base's message may quote input, so it is not forwarded.
    return bad()
  }
}

const cborLimits = (limits: PaymentRequestLimits): InputLimits => ({
  maxBytes: limits.maxInputLength,
  // request → t → transport → g → tuple → string
  maxDepth: 8,
  maxItems: limits.maxInputLength,
  maxIntegerDigits: 20,
  maxStringLength: limits.maxStringLength,
})

/**
 * Decodes a `creqA…` string.
 *
 * @throws {DecodeError} `too-large`, `prefix`, `base64`, `cbor`/`depth`/`duplicate`/`forbidden-key`
 *   (CBOR), `schema`, `amount` or `limit`.
 */
export const decodeCreqA = (
  encoded: string,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): PaymentRequest => {
  if (typeof encoded !== "string") throw new DecodeError({ reason: "schema", message: "expected a string" })
  if (encoded.length > limits.maxInputLength) {
    throw new DecodeError({ reason: "too-large", message: "payment request too long" })
  }
  if (encoded.slice(0, CREQA_PREFIX.length).toLowerCase() !== "creqa") {
    throw new DecodeError({ reason: "prefix", message: "payment request does not start with creqA" })
  }
  const bytes = decodeBase64Loose(encoded.slice(CREQA_PREFIX.length))
  const raw = decodeCbor(bytes, cborLimits(limits), { allowUndefined: true })
  return paymentRequestFromRaw(raw, limits)
}

/**
 * Encodes `req` as `creqA` + URL-safe, padded base64 of its CBOR.
 *
 * @throws {DecodeError} when `req` breaks the model's rules or `limits` (see `validatePaymentRequest`), or
 *   the result would be longer than `limits.maxInputLength`.
 */
export const encodeCreqA = (
  req: PaymentRequest,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): string => {
  validatePaymentRequest(req, limits)
  const out = CREQA_PREFIX + base64url.encode(encodeCbor(paymentRequestToRaw(req)))
  // Never emit what our own decoder (with the same limits) would refuse.
  if (out.length > limits.maxInputLength) {
    throw new DecodeError({ reason: "limit", message: "encoded payment request exceeds maxInputLength" })
  }
  return out
}
