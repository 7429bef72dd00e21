/**
 * Amounts on the wire and in memory.
 *
 * On the JSON wire every amount is an integer literal (NUT-00/01/…: `<int>`); no mint sends amounts as strings,
 * so strings are rejected. {@link parseJson} hands integer literals back as a `number` when they are safe and as a
 * `bigint` beyond 2^53, so the schema accepts exactly those two forms and always decodes to a `bigint` in
 * [0, 2^64). Encoding goes the other way: a `number` while the value is a safe integer, a `bigint` above (which
 * {@link stringifyJson} writes exactly). Floats, negatives, NaN and values ≥ 2^64 are rejected.
 *
 * The only place an amount arrives as text is a keyset's key map (`{"<amount>": "<pubkey>"}`, JSON object keys
 * are strings); {@link parseAmountKey} reads those strictly (canonical decimal only, so `"01"`, `"+1"`, `"0x1"`
 * and `" 1"` — all of which `BigInt()` would accept — cannot alias another key).
 *
 * @module
 */
import { Schema, SchemaTransformation } from "effect"
import { type Amount, AmountError, MAX_AMOUNT } from "../model/index.js"

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** The JSON-safe encoded form of an amount: a safe integer `number`, or a `bigint` above 2^53 − 1. */
export type AmountJson = number | bigint

/** Converts an in-range amount to its JSON-safe form (see {@link AmountJson}). */
export const amountToJson = (amount: Amount): AmountJson => (amount <= MAX_SAFE ? Number(amount) : amount)

const isU64 = Schema.isBetweenBigInt({ minimum: 0n, maximum: MAX_AMOUNT })

/** The decoded side: a `bigint` in [0, 2^64). */
const U64Type = Schema.BigInt.check(isU64)

/** What the bounded JSON parser can produce for an unsigned integer literal. */
const U64Json = Schema.Union([
  Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  Schema.BigInt.check(isU64),
])

/**
 * An unsigned 64-bit integer: decodes a JSON integer (`number` or `bigint`) to a `bigint` in [0, 2^64) and
 * encodes back to {@link AmountJson}. Used for amounts and for other u64 fields (`input_fee_ppk`,
 * `final_expiry`).
 */
export const Uint64Schema = U64Json.pipe(
  Schema.decodeTo(
    U64Type,
    SchemaTransformation.transform<bigint, AmountJson>({
      decode: (n) => BigInt(n),
      encode: amountToJson,
    }),
  ),
)

/** An amount in the unit's minor denomination: {@link Uint64Schema} under its domain name. */
export const AmountSchema = Uint64Schema

/** An amount that must be at least 1 (quote and MPP amounts). */
export const PositiveAmountSchema = AmountSchema.check(Schema.isGreaterThanBigInt(0n))

/**
 * A non-negative integer that must stay a JS `number` (timestamps, TTLs, counts, JSON-RPC ids): a safe integer.
 * Values beyond 2^53 are rejected rather than rounded.
 */
export const SafeUintSchema = Schema.Number.check(
  Schema.isInt(),
  Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
)

const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]{0,19})$/

/**
 * Reads an amount written as a canonical decimal string (a keyset key-map key). Returns `undefined` for anything
 * else — leading zeros, signs, whitespace, hex, or a value ≥ 2^64.
 */
export const parseAmountKey = (text: string): Amount | undefined => {
  if (!CANONICAL_DECIMAL.test(text)) return undefined
  const value = BigInt(text)
  return value <= MAX_AMOUNT ? value : undefined
}

/**
 * Checks that `amount` is a `bigint` in [0, 2^64).
 *
 * @throws {AmountError} `negative` or `overflow`.
 */
export const assertAmount = (amount: bigint, what = "amount"): Amount => {
  if (amount < 0n) throw new AmountError({ reason: "negative", message: `${what} is negative` })
  if (amount > MAX_AMOUNT) throw new AmountError({ reason: "overflow", message: `${what} exceeds 2^64 − 1` })
  return amount
}

/**
 * Sums amounts exactly and checks the total still fits the protocol's u64 (a mint could not represent more).
 *
 * @throws {AmountError} `negative` for a negative term, `overflow` when the sum exceeds 2^64 − 1.
 */
export const sumAmounts = (amounts: Iterable<bigint>): Amount => {
  let total = 0n
  for (const a of amounts) {
    if (a < 0n) throw new AmountError({ reason: "negative", message: "cannot sum a negative amount" })
    total += a
  }
  return assertAmount(total, "sum of amounts")
}
