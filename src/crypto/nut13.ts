/**
 * NUT-13 deterministic secrets and blinding factors, so a wallet can be restored from its mnemonic.
 *
 * - Seed: BIP39 seed (64 bytes, empty passphrase) of a validated English mnemonic.
 * - Keyset v2 (`01…`, 33 bytes): `msg = "Cashu_KDF_HMAC_SHA256" ‖ id_bytes ‖ u64_be(counter)`,
 *   `secret = HMAC-SHA256(seed, msg ‖ 00)` as lowercase hex, `r = HMAC-SHA256(seed, msg ‖ 01) mod n` (≠ 0).
 * - Keyset v1 (`00…`, 8 bytes): BIP32 `m/129372'/0'/{id_int}'/{counter}'/0` (secret = hex of the private key)
 *   and `…/1` (r), with `id_int = int(id) mod (2^31 − 1)`.
 * - Any other id (v3 `02…`, legacy base64 ids, wrong length) is a {@link KeysetError}: deriving from a
 *   truncated or unknown id would silently produce secrets no restore can find.
 *
 * Counters are `number`: v1 counters are hardened BIP32 indexes, so `0 ≤ counter ≤ 2^31 − 1`; v2 allows u64
 * but we cap at `Number.MAX_SAFE_INTEGER` (2^53 − 1), far beyond any real wallet.
 *
 * For v1, the hardened parent `m/129372'/0'/{id_int}'` is derived once per (seed object, keyset) and cached in
 * a `WeakMap` keyed by the seed array, so batches and later calls skip the path from the root. The cache dies
 * with the seed object; call {@link forgetSeed} before wiping a seed that stays referenced.
 *
 * @module
 */
import { pbkdf2Sync } from "node:crypto"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256, sha512 } from "@noble/hashes/sha2.js"
import { HDKey } from "@scure/bip32"
import { validateMnemonic } from "@scure/bip39"
import { wordlist } from "@scure/bip39/wordlists/english.js"
import { CryptoError, DecodeError, KeysetError } from "../model/index.js"
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  hexToBytesOrUndefined,
  utf8,
} from "./bytes.js"
import { CURVE_ORDER } from "./schnorr.js"

/** The secret and blinding factor of one deterministic output. */
export interface OutputSecret {
  readonly counter: number
  /** The proof secret string (lowercase hex of 32 bytes). */
  readonly secret: string
  /** The blinding factor `r`, 32 big-endian bytes, `1 ≤ r < n`. */
  readonly r: Uint8Array
}

/** Largest v1 counter (a hardened BIP32 index). */
export const MAX_V1_COUNTER = 0x7fffffff
/** Largest v2 counter accepted here. */
export const MAX_V2_COUNTER = Number.MAX_SAFE_INTEGER
/** Largest batch {@link deriveRange} derives at once. */
export const MAX_RANGE = 10_000

const SEED_LENGTH = 64
const MAX_MNEMONIC_LENGTH = 1024
const V1_ID = /^00[0-9a-fA-F]{14}$/
const V2_ID = /^01[0-9a-fA-F]{64}$/
const KDF_PREFIX = utf8("Cashu_KDF_HMAC_SHA256")
const HARDENED = 0x80000000
const KEYSET_ID_INT_MODULUS = 2n ** 31n - 1n

/** Canonical form of a typed mnemonic: NFKD, lowercase, single spaces. */
const normalizeMnemonic = (mnemonic: string): string =>
  mnemonic.normalize("NFKD").trim().toLowerCase().split(/\s+/u).join(" ")

/** True when `mnemonic` is a valid English BIP39 mnemonic (after trimming, case and whitespace folding). */
export const isValidMnemonic = (mnemonic: string): boolean =>
  mnemonic.length <= MAX_MNEMONIC_LENGTH && validateMnemonic(normalizeMnemonic(mnemonic), wordlist)

/**
 * The 64-byte BIP39 seed (empty passphrase) of an English mnemonic. The mnemonic is validated (word list and
 * checksum); an invalid one is a {@link DecodeError} whose message never repeats the words.
 */
