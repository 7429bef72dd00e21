/**
 * The wire format of wallet calls routed between engine nodes (issue #12, "Routing"): a request names a
 * wallet, a method and its arguments; the reply carries the method's result or the error it failed with, so
 * the caller gets the SAME typed values as the embedded API — amounts stay `bigint`, an error comes back as
 * an instance of its own class (`OperationInDoubt` stays `OperationInDoubt`: `instanceof` and
 * `isCorecashuError` hold). Pure: the NATS side is `../infra/nats-rpc.ts`, the router `../engine/routing.ts`.
 *
 * **Format** (UTF-8 JSON, version {@link RPC_VERSION}):
 * - request `{ "v": 1, "wallet": id, "method": name, "args": [value, …] }`
 * - reply `{ "v": 1, "ok": true, "value": value }` or `{ "v": 1, "ok": false, "error": { "_tag": tag,
 *   …fields, "message": text } }`
 *
 * A value is JSON, except three shapes written as one-key objects: a `bigint` as `{ "$bigint": "123" }`
 * (decimal string: exact, never a float), `undefined` as `{ "$undefined": true }` (so `expiry: undefined`
 * round-trips as itself), and an object key that starts with `$` is written with one more `$` in front.
 * Only plain data travels (objects, arrays, strings, finite numbers, booleans, null, bigints): a function, a
 * `Map`, bytes or a class instance fail encoding — no result of the wallet API holds one.
 *
 * **Decoding untrusted text** uses the strict bounded parser (`./json.ts`: duplicate and `__proto__` keys
 * refused, depth, size and item counts bounded) and fails only with {@link DecodeError}: a wrong version
 * (`version`), a text over {@link RPC_MAX_CHARS} (`too-large`), a wrong shape or an error tag this version
 * does not know (`schema`). An error's fields are scalars (string, number, bigint, boolean, undefined), as
 * every error class's are; its `message` is a string.
 *
 * @module
 */
import {
  AmountError,
  type CorecashuError,
  CryptoError,
  DecodeError,
  EngineClosed,
  EngineInvariant,
  EventCodecError,
  InsufficientFunds,
  InvalidArgument,
  KeysetError,
  MintAmbiguous,
  MintNotSent,
  MintProtocolError,
  MintRejected,
  MintTimeout,
  MintUnreachable,
  OperationFailed,
  OperationInDoubt,
  ProjectionStateError,
  QuoteNotClaimable,
  QuoteRejected,
  RemoteInDoubt,
  RemoteUnavailable,
  SignatureMismatch,
  StoreCorrupted,
  StoreLocked,
  StoreUnavailable,
  TokenRejected,
  UnknownMint,
  UnknownWallet,
  VaultError,
  VerificationError,
  WalletExists,
  WalletNotOwned,
  WrongExpectedVersion,
} from "../model/index.js"
import { type JsonValue, parseJson, stringifyJson } from "./json.js"
import { DEFAULT_LIMITS, type InputLimits } from "./limits.js"

/** The wire format's version: a reply or request of another version is refused (`DecodeError` `version`). */
export const RPC_VERSION = 1

/**
 * The largest request or reply, in UTF-16 code units of the JSON text: under NATS's default `max_payload`
 * (1 MiB) with room for headers. The transport also checks the UTF-8 size against the server's limit.
 */
export const RPC_MAX_CHARS = 900 * 1024

/** What each routed method does to the wallet: `read` calls may be retried, `write` calls never are. */
export const RPC_METHODS = {
  balance: "read",
  balances: "read",
  history: "read",
  pending: "read",
  publicKey: "read",
  addMint: "write",
  mintQuote: "write",
  mint: "write",
  swap: "write",
  send: "write",
  receive: "write",
  meltQuote: "write",
  melt: "write",
  checkPending: "write",
  reclaim: "write",
  restore: "write",
  recover: "write",
} as const satisfies Record<string, "read" | "write">

/** A routed method's name. */
export type RpcMethod = keyof typeof RPC_METHODS

/** The most arguments any routed method takes. */
const MAX_ARGS = 4

/** A routed call. */
export interface RpcRequest {
  readonly wallet: string
  readonly method: RpcMethod
  readonly args: ReadonlyArray<unknown>
}

