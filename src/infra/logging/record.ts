/**
 * The engine's log records, secret-free by construction: a record is a fixed event name, a level, a time and
 * fields whose KEYS come from one whitelist ({@link LOG_FIELDS}) and whose values are numbers, booleans,
 * bigints or short strings — every other annotation an Effect carries is dropped, never printed. Messages are
 * the engine's own constant event names (`operation.completed`, `mint.breaker`, …); as a second line of
 * defence every string that reaches a line is scrubbed of what secrets look like here (hex runs of 40+
 * characters: proof secrets, blinding factors, `C`/`Y` points, keys, seeds; Cashu tokens; BIP-39-like word
 * runs; UUIDs, the quote ids of some mints; NUT-17/NUT-04 quote paths). Pure: formatting only, no I/O.
 *
 * @module
 */

/** The six levels, lowest first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const
/** A record's level. */
export type LogLevelName = (typeof LOG_LEVELS)[number]

/** One field's value: no objects, so nothing nested (a proof, a token) can ride along. */
export type LogFieldValue = string | number | boolean | bigint

/**
 * The only field names a record may carry, and why each is safe: ids the engine or the user chose (wallet,
 * operation, node — not quote ids, which are the mint's bearer handles), kinds, outcomes and error tags (from
 * closed unions), mint origins (never paths: quote ids live in paths), counts, sequences, durations, amounts
 * not tied to proofs.
 */
export const LOG_FIELDS = [
  "walletId",
  "operationId",
  "kind",
  "outcome",
  "reason",
  "error",
  "mint",
  "endpoint",
  "state",
  "projection",
  "nodeId",
  "epoch",
  "sequence",
  "count",
  "wallets",
  "durationMs",
  "attempt",
  "unit",
] as const
/** A whitelisted field name. */
export type LogFieldName = (typeof LOG_FIELDS)[number]

const ALLOWED = new Set<string>(LOG_FIELDS)

/** Longest string value kept (longer ones are cut: a field is a tag or an id, never a document). */
const MAX_STRING = 200

/** One log line's content. */
export interface LogRecord {
  /** Epoch ms. */
  readonly time: number
  readonly level: LogLevelName
  /** The event: a constant name such as `operation.completed`. */
  readonly message: string
  readonly fields: Readonly<Partial<Record<LogFieldName, LogFieldValue>>>
  /** The tags of the failures a record carries (a cause's error `_tag`s), never their messages. */
  readonly errors?: ReadonlyArray<string>
}

const HEX_RUN = /[0-9a-fA-F]{40,}/g
const CASHU_TOKEN = /cashu[AB][A-Za-z0-9_\-+/=]+/g
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g
const QUOTE_PATH = /\/quote\/[^/\s]+\/[^\s"']+/g
/** Twelve or more lowercase words of 3–8 letters in a row: what a BIP-39 mnemonic looks like. */
const WORD_RUN = /\b(?:[a-z]{3,8}\s+){11,}[a-z]{3,8}\b/g

/** Masks what looks like a secret in `text` (see the module documentation). */
export const scrub = (text: string): string => {
  const cut = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text
  return cut
    .replace(HEX_RUN, "[redacted]")
    .replace(CASHU_TOKEN, "[redacted-token]")
    .replace(UUID, "[redacted-id]")
    .replace(QUOTE_PATH, "/quote/[redacted]")
    .replace(WORD_RUN, "[redacted-words]")
}

/**
 * Keeps the whitelisted fields of `annotations` with scalar values (strings scrubbed, non-finite numbers
 * dropped); drops everything else.
 */
export const safeFields = (
  annotations: Readonly<Record<string, unknown>>,
): Partial<Record<LogFieldName, LogFieldValue>> => {
  const out: Partial<Record<LogFieldName, LogFieldValue>> = {}
  for (const [key, value] of Object.entries(annotations)) {
    if (!ALLOWED.has(key)) continue
    const name = key as LogFieldName
    if (typeof value === "string") out[name] = scrub(value)
    else if (typeof value === "number" && Number.isFinite(value)) out[name] = value
    else if (typeof value === "boolean" || typeof value === "bigint") out[name] = value
  }
  return out
}

/** One JSON object per line: `{"time":…,"level":…,"msg":…,…fields,"errors":[…]}`; bigints as strings. */
export const formatJson = (r: LogRecord): string => {
  const o: Record<string, unknown> = {
    time: new Date(r.time).toISOString(),
    level: r.level,
    msg: scrub(r.message),
  }
  for (const [k, v] of Object.entries(r.fields)) o[k] = typeof v === "bigint" ? v.toString() : v
  if (r.errors !== undefined && r.errors.length > 0) o.errors = r.errors
  return JSON.stringify(o)
}

const PAD: Record<LogLevelName, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
}

/** A line for people: `2026-12-07T17:50:00.000Z INFO  operation.completed kind=send walletId=alice …`. */
export const formatPretty = (r: LogRecord): string => {
  let line = `${new Date(r.time).toISOString()} ${PAD[r.level]} ${scrub(r.message)}`
  for (const [k, v] of Object.entries(r.fields)) {
    const s = String(v)
    line += ` ${k}=${/[\s"=]/.test(s) ? JSON.stringify(s) : s}`
  }
  if (r.errors !== undefined && r.errors.length > 0) line += ` errors=${r.errors.join(",")}`
  return line
}
