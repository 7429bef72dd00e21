/**
 * NIP-19 `npub` / `nprofile` (bech32, not bech32m) for the nostr transport of payment requests.
 *
 * NUT-18 carries a nostr target as an `nprofile` (or `npub`) string; NUT-26 stores only the raw 32-byte x-only
 * key and moves the profile's relays into `["r", url]` tag tuples, so both directions are needed. The
 * 90-character bech32 limit is disabled: an `nprofile` with a few relays is longer. The key is not checked to
 * be a curve point (the NUT-26 vectors use the all-zero key); callers that sign or encrypt to it must.
 *
 * @module
 */
import { bech32 } from "@scure/base"
import { bytesToHex, concatBytes, fromUtf8, hexToBytesOrUndefined, utf8 } from "../crypto/bytes.js"
import { DecodeError } from "../model/index.js"

/** A nostr profile pointer: x-only public key (lowercase hex, 32 bytes) and relay hints in order. */
export interface NostrProfile {
  readonly pubkey: string
  readonly relays: ReadonlyArray<string>
}

/** Limits for decoding an `npub`/`nprofile`. */
export interface Nip19Limits {
  /** Longest accepted bech32 string. */
  readonly maxLength: number
  /** Most relays accepted in one `nprofile`. */
  readonly maxRelays: number
}

/** Defaults: 4096 characters, 64 relays. */
export const DEFAULT_NIP19_LIMITS: Nip19Limits = { maxLength: 4096, maxRelays: 64 }

const TLV_SPECIAL = 0
const TLV_RELAY = 1

const fail = (reason: DecodeError["reason"], message: string): never => {
  throw new DecodeError({ reason, message })
}

const bech32Decode = (s: string, maxLength: number): { prefix: string; bytes: Uint8Array } => {
  if (s.length > maxLength) fail("too-large", "NIP-19 string too long")
  try {
    const { prefix, words } = bech32.decode(s, false)
    return { prefix, bytes: bech32.fromWords(words) }
  } catch {
    // @scure/base messages may quote the input; keep ours fixed.
    return fail("bech32", "invalid NIP-19 bech32 string")
  }
}

const pubkeyBytes = (pubkey: string): Uint8Array => {
  const b = pubkey.length === 64 ? hexToBytesOrUndefined(pubkey) : undefined
  if (b === undefined) return fail("hex", "nostr public key must be 32 bytes of hex")
  return b
}

/**
 * Decodes an `npub` (no relays) or `nprofile` (key + relays) in either letter case. Unknown TLV types of an
 * `nprofile` are ignored, as NIP-19 requires.
 *
 * @throws {DecodeError} `bech32` (checksum, case, characters), `prefix` (another HRP), `tlv` (malformed
 *   `nprofile` body), `limit`/`too-large` (bounds).
 */
export const decodeNostrProfile = (s: string, limits: Nip19Limits = DEFAULT_NIP19_LIMITS): NostrProfile => {
  const { prefix, bytes } = bech32Decode(s, limits.maxLength)
  if (prefix === "npub") {
    if (bytes.length !== 32) fail("tlv", "npub must hold exactly 32 bytes")
    return { pubkey: bytesToHex(bytes), relays: [] }
  }
  if (prefix !== "nprofile") return fail("prefix", "expected an npub or nprofile")
  let pubkey: string | undefined
  const relays: string[] = []
  let pos = 0
  while (pos < bytes.length) {
    if (pos + 2 > bytes.length) fail("tlv", "truncated nprofile TLV header")
    const type = bytes[pos]!
    const len = bytes[pos + 1]!
    const start = pos + 2
    if (start + len > bytes.length) fail("tlv", "nprofile TLV value runs past the input")
    const value = bytes.subarray(start, start + len)
    if (type === TLV_SPECIAL) {
      if (pubkey !== undefined) fail("duplicate", "nprofile holds two public keys")
      if (len !== 32) fail("tlv", "nprofile public key must be 32 bytes")
      pubkey = bytesToHex(value)
    } else if (type === TLV_RELAY) {
      if (relays.length >= limits.maxRelays) fail("limit", "too many relays in nprofile")
      relays.push(fromUtf8(value, "nprofile relay"))
    }
    pos = start + len
  }
  if (pubkey === undefined) return fail("tlv", "nprofile has no public key")
  return { pubkey, relays }
}

/**
 * Encodes a 32-byte x-only key (hex) as a lowercase `npub`.
 *
 * @throws {DecodeError} `hex` when `pubkey` is not 64 hex characters.
 */
export const encodeNpub = (pubkey: string): string =>
  bech32.encode("npub", bech32.toWords(pubkeyBytes(pubkey)), false)

/**
 * Encodes a profile as a lowercase `nprofile`: the key first, then each relay in order.
 *
 * @throws {DecodeError} `hex` for a malformed key, `limit` for a relay longer than 255 UTF-8 bytes.
 */
export const encodeNprofile = (profile: NostrProfile): string => {
  const key = pubkeyBytes(profile.pubkey)
  const parts: Uint8Array[] = [Uint8Array.of(TLV_SPECIAL, 32), key]
  for (const relay of profile.relays) {
    const r = utf8(relay)
    if (r.length > 255) fail("limit", "nprofile relay longer than 255 bytes")
    parts.push(Uint8Array.of(TLV_RELAY, r.length), r)
  }
  return bech32.encode("nprofile", bech32.toWords(concatBytes(...parts)), false)
}
