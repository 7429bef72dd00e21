/**
 * The event catalogue: every fact a wallet can record, as Effect `Schema` tagged structs. `_tag` is the event
 * type (the envelope's `type`); amounts are `bigint` in `[0, 2^64−1]`; points, scalars and keyset ids are
 * lowercase hex so that equal values are equal strings (Ys are compared as keys by every projection).
 *
 * Three families, all in the wallet's stream (`wallet/<id>`; the stream names the wallet, so events do not):
 * - **lifecycle**: the wallet, its trusted mints, their keysets, counter reservations, and which node owns it;
 * - **operations**: the steps of a saga (swap, mint, melt, send, receive, restore, checkstate);
 * - **proofs**: proof state transitions, keyed by `Y` (the proof's hash-to-curve point).
 *
 * Operations use ONE generic family (`OperationStarted … OperationRecovering`) with a `kind` discriminant
 * instead of one type per (kind × step) — 8 event types instead of ~50 near-identical ones. Why: recovery,
 * projections and the audit treat the steps uniformly (intent, attempt, signatures, outcome), the union
 * stays small enough to match exhaustively, and a new kind is one literal plus its two detail members.
 * Only the two steps whose content differs per kind (`OperationStarted`: what was asked for;
 * `OperationCompleted`: what it achieved) are unions of per-kind members; `switch (e.kind)` narrows them.
 *
 * A saga's durable intent (what recovery needs after a crash) is ONE append of
 * `[CountersReserved…, ProofsReserved, OperationPrepared, OperationRequested]` fsynced before the request
 * leaves: `OperationPrepared` carries the input Ys, every blinded output with its counter (or, for
 * non-deterministic outputs, its secret and blinding factor) and the exact request body, so recovery can
 * replay byte-identical bytes (NUT-19) or restore the outputs (NUT-09) without anything kept in memory.
 * Finalisation is one append too: `[OperationSigned, ProofsIssued, ProofsSpent, OperationCompleted]`.
 *
 * Payloads hold secrets (mnemonic, proof secrets, blinding factors, quote ids, tokens): they are encrypted
 * at rest, and nothing in this module or the codec ever puts a payload value in an error message.
 *
 * Evolving a type: change its schema here, bump its version in `./upcast.ts`, and add an upcaster there that
 * turns the previous version's JSON into the new one.
 *
 * @module
 */
import { Schema } from "effect"
import { CompensationReason, MAX_AMOUNT, OPERATION_KINDS, OperationKind } from "../model/index.js"

export { CompensationReason, OPERATION_KINDS, OperationKind }

import { JSON_SAFE, predicateFilter } from "./schema-json.js"

// ---------------------------------------------------------------------------------------------------------
// Field types
// ---------------------------------------------------------------------------------------------------------

/** A string matching `re`; `jsonSafe` when `re` admits only printable ASCII without `"` and `\` (`JSON_SAFE`). */
const pattern = (re: RegExp, expected: string, jsonSafe = false) =>
  Schema.String.check(Schema.isPattern(re, { expected, ...(jsonSafe ? { [JSON_SAFE]: true } : {}) }))

/** Annotation describing a hex field (lengths and allowed prefixes), for tooling such as test generators. */
export const HEX_ANNOTATION = "corecashu/hex"

/** 1 for the UTF-16 code units of lowercase hex digits, 0 for every other (a lookup beats three compares). */
const LOWER_HEX = new Uint8Array(65_536)
for (const c of "0123456789abcdef") LOWER_HEX[c.charCodeAt(0)] = 1

/** True when `s[from…]` is lowercase hex. A loop, not a regular expression: it runs on every hex field read. */
const lowerHexFrom = (s: string, from: number): boolean => {
  for (let i = from; i < s.length; i++) if (LOWER_HEX[s.charCodeAt(i)] === 0) return false
  return true
}

const hex = (
  predicate: (s: string) => boolean,
  shape: { readonly lengths: ReadonlyArray<number>; readonly prefixes: ReadonlyArray<string> },
  expected: string,
) => Schema.String.check(predicateFilter(predicate, { expected, [HEX_ANNOTATION]: shape, [JSON_SAFE]: true }))

