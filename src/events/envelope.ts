/**
 * The envelope: the clear-text part of every stored event. Payloads are encrypted at rest; the envelope stays
 * readable so the log can be indexed and its hash chain checked without the passphrase.
 *
 * Hash chain: `hash = SHA256("corecashu/event/v1" ‖ prevHash ‖ canonical(envelope fields) ‖ payload)`, where
 * `payload` is the stored (encrypted) bytes. Any changed, removed, inserted or reordered event breaks the chain.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, concatBytes, hexToBytes, utf8 } from "../crypto/bytes.js"

/** The hash that precedes the first event of a log. */
export const GENESIS_HASH = "0".repeat(64)

/** Clear-text metadata of one stored event. */
export interface Envelope {
  /** Global position across all streams, starting at 1, without gaps. */
  readonly sequence: number
  /** The stream (one per wallet: `wallet/<id>`; engine-wide events: `engine`). */
  readonly streamId: string
  /** Position inside the stream, starting at 1, without gaps. */
  readonly streamVersion: number
  /** Caller-chosen idempotency key (e.g. `<operationId>:<step>`). Unique across the log. */
  readonly eventId: string
  /** The event's type tag from the catalogue. */
  readonly type: string
  /** The payload's schema version (old versions are upcast when read). */
  readonly schemaVersion: number
  /** Wall-clock time of the append, epoch milliseconds. */
  readonly time: number
  /** Hash of the previous event in the global order (GENESIS_HASH for the first). */
  readonly prevHash: string
  /** This event's hash (hex). */
  readonly hash: string
}

/** An envelope with its stored payload bytes (ciphertext when a vault is in use). */
export interface StoredEvent {
  readonly envelope: Envelope
  readonly payload: Uint8Array
}

const DOMAIN = utf8("corecashu/event/v1")

/** Canonical bytes of the envelope's fields that the hash covers (everything but `hash` itself). */
const canonicalFields = (e: Omit<Envelope, "hash" | "prevHash">): Uint8Array =>
  utf8(JSON.stringify([e.sequence, e.streamId, e.streamVersion, e.eventId, e.type, e.schemaVersion, e.time]))

/** Computes an event's chain hash from its predecessor's hash, its envelope fields and its stored payload. */
export const computeEventHash = (
  prevHash: string,
  fields: Omit<Envelope, "hash" | "prevHash">,
  payload: Uint8Array,
): string => {
  const f = canonicalFields(fields)
  const len = new Uint8Array(8)
  new DataView(len.buffer).setUint32(4, f.length)
  return bytesToHex(sha256(concatBytes(DOMAIN, hexToBytes(prevHash), len, f, payload)))
}

/** True when `stored`'s hash matches its contents and follows `prevHash`. */
export const verifyEventHash = (prevHash: string, stored: StoredEvent): boolean =>
  stored.envelope.prevHash === prevHash &&
  computeEventHash(prevHash, stored.envelope, stored.payload) === stored.envelope.hash