/** A routed call's outcome: its result, or the tagged error it failed with. */
export type RpcReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: CorecashuError }

/** Every error class by tag: a reply's error is rebuilt as an instance of its class. */
type ErrorClass = new (fields: never) => CorecashuError
const ERROR_CLASSES: { readonly [T in CorecashuError["_tag"]]: ErrorClass } = {
  DecodeError,
  CryptoError,
  VerificationError,
  KeysetError,
  AmountError,
  MintProtocolError,
  MintRejected,
  MintAmbiguous,
  MintUnreachable,
  MintTimeout,
  MintNotSent,
  StoreLocked,
  StoreCorrupted,
  StoreUnavailable,
  EventCodecError,
  VaultError,
  WrongExpectedVersion,
  ProjectionStateError,
  UnknownWallet,
  WalletNotOwned,
  WalletExists,
  UnknownMint,
  InsufficientFunds,
  OperationFailed,
  OperationInDoubt,
  QuoteNotClaimable,
  TokenRejected,
  QuoteRejected,
  EngineClosed,
  EngineInvariant,
  InvalidArgument,
  SignatureMismatch,
  RemoteInDoubt,
  RemoteUnavailable,
}

const schema = (message: string): DecodeError => new DecodeError({ reason: "schema", message })

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A value as wire JSON (see the module comment). Throws `DecodeError` for what cannot travel. */
const toWire = (v: unknown, depth: number): JsonValue => {
  if (depth > DEFAULT_LIMITS.maxDepth / 2) throw schema("the value is nested too deep to send")
  if (v === undefined) return { $undefined: true }
  if (v === null || typeof v === "string" || typeof v === "boolean") return v
  if (typeof v === "bigint") return { $bigint: v.toString() }
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw schema("a non-finite number cannot be sent")
    return v
  }
  if (Array.isArray(v)) return v.map((x) => toWire(x, depth + 1))
  if (typeof v === "object" && isPlainObject(v)) {
    const out: { [key: string]: JsonValue } = {}
    for (const [k, x] of Object.entries(v)) out[k.startsWith("$") ? `$${k}` : k] = toWire(x, depth + 1)
    return out
  }
  throw schema(`a ${typeof v === "object" ? "class instance" : typeof v} cannot be sent`)
}

/** Wire JSON back to a value. Throws `DecodeError`. */
const fromWire = (v: JsonValue): unknown => {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v
  if (typeof v === "number") return v
  // The strict parser returns integers beyond 2^53 as bigint: this format never writes one bare.
  if (typeof v === "bigint") throw schema("a bare integer beyond 2^53 (bigints travel as { $bigint })")
  if (Array.isArray(v)) return v.map(fromWire)
  const keys = Object.keys(v)
  if (keys.length === 1 && keys[0] === "$bigint") {
    const s = v.$bigint
    if (typeof s !== "string" || !/^-?(0|[1-9][0-9]{0,39})$/.test(s)) throw schema("a malformed $bigint")
    return BigInt(s)
  }
  if (keys.length === 1 && keys[0] === "$undefined") {
    if (v.$undefined !== true) throw schema("a malformed $undefined")
    return undefined
  }
  const out: Record<string, unknown> = {}
  for (const k of keys) {
    if (k.startsWith("$") && !k.startsWith("$$")) throw schema(`an unknown marker key ${k.slice(0, 32)}`)
    out[k.startsWith("$") ? k.slice(1) : k] = fromWire(v[k] as JsonValue)
  }
  return out
}

const encode = (doc: { [key: string]: JsonValue }): string => {
  const text = stringifyJson(doc)
  if (text.length > RPC_MAX_CHARS)
    throw new DecodeError({ reason: "too-large", message: `the message exceeds ${RPC_MAX_CHARS} characters` })
  return text
}

const limits: InputLimits = { ...DEFAULT_LIMITS, maxBytes: RPC_MAX_CHARS }

/** Parses a message and checks its version. */
const parse = (text: string, what: string): Record<string, JsonValue> => {
  const doc = parseJson(text, limits)
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || typeof doc === "bigint")
    throw schema(`the ${what} is not a JSON object`)
  if (doc.v !== RPC_VERSION)
    throw new DecodeError({
      reason: "version",
      message: `the ${what} is of wire version ${typeof doc.v === "number" ? doc.v : "?"}, not ${RPC_VERSION}`,
    })
  return doc
}

