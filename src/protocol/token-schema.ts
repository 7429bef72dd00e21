/**
 * The shape rules a token must satisfy, shared by the v3 (JSON) and v4 (CBOR) codecs so both versions accept
 * and reject the same things: amounts are integers in [0, 2^64), hex fields are well-formed and of the right
 * byte length, secrets are non-empty and bounded, no secret appears twice, and the token carries at least one
 * proof. Plain code rather than a Schema: it runs inside the hot decode loop.
 *
 * @module
 */
import { DecodeError, type Dleq, MAX_AMOUNT, type Proof } from "../model/index.js"
import { DEFAULT_TOKEN_LIMITS, type TokenLimits } from "./limits.js"

/** Byte length of a compressed secp256k1 point (`C`, `p2pk_e`). */
export const POINT_BYTES = 33
/** Byte length of a v1 keyset id (`00…`) and of a v4 short id (the first 8 bytes of a longer id). */
export const SHORT_ID_BYTES = 8
/** Byte length of a full v2 keyset id. */
export const FULL_ID_BYTES = 33
/** DLEQ scalars (`e`, `s`, `r`) are at most 32 bytes. */
export const SCALAR_MAX_BYTES = 32

/** Fails with a tagged {@link DecodeError}; never includes the offending value (it may be a secret). */
export const reject = (reason: DecodeError["reason"], message: string, path?: string): never => {
  throw path === undefined ? new DecodeError({ reason, message }) : new DecodeError({ reason, message, path })
}

/**
 * Matches a lone UTF-16 surrogate (in `u` mode a proper pair is one code point and does not match). Such text
 * has no UTF-8 form, so a secret containing one could never be hashed the way the mint hashes it.
 */
export const LONE_SURROGATE = /\p{Cs}/u

/** The effective limits: defaults overridden field by field. */
export const tokenLimits = (overrides?: Partial<TokenLimits>): TokenLimits =>
  overrides === undefined ? DEFAULT_TOKEN_LIMITS : { ...DEFAULT_TOKEN_LIMITS, ...overrides }

/** True when a keyset id of `bytes` bytes is one of the accepted lengths. */
export const isKeysetIdLength = (bytes: number): boolean =>
  bytes === SHORT_ID_BYTES || bytes === FULL_ID_BYTES

/** Mint URLs are compared as strings, so both codecs strip trailing `/` (NUT-00: "MUST be normalized"). */
export const normaliseMint = (mint: string): string => {
  let end = mint.length
  while (end > 0 && mint.charCodeAt(end - 1) === 47) end--
  return end === mint.length ? mint : mint.slice(0, end)
}

/**
 * Where a value sits, built only when something fails: hot loops hand out a closure instead of formatting a
 * dotted path for every field of every proof.
 */
export type Path = () => string

/** The root path (top-level fields). */
export const ROOT: Path = () => ""

/** `path` + `.field` (or just `field` at the root). */
export const pathOf = (path: Path, field: string): string => {
  const base = path()
  return base === "" ? field : `${base}.${field}`
}

/**
 * Checks an amount from the model (encode side): a `bigint` in [0, 2^64).
 */
export const checkAmount = (amount: unknown, path: Path): bigint => {
  if (typeof amount !== "bigint") return reject("amount", "amount must be a bigint", pathOf(path, "amount"))
  if (amount < 0n || amount > MAX_AMOUNT)
    return reject("amount", "amount must be in [0, 2^64)", pathOf(path, "amount"))
  return amount
}

/**
 * Converts a JSON amount (a safe integer `number` or a `bigint` from the bounded parser) to a `bigint` in
 * [0, 2^64). Floats, NaN, negatives and out-of-range values fail with reason `amount`.
 */
export const amountFromJson = (value: unknown, path: Path): bigint => {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      return reject("amount", "amount must be an integer", pathOf(path, "amount"))
    if (value < 0) return reject("amount", "amount must not be negative", pathOf(path, "amount"))
    return BigInt(value)
  }
  if (typeof value === "bigint") {
    if (value < 0n) return reject("amount", "amount must not be negative", pathOf(path, "amount"))
    if (value > MAX_AMOUNT) return reject("amount", "amount must be below 2^64", pathOf(path, "amount"))
    return value
  }
  return reject("amount", "amount must be an integer", pathOf(path, "amount"))
}

// Native regex scanning beats a JS char loop here; even length is checked separately.
const LOWER_HEX = /^[0-9a-f]*$/
const ANY_HEX = /^[0-9a-fA-F]*$/

/**
 * Validates the hex field `field` of the object at `path` and returns it lowercase. `accepts(byteLength)`
 * decides which lengths are valid. Used by the v3 decoder and by both encoders (the model holds hex strings).
 */
