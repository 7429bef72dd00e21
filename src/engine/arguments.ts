/**
 * The public API's argument checks: every argument of every `Engine` and `Wallet` method is checked here,
 * before anything else runs, and a wrong one fails the call with one tagged error, {@link InvalidArgument}
 * (`argument` names it, `reason` says what is wrong). A failed check starts no operation and appends nothing.
 * The API is typed, but a plain-JavaScript caller (or a cast) can pass anything: a `number` amount, `null`, a
 * misspelt option.
 *
 * The rules:
 * - **Amounts** are `bigint`s in [1, {@link MAX_AMOUNT}] (a fee cap may be 0). A `number` is refused, not
 *   converted: `5` and `5.5` and `2 ** 64` would each need a different answer, and money is not guessed at.
 *   A request's amount is checked before its other fields, so `send({ amount: 5 })` names `request.amount`.
 * - **Mint URLs** are strings of at most 2048 characters that parse as `http:` or `https:` URLs with a host
 *   and no credentials, query or fragment; they come back normalised (trimmed, no trailing slash, NUT-00).
 * - **Units** are 1–32 of `[A-Za-z0-9_-]`, **payment methods** 1–32 of `[a-z0-9_-]` (as the log stores them).
 * - **Ids** (wallet ids, operation ids) are 1–128 of `[A-Za-z0-9._-]`, starting with a letter or digit.
 * - **Tokens and payment requests** are non-empty strings (at most 16 KiB for a request); their content is
 *   the decoders' to judge. **Free text** (memo, description, label) is at most 4096 characters.
 * - **Options objects** are `undefined` or plain objects. A key the method does not know is refused: a
 *   misspelt option (`{ amout: 5n }`, `{ trustmint: true }`) would otherwise be silently ignored and the call
 *   would do something the caller did not ask for. A key whose value is `undefined` counts as absent.
 * - **Counts and durations** are safe integers (counts) or finite numbers (milliseconds) in their range.
 *
 * Messages name the argument, the rule and the type found, never the value: a token, an invoice or a
 * mnemonic passed in the wrong place must not end up in a log line.
 *
 * Every check is a pure function that returns the checked (normalised) value or throws
 * {@link InvalidArgument}; {@link checked} turns a throwing check into an Effect that fails with it.
 *
 * @module
 */
import { Effect } from "effect"
import { LOG_LEVELS } from "../infra/logging/record.js"
import { InvalidArgument } from "../model/index.js"
import { MAX_AMOUNT } from "../model/models.js"
import type { MeltQuoteRequest } from "./ops/melt.js"
import type { MintOptions, MintQuoteRequest } from "./ops/mint.js"
import type { ReceiveOptions } from "./ops/receive.js"
import type { RestoreRequest } from "./ops/restore.js"
import type { SendRequest } from "./ops/send.js"
import type { SplitRequest } from "./ops/split.js"

// ---------------------------------------------------------------------------------------------------------
// Running checks
// ---------------------------------------------------------------------------------------------------------

/** Runs `check`: its value, or a failure with the {@link InvalidArgument} it threw (anything else is a defect). */
export const checked = <A>(check: () => A): Effect.Effect<A, InvalidArgument> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(check())
    } catch (e) {
      if (e instanceof InvalidArgument) return Effect.fail(e)
      throw e
    }
  })

/** What a value is, for messages: its type, never its content. */
export const describeValue = (v: unknown): string => {
  if (v === null) return "null"
  if (Array.isArray(v)) return "an array"
  switch (typeof v) {
    case "undefined":
      return "undefined"
    case "object":
      return "an object"
    case "bigint":
      return "a bigint"
    case "number":
      return Number.isNaN(v) ? "NaN" : "a number"
    case "string":
      return v === "" ? "an empty string" : "a string"
    case "boolean":
      return "a boolean"
    case "function":
      return "a function"
    default:
      return `a ${typeof v}`
  }
}

/** Throws the {@link InvalidArgument} for `argument`. */
export const invalid = (argument: string, reason: string): never => {
  throw new InvalidArgument({ argument, reason, message: `invalid argument ${argument}: ${reason}` })
}

const expected = (argument: string, what: string, v: unknown): never =>
  invalid(argument, `expected ${what}, got ${describeValue(v)}`)

// ---------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------

/** An amount: a bigint in [`min`, MAX_AMOUNT] (`min` 1 unless a zero makes sense, as for a fee cap). */
export const amount = (v: unknown, argument: string, min = 1n): bigint => {
  if (typeof v !== "bigint") return expected(argument, "a bigint amount", v)
  if (v < min) return invalid(argument, min === 1n ? "must be positive" : `must be at least ${min}`)
  if (v > MAX_AMOUNT) return invalid(argument, "must not exceed 2^64 − 1")
  return v
}

