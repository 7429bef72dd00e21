/**
 * Cashu tokens (NUT-00): the text forms `cashuA…` (v3, JSON) and `cashuB…` (v4, CBOR), optionally behind a
 * `cashu:` URI scheme, and the raw binary form `crawB…`.
 *
 * Every function here treats its input as hostile: sizes, depth, counts and string lengths are bounded by
 * {@link TokenLimits} (overridable per call), and the only exceptions that can leave are the project's tagged
 * errors — {@link DecodeError} (and {@link KeysetError} when short keyset ids are resolved). An unexpected
 * exception from below is converted to a `DecodeError` (reason `schema`) as a last resort.
 *
 * @module
 */
import { Effect } from "effect"
import { DecodeError, isCorecashuError, KeysetError, type Proof, type Token } from "../model/index.js"
import { base64Decode, base64UrlEncode } from "./base64.js"
import type { TokenLimits } from "./limits.js"
import { reject, tokenLimits } from "./token-schema.js"
import { decodeV3Body, encodeV3Json } from "./token-v3.js"
import { decodeV4Body, encodeV4Body } from "./token-v4.js"

/** Options for {@link decodeToken} and {@link decodeTokenBytes}. */
export interface DecodeTokenOptions {
  /** Tighter (or looser) limits than {@link DEFAULT_TOKEN_LIMITS}, field by field. `maxBytes` bounds the token text (or raw bytes). */
  readonly limits?: Partial<TokenLimits>
  /**
   * Full keyset ids the wallet knows for this mint. When given, short v4 keyset ids are resolved with
   * {@link resolveShortKeysetIds} (which may fail with a {@link KeysetError}).
   */
  readonly keysetIds?: Iterable<string>
}

/** Options for {@link encodeToken}. */
export interface EncodeTokenOptions {
  /** Token version: 4 (`cashuB`, default; exactly one mint) or 3 (`cashuA`, deprecated; several mints allowed). */
  readonly version?: 3 | 4
  /** Append `=` padding to the base64 (default false; decoders must accept both). */
  readonly pad?: boolean
}

const RAW_PREFIX = [0x63, 0x72, 0x61, 0x77] // "craw"
const utf8 = new TextEncoder()
const VERSION_A = 0x41
const VERSION_B = 0x42

/** Runs `f`, letting tagged errors through and turning anything else into a DecodeError. */
const guard = <A>(f: () => A): A => {
  try {
    return f()
  } catch (e) {
    if (isCorecashuError(e)) throw e
    throw new DecodeError({ reason: "schema", message: "token could not be processed" })
  }
}

const decodeText = (input: string, opts: DecodeTokenOptions | undefined): Token => {
  if (typeof input !== "string") return reject("schema", "token must be a string")
  const limits = tokenLimits(opts?.limits)
  if (input.length > limits.maxBytes) return reject("too-large", "token is too large")
  // NUT-00 URI form `cashu:cashuB…`; URI schemes are case-insensitive.
  let i = 0
  if (input.length >= 6 && input.charCodeAt(5) === 58 && input.slice(0, 5).toLowerCase() === "cashu") i = 6
  if (!input.startsWith("cashu", i)) return reject("prefix", "token must start with cashuA or cashuB")
  const version = input.charCodeAt(i + 5)
  if (version === VERSION_B) return decodeV4Body(base64Decode(input, i + 6), 0, limits, idResolver(opts))
  if (version === VERSION_A) {
    const token = decodeV3Body(base64Decode(input, i + 6), limits)
    return opts?.keysetIds === undefined ? token : resolveShortKeysetIds(token, opts.keysetIds)
  }
  return reject("version", "unsupported token version")
}

const decodeRaw = (bytes: Uint8Array, opts: DecodeTokenOptions | undefined): Token => {
  if (!(bytes instanceof Uint8Array)) return reject("schema", "raw token must be a Uint8Array")
  const limits = tokenLimits(opts?.limits)
  if (bytes.length > limits.maxBytes) return reject("too-large", "token is too large")
  if (bytes.length < 5 || RAW_PREFIX.some((c, k) => bytes[k] !== c))
    return reject("prefix", "raw token must start with craw")
  if (bytes[4] !== VERSION_B) return reject("version", "unsupported raw token version")
  return decodeV4Body(bytes, 5, limits, idResolver(opts))
}

/**
 * Decodes a token string: `cashuA…` (v3) or `cashuB…` (v4), with or without a `cashu:` URI prefix, base64 in
 * the URL-safe or standard alphabet, padded or not. Hex fields come back lowercase, amounts as `bigint`, the
 * mint URL without trailing `/`. Short v4 keyset ids are kept as given unless `opts.keysetIds` is passed.
 *
 * @throws {DecodeError} on anything malformed or beyond the limits (with `reason` and, where useful, `path`).
 * @throws {KeysetError} only when `opts.keysetIds` is given and a short id is ambiguous or unknown.
 */
export const decodeToken = (input: string, opts?: DecodeTokenOptions): Token =>
  guard(() => decodeText(input, opts))

/**
 * Decodes a raw binary v4 token: `"craw" || "B" || cbor(token)`.
 *
 * @throws {DecodeError}, or {@link KeysetError} as for {@link decodeToken}.
 */
