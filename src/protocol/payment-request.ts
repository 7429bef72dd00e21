/**
 * The payment request model (NUT-18), shared by both wire encodings: `creqA` (CBOR, NUT-18) and `creqb`
 * (bech32m TLV, NUT-26).
 *
 * One normalised shape for both: amounts are `bigint`, absent and empty fields are simply absent (an empty
 * `m`/`t`/`g` list carries no information and NUT-26 cannot express it), and nostr targets stay NIP-19
 * strings as NUT-18 writes them. This module also holds the NUT-18 "raw" JSON/CBOR shape (`i`, `a`, `u`, …)
 * and its checked conversion, and the hard limits every decoder and encoder enforces.
 *
 * @module
 */
import { type Amount, DecodeError, MAX_AMOUNT } from "../model/index.js"

/** A tag tuple `[key, value, value, …]` (NUT-18 transport tags `g`, NUT-10 tags `t`). */
export type TagTuple = readonly [string, ...string[]]

/** Transport types NUT-18 defines; others are carried as-is in `creqA` (NUT-26 can only encode these two). */
export type TransportType = "nostr" | "post" | (string & {})

/** How the payer sends the payload. No transport at all means in-band (e.g. the `X-Cashu` header). */
export interface PaymentRequestTransport {
  readonly type: TransportType
  /** `nostr`: an `nprofile`/`npub`; `post`: the endpoint URL. */
  readonly target: string
  readonly tags?: ReadonlyArray<TagTuple>
}

/** The NUT-10 lock the payee requires on the proofs (kind, data and tags of a well-known secret). */
export interface PaymentRequestNut10 {
  /** `P2PK`, `HTLC`, … */
  readonly kind: string
  readonly data: string
  readonly tags?: ReadonlyArray<TagTuple>
}

/** A decoded payment request (NUT-18 / NUT-26). Every field is optional on the wire. */
export interface PaymentRequest {
  readonly id?: string
  readonly amount?: Amount
  /** Required whenever `amount` is set (NUT-18 MUST). */
  readonly unit?: string
  readonly singleUse?: boolean
  readonly mints?: ReadonlyArray<string>
  readonly description?: string
  /** In order of the payee's preference. */
  readonly transports?: ReadonlyArray<PaymentRequestTransport>
  readonly nut10?: PaymentRequestNut10
}

/** Hard limits for decoding and encoding payment requests. */
export interface PaymentRequestLimits {
  /** Longest accepted encoded request (characters, prefix included). */
  readonly maxInputLength: number
  readonly maxMints: number
  readonly maxTransports: number
  /** Most tag tuples per transport and in `nut10` (nostr relays count as tags). */
  readonly maxTags: number
  /** Most values after the key in one tag tuple. */
  readonly maxTagValues: number
  /** Longest string field (id, unit, URL, description, tag entry, NUT-10 data), in UTF-16 code units. */
  readonly maxStringLength: number
}

/** Defaults: 32 KiB input, 64 mints, 16 transports, 64 tags of up to 32 values, 4096-character strings. */
export const DEFAULT_PAYMENT_REQUEST_LIMITS: PaymentRequestLimits = {
  maxInputLength: 32 * 1024,
  maxMints: 64,
  maxTransports: 16,
  maxTags: 64,
  maxTagValues: 32,
  maxStringLength: 4096,
}

const fail = (reason: DecodeError["reason"], message: string, path?: string): never => {
  throw new DecodeError(path === undefined ? { reason, message } : { reason, message, path })
}

// A lone surrogate has no UTF-8 form: encoding would silently turn it into U+FFFD.
const LONE_SURROGATE = /\p{Cs}/u

const checkString = (v: unknown, path: string, limits: PaymentRequestLimits): string => {
  if (typeof v !== "string") return fail("schema", "expected a string", path)
  if (v.length > limits.maxStringLength) fail("limit", "string too long", path)
  if (LONE_SURROGATE.test(v)) fail("schema", "string is not well-formed Unicode", path)
  return v
}

const checkTags = (tags: ReadonlyArray<TagTuple>, path: string, limits: PaymentRequestLimits): void => {
  if (!Array.isArray(tags)) fail("schema", "expected a list of tag tuples", path)
  if (tags.length > limits.maxTags) fail("limit", "too many tag tuples", path)
  tags.forEach((tag, i) => {
    if (!Array.isArray(tag) || tag.length === 0)
      fail("schema", "a tag tuple needs at least a key", `${path}.${i}`)
    if (tag.length - 1 > limits.maxTagValues) fail("limit", "too many values in a tag tuple", `${path}.${i}`)
    tag.forEach((s, j) => {
      checkString(s, `${path}.${i}.${j}`, limits)
    })
  })
}