const MAX_URL_LENGTH = 2048

/** A mint URL: http(s), a host, no credentials, query or fragment; returned trimmed, without trailing `/`. */
export const mintUrl = (v: unknown, argument = "mintUrl"): string => {
  if (typeof v !== "string") return expected(argument, "a mint URL string", v)
  const trimmed = v.trim().replace(/\/+$/, "")
  if (trimmed === "") return invalid(argument, "must not be empty")
  if (trimmed.length > MAX_URL_LENGTH)
    return invalid(argument, `must be at most ${MAX_URL_LENGTH} characters`)
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return invalid(argument, "must be an absolute http(s) URL")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return invalid(argument, "must be an http(s) URL")
  if (url.hostname === "") return invalid(argument, "must name a host")
  if (url.username !== "" || url.password !== "") return invalid(argument, "must not hold credentials")
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(trimmed))
    return invalid(argument, "must not hold a query or a fragment")
  if (/\s/.test(trimmed)) return invalid(argument, "must not hold whitespace")
  return trimmed
}

/** An optional mint URL (`undefined`: every mint). */
export const optionalMintUrl = (v: unknown, argument = "mintUrl"): string | undefined =>
  v === undefined ? undefined : mintUrl(v, argument)

const UNIT = /^[A-Za-z0-9_-]{1,32}$/
const METHOD = /^[a-z0-9_-]{1,32}$/
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

const matching = (v: unknown, argument: string, re: RegExp, what: string): string => {
  if (typeof v !== "string") return expected(argument, what, v)
  if (!re.test(v)) return invalid(argument, `must be ${what}`)
  return v
}

/** A currency unit (`sat`, `msat`, `usd`, …). */
export const unit = (v: unknown, argument = "unit"): string =>
  matching(v, argument, UNIT, "a unit name of 1–32 characters [A-Za-z0-9_-]")

/** A payment method (`bolt11`, …). */
export const method = (v: unknown, argument = "method"): string =>
  matching(v, argument, METHOD, "a payment method name of 1–32 characters [a-z0-9_-]")

/** An identifier of ours (a wallet id, an operation id). */
export const id = (v: unknown, argument: string): string =>
  matching(v, argument, ID, "an id of 1–128 characters [A-Za-z0-9._-]")

/** A string of `min`–`max` characters (the content is someone else's to judge). */
export const text = (v: unknown, argument: string, max: number, min = 0): string => {
  if (typeof v !== "string") return expected(argument, "a string", v)
  if (v.length < min) return invalid(argument, "must not be empty")
  if (v.length > max) return invalid(argument, `must be at most ${max} characters`)
  return v
}

/** A boolean. */
export const flag = (v: unknown, argument: string): boolean =>
  typeof v === "boolean" ? v : expected(argument, "a boolean", v)

/** A safe integer in [`min`, `max`]. */
export const integer = (v: unknown, argument: string, min: number, max: number): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) return expected(argument, "an integer", v)
  if (v < min || v > max) return invalid(argument, `must be between ${min} and ${max}`)
  return v
}

/** A duration in milliseconds: a finite, non-negative number. */
export const duration = (v: unknown, argument: string): number => {
  if (typeof v !== "number" || !Number.isFinite(v)) return expected(argument, "a finite number of ms", v)
  if (v < 0) return invalid(argument, "must not be negative")
  return v
}

/** A finite, non-negative number. */
const nonNegative = (v: unknown, argument: string): number => {
  if (typeof v !== "number" || !Number.isFinite(v)) return expected(argument, "a finite number", v)
  if (v < 0) return invalid(argument, "must not be negative")
  return v
}

/** An array of at most `max` items (at least `min`), each checked by `item`. */
export const list = <A>(
  v: unknown,
  argument: string,
  item: (x: unknown, argument: string) => A,
  max: number,
  min = 0,
): A[] => {
  if (!Array.isArray(v)) return expected(argument, "an array", v)
  if (v.length < min) return invalid(argument, min === 1 ? "must not be empty" : `must hold at least ${min}`)
  if (v.length > max) return invalid(argument, `must hold at most ${max} items`)
  return v.map((x, i) => item(x, `${argument}[${i}]`))
}

/** One of `values`. */
export const oneOf = <const T extends string>(v: unknown, argument: string, values: ReadonlyArray<T>): T =>
  typeof v === "string" && (values as ReadonlyArray<string>).includes(v)
    ? (v as T)
    : invalid(argument, `must be one of ${values.join(", ")}`)

const HEX = /^[0-9a-fA-F]*$/

