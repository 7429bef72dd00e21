/**
 * The payload sealer: how a store turns encoded payload bytes into the bytes it keeps (and back). The vault
 * provides an AES-256-GCM sealer; tests and plain in-memory use take the identity.
 *
 * The additional authenticated data binds a ciphertext to its whole envelope but the hashes: event id,
 * stream, type, schema version, and its place — sequence, stream version and time. Why the place: the hash
 * chain is keyless (so the audit can check it without the passphrase), so someone with write access but
 * without the key could drop, reorder or re-time events and recompute the chain; with the place under the
 * AEAD, every such edit makes a payload fail to open. (Only a cut of the newest events keeps every payload
 * intact; that is what head attestations kept elsewhere detect.)
 *
 * @module
 */
import { utf8 } from "../crypto/bytes.js"
import type { VaultError } from "../model/index.js"
import { quote } from "./schema-json.js"

/** Seals and opens payloads. Both are synchronous; `open` throws {@link VaultError} on a wrong key or tampering. */
export interface PayloadSealer {
  /** Encrypts `plaintext`, authenticating `aad` (associated data) with it. */
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
 * aad for the whole group (`groupAad` of the members' envelopes); `open` takes all n back (in order)
 * or throws {@link VaultError} `tampered`; `positionOf` tells, without the key, whether a stored payload is
 * a group member and where.
 */
export interface GroupSealing {
  /** Seals n ≥ 2 plaintexts together under one `aad`; returns the n stored payloads. */
  readonly seal: (plaintexts: ReadonlyArray<Uint8Array>, aad: Uint8Array) => Uint8Array[]
  /** @throws {VaultError} */
  readonly open: (sealed: ReadonlyArray<Uint8Array>, aad: Uint8Array) => Uint8Array[]
  /** Where a stored payload sits in its group, read without the key; `undefined` when it is not a member. */
  readonly positionOf: (sealed: Uint8Array) => GroupPosition | undefined
}

/** Keeps payloads as they are (no encryption). */
export const identitySealer: PayloadSealer = {
  seal: (plaintext) => plaintext,
  open: (sealed) => sealed,
}

/** The envelope fields a payload's AAD binds it to (all but its hashes). */
export interface AadFields {
  readonly streamId: string
  readonly eventId: string
  readonly type: string
  readonly schemaVersion: number
  readonly sequence: number
  readonly streamVersion: number
  readonly time: number
}

/**
 * The text of a payload's AAD, `JSON([eventId, streamId, type, schemaVersion, sequence, streamVersion,
 * time])`. Exported so a Node backend can encode it with its pooled `Buffer.from` (same UTF-8 bytes, no
 * fresh ArrayBuffer per event). The numbers are safe integers, which JSON writes as their decimal text.
 */
export const payloadAadText = (f: AadFields): string =>
  // What `JSON.stringify([...])` writes, without building the array.
  `[${quote(f.eventId)},${quote(f.streamId)},${quote(f.type)},${f.schemaVersion},${f.sequence},${f.streamVersion},${f.time}]`

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