/**
 * Checks a request against the model's rules and `limits`: field types, string lengths, list sizes, amount
 * in `[0, 2^64−1]`, well-formed Unicode, `unit` present (and non-empty) whenever `amount` is, non-empty transport type and
 * non-empty tag tuples. Decoders call it on what they built; encoders on what they are given.
 *
 * @throws {DecodeError} `schema`, `limit` or `amount`, with the model path of the offending field.
 */
export const validatePaymentRequest = (
  req: PaymentRequest,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): PaymentRequest => {
  if (typeof req !== "object" || req === null) fail("schema", "a payment request must be an object")
  if (req.id !== undefined) checkString(req.id, "id", limits)
  if (req.amount !== undefined) {
    if (typeof req.amount !== "bigint") fail("amount", "amount must be a bigint", "amount")
    if (req.amount < 0n || req.amount > MAX_AMOUNT) fail("amount", "amount outside [0, 2^64-1]", "amount")
    if (req.unit === undefined) fail("schema", "a request with an amount must name its unit", "unit")
  }
  if (req.unit !== undefined && checkString(req.unit, "unit", limits) === "")
    fail("schema", "empty unit", "unit")
  if (req.singleUse !== undefined && typeof req.singleUse !== "boolean") {
    fail("schema", "singleUse must be a boolean", "singleUse")
  }
  if (req.mints !== undefined) {
    if (!Array.isArray(req.mints)) fail("schema", "mints must be a list", "mints")
    if (req.mints.length > limits.maxMints) fail("limit", "too many mints", "mints")
    req.mints.forEach((m, i) => {
      checkString(m, `mints.${i}`, limits)
    })
  }
  if (req.description !== undefined) checkString(req.description, "description", limits)
  if (req.transports !== undefined) {
    if (!Array.isArray(req.transports)) fail("schema", "transports must be a list", "transports")
    if (req.transports.length > limits.maxTransports) fail("limit", "too many transports", "transports")
    req.transports.forEach((t, i) => {
      const path = `transports.${i}`
      if (typeof t !== "object" || t === null) fail("schema", "a transport must be an object", path)
      if (checkString(t.type, `${path}.type`, limits) === "")
        fail("schema", "empty transport type", `${path}.type`)
      checkString(t.target, `${path}.target`, limits)
      if (t.tags !== undefined) checkTags(t.tags, `${path}.tags`, limits)
    })
  }
  if (req.nut10 !== undefined) {
    const n = req.nut10
    if (typeof n !== "object" || n === null) fail("schema", "nut10 must be an object", "nut10")
    checkString(n.kind, "nut10.kind", limits)
    checkString(n.data, "nut10.data", limits)
    if (n.tags !== undefined) checkTags(n.tags, "nut10.tags", limits)
  }
  return req
}

/** A NUT-18 transport as written in JSON/CBOR. */
export interface RawTransport {
  readonly t: string
  readonly a: string
  readonly g?: ReadonlyArray<ReadonlyArray<string>>
}

/** A NUT-18 NUT-10 option as written in JSON/CBOR. */
export interface RawNut10Option {
  readonly k: string
  readonly d: string
  readonly t?: ReadonlyArray<ReadonlyArray<string>>
}

/** A NUT-18 payment request as written in JSON/CBOR (the spec's and the vectors' shape). */
export interface RawPaymentRequest {
  readonly t?: ReadonlyArray<RawTransport>
  readonly i?: string
  /** A `number` when it is a safe integer, else a `bigint` (the JSON/CBOR decoders' convention). */
  readonly a?: number | bigint
  readonly u?: string
  readonly m?: ReadonlyArray<string>
  readonly d?: string
  readonly s?: boolean
  readonly nut10?: RawNut10Option
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

// CBOR `undefined` (some encoders write it for absent fields) and `null` both mean "absent".
const absent = (v: unknown): boolean => v === undefined || v === null

const rawList = (v: unknown, path: string): ReadonlyArray<unknown> | undefined => {
  if (absent(v)) return undefined
  if (!Array.isArray(v)) return fail("schema", "expected a list", path)
  return v.length === 0 ? undefined : v
}

const rawTags = (v: unknown, path: string): TagTuple[] | undefined =>
  rawList(v, path)?.map((tag, i) => {
    if (!Array.isArray(tag) || tag.length === 0)
      return fail("schema", "a tag tuple needs at least a key", `${path}.${i}`)
    for (let j = 0; j < tag.length; j++) {
      if (typeof tag[j] !== "string") fail("schema", "tag tuple entries must be strings", `${path}.${i}.${j}`)
    }
    return tag as unknown as TagTuple
  })

const rawString = (v: unknown, path: string): string | undefined => {
  if (absent(v)) return undefined
  if (typeof v !== "string") return fail("schema", "expected a string", path)
  return v
}

const rawAmount = (v: unknown): Amount | undefined => {
  if (absent(v)) return undefined
  if (typeof v === "bigint") return v
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v)
  return fail("amount", "amount must be a non-negative integer", "a")
}