export const decodeTokenBytes = (bytes: Uint8Array, opts?: DecodeTokenOptions): Token =>
  guard(() => decodeRaw(bytes, opts))

/**
 * Encodes a token as a string: v4 `cashuB…` by default (exactly one mint entry; proofs grouped by keyset id,
 * ids written exactly as given so short ids stay short), or v3 `cashuA…` with `{ version: 3 }`. Trailing `/`
 * of mint URLs is stripped. The base64 is URL-safe, unpadded unless `pad` is set.
 *
 * @throws {DecodeError} reason `version` when a v4 token does not have exactly one mint entry; other reasons
 * when a field is invalid (the encoder never produces a token the decoder would reject for its shape).
 */
export const encodeToken = (token: Token, opts?: EncodeTokenOptions): string =>
  guard(() => {
    const pad = opts?.pad === true
    const limits = tokenLimits()
    if (opts?.version === 3) return "cashuA" + base64UrlEncode(utf8.encode(encodeV3Json(token, limits)), pad)
    if (opts?.version !== undefined && opts.version !== 4)
      return reject("version", "token version must be 3 or 4")
    return "cashuB" + base64UrlEncode(encodeV4Body(token, limits), pad)
  })

/**
 * Encodes a token (exactly one mint entry) as raw binary v4: `"craw" || "B" || cbor(token)`.
 *
 * @throws {DecodeError} as for {@link encodeToken}.
 */
export const encodeTokenBytes = (token: Token): Uint8Array =>
  guard(() => {
    const body = encodeV4Body(token, tokenLimits())
    const out = new Uint8Array(body.length + 5)
    out.set(RAW_PREFIX)
    out[4] = VERSION_B
    out.set(body, 5)
    return out
  })

/** True for an 8-byte id that is not a v1 (`00…`) id: the short form of a longer id. */
const isShortId = (id: string): boolean => id.length === 16 && !id.startsWith("00")

/**
 * A memoising id mapper over `knownIds`: full and v1 ids map to themselves, a short id to the single known id
 * it prefixes. The known list is read lazily, once.
 */
const shortIdResolver = (knownIds: Iterable<string>): ((id: string) => string) => {
  let known: string[] | undefined
  const resolved = new Map<string, string>()
  return (id) => {
    if (!isShortId(id)) return id
    const hit = resolved.get(id)
    if (hit !== undefined) return hit
    known ??= Array.from(knownIds, (k) => (typeof k === "string" ? k.toLowerCase() : ""))
    let full: string | undefined
    for (const k of known) {
      if (k.length <= id.length || !k.startsWith(id) || k === full) continue
      if (full !== undefined)
        throw new KeysetError({
          reason: "ambiguous-short-id",
          message: "short keyset id matches several known keysets",
          keysetId: id,
        })
      full = k
    }
    if (full === undefined)
      throw new KeysetError({
        reason: "unknown-id",
        message: "short keyset id matches no known keyset",
        keysetId: id,
      })
    resolved.set(id, full)
    return full
  }
}

const idResolver = (opts: DecodeTokenOptions | undefined): ((id: string) => string) | undefined =>
  opts?.keysetIds === undefined ? undefined : shortIdResolver(opts.keysetIds)

/**
 * Returns `token` with every short keyset id (the first 8 bytes of a v2 id, as a v4 token may carry)
 * replaced by the one full id among `knownIds` that starts with it. Full ids and v1 (`00…`) ids are left as
 * they are. Returns the same object when nothing changes.
 *
 * @throws {KeysetError} reason `ambiguous-short-id` when several known ids match (NUT-00: the wallet MUST
 * fail), `unknown-id` when none does.
 */
export const resolveShortKeysetIds = (token: Token, knownIds: Iterable<string>): Token => {
  const resolve = shortIdResolver(knownIds)
  let changed = false
  const entries = token.entries.map((entry) => {
    let entryChanged = false
    const proofs = entry.proofs.map((p): Proof => {
      const id = resolve(p.id)
      if (id === p.id) return p
      entryChanged = true
      return { ...p, id }
    })
    if (!entryChanged) return entry
    changed = true
    return { ...entry, proofs }
  })
  return changed ? { ...token, entries } : token
}

/** {@link decodeToken} as an Effect: fails with the tagged error instead of throwing. */
export const decodeTokenEffect = (
  input: string,
  opts?: DecodeTokenOptions,
): Effect.Effect<Token, DecodeError | KeysetError> =>
  Effect.try({ try: () => decodeToken(input, opts), catch: (e) => e as DecodeError | KeysetError })

/** {@link decodeTokenBytes} as an Effect. */
export const decodeTokenBytesEffect = (
  bytes: Uint8Array,
  opts?: DecodeTokenOptions,
): Effect.Effect<Token, DecodeError | KeysetError> =>
  Effect.try({ try: () => decodeTokenBytes(bytes, opts), catch: (e) => e as DecodeError | KeysetError })

/** {@link encodeToken} as an Effect: fails with a {@link DecodeError} instead of throwing. */
export const encodeTokenEffect = (
  token: Token,
  opts?: EncodeTokenOptions,
): Effect.Effect<string, DecodeError> =>
  Effect.try({ try: () => encodeToken(token, opts), catch: (e) => e as DecodeError })
