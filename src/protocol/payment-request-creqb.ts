/**
 * NUT-26 `creqb` payment requests: `bech32m("creqb", TLV(PaymentRequest))`.
 *
 * TLV entries are `type u8 | length u16 BE | value`. Top-level tags: 1 id, 2 amount (u64 BE), 3 unit
 * (`0x00` = `sat`, else UTF-8), 4 single_use (u8 0/1), 5 mint (repeatable), 6 description, 7 transport
 * (sub-TLV, repeatable), 8 nut10 (sub-TLV). Transport sub-tags: 1 kind (0 nostr, 1 post), 2 target
 * (nostr: raw 32-byte x-only key; post: URL), 3 tag tuple. NUT-10 sub-tags: 1 kind (0 P2PK, 1 HTLC), 2 data,
 * 3 tag tuple. A tag tuple is `keyLen u8 | key | (valueLen u8 | value)*`.
 *
 * Nostr: the nprofile's relays travel as `["r", url]` tuples after the request's own tags; decoding turns
 * them back into an `nprofile` (or an `npub` when there are none). Unknown tags are ignored at every level
 * (NUT-26 MUST). Unknown transport and NUT-10 *kinds* are rejected: skipping a transport could turn a request
 * into an "in-band" one, and nothing can satisfy a lock of an unknown kind. Decoding accepts either letter
 * case; encoding emits uppercase (NUT-26 SHOULD, for QR alphanumeric mode). The bech32 90-character limit is
 * off (the spec's vectors are longer); `limits.maxInputLength` bounds the input instead.
 *
 * @module
 */
import { bech32m } from "@scure/base"
import { bytesToBigInt, bytesToHex, concatBytes, fromUtf8, hexToBytes, utf8 } from "../crypto/bytes.js"
import { DecodeError } from "../model/index.js"
import { decodeNostrProfile, encodeNprofile, encodeNpub } from "./nip19.js"
import {
  DEFAULT_PAYMENT_REQUEST_LIMITS,
  type PaymentRequest,
  type PaymentRequestLimits,
  type PaymentRequestNut10,
  type PaymentRequestTransport,
  type TagTuple,
  validatePaymentRequest,
} from "./payment-request.js"

/** The NUT-26 human-readable part. */
export const CREQB_HRP = "creqb"

const TAG = {
  id: 1,
  amount: 2,
  unit: 3,
  singleUse: 4,
  mint: 5,
  description: 6,
  transport: 7,
  nut10: 8,
} as const
const SUB = { kind: 1, target: 2, tag: 3 } as const
const TRANSPORT_KINDS = ["nostr", "post"] as const
const NUT10_KINDS = ["P2PK", "HTLC"] as const
const RELAY_KEY = "r"

const fail = (reason: DecodeError["reason"], message: string, path?: string): never => {
  throw new DecodeError(path === undefined ? { reason, message } : { reason, message, path })
}

interface Entry {
  readonly type: number
  readonly value: Uint8Array
}

/** Splits `bytes` into TLV entries; any header or value running past the end is an error. */
const readTlv = (bytes: Uint8Array, path: string): Entry[] => {
  const out: Entry[] = []
  let pos = 0
  while (pos < bytes.length) {
    if (pos + 3 > bytes.length) fail("tlv", "truncated TLV header", path)
    const type = bytes[pos]!
    const len = (bytes[pos + 1]! << 8) | bytes[pos + 2]!
    const start = pos + 3
    if (start + len > bytes.length) fail("tlv", "TLV value runs past the input", path)
    out.push({ type, value: bytes.subarray(start, start + len) })
    pos = start + len
  }
  return out
}

const text = (value: Uint8Array, path: string, limits: PaymentRequestLimits): string => {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: more bytes than that cannot fit, so skip decoding them.
  if (value.length > limits.maxStringLength * 3) fail("limit", "string too long", path)
  const s = fromUtf8(value, "payment request text")
  if (s.length > limits.maxStringLength) fail("limit", "string too long", path)
  return s
}

const byte = (value: Uint8Array, path: string): number => {
  if (value.length !== 1) fail("tlv", "expected a single byte", path)
  return value[0]!
}

