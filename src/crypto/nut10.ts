/**
 * NUT-10 well-known secrets: `["<kind>", {"nonce": str, "data": str, "tags": [[key, value…], …]}]`.
 *
 * Parsing is strict and bounded, because a secret that the mint reads as a spending condition while the wallet
 * reads it as plain (or the reverse) is a way to lose or steal money:
 * - a secret whose first non-blank character is not `[` is a plain secret (what wallets normally generate);
 * - anything starting with `[` is meant as a well-known secret and must be valid JSON of exactly the shape
 *   above (kind a non-empty string, nonce and data strings, tags absent/null or an array of arrays of
 *   1…{@link MAX_TAG_ITEMS} non-empty strings), otherwise a tagged {@link DecodeError};
 * - sizes are bounded: {@link MAX_SECRET_LENGTH} code units, {@link MAX_TAGS} tags.
 * Unknown keys inside the object are ignored (the secret string, not a re-encoding of it, is what gets signed).
 *
 * @module
 */
import { DecodeError } from "../model/index.js"

/** Longest secret accepted (UTF-16 code units), the same bound the token decoder applies. */
export const MAX_SECRET_LENGTH = 16 * 1024
/** Most tags one well-known secret may carry. */
export const MAX_TAGS = 64
/** Most strings (key included) one tag may carry. */
export const MAX_TAG_ITEMS = 64

/** One tag: its key followed by zero or more values, all non-empty strings. */
export type Tag = readonly [string, ...string[]]

/** A parsed NUT-10 well-known secret. */
export interface WellKnownSecret {
  readonly type: "well-known"
  /** Condition kind, e.g. `P2PK` or `HTLC` (any non-empty string is kept; the caller decides support). */
  readonly kind: string
  readonly nonce: string
  readonly data: string
  /** Tags in their original order; `[]` when the secret has none. */
  readonly tags: ReadonlyArray<Tag>
}

/** A secret that is not a well-known secret (e.g. 64 random hex characters). */
export interface PlainSecret {
  readonly type: "plain"
}

/** Result of {@link parseSecret}. */
export type ParsedSecret = WellKnownSecret | PlainSecret

/** The fields needed to encode a well-known secret. */
export interface SecretFields {
  readonly kind: string
  readonly nonce: string
  readonly data: string
  readonly tags?: ReadonlyArray<Tag>
}

const PLAIN: PlainSecret = { type: "plain" }

const schemaError = (message: string, path?: string): DecodeError =>
  new DecodeError(path === undefined ? { reason: "schema", message } : { reason: "schema", message, path })

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const validateTags = (raw: unknown): ReadonlyArray<Tag> => {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) throw schemaError("secret tags must be an array", "1.tags")
  if (raw.length > MAX_TAGS) {
    throw new DecodeError({
      reason: "limit",
      message: `secret has more than ${MAX_TAGS} tags`,
      path: "1.tags",
    })
  }
  const tags: Tag[] = []
  for (let i = 0; i < raw.length; i++) {
    const tag: unknown = raw[i]
    const path = `1.tags.${i}`
    if (!Array.isArray(tag) || tag.length === 0) throw schemaError("a tag must be a non-empty array", path)
    if (tag.length > MAX_TAG_ITEMS) {
      throw new DecodeError({ reason: "limit", message: `a tag has more than ${MAX_TAG_ITEMS} items`, path })
    }
    for (const item of tag) {
      if (typeof item !== "string" || item.length === 0) {
        throw schemaError("tag items must be non-empty strings", path)
      }
    }
    tags.push(tag as unknown as Tag)
  }
  return tags
}

const validateFields = (kind: unknown, body: unknown): WellKnownSecret => {
  if (typeof kind !== "string" || kind.length === 0)
    throw schemaError("secret kind must be a non-empty string", "0")
  if (!isRecord(body)) throw schemaError("secret body must be an object", "1")
  const { nonce, data } = body
  if (typeof nonce !== "string") throw schemaError("secret nonce must be a string", "1.nonce")
  if (typeof data !== "string") throw schemaError("secret data must be a string", "1.data")
  return { type: "well-known", kind, nonce, data, tags: validateTags(body.tags) }
}

/**
 * Classifies a proof secret: a {@link WellKnownSecret} when it is NUT-10 JSON, `{type: "plain"}` otherwise.
 * Fails with a {@link DecodeError} when the secret is too long or starts like a well-known secret but is not
 * a valid one.
 */
export const parseSecret = (secret: string): ParsedSecret => {
  if (secret.length > MAX_SECRET_LENGTH) {
    throw new DecodeError({ reason: "too-large", message: `secret is longer than ${MAX_SECRET_LENGTH}` })
  }
  if (!secret.trimStart().startsWith("[")) return PLAIN
  let json: unknown
  try {
    // Not mint input: a NUT-10 secret, length-capped above, shape-checked below, no amounts.
    // nosemgrep: json-parse-outside-protocol
    json = JSON.parse(secret)
  } catch {
    throw new DecodeError({
      reason: "json",
      message: "secret starts like a NUT-10 secret but is not valid JSON",
    })
  }
  if (!Array.isArray(json) || json.length !== 2)
    throw schemaError("a NUT-10 secret must be a [kind, body] pair")
  return validateFields(json[0], json[1])
}

/** Like {@link parseSecret} but a plain secret is a {@link DecodeError} too (for code that needs a condition). */
export const parseWellKnownSecret = (secret: string): WellKnownSecret => {
  const parsed = parseSecret(secret)
  if (parsed.type === "plain") throw schemaError("secret is not a NUT-10 well-known secret")
  return parsed
}

/**
 * The canonical secret string `["<kind>",{"nonce":…,"data":…,"tags":[…]}]` (no whitespace, keys in that order,
 * `tags` always present). Invalid fields are a {@link DecodeError}, so nothing unparsable is ever produced.
 */
export const encodeSecret = (fields: SecretFields): string => {
  const checked = validateFields(fields.kind, {
    nonce: fields.nonce,
    data: fields.data,
    tags: fields.tags ?? [],
  })
  const out = JSON.stringify([checked.kind, { nonce: checked.nonce, data: checked.data, tags: checked.tags }])
  if (out.length > MAX_SECRET_LENGTH) {
    throw new DecodeError({
      reason: "too-large",
      message: `encoded secret is longer than ${MAX_SECRET_LENGTH}`,
    })
  }
  return out
}

/** All tags with the given key, in order. */
export const tagsWithKey = (secret: Pick<WellKnownSecret, "tags">, key: string): ReadonlyArray<Tag> =>
  secret.tags.filter((t) => t[0] === key)

/** True when two tag lists are identical (same order, same strings) — the NUT-11 SIG_ALL comparison. */
export const sameTags = (a: ReadonlyArray<Tag>, b: ReadonlyArray<Tag>): boolean =>
  a.length === b.length &&
  a.every((tag, i) => {
    const other = b[i]!
    return tag.length === other.length && tag.every((item, j) => item === other[j])
  })
