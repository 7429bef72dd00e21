/**
 * The engine's logger: an Effect `Logger` that turns every log call made while the engine runs (its own
 * `Effect.logInfo("operation.completed")` with annotations, and the warnings of its infrastructure) into a
 * secret-free {@link LogRecord} (`./record.ts`), formatted as JSON or for people, and hands the line to a
 * sink: standard error by default, a file, or a function of the caller's.
 *
 * Configuration: `Engine.open({ logging: { level, format, sink, file } })`; what it leaves unset comes from the
 * environment (`CORECASHU_LOG_LEVEL`, `CORECASHU_LOG_FORMAT`, `CORECASHU_LOG_FILE`), then the defaults (level
 * `warn`, JSON, standard error) — a library prints nothing but warnings unless asked.
 *
 * @module
 */
import { openSync, writeSync } from "node:fs"
import { type Cause, Effect, Logger, type LogLevel, References } from "effect"
import {
  formatJson,
  formatPretty,
  LOG_LEVELS,
  type LogLevelName,
  type LogRecord,
  safeFields,
} from "./record.js"

/** Where log lines go, and how they look. */
export interface LoggingOptions {
  /** The lowest level written (default `warn`; `off` writes nothing). */
  readonly level?: LogLevelName | "off"
  /** `json` (default: one object per line) or `pretty`. */
  readonly format?: "json" | "pretty"
  /**
   * Receives each line (without a newline) and its record. Default: standard error, or `file` when given.
   * Called synchronously; it must not throw (a throw is swallowed: logging never fails an operation).
   */
  readonly sink?: (line: string, record: LogRecord) => void
  /** Append lines to this file instead of standard error (ignored when `sink` is given). */
  readonly file?: string
}

/** The options after the environment and the defaults filled them in. */
export interface ResolvedLogging {
  readonly level: LogLevelName | "off"
  readonly format: "json" | "pretty"
  readonly write: (line: string, record: LogRecord) => void
}

const isLevel = (s: string | undefined): s is LogLevelName | "off" =>
  s === "off" || (LOG_LEVELS as ReadonlyArray<string>).includes(s ?? "")

/**
 * One append-mode descriptor per log file and process, opened on first use and kept (engines open and close
 * many times in one process; each line is one `write` on an `O_APPEND` descriptor, so processes sharing a
 * file do not cut each other's lines).
 */
const files = new Map<string, number>()
const appendFd = (file: string): number => {
  let fd = files.get(file)
  if (fd === undefined) {
    fd = openSync(file, "a", 0o600)
    files.set(file, fd)
  }
  return fd
}

/** Fills `options` in from the environment and the defaults. */
export const resolveLogging = (
  options: LoggingOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedLogging => {
  const envLevel = env.CORECASHU_LOG_LEVEL?.toLowerCase()
  const level = options.level ?? (isLevel(envLevel) ? envLevel : "warn")
  const format = options.format ?? (env.CORECASHU_LOG_FORMAT === "pretty" ? "pretty" : "json")
  const file = options.file ?? env.CORECASHU_LOG_FILE
  const write =
    options.sink ??
    (file !== undefined && file !== ""
      ? (line: string) => {
          writeSync(appendFd(file), `${line}\n`)
        }
      : (line: string) => {
          process.stderr.write(`${line}\n`)
        })
  return { level, format, write }
}

const EFFECT_LEVEL: Record<LogLevelName | "off", LogLevel.LogLevel> = {
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error",
  fatal: "Fatal",
  off: "None",
}

const OUR_LEVEL: Partial<Record<LogLevel.LogLevel, LogLevelName>> = {
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
  Fatal: "fatal",
}

/** The message of a log call as one string (the first part: our calls pass one constant name). */
const messageOf = (message: unknown): string => {
  const first = Array.isArray(message) ? message[0] : message
  return typeof first === "string" ? first : "log"
}

/** The `_tag`s of a cause's failures and defects (never their messages). */
const errorTags = (cause: Cause.Cause<unknown>): string[] => {
  const tags: string[] = []
  for (const r of cause.reasons) {
    const e = r._tag === "Fail" ? r.error : r._tag === "Die" ? r.defect : undefined
    if (r._tag === "Interrupt") tags.push("Interrupted")
    else if (e !== null && typeof e === "object" && typeof (e as { _tag?: unknown })._tag === "string")
      tags.push((e as { _tag: string })._tag)
    else if (e !== undefined) tags.push(r._tag === "Die" ? "Defect" : "Failure")
  }
  return tags
}

/** The Effect logger writing secret-free records through `logging`. */
export const engineLogger = (logging: ResolvedLogging): Logger.Logger<unknown, void> =>
  Logger.make(({ message, logLevel, cause, fiber, date }) => {
    const level = OUR_LEVEL[logLevel]
    if (level === undefined) return
    const errors = errorTags(cause)
    const record: LogRecord = {
      time: date.getTime(),
      level,
      message: messageOf(message),
      fields: safeFields(fiber.getRef(References.CurrentLogAnnotations)),
      ...(errors.length > 0 ? { errors } : {}),
    }
    try {
      logging.write(logging.format === "pretty" ? formatPretty(record) : formatJson(record), record)
    } catch {
      // Logging never fails an operation.
    }
  })

/**
 * Runs `effect` with the engine's logger as the only logger and its level as the minimum: every log call
 * inside — the engine's and its infrastructure's — goes through the whitelist.
 */
export const withEngineLogging = (
  logging: ResolvedLogging,
): (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) => {
  const loggers = new Set([engineLogger(logging)]) as ReadonlySet<Logger.Logger<unknown, unknown>>
  const level = EFFECT_LEVEL[logging.level]
  return (effect) =>
    effect.pipe(
      Effect.provideService(Logger.CurrentLoggers, loggers),
      Effect.provideService(References.MinimumLogLevel, level),
    )
}