/** A hex string of one of the given lengths (keys): checks the shape only, never echoes it. */
export const hexString = (
  v: unknown,
  argument: string,
  lengths: ReadonlyArray<number>,
  what: string,
): string => {
  if (typeof v !== "string") return expected(argument, what, v)
  if (!lengths.includes(v.length) || !HEX.test(v)) return invalid(argument, `must be ${what}`)
  return v
}

const publicKey = (v: unknown, argument: string): string =>
  hexString(v, argument, [66, 64], "a public key as hex (33-byte compressed or 32-byte x-only)")
const privateKey = (v: unknown, argument: string): string =>
  hexString(v, argument, [64], "a 32-byte private key as hex")

/** An unknown key, named when it looks like an option's name (a key could be anything, even a token). */
const unknownKey = (argument: string, key: string): never =>
  invalid(
    argument,
    /^[A-Za-z_$][\w$]{0,39}$/.test(key) ? `has an unknown key "${key}"` : "has an unknown key",
  )

/** True for `{}`-like objects: not arrays, not class instances, not null. */
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** The keys of `T`, each listed once: a field added to `T` and not here fails to compile. */
type KeyList<T> = { readonly [K in keyof Required<T>]: true }

/**
 * An options object: a plain object whose keys are all in `keys` (undefined-valued keys dropped). Returns
 * its defined fields. `undefined` itself is an empty object when `optional`.
 */
export const options = <T>(
  v: unknown,
  argument: string,
  keys: KeyList<T>,
  optional = true,
): Partial<Record<keyof T, unknown>> => {
  if (v === undefined && optional) return {}
  if (!isPlainObject(v)) return expected(argument, "a plain object", v)
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v)) {
    if (!Object.hasOwn(keys, k)) return unknownKey(argument, k)
    if (v[k] !== undefined) out[k] = v[k]
  }
  return out as Partial<Record<keyof T, unknown>>
}

/** Applies `check` to `v` when it is defined. */
const opt = <A>(v: unknown, check: (x: unknown) => A): A | undefined =>
  v === undefined ? undefined : check(v)

/** `{ key: value }` when `value` is defined, else `{}` (for exact optional properties). */
const field = <K extends string, A>(key: K, value: A | undefined): { [P in K]?: A } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: A }

// ---------------------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------------------

/** Longest free text (memo, description, label). */
export const MAX_TEXT = 4096
/** Longest payment request (a bolt11 invoice with many route hints stays far below). */
export const MAX_REQUEST = 16 * 1024
/** Longest mnemonic (24 words of the longest BIP-39 words, with room for separators). */
const MAX_MNEMONIC = 1024
/** Most units one `addMint` call may trust. */
const MAX_UNITS = 32
/** Most extra keys, pieces or keysets one call may name. */
const MAX_KEYS = 32
const MAX_PIECES = 1000
const MAX_KEYSETS = 1000
const MAX_BATCH = 1000
const MAX_COUNTER = 0xffff_ffff

// ---------------------------------------------------------------------------------------------------------
// The methods' arguments
// ---------------------------------------------------------------------------------------------------------

/** `wallet.addMint(mintUrl, units)`. */
export const addMintArgs = (url: unknown, units: unknown): { mintUrl: string; units: string[] } => ({
  mintUrl: mintUrl(url),
  units: units === undefined ? ["sat"] : list(units, "units", unit, MAX_UNITS, 1),
})

const MINT_QUOTE_KEYS: KeyList<MintQuoteRequest> = {
  mintUrl: true,
  amount: true,
  unit: true,
  method: true,
  description: true,
}

/** `wallet.mintQuote(req)`. */
export const mintQuoteArgs = (req: unknown): MintQuoteRequest => {
  const o = options<MintQuoteRequest>(req, "request", MINT_QUOTE_KEYS, false)
  // The amount first: `{ amount: 5 }` (a number, the plain-JavaScript slip) is named whatever else is missing.
  const checkedAmount = amount(o.amount, "request.amount")
  return {
    mintUrl: mintUrl(o.mintUrl, "request.mintUrl"),
    amount: checkedAmount,
    ...field(
      "unit",
      opt(o.unit, (x) => unit(x, "request.unit")),
    ),
    ...field(
      "method",
      opt(o.method, (x) => method(x, "request.method")),
    ),
    ...field(
      "description",
      opt(o.description, (x) => text(x, "request.description", MAX_TEXT)),
    ),
  }
}

const MINT_OPTION_KEYS: KeyList<MintOptions> = { wait: true, timeoutMs: true }

/** `wallet.mint(operationId, options)`. */
export const mintArgs = (
  operationId: unknown,
  opts: unknown,
): { operationId: string; options: MintOptions } => {
  const op = id(operationId, "operationId")
  const o = options<MintOptions>(opts, "options", MINT_OPTION_KEYS)
  return {
    operationId: op,
    options: {
      ...field(
        "wait",
        opt(o.wait, (x) => flag(x, "options.wait")),
      ),
      ...field(
        "timeoutMs",
        opt(o.timeoutMs, (x) => duration(x, "options.timeoutMs")),
      ),
    },
  }
}

