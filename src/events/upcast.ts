/**
 * Schema evolution of the catalogue: the current schema version of every event type, and the upcasters that
 * lift a stored payload of an older version to the next one.
 *
 * Why upcast on read instead of migrating the log: the log is append-only and hash-chained (rewriting an
 * event would break the chain the audit verifies), so old payloads stay as written and are lifted — in their
 * JSON form, before validation — every time they are read. An upcaster must be total over what its version
 * could contain and must never consult anything but the payload (replay stays deterministic).
 *
 * @module
 */
import type { EventType } from "./catalogue.js"

/** A plain JSON object (a payload as `JSON.parse` returns it). */
export type JsonObject = { readonly [key: string]: unknown }

/** Lifts a payload of version `n` to version `n + 1`; returns `undefined` when the payload is not valid `n`. */
export type Upcaster = (payload: JsonObject) => JsonObject | undefined

/** The version `encodeEvent` writes for each type; bump it whenever the type's schema changes. */
export const SCHEMA_VERSIONS: { readonly [K in EventType]: number } = {
  WalletCreated: 1,
  MintTrusted: 2,
  KeysetLearned: 1,
  KeysetChanged: 1,
  CountersReserved: 1,
  WalletOwnerChanged: 1,
  OperationStarted: 1,
  OperationPrepared: 1,
  OperationRequested: 1,
  OperationSigned: 1,
  OperationPending: 1,
  OperationCompleted: 1,
  OperationCompensated: 1,
  OperationRecovering: 1,
  ProofsIssued: 1,
  ProofsReceived: 1,
  ProofsReserved: 1,
  ProofsReleased: 1,
  ProofsPending: 1,
  ProofsSpent: 1,
  ProofsDropped: 1,
}

/**
 * `UPCASTERS[type][n]` lifts version `n` to `n + 1`. Every type whose current version is `v` has entries for
 * `1 … v−1` (a test checks it).
 */
export const UPCASTERS: { readonly [K in EventType]?: { readonly [fromVersion: number]: Upcaster } } = {
  MintTrusted: {
    // v1 trusted a mint for a single unit: `{ mintUrl, unit, name? }`. v2 holds a list: `{ mintUrl, units }`.
    1: ({ unit, ...rest }) => (typeof unit === "string" ? { ...rest, units: [unit] } : undefined),
  },
}
