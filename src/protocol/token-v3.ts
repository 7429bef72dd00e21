/**
 * The v3 token body (NUT-00 `cashuA`, deprecated but still received): JSON
 * `{token: [{mint, proofs}], unit?, memo?}`, possibly with several mints.
 *
 * Decoding goes through the bounded {@link parseJson} (exact big integers, no duplicate or `__proto__` keys,
 * depth and size bounds) and then checks the shape with the same rules as v4. Encoding writes keys in the
 * order of the spec's example (`token, unit, memo`; `amount, id, secret, C`), so it reproduces the vector.
 *
 * @module
 */

import type { Dleq, Proof, Token, TokenEntry } from "../model/index.js"
import { type JsonValue, parseJson } from "./json.js"
import type { TokenLimits } from "./limits.js"
import {
  amountFromJson,
  isKeysetIdLength,
  isPointLength,
  isScalarLength,
  LONE_SURROGATE,
  normaliseHex,
  normaliseMint,
  normaliseProof,
  type Path,
  ProofTally,
  pathOf,
  ROOT,
  reject,
} from "./token-schema.js"

type JsonObject = { [key: string]: JsonValue }
type MutableProof = { -readonly [K in keyof Proof]: Proof[K] }

const utf8Fatal = new TextDecoder("utf-8", { fatal: true })

const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v)

/** An optional JSON string field: absent or `null` → undefined. */
const optionalString = (v: JsonValue | undefined, field: string, path: Path): string | undefined => {
  if (v === undefined || v === null) return undefined
  if (typeof v !== "string") return reject("schema", `${field} must be a string`, pathOf(path, field))
  if (LONE_SURROGATE.test(v))
    return reject("schema", `${field} is not well-formed Unicode`, pathOf(path, field))
  return v
}

const dleqFromJson = (v: JsonValue, path: Path): Dleq => {
  if (!isObject(v)) return reject("schema", "dleq must be an object", path())
  const e = normaliseHex(v.e, "e", isScalarLength, path)
  const s = normaliseHex(v.s, "s", isScalarLength, path)
  const r = v.r
  return r === undefined || r === null ? { e, s } : { e, s, r: normaliseHex(r, "r", isScalarLength, path) }
}

const proofFromJson = (v: JsonValue, path: Path, tally: ProofTally): Proof => {
  if (!isObject(v)) return reject("schema", "proof must be an object", path())
  const amount = amountFromJson(v.amount, path)
  const id = normaliseHex(v.id, "id", isKeysetIdLength, path)
  const secret = v.secret
  if (typeof secret !== "string") return reject("schema", "secret must be a string", pathOf(path, "secret"))
  if (LONE_SURROGATE.test(secret))
    return reject("schema", "secret is not well-formed Unicode", pathOf(path, "secret"))
  const problem = tally.add(secret, secret.length)
  if (problem !== undefined) reject(problem.reason, problem.message, pathOf(path, "secret"))
  const proof: MutableProof = { amount, id, secret, C: normaliseHex(v.C, "C", isPointLength, path) }
  if (v.dleq !== undefined && v.dleq !== null) proof.dleq = dleqFromJson(v.dleq, () => pathOf(path, "dleq"))
  const witness = optionalString(v.witness, "witness", path)
  if (witness !== undefined) proof.witness = witness
  if (v.p2pk_e !== undefined && v.p2pk_e !== null)
    proof.p2pk_e = normaliseHex(v.p2pk_e, "p2pk_e", isPointLength, path)
  return proof
}

/**
 * Decodes a v3 token body (the bytes after `cashuA`, already base64-decoded).
 *
 * @throws {DecodeError}
 */