/** Our own identifiers (wallet ids, operation ids): safe in stream ids and event ids. */
export const Id = pattern(
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  "an identifier of [A-Za-z0-9._-], ≤ 128 chars",
  true,
)
/** A normalised mint URL (http(s), no trailing slash, as NUT-00 v4 tokens require). */
export const MintUrl = pattern(/^https?:\/\/\S{0,2040}[^/\s]$/, "a normalised http(s) mint URL")
/** A currency unit (`sat`, `msat`, `usd`, …). */
export const Unit = pattern(/^[A-Za-z0-9_-]{1,32}$/, "a unit name", true)
/** A payment method (NUT-04: `[a-z0-9_-]+`). */
export const Method = pattern(/^[a-z0-9_-]{1,32}$/, "a payment method name", true)
/** A compressed secp256k1 point, lowercase hex (Y, B_, C, C_, public keys). */
export const Point = hex(
  (s) => s.length === 66 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) | 1) === 51 && lowerHexFrom(s, 2),
  { lengths: [66], prefixes: ["02", "03"] },
  "a compressed point as lowercase hex",
)
/** A 32-byte scalar, lowercase hex (DLEQ e/s/r, blinding factors, NUT-20 secret keys). */
export const Scalar = hex(
  (s) => s.length === 64 && lowerHexFrom(s, 0),
  { lengths: [64], prefixes: [] },
  "a 32-byte scalar as lowercase hex",
)
/** A full keyset id: v1 (`00` + 7 bytes) or v2 and later (version byte + 32 bytes), lowercase hex. */
export const KeysetId = hex(
  (s) => (s.length === 16 || s.length === 66) && lowerHexFrom(s, 0),
  { lengths: [16, 66], prefixes: [] },
  "a full keyset id as lowercase hex",
)
/** Non-empty free text (secrets, tokens, invoices, quote ids, request bodies). */
export const Text = Schema.String.check(Schema.isMinLength(1))
/** An amount in the unit's minor denomination. */
export const Amount = Schema.BigInt.check(Schema.isBetweenBigInt({ minimum: 0n, maximum: MAX_AMOUNT }))
/** A NUT-13 derivation counter (u32). */
export const Counter = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0xffff_ffff }))
/** A positive count. */
export const Count = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 0xffff_ffff }))
/** A non-negative count. */
export const Tally = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))
/** Unix time in seconds (quote expiries), as mints report it. */
export const UnixSeconds = Schema.Int.check(
  Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
)
/** A mint error code (NUT error_codes), recorded for definitive and ambiguous failures alike. */
export const ErrorCode = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 999_999 }))

const nonEmpty = <S extends Schema.Top>(item: S) => Schema.Array(item).check(Schema.isMinLength(1))

/** NUT-12 DLEQ as kept on a proof (`r` only when the proof travels to another wallet). */
export const ProofDleq = Schema.Struct({ e: Scalar, s: Scalar, r: Schema.optionalKey(Scalar) })
/** NUT-12 DLEQ as attached to a blind signature. */
export const SignatureDleq = Schema.Struct({ e: Scalar, s: Scalar })

/**
 * A proof as the log keeps it: the NUT-00 proof plus its `Y` (hash-to-curve is costly, and Y is the key of
 * every proof transition) and, for seed-derived secrets, the NUT-13 counter it came from.
 */
export const StoredProof = Schema.Struct({
  amount: Amount,
  id: KeysetId,
  secret: Text,
  C: Point,
  Y: Point,
  dleq: Schema.optionalKey(ProofDleq),
  witness: Schema.optionalKey(Text),
  p2pk_e: Schema.optionalKey(Point),
  counter: Schema.optionalKey(Counter),
})
export type StoredProof = typeof StoredProof.Type

/** What an output is for: kept by us, put into a token we send, or NUT-08 change of a melt. */
export const OutputRole = Schema.Literals(["keep", "send", "change"])
export type OutputRole = typeof OutputRole.Type

