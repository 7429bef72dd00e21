/**
 * Head attestations: signed statements "the log held event `sequence` with hash `hash` at `time`", kept
 * OUTSIDE the data directory (a witness file on other storage, the operator's monitoring, a JetStream KV).
 *
 * Why: the hash chain and the payloads' associated data make every edit of the middle of the log visible,
 * but a cut of the newest events together with the commit marker leaves a shorter log that is whole in
 * itself. Only something the forger cannot reach can show that the log once went further. An attestation is
 * that anchor: the log must still hold `hash` at `sequence`. Its tag (HMAC under a key derived from the
 * vault's data key, `VaultShape.authenticate`) shows that the holder of the key made it; the sequence and
 * hash alone already let a keyless audit check it.
 *
 * Pure: formats, parses (bounded, typed errors) and tags; the witness file lives in `infra/witness.ts`.
 *
 * @module
 */
import { DecodeError } from "../model/index.js"

/** One attestation; `keyId`/`tag` are absent when the log has no vault (unencrypted or host-sealed). */
export interface HeadAttestation {
  readonly v: 1
  readonly sequence: number
  /** The event's hash, 64 lowercase hex digits (the genesis hash for sequence 0). */
  readonly hash: string
  /** Epoch milliseconds when it was made. */
  readonly time: number
  /** The vault's public key id. */
  readonly keyId?: string
  /** HMAC-SHA256 of the attestation's canonical text (`attestationText`), hex. */
  readonly tag?: string
}

/** What tags attestations: the vault's key id and its authenticator. */
export interface Attester {
  readonly keyId: string
  readonly authenticate: (data: Uint8Array) => Uint8Array
}

/** Longest attestation line accepted (a real one is ~250 bytes). */
export const MAX_ATTESTATION_LINE = 1024

const HEX64 = /^[0-9a-f]{64}$/
const KEY_ID = /^[0-9a-f]{16,128}$/

/** The bytes a tag covers. */
export const attestationText = (a: Pick<HeadAttestation, "sequence" | "hash" | "time">): string =>
  `corecashu/head-attestation/v1\n${a.sequence}\n${a.hash}\n${a.time}`

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

/** An attestation of `sequence`/`hash` at `time`, tagged when an attester is given. */
export const makeAttestation = (
  sequence: number,
  hash: string,
  time: number,
  attester?: Attester,
): HeadAttestation => {
  const base = { v: 1 as const, sequence, hash, time }
  if (attester === undefined) return base
  const tag = hexOf(attester.authenticate(Buffer.from(attestationText(base), "utf8")))
  return { ...base, keyId: attester.keyId, tag }
}

/** Whether `a` carries a tag made by `attester`'s key (false for an untagged one or another key). */
export const tagHolds = (a: HeadAttestation, attester: Attester): boolean =>
  a.tag !== undefined &&
  a.keyId === attester.keyId &&
  hexOf(attester.authenticate(Buffer.from(attestationText(a), "utf8"))) === a.tag

/** One attestation as the one line a witness file holds for it (JSON, no newline). */
export const encodeAttestation = (a: HeadAttestation): string => JSON.stringify(a)

const bad = (message: string, reason: DecodeError["reason"] = "schema") =>
  new DecodeError({ reason, message })

const isNat = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0

/** Parses one witness line; fails with a tagged {@link DecodeError}. */
export const decodeAttestation = (line: string): HeadAttestation | DecodeError => {
  if (line.length > MAX_ATTESTATION_LINE) return bad("the attestation line is too long", "too-large")
  let v: unknown
  try {
    // Not mint input: a line of our own witness file, length-capped, checked field by field.
    // nosemgrep: json-parse-outside-protocol
    v = JSON.parse(line)
  } catch {
    return bad("the attestation line is not JSON", "json")
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return bad("an attestation is an object")
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o))
    if (!["v", "sequence", "hash", "time", "keyId", "tag"].includes(k))
      return bad("unknown attestation field")
  if (o.v !== 1) return bad("unknown attestation version")
  if (!isNat(o.sequence) || !isNat(o.time)) return bad("attestation sequence and time are naturals")
  if (typeof o.hash !== "string" || !HEX64.test(o.hash)) return bad("attestation hash is 64 hex digits")
  const tagged = o.tag !== undefined || o.keyId !== undefined
  if (tagged) {
    if (typeof o.tag !== "string" || !HEX64.test(o.tag)) return bad("attestation tag is 64 hex digits")
    if (typeof o.keyId !== "string" || !KEY_ID.test(o.keyId)) return bad("attestation key id is hex")
    return { v: 1, sequence: o.sequence, hash: o.hash, time: o.time, keyId: o.keyId, tag: o.tag }
  }
  return { v: 1, sequence: o.sequence, hash: o.hash, time: o.time }
}