export const mnemonicToSeed = (mnemonic: string): Uint8Array => {
  if (!isValidMnemonic(mnemonic)) {
    throw new DecodeError({ reason: "mnemonic", message: "not a valid BIP39 English mnemonic" })
  }
  // BIP39: PBKDF2-HMAC-SHA512(NFKD mnemonic, "mnemonic" + passphrase, 2048 rounds, 64 bytes). node:crypto's
  // native PBKDF2 instead of the pure-JS one: every engine open derives every hosted wallet's seed.
  return new Uint8Array(pbkdf2Sync(normalizeMnemonic(mnemonic), "mnemonic", 2048, SEED_LENGTH, "sha512"))
}

const checkSeed = (seed: Uint8Array): void => {
  // Exactly 64 bytes: passing the 16-byte entropy (or any other key) instead would derive wrong secrets silently.
  if (seed.length !== SEED_LENGTH) {
    throw new CryptoError({ reason: "derivation", message: `seed must be ${SEED_LENGTH} bytes` })
  }
}

type Version = "v1" | "v2"

const keysetVersion = (keysetId: string): Version => {
  if (V1_ID.test(keysetId)) return "v1"
  if (V2_ID.test(keysetId)) return "v2"
  const known = keysetId.startsWith("00") || keysetId.startsWith("01")
  throw new KeysetError({
    reason: known ? "malformed-id" : "unsupported-version",
    message: known
      ? "keyset id has the wrong length or is not hex"
      : "keyset id version is not supported by NUT-13",
    keysetId,
  })
}

/** NUT-13 v1 `keyset_id_int`: the id read as a big-endian integer, modulo 2^31 − 1. */
export const keysetIdInt = (keysetId: string): number => {
  if (keysetVersion(keysetId) !== "v1") {
    throw new KeysetError({
      reason: "unsupported-version",
      message: "keyset_id_int is defined for v1 ids",
      keysetId,
    })
  }
  return Number(BigInt("0x" + keysetId) % KEYSET_ID_INT_MODULUS)
}

/** The v1 BIP32 path of the node whose `/0` and `/1` children are the secret and `r` of `counter`. */
export const v1DerivationPath = (keysetId: string, counter: number): string => {
  checkCounter("v1", counter)
  return `m/129372'/0'/${keysetIdInt(keysetId)}'/${counter}'`
}

const checkCounter = (version: Version, counter: number): void => {
  const max = version === "v1" ? MAX_V1_COUNTER : MAX_V2_COUNTER
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > max) {
    throw new CryptoError({ reason: "derivation", message: `counter must be an integer in [0, ${max}]` })
  }
}

interface Node {
  readonly key: Uint8Array
  readonly chain: Uint8Array
}

const parentCache = new WeakMap<Uint8Array, Map<string, Node>>()
const MAX_CACHED_KEYSETS = 256

/** Drops every cached derivation node of `seed` (call before wiping a seed that remains referenced). */
export const forgetSeed = (seed: Uint8Array): void => {
  parentCache.delete(seed)
}

const v1Parent = (seed: Uint8Array, keysetId: string): Node => {
  let perSeed = parentCache.get(seed)
  const id = keysetId.toLowerCase()
  const cached = perSeed?.get(id)
  if (cached !== undefined) return cached
  let hd: HDKey
  try {
    hd = HDKey.fromMasterSeed(seed).derive(`m/129372'/0'/${keysetIdInt(keysetId)}'`)
  } catch {
    throw new CryptoError({ reason: "derivation", message: "BIP32 derivation failed" })
  }
  const node = { key: Uint8Array.from(hd.privateKey!), chain: Uint8Array.from(hd.chainCode!) }
  hd.wipePrivateData()
  if (perSeed === undefined) {
    perSeed = new Map()
    parentCache.set(seed, perSeed)
  }
  if (perSeed.size >= MAX_CACHED_KEYSETS) perSeed.clear()
  perSeed.set(id, node)
  return node
}

/**
 * BIP32 CKDpriv. Hardened steps need no public key; the two non-hardened leaves share the parent's public key,
 * which is the only point multiplication per output (an `HDKey` would do three).
 */
