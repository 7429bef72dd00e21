/**
 * NUT-18 `PaymentRequestPayload`: the JSON the payer sends over a transport (nostr DM content, HTTP POST
 * body) — `{id?, memo?, mint, unit, proofs}`.
 *
 * Parsed with the bounded, bigint-exact {@link parseJson}, so amounts up to 2^64−1 arrive exact. Proofs are
 * checked for shape only (hex lengths, amount range); the payee still has to verify DLEQ, locks and state
 * before counting the money (NUT-18). A witness sent as a JSON object (some wallets do) is normalised to
 * the NUT-00 string form.
 *
 * @module
 */
import { type Amount, DecodeError, type Dleq, MAX_AMOUNT, type Proof } from "../model/index.js"
import { type JsonValue, parseJson, stringifyJson } from "./json.js"
import { DEFAULT_TOKEN_LIMITS, type TokenLimits } from "./limits.js"

/** What the payer sends to fulfil a payment request. */
export interface PaymentRequestPayload {
  /** The request's `id` (`i`), when it had one. */
  readonly id?: string
  readonly memo?: string
  readonly mint: string
  readonly unit: string
  readonly proofs: ReadonlyArray<Proof>
}

const fail = (reason: DecodeError["reason"], message: string, path: string): never => {
  throw new DecodeError({ reason, message, path })
}

type JsonObject = { [key: string]: JsonValue }

const isObject = (v: JsonValue | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v)

const HEX = /^[0-9a-fA-F]*$/

const str = (v: JsonValue | undefined, path: string, max: number): string => {
  if (typeof v !== "string") return fail("schema", "expected a string", path)
  if (v.length > max) fail("limit", "string too long", path)
  return v
}

const optStr = (v: JsonValue | undefined, path: string, max: number): string | undefined =>
  v === undefined || v === null ? undefined : str(v, path, max)

const hex = (v: JsonValue | undefined, path: string, min: number, max: number): string => {
  const s = str(v, path, max)
  if (s.length < min || s.length % 2 !== 0 || !HEX.test(s))
    fail("hex", `expected ${min}-${max} hex characters`, path)
  return s
}

const amount = (v: JsonValue | undefined, path: string): Amount => {
  const a =
    typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : undefined
  if (a === undefined || a < 0n || a > MAX_AMOUNT)
    return fail("amount", "amount must be an integer in [0, 2^64-1]", path)
  return a
}

const dleq = (v: JsonValue, path: string): Dleq => {
  if (!isObject(v)) return fail("schema", "dleq must be an object", path)
  const e = hex(v.e, `${path}.e`, 64, 64)
  const s = hex(v.s, `${path}.s`, 64, 64)
  return v.r === undefined || v.r === null ? { e, s } : { e, s, r: hex(v.r, `${path}.r`, 64, 64) }
}

const proof = (v: JsonValue, path: string, limits: TokenLimits): Proof => {
  if (!isObject(v)) return fail("schema", "a proof must be an object", path)
  const secret = str(v.secret, `${path}.secret`, limits.maxSecretLength)
  if (secret === "") fail("schema", "empty proof secret", `${path}.secret`)
  const out: { -readonly [K in keyof Proof]: Proof[K] } = {
    amount: amount(v.amount, `${path}.amount`),
    id: hex(v.id, `${path}.id`, 2, 66),
    secret,
    C: hex(v.C, `${path}.C`, 66, 66),
  }
  if (v.dleq !== undefined && v.dleq !== null) out.dleq = dleq(v.dleq, `${path}.dleq`)
  if (v.witness !== undefined && v.witness !== null) {
    // NUT-00 carries the witness as a JSON string; accept the object form some wallets send.
    out.witness = isObject(v.witness)
      ? stringifyJson(v.witness)
      : str(v.witness, `${path}.witness`, limits.maxSecretLength)
    if (out.witness.length > limits.maxSecretLength) fail("limit", "witness too long", `${path}.witness`)
  }
  if (v.p2pk_e !== undefined && v.p2pk_e !== null) out.p2pk_e = hex(v.p2pk_e, `${path}.p2pk_e`, 66, 66)
  return out
}

/**
 * Parses a `PaymentRequestPayload` from its JSON text. Unknown keys are ignored; `null` optional fields mean
 * absent.
 *
 * @throws {DecodeError} `json`/`depth`/`duplicate`/`forbidden-key`/`too-large` (JSON), `schema`, `hex`,
 *   `amount` or `limit`.
 */
export const decodePaymentRequestPayload = (
  text: string,
  limits: TokenLimits = DEFAULT_TOKEN_LIMITS,
): PaymentRequestPayload => {
  if (typeof text !== "string") return fail("schema", "expected a string", "")
  const v = parseJson(text, limits)
  if (!isObject(v)) return fail("schema", "payload must be a JSON object", "")
  const max = limits.maxStringLength
  const mint = str(v.mint, "mint", max)
  const unit = str(v.unit, "unit", max)
  if (unit === "") fail("schema", "empty unit", "unit")
  if (!Array.isArray(v.proofs)) return fail("schema", "proofs must be a list", "proofs")
  if (v.proofs.length === 0) fail("schema", "a payload needs at least one proof", "proofs")
  if (v.proofs.length > limits.maxProofs) fail("limit", "too many proofs", "proofs")
  const proofs = v.proofs.map((p, i) => proof(p, `proofs.${i}`, limits))
  const id = optStr(v.id, "id", max)
  const memo = optStr(v.memo, "memo", max)
  return {
    ...(id === undefined ? {} : { id }),
    ...(memo === undefined ? {} : { memo }),
    mint,
    unit,
    proofs,
  }
}

/** Serialises a payload to JSON (amounts as exact integer literals), the inverse of the decoder. */
export const encodePaymentRequestPayload = (p: PaymentRequestPayload): string =>
  stringifyJson({
    id: p.id,
    memo: p.memo,
    mint: p.mint,
    unit: p.unit,
    proofs: p.proofs.map((q) => ({
      amount: q.amount,
      id: q.id,
      secret: q.secret,
      C: q.C,
      dleq: q.dleq,
      witness: q.witness,
      p2pk_e: q.p2pk_e,
    })),
  })