/** An operation id (`melt`, `reclaim`). */
export const operationIdArg = (v: unknown, argument = "operationId"): string => id(v, argument)

const SWAP_KEYS: KeyList<SplitRequest> = {
  mintUrl: true,
  unit: true,
  amount: true,
  target: true,
  purpose: true,
}

/** `wallet.swap(req)`: the unit defaults to `sat`. */
export const swapArgs = (req: unknown): SplitRequest => {
  const o = options<SplitRequest>(req, "request", SWAP_KEYS, false)
  // The amount first: `{ amount: 5 }` (a number, the plain-JavaScript slip) is named whatever else is missing.
  const checkedAmount = amount(o.amount, "request.amount")
  return {
    mintUrl: mintUrl(o.mintUrl, "request.mintUrl"),
    unit: o.unit === undefined ? "sat" : unit(o.unit, "request.unit"),
    amount: checkedAmount,
    ...field(
      "target",
      opt(o.target, (x) => list(x, "request.target", (a, arg) => amount(a, arg), MAX_PIECES)),
    ),
    ...field(
      "purpose",
      opt(o.purpose, (x) => oneOf(x, "request.purpose", ["split", "consolidate"] as const)),
    ),
  }
}

type Lock = NonNullable<SendRequest["lock"]>

const LOCK_KEYS: KeyList<Lock> = {
  pubkey: true,
  pubkeys: true,
  nSigs: true,
  locktime: true,
  refund: true,
  nSigsRefund: true,
  sigflag: true,
  extraTags: true,
  nonce: true,
}

const locktime = (v: unknown, argument: string): number | bigint => {
  if (typeof v === "bigint") return amount(v, argument, 0n)
  return integer(v, argument, 0, Number.MAX_SAFE_INTEGER)
}

const tag = (v: unknown, argument: string): readonly [string, ...string[]] =>
  list(v, argument, (s, arg) => text(s, arg, MAX_TEXT), MAX_KEYS + 1, 1) as unknown as readonly [
    string,
    ...string[],
  ]

/** A NUT-11 lock: its shape and types (what the keys are worth is the P2PK layer's to judge). */
const lockArg = (v: unknown, argument: string): Lock => {
  const o = options<Lock>(v, argument, LOCK_KEYS, false)
  const keys = (k: unknown, arg: string) => list(k, arg, publicKey, MAX_KEYS)
  return {
    pubkey: publicKey(o.pubkey, `${argument}.pubkey`),
    ...field(
      "pubkeys",
      opt(o.pubkeys, (x) => keys(x, `${argument}.pubkeys`)),
    ),
    ...field(
      "nSigs",
      opt(o.nSigs, (x) => integer(x, `${argument}.nSigs`, 1, MAX_KEYS)),
    ),
    ...field(
      "locktime",
      opt(o.locktime, (x) => locktime(x, `${argument}.locktime`)),
    ),
    ...field(
      "refund",
      opt(o.refund, (x) => keys(x, `${argument}.refund`)),
    ),
    ...field(
      "nSigsRefund",
      opt(o.nSigsRefund, (x) => integer(x, `${argument}.nSigsRefund`, 1, MAX_KEYS)),
    ),
    ...field(
      "sigflag",
      opt(o.sigflag, (x) => oneOf(x, `${argument}.sigflag`, ["SIG_INPUTS", "SIG_ALL"] as const)),
    ),
    ...field(
      "extraTags",
      opt(o.extraTags, (x) => list(x, `${argument}.extraTags`, tag, MAX_KEYS)),
    ),
    ...field(
      "nonce",
      opt(o.nonce, (x) => text(x, `${argument}.nonce`, 256, 1)),
    ),
  }
}

const SEND_KEYS: KeyList<SendRequest> = {
  mintUrl: true,
  unit: true,
  amount: true,
  memo: true,
  lock: true,
  forceSwap: true,
}

/** `wallet.send(req)`: the unit defaults to `sat`. */
export const sendArgs = (req: unknown): SendRequest => {
  const o = options<SendRequest>(req, "request", SEND_KEYS, false)
  // The amount first: `{ amount: 5 }` (a number, the plain-JavaScript slip) is named whatever else is missing.
  const checkedAmount = amount(o.amount, "request.amount")
  return {
    mintUrl: mintUrl(o.mintUrl, "request.mintUrl"),
    unit: o.unit === undefined ? "sat" : unit(o.unit, "request.unit"),
    amount: checkedAmount,
    ...field(
      "memo",
      opt(o.memo, (x) => text(x, "request.memo", MAX_TEXT)),
    ),
    ...field(
      "lock",
      opt(o.lock, (x) => lockArg(x, "request.lock")),
    ),
    ...field(
      "forceSwap",
      opt(o.forceSwap, (x) => flag(x, "request.forceSwap")),
    ),
  }
}