const childKey = (parent: Node, index: number, parentPublicKey?: Uint8Array): Node => {
  const data = new Uint8Array(37)
  if (parentPublicKey === undefined) data.set(parent.key, 1)
  else data.set(parentPublicKey, 0)
  new DataView(data.buffer).setUint32(33, index >>> 0, false)
  const i = hmac(sha512, parent.chain, data)
  const il = bytesToBigInt(i.subarray(0, 32))
  const k = (il + bytesToBigInt(parent.key)) % CURVE_ORDER
  // BIP32 says "proceed with the next index" here; NUT-13 fixes the index, and the odds are ~2^-127.
  if (il >= CURVE_ORDER || k === 0n)
    throw new CryptoError({ reason: "derivation", message: "invalid BIP32 child" })
  return { key: bigIntToBytes(k, 32), chain: i.slice(32) }
}

const deriveV1 = (parent: Node, counter: number): OutputSecret => {
  const node = childKey(parent, counter + HARDENED)
  const pub = secp256k1.getPublicKey(node.key, true)
  const secret = childKey(node, 0, pub).key
  const r = childKey(node, 1, pub).key
  return { counter, secret: bytesToHex(secret), r }
}

const deriveV2 = (seed: Uint8Array, idBytes: Uint8Array, counter: number): OutputSecret => {
  const ctr = new Uint8Array(8)
  new DataView(ctr.buffer).setBigUint64(0, BigInt(counter), false)
  const msg = concatBytes(KDF_PREFIX, idBytes, ctr)
  const secret = hmac(sha256, seed, concatBytes(msg, Uint8Array.of(0)))
  const r = bytesToBigInt(hmac(sha256, seed, concatBytes(msg, Uint8Array.of(1)))) % CURVE_ORDER
  if (r === 0n) throw new CryptoError({ reason: "derivation", message: "derived blinding factor is zero" })
  return { counter, secret: bytesToHex(secret), r: bigIntToBytes(r, 32) }
}

/** A derivation function bound to one seed and keyset, for callers that derive many counters. */
export type OutputDeriver = (counter: number) => OutputSecret

/** Binds `seed` and `keysetId` once (validating both) and returns a per-counter deriver. */
export const outputDeriver = (seed: Uint8Array, keysetId: string): OutputDeriver => {
  checkSeed(seed)
  const version = keysetVersion(keysetId)
  if (version === "v1") {
    const parent = v1Parent(seed, keysetId)
    return (counter) => {
      checkCounter("v1", counter)
      return deriveV1(parent, counter)
    }
  }
  const idBytes = hexToBytesOrUndefined(keysetId)!
  return (counter) => {
    checkCounter("v2", counter)
    return deriveV2(seed, idBytes, counter)
  }
}

/** Secret and blinding factor for `counter` of `keysetId`. */
export const deriveOutputSecrets = (seed: Uint8Array, keysetId: string, counter: number): OutputSecret =>
  outputDeriver(seed, keysetId)(counter)

/** The proof secret (lowercase hex string) for `counter` of `keysetId`. */
export const deriveSecret = (seed: Uint8Array, keysetId: string, counter: number): string =>
  deriveOutputSecrets(seed, keysetId, counter).secret

/** The blinding factor `r` (32 bytes) for `counter` of `keysetId`. */
export const deriveBlindingFactor = (seed: Uint8Array, keysetId: string, counter: number): Uint8Array =>
  deriveOutputSecrets(seed, keysetId, counter).r

/**
 * Secrets for counters `start … start + count − 1` (a restore batch, or the outputs of one request).
 * `count` is at most {@link MAX_RANGE}; the whole range is validated before anything is derived.
 */
export const deriveRange = (
  seed: Uint8Array,
  keysetId: string,
  start: number,
  count: number,
): OutputSecret[] => {
  if (!Number.isSafeInteger(count) || count < 0 || count > MAX_RANGE) {
    throw new CryptoError({ reason: "derivation", message: `count must be an integer in [0, ${MAX_RANGE}]` })
  }
  const derive = outputDeriver(seed, keysetId)
  const version = keysetVersion(keysetId)
  checkCounter(version, start)
  if (count > 0) checkCounter(version, start + count - 1)
  const out: OutputSecret[] = []
  for (let i = 0; i < count; i++) out.push(derive(start + i))
  return out
}
