/**
 * Canonical bytes of projection states: two equal states serialise to the same bytes, so a rebuilt state and
 * an incremental one compare byte for byte.
 *
 * Format: UTF-8 lines separated by `\n`. The first line is a header naming the projection and its version;
 * every further line is one record as canonical JSON (object keys sorted, `undefined` keys left out, integers
 * only, `bigint` as a decimal string), and records come in a fixed order chosen by the projection (sorted
 * keys). Why lines rather than one JSON document: a million-proof state is hundreds of megabytes, more than a
 * JavaScript string may hold, and lines can be written and read in bounded pieces.
 *
 * @module
 */
import { ProjectionStateError } from "../model/index.js"

/** Canonical JSON of a value: sorted object keys, no `undefined`, integers only, bigints as decimal strings. */
export const canonicalJson = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "bigint":
      return `"${value.toString()}"`
    case "boolean":
      return value ? "true" : "false"
    case "number":
      if (!Number.isSafeInteger(value)) throw new RangeError("canonical JSON holds safe integers only")
      return String(value)
    case "object": {
      if (value === null) return "null"
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
      const obj = value as Record<string, unknown>
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`)
  }
}

const CHUNK = 1 << 20

/** Accumulates canonical lines into bytes, a chunk at a time. */
export class LineWriter {
  private readonly parts: Buffer[] = []
  private pending: string[] = []
  private pendingLength = 0
  private first = true

  constructor(projection: string, version: number) {
    this.line({ projection, version })
  }

  /** Appends one record. */
  line(record: unknown): void {
    const text = canonicalJson(record)
    this.pending.push(this.first ? text : `\n${text}`)
    this.first = false
    this.pendingLength += text.length + 1
    if (this.pendingLength >= CHUNK) this.flush()
  }

  private flush(): void {
    if (this.pending.length === 0) return
    this.parts.push(Buffer.from(this.pending.join(""), "utf8"))
    this.pending = []
    this.pendingLength = 0
  }

  /** The bytes written so far. */
  finish(): Uint8Array {
    this.flush()
    return this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true })

/**
 * Reads bytes written by {@link LineWriter}: checks the header names `projection` at `version` and calls
 * `record` with each parsed record line. Throws {@link ProjectionStateError} on anything else.
 */
export const readLines = (
  bytes: Uint8Array,
  projection: string,
  version: number,
  record: (value: unknown) => void,
): void => {
  const fail = (message: string): never => {
    throw new ProjectionStateError({ projection, message })
  }
  let at = 0
  let index = 0
  while (at <= bytes.length) {
    let end = bytes.indexOf(0x0a, at)
    if (end === -1) end = bytes.length
    let value: unknown
    try {
      // Not mint input: a line of a checkpoint the engine wrote and the vault opened.
      // nosemgrep: json-parse-outside-protocol
      value = JSON.parse(decoder.decode(bytes.subarray(at, end)))
    } catch {
      fail(`line ${index + 1} of the serialised state is not JSON`)
    }
    if (index === 0) {
      const h = value as { projection?: unknown; version?: unknown } | null
      if (typeof h !== "object" || h === null || h.projection !== projection || h.version !== version)
        fail("the serialised state belongs to another projection or version")
    } else record(value)
    index++
    at = end + 1
  }
  if (index === 0) fail("the serialised state is empty")
}

/** Field readers for record decoding; each throws {@link ProjectionStateError} on a wrong type. */
export const fields = (projection: string) => {
  const fail = (what: string): never => {
    throw new ProjectionStateError({ projection, message: `malformed serialised state: ${what}` })
  }
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(what)
  const str = (v: unknown, what: string): string => (typeof v === "string" ? v : fail(what))
  const optStr = (v: unknown, what: string): string | undefined =>
    v === undefined ? undefined : str(v, what)
  const int = (v: unknown, what: string): number => (Number.isSafeInteger(v) ? (v as number) : fail(what))
  const optInt = (v: unknown, what: string): number | undefined =>
    v === undefined ? undefined : int(v, what)
  const big = (v: unknown, what: string): bigint =>
    typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v) ? BigInt(v) : fail(what)
  const optBig = (v: unknown, what: string): bigint | undefined =>
    v === undefined ? undefined : big(v, what)
  const bool = (v: unknown, what: string): boolean => (typeof v === "boolean" ? v : fail(what))
  const arr = (v: unknown, what: string): unknown[] => (Array.isArray(v) ? v : fail(what))
  const oneOf = <T extends string>(v: unknown, options: ReadonlyArray<T>, what: string): T =>
    typeof v === "string" && (options as ReadonlyArray<string>).includes(v) ? (v as T) : fail(what)
  return { fail, obj, str, optStr, int, optInt, big, optBig, bool, arr, oneOf }
}