const RECEIVE_KEYS: KeyList<ReceiveOptions> = { trustMint: true, privateKeys: true }

/** `wallet.receive(token, options)`. */
export const receiveArgs = (token: unknown, opts: unknown): { token: string; options: ReceiveOptions } => {
  const t = text(token, "token", Number.MAX_SAFE_INTEGER, 1)
  const o = options<ReceiveOptions>(opts, "options", RECEIVE_KEYS)
  return {
    token: t,
    options: {
      ...field(
        "trustMint",
        opt(o.trustMint, (x) => flag(x, "options.trustMint")),
      ),
      ...field(
        "privateKeys",
        opt(o.privateKeys, (x) => list(x, "options.privateKeys", privateKey, MAX_KEYS)),
      ),
    },
  }
}

/** `wallet.checkToken(token)`: a non-empty string (its content is the decoder's to judge). */
export const checkTokenArgs = (token: unknown): string => text(token, "token", Number.MAX_SAFE_INTEGER, 1)

const MELT_QUOTE_KEYS: KeyList<MeltQuoteRequest> = {
  mintUrl: true,
  request: true,
  unit: true,
  method: true,
  maxFeeReserve: true,
}

/** `wallet.meltQuote(req)`. */
export const meltQuoteArgs = (req: unknown): MeltQuoteRequest => {
  const o = options<MeltQuoteRequest>(req, "request", MELT_QUOTE_KEYS, false)
  return {
    mintUrl: mintUrl(o.mintUrl, "request.mintUrl"),
    request: text(o.request, "request.request", MAX_REQUEST, 1),
    ...field(
      "unit",
      opt(o.unit, (x) => unit(x, "request.unit")),
    ),
    ...field(
      "method",
      opt(o.method, (x) => method(x, "request.method")),
    ),
    ...field(
      "maxFeeReserve",
      opt(o.maxFeeReserve, (x) => amount(x, "request.maxFeeReserve", 0n)),
    ),
  }
}

const RESTORE_KEYS: KeyList<RestoreRequest> = {
  mintUrl: true,
  keysetIds: true,
  fromCounter: true,
  batchSize: true,
  emptyBatches: true,
}

/** `wallet.restore(req)`. */
export const restoreArgs = (req: unknown): RestoreRequest => {
  const o = options<RestoreRequest>(req, "request", RESTORE_KEYS, false)
  return {
    mintUrl: mintUrl(o.mintUrl, "request.mintUrl"),
    ...field(
      "keysetIds",
      opt(o.keysetIds, (x) => list(x, "request.keysetIds", (k, arg) => text(k, arg, 128, 1), MAX_KEYSETS)),
    ),
    ...field(
      "fromCounter",
      opt(o.fromCounter, (x) => integer(x, "request.fromCounter", 0, MAX_COUNTER)),
    ),
    ...field(
      "batchSize",
      opt(o.batchSize, (x) => integer(x, "request.batchSize", 1, MAX_BATCH)),
    ),
    ...field(
      "emptyBatches",
      opt(o.emptyBatches, (x) => integer(x, "request.emptyBatches", 1, MAX_BATCH)),
    ),
  }
}

/** `wallet.balance(mintUrl, unit)`. */
export const balanceArgs = (url: unknown, u: unknown): { mintUrl: string | undefined; unit: string } => ({
  mintUrl: optionalMintUrl(url),
  unit: u === undefined ? "sat" : unit(u),
})

/** What `engine.createWallet` takes (re-declared here to keep this module below the engine). */
export interface CreateWalletArgs {
  readonly walletId?: string
  readonly mnemonic?: string
  readonly label?: string
}

const CREATE_WALLET_KEYS: KeyList<CreateWalletArgs> = { walletId: true, mnemonic: true, label: true }

/** `engine.createWallet(opts)`. */
export const createWalletArgs = (opts: unknown): CreateWalletArgs => {
  const o = options<CreateWalletArgs>(opts, "options", CREATE_WALLET_KEYS)
  return {
    ...field(
      "walletId",
      opt(o.walletId, (x) => id(x, "options.walletId")),
    ),
    ...field(
      "mnemonic",
      opt(o.mnemonic, (x) => text(x, "options.mnemonic", MAX_MNEMONIC, 1)),
    ),
    ...field(
      "label",
      opt(o.label, (x) => text(x, "options.label", MAX_TEXT)),
    ),
  }
}