/**
 * A blinded output of a prepared request. Seed-derived outputs record their `counter` (secret and blinding
 * factor are re-derived from the seed); any other output (e.g. a P2PK-locked send) records its `secret` and
 * `r` instead, so that an interrupted operation can still be restored.
 */
export const OutputIntent = Schema.Struct({
  amount: Amount,
  id: KeysetId,
  B_: Point,
  role: OutputRole,
  counter: Schema.optionalKey(Counter),
  secret: Schema.optionalKey(Text),
  r: Schema.optionalKey(Scalar),
}).check(
  Schema.makeFilter(
    (o) =>
      o.counter !== undefined
        ? o.secret === undefined && o.r === undefined
        : o.secret !== undefined && o.r !== undefined,
    { expected: "either a counter, or both a secret and r" },
  ),
)
export type OutputIntent = typeof OutputIntent.Type

/** NUT-00 blind signature as returned by the mint (validated before it is recorded). */
export const Signature = Schema.Struct({
  amount: Amount,
  id: KeysetId,
  C_: Point,
  dleq: Schema.optionalKey(SignatureDleq),
})
export type Signature = typeof Signature.Type

/** The exact request a prepared operation sends (always a POST): replays reuse these bytes verbatim. */
export const PreparedRequest = Schema.Struct({
  path: pattern(/^\/v1\/[a-z0-9/_-]{1,200}$/, "a /v1/ endpoint path"),
  /** The JSON body text exactly as sent (its UTF-8 bytes are the request bytes). */
  body: Text,
})
export type PreparedRequest = typeof PreparedRequest.Type

/** A NUT-10 spending condition for a locked send (kind `P2PK` or `HTLC`, data, tags). */
export const SpendingCondition = Schema.Struct({
  kind: Schema.Literals(["P2PK", "HTLC"]),
  data: Text,
  tags: Schema.Array(nonEmpty(Schema.String)),
})
export type SpendingCondition = typeof SpendingCondition.Type

/** The next unused counter of a keyset. */
export const CounterMark = Schema.Struct({ keysetId: KeysetId, next: Counter })

// ---------------------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------------------

/** A wallet was created from a new or given mnemonic. The mnemonic lives here (encrypted) for the backup. */
export const WalletCreated = Schema.TaggedStruct("WalletCreated", {
  walletId: Id,
  mnemonic: Text,
  label: Schema.optionalKey(Schema.String),
})
export type WalletCreated = typeof WalletCreated.Type

/** The wallet trusts a mint for these units (v2; v1 had a single `unit`, upcast in `./upcast.ts`). */
export const MintTrusted = Schema.TaggedStruct("MintTrusted", {
  mintUrl: MintUrl,
  units: nonEmpty(Unit),
  name: Schema.optionalKey(Schema.String),
})
export type MintTrusted = typeof MintTrusted.Type

/**
 * A keyset was fetched, its id verified against its keys, and bound to its mint for ever (NUT-02: a keyset
 * id colliding with a known one is rejected before this is recorded).
 */
export const KeysetLearned = Schema.TaggedStruct("KeysetLearned", {
  mintUrl: MintUrl,
  id: KeysetId,
  unit: Unit,
  active: Schema.Boolean,
  inputFeePpk: Amount,
  finalExpiry: Schema.optionalKey(Amount),
  /** `[amount, public key]`, ascending by amount. */
  keys: nonEmpty(Schema.Tuple([Amount, Point])),
})
export type KeysetLearned = typeof KeysetLearned.Type

/** A known keyset's state changed (activation, or a fee change on a v1 id that does not commit to it). */
export const KeysetChanged = Schema.TaggedStruct("KeysetChanged", {
  mintUrl: MintUrl,
  id: KeysetId,
  active: Schema.Boolean,
  inputFeePpk: Amount,
})
export type KeysetChanged = typeof KeysetChanged.Type