/**
 * Builds the model from a decoded NUT-18 object (`i`, `a`, `u`, `s`, `m`, `d`, `t`, `nut10`). Unknown keys
 * are ignored (forward compatibility); `null`/`undefined` and empty lists mean absent.
 *
 * @throws {DecodeError} `schema`, `amount` or `limit` (see {@link validatePaymentRequest}).
 */
export const paymentRequestFromRaw = (
  raw: unknown,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): PaymentRequest => {
  if (!isRecord(raw)) return fail("schema", "a payment request must be a map")
  // Bound list sizes before walking them; validatePaymentRequest re-checks the built model.
  const mints = rawList(raw.m, "m")
  if (mints !== undefined && mints.length > limits.maxMints) fail("limit", "too many mints", "m")
  const transports = rawList(raw.t, "t")
  if (transports !== undefined && transports.length > limits.maxTransports)
    fail("limit", "too many transports", "t")
  const out: {
    -readonly [K in keyof PaymentRequest]: PaymentRequest[K]
  } = {}
  const id = rawString(raw.i, "i")
  if (id !== undefined) out.id = id
  const amount = rawAmount(raw.a)
  if (amount !== undefined) out.amount = amount
  const unit = rawString(raw.u, "u")
  if (unit !== undefined) out.unit = unit
  if (!absent(raw.s)) {
    if (typeof raw.s !== "boolean") fail("schema", "s must be a boolean", "s")
    out.singleUse = raw.s as boolean
  }
  if (mints !== undefined)
    out.mints = mints.map((m, i) => rawString(m, `m.${i}`) ?? fail("schema", "null mint", `m.${i}`))
  const description = rawString(raw.d, "d")
  if (description !== undefined) out.description = description
  if (transports !== undefined) {
    out.transports = transports.map((t, i): PaymentRequestTransport => {
      const path = `t.${i}`
      if (!isRecord(t)) return fail("schema", "a transport must be a map", path)
      const type = rawString(t.t, `${path}.t`) ?? fail("schema", "transport type missing", `${path}.t`)
      const target = rawString(t.a, `${path}.a`) ?? fail("schema", "transport target missing", `${path}.a`)
      const tags = rawTags(t.g, `${path}.g`)
      return tags === undefined ? { type, target } : { type, target, tags }
    })
  }
  if (!absent(raw.nut10)) {
    const n = raw.nut10
    if (!isRecord(n)) return fail("schema", "nut10 must be a map", "nut10")
    const kind = rawString(n.k, "nut10.k") ?? fail("schema", "nut10 kind missing", "nut10.k")
    const data = rawString(n.d, "nut10.d") ?? fail("schema", "nut10 data missing", "nut10.d")
    const tags = rawTags(n.t, "nut10.t")
    out.nut10 = tags === undefined ? { kind, data } : { kind, data, tags }
  }
  return validatePaymentRequest(out, limits)
}

/**
 * The NUT-18 object for `req`, keys in the order the spec's vectors were written (`t i a u m d s nut10`,
 * transports `t a g`, NUT-10 `k d t`) so `creqA` output matches them byte for byte. Empty lists are omitted;
 * amounts are numbers when safe, else bigints.
 */
export const paymentRequestToRaw = (req: PaymentRequest): RawPaymentRequest => {
  const out: { -readonly [K in keyof RawPaymentRequest]: RawPaymentRequest[K] } = {}
  if (req.transports !== undefined && req.transports.length > 0) {
    out.t = req.transports.map((t) =>
      t.tags !== undefined && t.tags.length > 0
        ? { t: t.type, a: t.target, g: t.tags }
        : { t: t.type, a: t.target },
    )
  }
  if (req.id !== undefined) out.i = req.id
  if (req.amount !== undefined) {
    out.a = req.amount <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(req.amount) : req.amount
  }
  if (req.unit !== undefined) out.u = req.unit
  if (req.mints !== undefined && req.mints.length > 0) out.m = req.mints
  if (req.description !== undefined) out.d = req.description
  if (req.singleUse !== undefined) out.s = req.singleUse
  if (req.nut10 !== undefined) {
    const { kind, data, tags } = req.nut10
    out.nut10 = tags !== undefined && tags.length > 0 ? { k: kind, d: data, t: tags } : { k: kind, d: data }
  }
  return out
}
