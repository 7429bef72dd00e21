/**
 * Test support: checks log lines written by the engine's logger (JSON format) for anything secret. Stricter
 * than the logger's own scrubbing (`src/infra/logging/record.ts`), so a hole in either shows: every line must
 * be a JSON object with only the record's keys; no value may hold a hex run of 40+ characters (proof
 * secrets, blinding factors, points, keys, seeds), a Cashu token, a UUID (the test mints' quote ids), four
 * BIP-39 words in a row (a piece of a mnemonic), one of the suites' passphrases, or any string the caller
 * names as secret (quote ids, proof secrets of a run).
 *
 * @module
 */
import { wordlist } from "@scure/bip39/wordlists/english.js"
import { LOG_FIELDS } from "../../src/infra/logging/record.js"

/** One problem in one line. */
export interface LogFinding {
  readonly line: number
  readonly problem: string
}

const KEYS = new Set<string>(["time", "level", "msg", "errors", ...LOG_FIELDS])
const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal"])
const WORDS = new Set(wordlist)
const HEX_RUN = /[0-9a-fA-F]{40,}/
const TOKEN = /cashu[AB][A-Za-z0-9_-]{8,}/
const UUID = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/

/** The test suites' passphrases long enough to search for without false alarms. */
export const SUITE_PASSPHRASES = [
  "test passphrase",
  "correct horse",
  "wrong horse",
  "shared checkpoints",
  "not the passphrase",
  "the right one",
  "default cost",
]

/** Whether `text` holds four BIP-39 words in a row. */
const hasWordRun = (text: string): boolean => {
  let run = 0
  for (const w of text.toLowerCase().split(/[^a-z]+/)) {
    run = w !== "" && WORDS.has(w) ? run + 1 : 0
    if (run >= 4) return true
  }
  return false
}

/** The problems of `lines` (JSON log lines); `secrets`: further strings that must appear nowhere. */
export const scanLogLines = (
  lines: ReadonlyArray<string>,
  secrets: ReadonlyArray<string> = [],
): LogFinding[] => {
  const findings: LogFinding[] = []
  const banned = [...SUITE_PASSPHRASES, ...secrets.filter((s) => s.length >= 8)]
  lines.forEach((text, i) => {
    const line = i + 1
    if (text.trim() === "") return
    let record: unknown
    try {
      record = JSON.parse(text)
    } catch {
      findings.push({ line, problem: "not JSON" })
      return
    }
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      findings.push({ line, problem: "not a JSON object" })
      return
    }
    const o = record as Record<string, unknown>
    for (const k of Object.keys(o)) if (!KEYS.has(k)) findings.push({ line, problem: `unexpected key ${k}` })
    if (typeof o.level !== "string" || !LEVELS.has(o.level)) findings.push({ line, problem: "bad level" })
    if (typeof o.msg !== "string") findings.push({ line, problem: "no message" })
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "object" && v !== null && k !== "errors")
        findings.push({ line, problem: `${k} is not a scalar` })
    }
    if (HEX_RUN.test(text)) findings.push({ line, problem: "a hex run of 40+ characters" })
    if (TOKEN.test(text)) findings.push({ line, problem: "a Cashu token" })
    if (UUID.test(text)) findings.push({ line, problem: "a UUID (a quote id?)" })
    // Per value: a mnemonic leak sits in one string (keys and several short values may be words).
    for (const v of Object.values(o))
      if (typeof v === "string" && hasWordRun(v))
        findings.push({ line, problem: "four BIP-39 words in a row" })
    for (const s of banned) if (text.includes(s)) findings.push({ line, problem: "a named secret" })
  })
  return findings
}