/**
 * Counters `[start, start + count)` of a keyset are reserved for ever. Counters only move forward: `start`
 * is the keyset's next unused counter (the audit checks it), and a reservation is never released.
 */
export const CountersReserved = Schema.TaggedStruct("CountersReserved", {
  keysetId: KeysetId,
  start: Counter,
  count: Count,
})
export type CountersReserved = typeof CountersReserved.Type

/**
 * A node took ownership of the wallet (issue #12, JetStream scale-out): `nodeId` now serves it, under
 * `epoch` — the previous ownership event's epoch + 1 (1 for the first owner, appended with `WalletCreated`).
 * Appended by the new owner before anything else of its tenure, at the stream version it read: every append
 * names the wallet's last message, so once this event is in the stream a node that lost the wallet (paused,
 * partitioned) can never append to it again — the server refuses its stale expectation. The lease in the
 * KV bucket says who may try; this event is the fence.
 */
export const WalletOwnerChanged = Schema.TaggedStruct("WalletOwnerChanged", {
  nodeId: Id,
  epoch: Count,
})
export type WalletOwnerChanged = typeof WalletOwnerChanged.Type

// ---------------------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------------------

const op = <K extends OperationKind>(kind: K) => ({ operationId: Id, kind: Schema.Literal(kind) })

/** Started: what was asked for, per kind. No money moves yet. */
export const OperationStarted = Schema.Union([
  Schema.TaggedStruct("OperationStarted", {
    ...op("mint"),
    mintUrl: MintUrl,
    unit: Unit,
    method: Method,
    quoteId: Text,
    amount: Amount,
    /** The payment request (e.g. a bolt11 invoice) the user pays. */
    request: Text,
    expiry: Schema.optionalKey(UnixSeconds),
    /** NUT-20: the secret key the quote is locked to (one key per quote). */
    lockKey: Schema.optionalKey(Scalar),
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("melt"),
    mintUrl: MintUrl,
    unit: Unit,
    method: Method,
    quoteId: Text,
    amount: Amount,
    feeReserve: Amount,
    /** The payment request being paid. */
    request: Text,
    expiry: Schema.optionalKey(UnixSeconds),
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("swap"),
    mintUrl: MintUrl,
    unit: Unit,
    purpose: Schema.Literals(["split", "consolidate", "reclaim"]),
    /** For `reclaim`: the send whose pending proofs are taken back. */
    relatedOperationId: Schema.optionalKey(Id),
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("send"),
    mintUrl: MintUrl,
    unit: Unit,
    amount: Amount,
    memo: Schema.optionalKey(Schema.String),
    lock: Schema.optionalKey(SpendingCondition),
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("receive"),
    mintUrl: MintUrl,
    unit: Unit,
    /** The received token, encoded; kept in the log for ever, whatever happens to the receive. */
    token: Text,
    amount: Amount,
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("restore"),
    mintUrl: MintUrl,
    keysetIds: nonEmpty(KeysetId),
    batchSize: Count,
    gapLimit: Count,
    /** Scan from this counter (e.g. the range an 11003 answer pointed at); from 0 when absent. */
    fromCounter: Schema.optionalKey(Counter),
  }),
  Schema.TaggedStruct("OperationStarted", {
    ...op("checkstate"),
    mintUrl: MintUrl,
    ys: nonEmpty(Point),
  }),
])
export type OperationStarted = typeof OperationStarted.Type

/**
 * Prepared: the durable intent, appended (with the counter and proof reservations) and fsynced before the
 * request leaves. Everything recovery needs is here: input Ys, outputs, and the exact request.
 */
export const OperationPrepared = Schema.TaggedStruct("OperationPrepared", {
  operationId: Id,
  kind: OperationKind,
  inputs: Schema.Array(Point),
  outputs: Schema.Array(OutputIntent),
  request: PreparedRequest,
})
export type OperationPrepared = typeof OperationPrepared.Type

/** Requested: attempt `attempt` of the prepared request is leaving (attempt > 1 is a byte-identical replay). */
export const OperationRequested = Schema.TaggedStruct("OperationRequested", {
  operationId: Id,
  kind: OperationKind,
  attempt: Count,
})
export type OperationRequested = typeof OperationRequested.Type