export const decodeV3Body = (bytes: Uint8Array, limits: TokenLimits): Token => {
  if (bytes.length > limits.maxBytes) reject("too-large", "token is too large")
  let text: string
  try {
    text = utf8Fatal.decode(bytes)
  } catch {
    return reject("json", "token JSON is not valid UTF-8")
  }
  // A token's only numbers are amounts: `1.0` or `1e3` must not slip through as integers.
  const root = parseJson(text, limits, { integersOnly: true })
  if (!isObject(root)) return reject("schema", "token must be a JSON object")
  const list = root.token
  if (!Array.isArray(list)) return reject("schema", "token must hold a `token` array", "token")
  if (list.length === 0) return reject("schema", "token has no entries", "token")
  if (list.length > limits.maxEntries) return reject("limit", "token has too many entries", "token")
  const tally = new ProofTally(limits)
  const entries: TokenEntry[] = []
  for (let ei = 0; ei < list.length; ei++) {
    const entry = list[ei]!
    const at = `token.${ei}`
    if (!isObject(entry)) return reject("schema", "token entry must be an object", at)
    if (typeof entry.mint !== "string") return reject("schema", "mint must be a string", `${at}.mint`)
    if (LONE_SURROGATE.test(entry.mint))
      return reject("schema", "mint is not well-formed Unicode", `${at}.mint`)
    const mint = normaliseMint(entry.mint)
    if (mint.length === 0) return reject("schema", "mint must not be empty", `${at}.mint`)
    const raw = entry.proofs
    if (!Array.isArray(raw)) return reject("schema", "proofs must be an array", `${at}.proofs`)
    if (raw.length === 0) return reject("schema", "token entry has no proofs", `${at}.proofs`)
    const proofs: Proof[] = []
    for (let pi = 0; pi < raw.length; pi++)
      proofs.push(proofFromJson(raw[pi]!, () => `${at}.proofs.${pi}`, tally))
    entries.push({ mint, proofs })
  }
  const token: { -readonly [K in keyof Token]: Token[K] } = { version: 3, entries }
  const unit = optionalString(root.unit, "unit", ROOT)
  if (unit !== undefined) token.unit = unit
  const memo = optionalString(root.memo, "memo", ROOT)
  if (memo !== undefined) token.memo = memo
  return token
}

/**
 * Serialises a token as v3 JSON text (before base64). Validates every field with the decoder's rules so the
 * output always decodes; several entries (mints) are allowed.
 *
 * @throws {DecodeError}
 */
export const encodeV3Json = (token: Token, limits: TokenLimits): string => {
  if (typeof token !== "object" || token === null) return reject("schema", "token must be an object")
  const entries = token.entries
  if (!Array.isArray(entries) || entries.length === 0)
    return reject("schema", "token has no entries", "entries")
  const tally = new ProofTally({ ...limits, maxProofs: Number.MAX_SAFE_INTEGER })
  const out: string[] = ['{"token":[']
  for (let ei = 0; ei < entries.length; ei++) {
    const entry = entries[ei] as TokenEntry
    const at = `entries.${ei}`
    if (typeof entry !== "object" || entry === null) return reject("schema", "entry must be an object", at)
    if (typeof entry.mint !== "string" || LONE_SURROGATE.test(entry.mint))
      return reject("schema", "mint must be a well-formed string", `${at}.mint`)
    const mint = normaliseMint(entry.mint)
    if (mint.length === 0) return reject("schema", "mint must not be empty", `${at}.mint`)
    const proofs = entry.proofs
    if (!Array.isArray(proofs) || proofs.length === 0)
      return reject("schema", "entry has no proofs", `${at}.proofs`)
    out.push(ei === 0 ? '{"mint":' : ',{"mint":', JSON.stringify(mint), ',"proofs":[')
    for (let pi = 0; pi < proofs.length; pi++) {
      const p = normaliseProof(proofs[pi], () => `${at}.proofs.${pi}`, tally)
      out.push(
        pi === 0 ? '{"amount":' : ',{"amount":',
        p.amount.toString(),
        ',"id":"',
        p.id,
        '","secret":',
        JSON.stringify(p.secret),
        ',"C":"',
        p.C,
        '"',
      )
      if (p.dleq !== undefined) {
        out.push(',"dleq":{"e":"', p.dleq.e, '","s":"', p.dleq.s, '"')
        if (p.dleq.r !== undefined) out.push(',"r":"', p.dleq.r, '"')
        out.push("}")
      }
      if (p.witness !== undefined) out.push(',"witness":', JSON.stringify(p.witness))
      if (p.p2pk_e !== undefined) out.push(',"p2pk_e":"', p.p2pk_e, '"')
      out.push("}")
    }
    out.push("]}")
  }
  out.push("]")
  const unit = token.unit
  if (unit !== undefined) {
    if (typeof unit !== "string" || LONE_SURROGATE.test(unit))
      return reject("schema", "unit must be a well-formed string", "unit")
    out.push(',"unit":', JSON.stringify(unit))
  }
  const memo = token.memo
  if (memo !== undefined) {
    if (typeof memo !== "string" || LONE_SURROGATE.test(memo))
      return reject("schema", "memo must be a well-formed string", "memo")
    out.push(',"memo":', JSON.stringify(memo))
  }
  out.push("}")
  return out.join("")
}
