/**
 * What the CLI prints and how it fails: one JSON document on standard output with `--json` (amounts as strings
 * of integers), plain lines otherwise; progress on standard error only when it is a terminal; and every failure
 * as one secret-free line on standard error with a documented exit code (see `README.md`, The CLI).
 *
 * @module
 */
import { isCorecashuError } from "../model/index.js"
import { PromptAborted } from "./prompt.js"

/**
 * Exit codes. 0 done; 1 the operation failed and nothing happened (or was refused); 2 usage; 3 the data
 * directory or wallet could not be opened (passphrase, lock, damage, unknown wallet); 4 in doubt or still
 * pending — money may be in flight, `corecashu check` settles it later; 5 the mint could not be reached or
 * answered unusably; 70 an internal error.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  cannotOpen: 3,
  pending: 4,
  mint: 5,
  internal: 70,
} as const

/** A failure the CLI reports itself: a one-line message and its exit code. */
export class CliFailure extends Error {
  readonly exitCode: number
  constructor(exitCode: number, message: string) {
    super(message)
    this.name = "CliFailure"
    this.exitCode = exitCode
  }
}

/** JSON with bigints as strings of integers. */
export const toJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)

/** Writes the one JSON document of a `--json` run. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${toJson(value)}\n`)
}

/** Writes human output lines on standard output. */
export const println = (...lines: ReadonlyArray<string>): void => {
  for (const l of lines) process.stdout.write(`${l}\n`)
}

/** A note for the user on standard error (never data a script parses). */
export const note = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/**
 * What secrets look like, as a last guard on any text the CLI prints from an error: tokens, invoices, long hex
 * (proof secrets, quote ids, keys), and twelve or more lower-case words in a row (a mnemonic).
 */
const SECRET_SHAPES: ReadonlyArray<RegExp> = [
  /\b(?:cashu[AB]|crawB|creq[AB])[A-Za-z0-9_\-+/=]+/g,
  /\bln(?:bc|tb|bcrt|tbs)[0-9a-z]{20,}/gi,
  /\b[0-9a-fA-F]{32,}\b/g,
  /\b(?:[a-z]{3,8}\s+){11,}[a-z]{3,8}\b/g,
]

/** One line, secret shapes replaced by `<redacted>`. */
export const scrub = (text: string): string => {
  let s = text.replace(/\s+/g, " ").trim()
  for (const re of SECRET_SHAPES) s = s.replace(re, "<redacted>")
  return s.length > 300 ? `${s.slice(0, 297)}...` : s
}

const MINT_TAGS = new Set(["MintUnreachable", "MintTimeout", "MintAmbiguous", "MintProtocolError"])
const OPEN_TAGS = new Set([
  "VaultError",
  "StoreLocked",
  "StoreCorrupted",
  "EventCodecError",
  "ProjectionStateError",
  "UnknownWallet",
  "WalletNotOwned",
])
const PENDING_TAGS = new Set(["OperationInDoubt", "RemoteInDoubt"])

/** Hints after the message, by tag: what the user can do next. */
const hint = (e: { readonly _tag: string } & Record<string, unknown>): string => {
  switch (e._tag) {
    case "VaultError":
      return e.reason === "wrong-key" ? " (wrong passphrase?)" : ""
    case "StoreLocked":
      return " (another corecashu process uses this data directory)"
    case "OperationInDoubt":
      return " — nothing is lost: `corecashu check` settles it once the mint answers"
    case "QuoteNotClaimable":
      return e.state === "UNPAID" || e.state === "PENDING"
        ? ` — claim it later with \`corecashu invoice --claim ${String(e.operationId)}\``
        : ""
    case "TokenRejected":
      return e.reason === "unknown-mint" ? " (receive with --trust-mint to trust it)" : ""
    case "UnknownMint":
      return " (add it with `corecashu mints add URL`, or receive with --trust-mint)"
    default:
      return ""
  }
}

/** The exit code and line for anything a command failed with. Never prints a secret. */
export const describeFailure = (e: unknown): { readonly exitCode: number; readonly line: string } => {
  if (e instanceof CliFailure) return { exitCode: e.exitCode, line: scrub(e.message) }
  if (e instanceof PromptAborted) return { exitCode: EXIT.usage, line: "aborted" }
  if (isCorecashuError(e)) {
    const tagged = e as unknown as { readonly _tag: string; readonly message: string } & Record<
      string,
      unknown
    >
    const tag = tagged._tag
    const line = `${tag}: ${scrub(tagged.message)}${hint(tagged)}`
    if (tag === "InvalidArgument") return { exitCode: EXIT.usage, line }
    if (MINT_TAGS.has(tag)) return { exitCode: EXIT.mint, line }
    if (OPEN_TAGS.has(tag)) return { exitCode: EXIT.cannotOpen, line }
    if (PENDING_TAGS.has(tag)) return { exitCode: EXIT.pending, line }
    if (tag === "StoreUnavailable")
      return { exitCode: tagged.reason === "in-doubt" ? EXIT.pending : EXIT.cannotOpen, line }
    if (tag === "QuoteNotClaimable" && (tagged.state === "UNPAID" || tagged.state === "PENDING"))
      return { exitCode: EXIT.pending, line }
    if (tag === "EngineInvariant") return { exitCode: EXIT.internal, line }
    return { exitCode: EXIT.failed, line }
  }
  return { exitCode: EXIT.internal, line: `internal error (${e instanceof Error ? e.name : typeof e})` }
}

/**
 * Progress on standard error while `work` runs — a spinner with the elapsed seconds — only when standard error
 * is a terminal; nothing otherwise. The line is cleared when the work ends.
 */
export const withProgress = async <A>(label: string, work: Promise<A>): Promise<A> => {
  if (process.stderr.isTTY !== true) return work
  const frames = ["|", "/", "-", "\\"]
  const started = Date.now()
  let i = 0
  const draw = () => {
    const secs = Math.floor((Date.now() - started) / 1000)
    process.stderr.write(`\r\u001b[2K${frames[i++ % frames.length]} ${label} ${secs}s`)
  }
  draw()
  const timer = setInterval(draw, 200)
  try {
    return await work
  } finally {
    clearInterval(timer)
    process.stderr.write("\r\u001b[2K")
  }
}