const readTagTuple = (value: Uint8Array, path: string, limits: PaymentRequestLimits): TagTuple => {
  const parts: string[] = []
  let pos = 0
  while (pos < value.length) {
    if (parts.length > limits.maxTagValues) fail("limit", "too many values in a tag tuple", path) // key + values
    const len = value[pos]!
    if (pos + 1 + len > value.length) fail("tlv", "tag tuple entry runs past its TLV value", path)
    parts.push(text(value.subarray(pos + 1, pos + 1 + len), path, limits))
    pos += 1 + len
  }
  const [key, ...values] = parts
  if (key === undefined) return fail("tlv", "empty tag tuple", path)
  return [key, ...values]
}

const readTransport = (
  value: Uint8Array,
  path: string,
  limits: PaymentRequestLimits,
): PaymentRequestTransport => {
  let kind: number | undefined
  let target: Uint8Array | undefined
  const tags: TagTuple[] = []
  for (const e of readTlv(value, path)) {
    if (e.type === SUB.kind) {
      if (kind !== undefined) fail("duplicate", "transport kind given twice", path)
      kind = byte(e.value, `${path}.kind`)
    } else if (e.type === SUB.target) {
      if (target !== undefined) fail("duplicate", "transport target given twice", path)
      target = e.value
    } else if (e.type === SUB.tag) {
      if (tags.length >= limits.maxTags) fail("limit", "too many tag tuples", `${path}.tags`)
      tags.push(readTagTuple(e.value, `${path}.tags.${tags.length}`, limits))
    }
  }
  if (kind === undefined) return fail("tlv", "transport without kind", path)
  if (target === undefined) return fail("tlv", "transport without target", path)
  const type = TRANSPORT_KINDS[kind]
  if (type === undefined) return fail("schema", "unsupported transport kind", `${path}.kind`)
  if (type === "post") {
    const url = text(target, `${path}.target`, limits)
    return tags.length > 0 ? { type, target: url, tags } : { type, target: url }
  }
  if (target.length !== 32) fail("tlv", "nostr target must be a 32-byte x-only key", `${path}.target`)
  const relays: string[] = []
  const other: TagTuple[] = []
  tags.forEach((t, i) => {
    if (t[0] !== RELAY_KEY) other.push(t)
    // One relay per "r" tuple, as the encoder writes them; anything else would not survive a round trip.
    else if (t.length === 2) relays.push(t[1]!)
    else fail("tlv", "an r tuple must hold exactly one relay", `${path}.tags.${i}`)
  })
  const pubkey = bytesToHex(target)
  const npOrProfile = relays.length > 0 ? encodeNprofile({ pubkey, relays }) : encodeNpub(pubkey)
  return other.length > 0 ? { type, target: npOrProfile, tags: other } : { type, target: npOrProfile }
}

const readNut10 = (value: Uint8Array, limits: PaymentRequestLimits): PaymentRequestNut10 => {
  let kind: number | undefined
  let data: string | undefined
  const tags: TagTuple[] = []
  for (const e of readTlv(value, "nut10")) {
    if (e.type === SUB.kind) {
      if (kind !== undefined) fail("duplicate", "nut10 kind given twice", "nut10")
      kind = byte(e.value, "nut10.kind")
    } else if (e.type === SUB.target) {
      if (data !== undefined) fail("duplicate", "nut10 data given twice", "nut10")
      data = text(e.value, "nut10.data", limits)
    } else if (e.type === SUB.tag) {
      if (tags.length >= limits.maxTags) fail("limit", "too many tag tuples", "nut10.tags")
      tags.push(readTagTuple(e.value, `nut10.tags.${tags.length}`, limits))
    }
  }
  if (kind === undefined) return fail("tlv", "nut10 without kind", "nut10")
  if (data === undefined) return fail("tlv", "nut10 without data", "nut10")
  const name = NUT10_KINDS[kind]
  if (name === undefined) return fail("schema", "unsupported NUT-10 kind", "nut10.kind")
  return tags.length > 0 ? { kind: name, data, tags } : { kind: name, data }
}