const only = (doc: Record<string, JsonValue>, keys: ReadonlyArray<string>, what: string): void => {
  for (const k of Object.keys(doc))
    if (!keys.includes(k)) throw schema(`unknown key ${k.slice(0, 32)} in the ${what}`)
}

/** The request as wire text. Throws `DecodeError` (`schema` for what cannot travel, `too-large`). */
export const encodeRpcRequest = (req: RpcRequest): string =>
  encode({ v: RPC_VERSION, wallet: req.wallet, method: req.method, args: req.args.map((a) => toWire(a, 0)) })

/** Decodes an untrusted request. Throws `DecodeError`. */
export const decodeRpcRequest = (text: string): RpcRequest => {
  const doc = parse(text, "request")
  only(doc, ["v", "wallet", "method", "args"], "request")
  const { wallet, method, args } = doc
  if (typeof wallet !== "string" || wallet.length === 0 || wallet.length > 128)
    throw schema("the request names no wallet")
  if (typeof method !== "string" || !Object.hasOwn(RPC_METHODS, method))
    throw schema(`unknown method ${String(method).slice(0, 32)}`)
  if (!Array.isArray(args) || args.length > MAX_ARGS) throw schema("the request's args are not a short array")
  return { wallet, method: method as RpcMethod, args: args.map(fromWire) }
}

/** An error as wire JSON: its tag, its fields and its message (no stack, no cause). */
const errorToWire = (e: CorecashuError): JsonValue => {
  const out: { [key: string]: JsonValue } = {}
  for (const [k, x] of Object.entries(e)) {
    if (k === "_tag" || k === "message" || k === "stack" || k === "cause") continue
    out[k.startsWith("$") ? `$${k}` : k] = toWire(x, 1)
  }
  out._tag = e._tag
  out.message = e.message
  return out
}

/** A scalar an error's field may hold. */
const isScalar = (v: unknown): boolean =>
  v === undefined || ["string", "number", "bigint", "boolean"].includes(typeof v)

/** Rebuilds an error as an instance of its class. Throws `DecodeError`. */
const errorFromWire = (v: JsonValue): CorecashuError => {
  const fields = fromWire(v)
  if (typeof fields !== "object" || fields === null || Array.isArray(fields))
    throw schema("the error is not an object")
  const { _tag, message, ...rest } = fields as Record<string, unknown>
  if (typeof _tag !== "string" || !Object.hasOwn(ERROR_CLASSES, _tag))
    throw schema(`an error of unknown tag ${String(_tag).slice(0, 40)}`)
  if (typeof message !== "string") throw schema("the error has no message")
  for (const [k, x] of Object.entries(rest))
    if (!isScalar(x)) throw schema(`the error's field ${k} is not a scalar`)
  const Class = ERROR_CLASSES[_tag as CorecashuError["_tag"]]
  return new Class({ ...rest, message } as never)
}

/** The reply as wire text. Throws `DecodeError` (`schema` for a result that cannot travel, `too-large`). */
export const encodeRpcReply = (reply: RpcReply): string =>
  reply.ok
    ? encode({ v: RPC_VERSION, ok: true, value: toWire(reply.value, 0) })
    : encode({ v: RPC_VERSION, ok: false, error: errorToWire(reply.error) })

/** Decodes an untrusted reply; an error comes back as an instance of its class. Throws `DecodeError`. */
export const decodeRpcReply = (text: string): RpcReply => {
  const doc = parse(text, "reply")
  if (doc.ok === true) {
    only(doc, ["v", "ok", "value"], "reply")
    if (!Object.hasOwn(doc, "value")) throw schema("the reply has no value")
    return { ok: true, value: fromWire(doc.value as JsonValue) }
  }
  if (doc.ok === false) {
    only(doc, ["v", "ok", "error"], "reply")
    if (doc.error === undefined) throw schema("the reply has no error")
    return { ok: false, error: errorFromWire(doc.error) }
  }
  throw schema("the reply says neither ok nor not")
}
