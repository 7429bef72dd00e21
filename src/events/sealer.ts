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
import { quote } from "./schema-json.js"

/** Seals and opens payloads. Both are synchronous; `open` throws {@link VaultError} on a wrong key or tampering. */
export interface PayloadSealer {
  readonly seal: (plaintext: Uint8Array, aad: Uint8Array) => Uint8Array
  /** @throws {VaultError} */
  readonly open: (sealed: Uint8Array, aad: Uint8Array) => Uint8Array
  /**
   * Optional: sealing several payloads together (one cipher operation for all of them). A store that finds
   * it seals the events it commits together as a group; members then open only together.
   */
  readonly group?: GroupSealing
}

/** Where a stored payload sits in its sealed group. */
export interface GroupPosition {
  readonly index: number
  readonly count: number
}

/**
 * Group sealing: `seal` turns n ≥ 2 plaintexts into n stored payloads authenticated together, bound to one
 * aad for the whole group ({@link groupAad} of the members' envelopes); `open` takes all n back (in order)
 * or throws {@link VaultError} `tampered`; `positionOf` tells, without the key, whether a stored payload is
 * a group member and where.
 */
export interface GroupSealing {
  readonly seal: (plaintexts: ReadonlyArray<Uint8Array>, aad: Uint8Array) => Uint8Array[]
  /** @throws {VaultError} */
  readonly open: (sealed: ReadonlyArray<Uint8Array>, aad: Uint8Array) => Uint8Array[]
  readonly positionOf: (sealed: Uint8Array) => GroupPosition | undefined
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
  // What `JSON.stringify([eventId, streamId, type, schemaVersion])` writes, without building the array.
  `[${quote(fields.eventId)},${quote(fields.streamId)},${quote(fields.type)},${JSON.stringify(fields.schemaVersion)}]`

/**
 * The AAD of a payload: {@link payloadAadText} as UTF-8 (the same bytes as the LevelDB backend's, so a vault
 * sealer behaves identically under both).
 */
export const payloadAad = (fields: AadFields): Uint8Array => utf8(payloadAadText(fields))

/**
 * The text of a sealed group's AAD: the JSON array of its members' {@link payloadAadText}s, in order — one
 * string per group rather than one buffer per member.
 */
export const groupAadText = (members: ReadonlyArray<AadFields>): string => {
  let text = "["
  for (let i = 0; i < members.length; i++) text += (i === 0 ? "" : ",") + payloadAadText(members[i]!)
  return `${text}]`
}

/** The AAD of a sealed group: {@link groupAadText} as UTF-8. */
export const groupAad = (members: ReadonlyArray<AadFields>): Uint8Array => utf8(groupAadText(members))