/**
 * Decodes a `creqb1…` string (either letter case, not mixed).
 *
 * @throws {DecodeError} `too-large`, `prefix`, `bech32`, `tlv`, `duplicate` (a single-valued tag twice),
 *   `schema` (bad UTF-8, unknown transport/NUT-10 kind, amount without unit), `amount` or `limit`.
 */
export const decodeCreqB = (
  encoded: string,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): PaymentRequest => {
  if (typeof encoded !== "string") return fail("schema", "expected a string")
  if (encoded.length > limits.maxInputLength) fail("too-large", "payment request too long")
  if (encoded.slice(0, CREQB_HRP.length + 1).toLowerCase() !== `${CREQB_HRP}1`) {
    fail("prefix", "payment request does not start with creqb1")
  }
  let bytes: Uint8Array
  let hrp: string
  try {
    const decoded = bech32m.decode(encoded, false)
    hrp = decoded.prefix
    bytes = bech32m.fromWords(decoded.words)
  } catch {
    // @scure/base messages may quote the input; keep ours fixed.
    return fail("bech32", "invalid bech32m string")
  }
  // The HRP ends at the last "1": "creqb1x…1…" is another HRP, not creqb.
  if (hrp !== CREQB_HRP) fail("prefix", "bech32m HRP is not creqb")
  const out: { -readonly [K in keyof PaymentRequest]: PaymentRequest[K] } = {}
  const mints: string[] = []
  const transports: PaymentRequestTransport[] = []
  const once = (present: boolean, name: string): void => {
    if (present) fail("duplicate", `${name} given twice`, name)
  }
  for (const e of readTlv(bytes, "")) {
    switch (e.type) {
      case TAG.id:
        once(out.id !== undefined, "id")
        out.id = text(e.value, "id", limits)
        break
      case TAG.amount:
        once(out.amount !== undefined, "amount")
        if (e.value.length !== 8) fail("tlv", "amount must be a u64 (8 bytes)", "amount")
        out.amount = bytesToBigInt(e.value)
        break
      case TAG.unit:
        once(out.unit !== undefined, "unit")
        out.unit = e.value.length === 1 && e.value[0] === 0 ? "sat" : text(e.value, "unit", limits)
        break
      case TAG.singleUse: {
        once(out.singleUse !== undefined, "singleUse")
        const b = byte(e.value, "singleUse")
        if (b > 1) fail("tlv", "single_use must be 0 or 1", "singleUse")
        out.singleUse = b === 1
        break
      }
      case TAG.mint:
        if (mints.length >= limits.maxMints) fail("limit", "too many mints", "mints")
        mints.push(text(e.value, `mints.${mints.length}`, limits))
        break
      case TAG.description:
        once(out.description !== undefined, "description")
        out.description = text(e.value, "description", limits)
        break
      case TAG.transport:
        if (transports.length >= limits.maxTransports) fail("limit", "too many transports", "transports")
        transports.push(readTransport(e.value, `transports.${transports.length}`, limits))
        break
      case TAG.nut10:
        once(out.nut10 !== undefined, "nut10")
        out.nut10 = readNut10(e.value, limits)
        break
      default:
        // Unknown tags MUST be ignored (forward compatibility).
        break
    }
  }
  if (mints.length > 0) out.mints = mints
  if (transports.length > 0) out.transports = transports
  return validatePaymentRequest(out, limits)
}

const tlv = (type: number, value: Uint8Array, path: string): Uint8Array => {
  if (value.length > 0xffff) fail("limit", "TLV value longer than 65535 bytes", path)
  return concatBytes(Uint8Array.of(type, value.length >> 8, value.length & 0xff), value)
}

const tagTupleBytes = (tag: TagTuple, path: string): Uint8Array =>
  concatBytes(
    ...tag.map((s) => {
      const b = utf8(s)
      if (b.length > 255) fail("limit", "tag tuple entry longer than 255 bytes", path)
      return concatBytes(Uint8Array.of(b.length), b)
    }),
  )