export const normaliseHex = (
  value: unknown,
  field: string,
  accepts: (bytes: number) => boolean,
  path: Path,
): string => {
  if (typeof value !== "string") return reject("schema", `${field} must be a hex string`, pathOf(path, field))
  // The lowercase test first: it is the common case and then no copy is made.
  const lower = LOWER_HEX.test(value)
  if (value.length % 2 !== 0 || !(lower || ANY_HEX.test(value)))
    return reject("hex", `${field} is not valid hex`, pathOf(path, field))
  if (!accepts(value.length / 2))
    return reject("schema", `${field} has the wrong length`, pathOf(path, field))
  return lower ? value : value.toLowerCase()
}

/** Length rule of `C` and `p2pk_e`. */
export const isPointLength = (bytes: number): boolean => bytes === POINT_BYTES
/** Length rule of DLEQ `e`, `s`, `r`. */
export const isScalarLength = (bytes: number): boolean => bytes > 0 && bytes <= SCALAR_MAX_BYTES

/** A failed {@link ProofTally} check: the caller attaches the path. */
export interface TallyProblem {
  readonly reason: DecodeError["reason"]
  readonly message: string
}

const TOO_MANY: TallyProblem = { reason: "limit", message: "token has too many proofs" }
const EMPTY_SECRET: TallyProblem = { reason: "schema", message: "secret must not be empty" }
const LONG_SECRET: TallyProblem = { reason: "limit", message: "secret is too long" }
const DUPLICATE_SECRET: TallyProblem = { reason: "duplicate", message: "two proofs share the same secret" }

/**
 * Running checks over all proofs of one token: the proof count bound and secret uniqueness (a token that
 * names the same secret twice is either corrupt or an attempt to make a wallet count one proof twice).
 */
export class ProofTally {
  count = 0
  private readonly secrets = new Set<string>()
  constructor(readonly limits: TokenLimits) {}

  /**
   * Registers one more proof with `secret` (`secretLength` in the codec's unit). Returns the problem, if any,
   * instead of throwing so hot loops need not build an error path up front.
   */
  add(secret: string, secretLength: number): TallyProblem | undefined {
    if (++this.count > this.limits.maxProofs) return TOO_MANY
    if (secret.length === 0) return EMPTY_SECRET
    if (secretLength > this.limits.maxSecretLength) return LONG_SECRET
    const before = this.secrets.size
    this.secrets.add(secret)
    return this.secrets.size === before ? DUPLICATE_SECRET : undefined
  }
}

type MutableProof = { -readonly [K in keyof Proof]: Proof[K] }

/**
 * Checks one proof handed to an encoder (it may come from untyped JS) and returns it with lowercase hex
 * fields; `path` names it in errors. Registers its secret with `tally`.
 */
export const normaliseProof = (p: unknown, path: Path, tally: ProofTally): Proof => {
  if (typeof p !== "object" || p === null) return reject("schema", "proof must be an object", path())
  const q = p as Proof
  const amount = checkAmount(q.amount, path)
  const id = normaliseHex(q.id, "id", isKeysetIdLength, path)
  const secret = q.secret
  if (typeof secret !== "string" || LONE_SURROGATE.test(secret))
    reject("schema", "secret must be a well-formed string", pathOf(path, "secret"))
  const problem = tally.add(secret, secret.length)
  if (problem !== undefined) reject(problem.reason, problem.message, pathOf(path, "secret"))
  const out: MutableProof = { amount, id, secret, C: normaliseHex(q.C, "C", isPointLength, path) }
  if (q.dleq !== undefined) {
    const d = q.dleq as unknown
    if (typeof d !== "object" || d === null) reject("schema", "dleq must be an object", pathOf(path, "dleq"))
    const { e, s, r } = d as Dleq
    const dleqPath: Path = () => pathOf(path, "dleq")
    const dleq: { -readonly [K in keyof Dleq]: Dleq[K] } = {
      e: normaliseHex(e, "e", isScalarLength, dleqPath),
      s: normaliseHex(s, "s", isScalarLength, dleqPath),
    }
    if (r !== undefined) dleq.r = normaliseHex(r, "r", isScalarLength, dleqPath)
    out.dleq = dleq
  }
  if (q.witness !== undefined) {
    if (typeof q.witness !== "string" || LONE_SURROGATE.test(q.witness))
      reject("schema", "witness must be a well-formed string", pathOf(path, "witness"))
    out.witness = q.witness
  }
  if (q.p2pk_e !== undefined) out.p2pk_e = normaliseHex(q.p2pk_e, "p2pk_e", isPointLength, path)
  return out
}