/** Signed: the mint's validated signatures, in the order of the prepared outputs they answer. */
export const OperationSigned = Schema.TaggedStruct("OperationSigned", {
  operationId: Id,
  kind: OperationKind,
  signatures: Schema.Array(Signature),
})
export type OperationSigned = typeof OperationSigned.Type

/**
 * Pending: the outcome is not known yet and inputs stay put — a melt whose payment is in flight, or any
 * request that failed ambiguously (timeout, reset, 5xx, 11001/11003) and waits for recovery.
 */
export const OperationPending = Schema.TaggedStruct("OperationPending", {
  operationId: Id,
  kind: OperationKind,
  reason: Schema.Literals(["payment-pending", "ambiguous"]),
  code: Schema.optionalKey(ErrorCode),
})
export type OperationPending = typeof OperationPending.Type

/** Completed: what the operation achieved, per kind (its proofs are in the proof events of the same append). */
export const OperationCompleted = Schema.Union([
  Schema.TaggedStruct("OperationCompleted", { ...op("mint"), amount: Amount }),
  Schema.TaggedStruct("OperationCompleted", {
    ...op("melt"),
    amount: Amount,
    feeReserve: Amount,
    /** The fee actually paid: `feeReserve − change` (the audit alerts when it exceeds the reserve). */
    feePaid: Amount,
    /** NUT-02 input fees. */
    inputFee: Amount,
    /** Value returned as NUT-08 change. */
    change: Amount,
    preimage: Schema.optionalKey(Text),
  }),
  Schema.TaggedStruct("OperationCompleted", {
    ...op("swap"),
    amountIn: Amount,
    amountOut: Amount,
    fee: Amount,
  }),
  Schema.TaggedStruct("OperationCompleted", {
    ...op("send"),
    amount: Amount,
    fee: Amount,
    /** The token handed to the recipient. Its proofs stay pending until the mint reports them spent. */
    token: Text,
  }),
  Schema.TaggedStruct("OperationCompleted", { ...op("receive"), amount: Amount, fee: Amount }),
  Schema.TaggedStruct("OperationCompleted", {
    ...op("restore"),
    /** Unspent proofs recovered, and their value. */
    found: Tally,
    amount: Amount,
    counters: Schema.Array(CounterMark),
  }),
  Schema.TaggedStruct("OperationCompleted", {
    ...op("checkstate"),
    unspent: Tally,
    pending: Tally,
    spent: Tally,
  }),
])
export type OperationCompleted = typeof OperationCompleted.Type

/** Compensated: the operation ended without effect and released what it held. */
export const OperationCompensated = Schema.TaggedStruct("OperationCompensated", {
  operationId: Id,
  kind: OperationKind,
  reason: CompensationReason,
  code: Schema.optionalKey(ErrorCode),
})
export type OperationCompensated = typeof OperationCompensated.Type

/** Recovering: one recovery attempt (in the order local → replay → checkstate → restore). */
export const OperationRecovering = Schema.TaggedStruct("OperationRecovering", {
  operationId: Id,
  kind: OperationKind,
  attempt: Count,
  step: Schema.Literals(["local", "replay", "checkstate", "restore", "quote-state"]),
  outcome: Schema.Literals(["recovered", "compensated", "pending", "skipped", "failed"]),
  code: Schema.optionalKey(ErrorCode),
})
export type OperationRecovering = typeof OperationRecovering.Type

// ---------------------------------------------------------------------------------------------------------
// Proofs
// ---------------------------------------------------------------------------------------------------------

/** The mint signed outputs of ours (mint, swap, melt change, restore): new unspent proofs. */
export const ProofsIssued = Schema.TaggedStruct("ProofsIssued", {
  mintUrl: MintUrl,
  unit: Unit,
  operationId: Schema.optionalKey(Id),
  proofs: nonEmpty(StoredProof),
})
export type ProofsIssued = typeof ProofsIssued.Type