const tagsTlv = (tags: ReadonlyArray<TagTuple>, path: string): Uint8Array[] =>
  tags.map((t, i) => tlv(SUB.tag, tagTupleBytes(t, `${path}.${i}`), `${path}.${i}`))

const transportBytes = (
  t: PaymentRequestTransport,
  path: string,
  limits: PaymentRequestLimits,
): Uint8Array => {
  const tags = t.tags ?? []
  if (t.type === "post") {
    return concatBytes(
      tlv(SUB.kind, Uint8Array.of(1), path),
      tlv(SUB.target, utf8(t.target), path),
      ...tagsTlv(tags, path),
    )
  }
  if (t.type !== "nostr")
    return fail("schema", "creqb can only encode nostr and post transports", `${path}.type`)
  const profile = decodeNostrProfile(t.target, {
    maxLength: limits.maxStringLength,
    maxRelays: limits.maxTags,
  })
  const all: TagTuple[] = [...tags, ...profile.relays.map((r): TagTuple => [RELAY_KEY, r])]
  if (all.length > limits.maxTags) fail("limit", "too many tag tuples (relays included)", `${path}.tags`)
  return concatBytes(
    tlv(SUB.kind, Uint8Array.of(0), path),
    tlv(SUB.target, hexToBytes(profile.pubkey, "nostr public key"), path),
    ...tagsTlv(all, path),
  )
}

const u64 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n)
  return out
}

/**
 * Encodes `req` as an uppercase `CREQB1…` string.
 *
 * @throws {DecodeError} when `req` breaks the model's rules or `limits`, names a transport other than
 *   `nostr`/`post` or a NUT-10 kind other than `P2PK`/`HTLC`, has a nostr target that is not an
 *   `npub`/`nprofile`, a tag entry over 255 bytes, or would exceed `limits.maxInputLength`.
 */
export const encodeCreqB = (
  req: PaymentRequest,
  limits: PaymentRequestLimits = DEFAULT_PAYMENT_REQUEST_LIMITS,
): string => {
  validatePaymentRequest(req, limits)
  const parts: Uint8Array[] = []
  if (req.id !== undefined) parts.push(tlv(TAG.id, utf8(req.id), "id"))
  if (req.amount !== undefined) parts.push(tlv(TAG.amount, u64(req.amount), "amount"))
  if (req.unit !== undefined) {
    // The single byte 0x00 means `sat`: a unit spelled as that byte would read back as another unit.
    if (req.unit === "\u0000") fail("schema", "a unit of U+0000 reads back as sat", "unit")
    parts.push(tlv(TAG.unit, req.unit === "sat" ? Uint8Array.of(0) : utf8(req.unit), "unit"))
  }
  if (req.singleUse !== undefined)
    parts.push(tlv(TAG.singleUse, Uint8Array.of(req.singleUse ? 1 : 0), "singleUse"))
  req.mints?.forEach((m, i) => {
    parts.push(tlv(TAG.mint, utf8(m), `mints.${i}`))
  })
  if (req.description !== undefined) parts.push(tlv(TAG.description, utf8(req.description), "description"))
  req.transports?.forEach((t, i) => {
    const path = `transports.${i}`
    parts.push(tlv(TAG.transport, transportBytes(t, path, limits), path))
  })
  if (req.nut10 !== undefined) {
    const { kind, data, tags } = req.nut10
    const code = (NUT10_KINDS as ReadonlyArray<string>).indexOf(kind)
    if (code < 0) fail("schema", "creqb can only encode P2PK and HTLC locks", "nut10.kind")
    const body = concatBytes(
      tlv(SUB.kind, Uint8Array.of(code), "nut10"),
      tlv(SUB.target, utf8(data), "nut10.data"),
      ...tagsTlv(tags ?? [], "nut10.tags"),
    )
    parts.push(tlv(TAG.nut10, body, "nut10"))
  }
  const out = bech32m.encode(CREQB_HRP, bech32m.toWords(concatBytes(...parts)), false).toUpperCase()
  // Never emit what our own decoder (with the same limits) would refuse.
  if (out.length > limits.maxInputLength) fail("limit", "encoded payment request exceeds maxInputLength")
  return out
}
