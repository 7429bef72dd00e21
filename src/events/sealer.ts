/**
 * The payload sealer: how a store turns encoded payload bytes into the bytes it keeps (and back). The vault
 * provides an AES-256-GCM sealer; tests and plain in-memory use take the identity.
 *
 * The additional authenticated data binds a ciphertext to the envelope fields known before the append is
 * ordered (stream, event id, type, schema version), so a ciphertext moved under another envelope fails to
 * open even before the hash chain is checked.
 *
 * @module
 */
import { utf8 } from "../crypto/bytes.js"
import type { VaultError } from "./errors.js"

/** Seals and opens payloads. Both are synchronous; `open` throws {@link VaultError} on a wrong key or tampering. */
export interface PayloadSealer {
  readonly seal: (plaintext: Uint8Array, aad: Uint8Array) => Uint8Array
  /** @throws {VaultError} */
  readonly open: (sealed: Uint8Array, aad: Uint8Array) => Uint8Array
}

/** Keeps payloads as they are (no encryption). */
export const identitySealer: PayloadSealer = {
  seal: (plaintext) => plaintext,
  open: (sealed) => sealed,
}

/** The envelope fields a payload's AAD binds it to. */
export interface AadFields {
  readonly streamId: string
  readonly eventId: string
  readonly type: string
  readonly schemaVersion: number
}

/**
 * The text of a payload's AAD, `JSON([eventId, streamId, type, schemaVersion])`. Exported so a Node backend
 * can encode it with its pooled `Buffer.from` (same UTF-8 bytes, no fresh ArrayBuffer per event).
 */
export const payloadAadText = (fields: AadFields): string =>
  JSON.stringify([fields.eventId, fields.streamId, fields.type, fields.schemaVersion])

/**
 * The AAD of a payload: {@link payloadAadText} as UTF-8 (the same bytes as the LevelDB backend's, so a vault
 * sealer behaves identically under both).
 */
export const payloadAad = (fields: AadFields): Uint8Array => utf8(payloadAadText(fields))