/** Proofs arrived in a received token: held but not settled until swapped (the sender can still spend them). */
export const ProofsReceived = Schema.TaggedStruct("ProofsReceived", {
  mintUrl: MintUrl,
  unit: Unit,
  operationId: Schema.optionalKey(Id),
  proofs: nonEmpty(StoredProof),
})
export type ProofsReceived = typeof ProofsReceived.Type

/** Proofs reserved as inputs of an operation (compare-and-set: only unspent proofs can be reserved). */
export const ProofsReserved = Schema.TaggedStruct("ProofsReserved", { operationId: Id, ys: nonEmpty(Point) })
export type ProofsReserved = typeof ProofsReserved.Type

/** The owning operation released its proofs (compensation or reclaim): they are spendable again. */
export const ProofsReleased = Schema.TaggedStruct("ProofsReleased", { operationId: Id, ys: nonEmpty(Point) })
export type ProofsReleased = typeof ProofsReleased.Type

/** Proofs are in flight: sent in a token, or inputs of a melt whose payment is pending. */
export const ProofsPending = Schema.TaggedStruct("ProofsPending", { operationId: Id, ys: nonEmpty(Point) })
export type ProofsPending = typeof ProofsPending.Type

/**
 * Incoming proofs leave the wallet: the receive that brought them in ended without effect (refused, a
 * forged token, never processed), so they were never ours. Back to never held: receiving the same token
 * again records them anew.
 */
export const ProofsDropped = Schema.TaggedStruct("ProofsDropped", { operationId: Id, ys: nonEmpty(Point) })
export type ProofsDropped = typeof ProofsDropped.Type

/** The mint consumed the proofs (by our operation, or as observed by a checkstate). Terminal. */
export const ProofsSpent = Schema.TaggedStruct("ProofsSpent", {
  operationId: Schema.optionalKey(Id),
  ys: nonEmpty(Point),
})
export type ProofsSpent = typeof ProofsSpent.Type

/** Every proof transition: the events keyed by Y that move a proof through its lifecycle. */
export type ProofEvent =
  | ProofsIssued
  | ProofsReceived
  | ProofsReserved
  | ProofsReleased
  | ProofsPending
  | ProofsSpent
  | ProofsDropped

const PROOF_EVENT_TAGS: ReadonlySet<string> = new Set([
  "ProofsIssued",
  "ProofsReceived",
  "ProofsReserved",
  "ProofsReleased",
  "ProofsPending",
  "ProofsSpent",
  "ProofsDropped",
])

/** True for the proof transitions (the events every proof-keyed projection folds). */
export const isProofEvent = (e: { readonly _tag: string }): e is ProofEvent => PROOF_EVENT_TAGS.has(e._tag)

// ---------------------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------------------

/** The schema of each event type, by `_tag`. */
export const EVENT_SCHEMAS = {
  WalletCreated,
  MintTrusted,
  KeysetLearned,
  KeysetChanged,
  CountersReserved,
  WalletOwnerChanged,
  OperationStarted,
  OperationPrepared,
  OperationRequested,
  OperationSigned,
  OperationPending,
  OperationCompleted,
  OperationCompensated,
  OperationRecovering,
  ProofsIssued,
  ProofsReceived,
  ProofsReserved,
  ProofsReleased,
  ProofsPending,
  ProofsSpent,
  ProofsDropped,
} as const

/** Every event type (`_tag`). */
export type EventType = keyof typeof EVENT_SCHEMAS

/** Every event type, in catalogue order. */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as ReadonlyArray<EventType>

/** Every event of the catalogue, as a schema. */
export const WalletEvent = Schema.Union(Object.values(EVENT_SCHEMAS))

/** Every event of the catalogue. */
export type WalletEvent = { [K in EventType]: (typeof EVENT_SCHEMAS)[K]["Type"] }[EventType]

/** The event of type `T`. */
export type EventOf<T extends EventType> = Extract<WalletEvent, { readonly _tag: T }>