/** `engine.wallet(walletId)`. */
export const walletIdArg = (v: unknown): string => id(v, "walletId")

// ---------------------------------------------------------------------------------------------------------
// Engine.open
// ---------------------------------------------------------------------------------------------------------

/** The keys `Engine.open` takes besides how the log is unlocked. */
const OPEN_KEYS = [
  "dataDir",
  "mintClient",
  "options",
  "now",
  "recover",
  "vault",
  "witness",
  "create",
  "store",
  "telemetry",
  "logging",
] as const
/** NATS server URLs: `nats://`, `tls://`, `ws://` or `wss://` with a host and port. */
const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s/?#]+$/
/** JetStream stream names and subject prefixes: plain tokens (no `.`, `*`, `>` or spaces). */
const JS_NAME = /^[A-Za-z0-9_-]{1,64}$/
/** Bounds of a lease TTL: long enough for a heartbeat (TTL / 3) to cross a busy network, short enough to fail over. */
const MIN_LEASE_TTL_MS = 300
const MAX_LEASE_TTL_MS = 600_000

/** `Engine.open({ store })`: the LevelDB directory (default) or a JetStream stream and its servers. */
const storeArgs = (v: unknown, witness: boolean): void => {
  const kind =
    (isPlainObject(v) ? v.kind : undefined) ?? expected("options.store.kind", '"leveldb" or "jetstream"', v)
  if (kind === "leveldb") {
    options<{ kind: unknown }>(v, "options.store", { kind: true }, false)
    return
  }
  if (kind !== "jetstream") throw expected("options.store.kind", '"leveldb" or "jetstream"', kind)
  if (witness) invalid("options.witness", "head attestations in a witness file are for the directory log")
  const o = options<{
    kind: unknown
    servers: unknown
    stream: unknown
    subjectPrefix: unknown
    replicas: unknown
    node: unknown
  }>(
    v,
    "options.store",
    { kind: true, servers: true, stream: true, subjectPrefix: true, replicas: true, node: true },
    false,
  )
  const servers = typeof o.servers === "string" ? [o.servers] : o.servers
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > 32)
    throw expected("options.store.servers", "a NATS URL or a list of 1–32 of them", o.servers)
  for (const url of servers)
    if (typeof url !== "string" || url.length > 2048 || !NATS_URL.test(url))
      invalid("options.store.servers", "each must be a nats://host:port URL")
  if (o.stream !== undefined && (typeof o.stream !== "string" || !JS_NAME.test(o.stream)))
    invalid("options.store.stream", "must be 1–64 characters [A-Za-z0-9_-]")
  if (
    o.subjectPrefix !== undefined &&
    (typeof o.subjectPrefix !== "string" || !JS_NAME.test(o.subjectPrefix))
  )
    invalid("options.store.subjectPrefix", "must be 1–64 characters [A-Za-z0-9_-]")
  if (o.replicas !== undefined) integer(o.replicas, "options.store.replicas", 1, 5)
  if (o.node !== undefined) {
    // One node of several: it serves only the wallets whose lease it holds (issue #12).
    const n = options<{ id: unknown; leaseTtlMs: unknown; placement: unknown }>(
      o.node,
      "options.store.node",
      { id: true, leaseTtlMs: true, placement: true },
      false,
    )
    if (n.id !== undefined) id(n.id, "options.store.node.id")
    if (n.placement !== undefined && n.placement !== "none" && n.placement !== "rendezvous")
      throw expected("options.store.node.placement", '"none" or "rendezvous"', n.placement)
    if (n.leaseTtlMs !== undefined)
      integer(n.leaseTtlMs, "options.store.node.leaseTtlMs", MIN_LEASE_TTL_MS, MAX_LEASE_TTL_MS)
  }
}

/** How the log is unlocked: exactly one of these. */
const ACCESS_KEYS = ["passphrase", "key", "sealer", "unencrypted", "chainOnly"] as const

const bytes = (v: unknown, argument: string, what: string): Uint8Array =>
  v instanceof Uint8Array ? v : expected(argument, what, v)

const object = (v: unknown, argument: string): object =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? v : expected(argument, "an object", v)

/**
 * `Engine.open(opts)`: the shape of the options (the store, the vault and the mint client judge their own
 * contents). `engineOptions` holds the engine knobs' defaults: an option must be one of them, of the same
 * type (booleans stay booleans; numbers are finite and non-negative).
 */
/** `Engine.open({ telemetry: { otlp } })`: an http(s) URL, a service name, headers, intervals. */
const otlpArgs = (value: unknown): void => {
  const o = options<{
    url: unknown
    serviceName: unknown
    headers: unknown
    exportIntervalMs: unknown
    shutdownTimeoutMs: unknown
  }>(value, "options.telemetry.otlp", {
    url: true,
    serviceName: true,
    headers: true,
    exportIntervalMs: true,
    shutdownTimeoutMs: true,
  })
  text(o.url, "options.telemetry.otlp.url", 2048, 1)
  if (!/^https?:\/\/[^\s/?#]+/.test(o.url as string))
    invalid("options.telemetry.otlp.url", "must be an http(s) URL")
  if (o.serviceName !== undefined) text(o.serviceName, "options.telemetry.otlp.serviceName", 128, 1)
  if (o.headers !== undefined) {
    if (!isPlainObject(o.headers))
      throw expected("options.telemetry.otlp.headers", "a plain object", o.headers)
    for (const [k, v] of Object.entries(o.headers)) text(v, `options.telemetry.otlp.headers.${k}`, 8192, 0)
  }
  if (o.exportIntervalMs !== undefined)
    integer(o.exportIntervalMs, "options.telemetry.otlp.exportIntervalMs", 10, 600_000)
  if (o.shutdownTimeoutMs !== undefined)
    integer(o.shutdownTimeoutMs, "options.telemetry.otlp.shutdownTimeoutMs", 0, 600_000)
}

/** `Engine.open({ logging })`: a level, a format, a sink function or a file. */
const loggingArgs = (value: unknown): void => {
  const l = options<{ level: unknown; format: unknown; sink: unknown; file: unknown }>(
    value,
    "options.logging",
    {
      level: true,
      format: true,
      sink: true,
      file: true,
    },
  )
  if (l.level !== undefined && !["off", ...LOG_LEVELS].includes(l.level as string))
    invalid("options.logging.level", `must be one of off, ${LOG_LEVELS.join(", ")}`)
  if (l.format !== undefined && l.format !== "json" && l.format !== "pretty")
    invalid("options.logging.format", "must be json or pretty")
  if (l.sink !== undefined && typeof l.sink !== "function")
    expected("options.logging.sink", "a function", l.sink)
  if (l.file !== undefined) text(l.file, "options.logging.file", 4096, 1)
}

export const openArgs = (opts: unknown, defaults: object): void => {
  const engineOptions = defaults as Readonly<Record<string, unknown>>
  if (!isPlainObject(opts)) throw expected("options", "a plain object", opts)
  for (const k of Object.keys(opts))
    if (
      !(OPEN_KEYS as ReadonlyArray<string>).includes(k) &&
      !(ACCESS_KEYS as ReadonlyArray<string>).includes(k)
    )
      throw unknownKey("options", k)
  text(opts.dataDir, "options.dataDir", 4096, 1)
  const access = ACCESS_KEYS.filter((k) => opts[k] !== undefined)
  if (access.length !== 1)
    throw invalid("options", `must name exactly one of ${ACCESS_KEYS.join(", ")} (how the log is unlocked)`)
  const passphrase = opts.passphrase
  if (passphrase !== undefined && typeof passphrase !== "string")
    bytes(passphrase, "options.passphrase", "a string or bytes")
  if (typeof passphrase === "string" && passphrase === "") invalid("options.passphrase", "must not be empty")
  if (opts.key !== undefined) bytes(opts.key, "options.key", "32 bytes")
  if (opts.sealer !== undefined) object(opts.sealer, "options.sealer")
  if (opts.unencrypted !== undefined && opts.unencrypted !== true)
    invalid("options.unencrypted", "must be true")
  if (opts.chainOnly !== undefined && opts.chainOnly !== true) invalid("options.chainOnly", "must be true")
  if (opts.mintClient !== undefined) object(opts.mintClient, "options.mintClient")
  if (opts.now !== undefined && typeof opts.now !== "function")
    expected("options.now", "a function", opts.now)
  if (opts.recover !== undefined) flag(opts.recover, "options.recover")
  if (opts.create !== undefined) flag(opts.create, "options.create")
  if (opts.witness !== undefined) text(opts.witness, "options.witness", 4096, 1)
  if (opts.vault !== undefined) {
    const v = options<{ scrypt: unknown; insecureAllowWeakKdf: unknown }>(opts.vault, "options.vault", {
      scrypt: true,
      insecureAllowWeakKdf: true,
    })
    if (v.scrypt !== undefined) {
      const s = options<{ N: unknown; r: unknown; p: unknown }>(v.scrypt, "options.vault.scrypt", {
        N: true,
        r: true,
        p: true,
      })
      for (const k of ["N", "r", "p"] as const) integer(s[k], `options.vault.scrypt.${k}`, 1, 2 ** 32)
    }
    if (v.insecureAllowWeakKdf !== undefined)
      flag(v.insecureAllowWeakKdf, "options.vault.insecureAllowWeakKdf")
  }
  if (opts.store !== undefined) storeArgs(opts.store, opts.witness !== undefined)
  if (opts.telemetry !== undefined) {
    const t = options<{ http: unknown; otlp: unknown }>(opts.telemetry, "options.telemetry", {
      http: true,
      otlp: true,
    })
    if (t.otlp !== undefined) otlpArgs(t.otlp)
    if (t.http !== undefined) {
      const h = options<{ port: unknown; host: unknown }>(t.http, "options.telemetry.http", {
        port: true,
        host: true,
      })
      integer(h.port, "options.telemetry.http.port", 0, 65535)
      if (h.host !== undefined) text(h.host, "options.telemetry.http.host", 255, 1)
    }
  }
  if (opts.logging !== undefined) loggingArgs(opts.logging)
  if (opts.options !== undefined) {
    const o = opts.options
    if (!isPlainObject(o)) throw expected("options.options", "a plain object", o)
    for (const [k, value] of Object.entries(o)) {
      if (!Object.hasOwn(engineOptions, k)) throw unknownKey("options.options", k)
      if (value === undefined) continue
      const def = engineOptions[k]
      if (typeof def === "boolean") flag(value, `options.options.${k}`)
      else if (typeof def === "number") nonNegative(value, `options.options.${k}`)
    }
  }
}

/** `engine.health(options)` (issue #15). */
export const healthArgs = (opts: unknown): void => {
  const o = options<{ probe: unknown; maxProjectionLag: unknown; maxInDoubtAgeMs: unknown }>(
    opts,
    "options",
    {
      probe: true,
      maxProjectionLag: true,
      maxInDoubtAgeMs: true,
    },
  )
  if (o.probe !== undefined) flag(o.probe, "options.probe")
  if (o.maxProjectionLag !== undefined) nonNegative(o.maxProjectionLag, "options.maxProjectionLag")
  if (o.maxInDoubtAgeMs !== undefined) nonNegative(o.maxInDoubtAgeMs, "options.maxInDoubtAgeMs")
}

// ---------------------------------------------------------------------------------------------------------
// Routing (issue #12): engine.remote, connectCluster
// ---------------------------------------------------------------------------------------------------------

/** Options of a routed wallet: how long a call waits for the owner's reply, how often a read is retried. */
export interface RemoteArgs {
  readonly timeoutMs?: number
  readonly readRetries?: number
}

const REMOTE_KEYS: KeyList<RemoteArgs> = { timeoutMs: true, readRetries: true }

/** Bounds of a routed call's timeout, ms. */
const MIN_RPC_TIMEOUT_MS = 50
const MAX_RPC_TIMEOUT_MS = 3_600_000

/** `engine.remote(walletId, options)` and `cluster.wallet(walletId, options)`. */
export const remoteArgs = (walletId: unknown, opts: unknown): { walletId: string; options: RemoteArgs } => {
  const o = options<RemoteArgs>(opts, "options", REMOTE_KEYS)
  return {
    walletId: walletIdArg(walletId),
    options: {
      ...field(
        "timeoutMs",
        opt(o.timeoutMs, (v) => integer(v, "options.timeoutMs", MIN_RPC_TIMEOUT_MS, MAX_RPC_TIMEOUT_MS)),
      ),
      ...field(
        "readRetries",
        opt(o.readRetries, (v) => integer(v, "options.readRetries", 0, 10)),
      ),
    },
  }
}

/** `connectCluster(opts)`: the servers and the log's subject prefix, plus the default call options. */
export const connectClusterArgs = (
  opts: unknown,
): { servers: string[]; subjectPrefix: string | undefined; options: RemoteArgs } => {
  const o = options<{ servers: unknown; subjectPrefix: unknown; timeoutMs: unknown; readRetries: unknown }>(
    opts,
    "options",
    { servers: true, subjectPrefix: true, timeoutMs: true, readRetries: true },
    false,
  )
  const servers = typeof o.servers === "string" ? [o.servers] : o.servers
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > 32)
    throw expected("options.servers", "a NATS URL or a list of 1–32 of them", o.servers)
  for (const url of servers)
    if (typeof url !== "string" || url.length > 2048 || !NATS_URL.test(url))
      invalid("options.servers", "each must be a nats://host:port URL")
  if (
    o.subjectPrefix !== undefined &&
    (typeof o.subjectPrefix !== "string" || !JS_NAME.test(o.subjectPrefix))
  )
    invalid("options.subjectPrefix", "must be 1–64 characters [A-Za-z0-9_-]")
  const { options: call } = remoteArgs("x", { timeoutMs: o.timeoutMs, readRetries: o.readRetries })
  return {
    servers: servers as string[],
    subjectPrefix: o.subjectPrefix as string | undefined,
    options: call,
  }
}
