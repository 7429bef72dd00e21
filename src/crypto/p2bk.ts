/**
 * NUT-28 Pay-to-Blinded-Key: every NUT-11 key of a lock is blinded so the mint cannot link spends by the same
 * receiver.
 *
 * Sender: fresh `e`, `E = e·G`; for the key `P` in slot `i` of `[data, …pubkeys, …refund]` (0…10; an HTLC's
 * slot 0 is its hash, so its keys start at 1): `Zx = x(e·P)`, `r_i = SHA256("Cashu_P2BK_v1" ‖ Zx ‖ u8(i))`
 * (retried once with an extra `0xff` byte if not in [1, n−1]), `P'_i = P + r_i·G`. The proof carries
 * `p2pk_e = E`. x-only (Nostr) keys are lifted with `02`.
 * Receiver: `Zx = x(p·E)`, `P = P'_i − r_i·G`, accept only if `x(P) = x(p·G)`; the signing key is `p + r_i`
 * when `P` and `p·G` have the same parity and `−p + r_i` otherwise (BIP340 even-Y lifting).
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { CryptoError, DecodeError, type Proof } from "../model/index.js"
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, equalBytes, utf8 } from "./bytes.js"
import { parseWellKnownSecret } from "./nut10.js"
import { normalizePublicKey, parseSpendingConditions } from "./p2pk.js"
import {
  CURVE_ORDER,
  decodeCompressedPoint,
  type Point,
  type PrivateKeyInput,
  parsePrivateKey,
} from "./schnorr.js"

/** Domain separator of the NUT-28 blinding scalar. */
export const P2BK_DOMAIN = "Cashu_P2BK_v1"
/** Highest slot index (`[data, …pubkeys, …refund]` has at most 11 slots). */
export const MAX_P2BK_SLOT = 10

const DOMAIN = utf8(P2BK_DOMAIN)
const G = secp256k1.Point.BASE

const pointOf = (key: string): Point => decodeCompressedPoint(normalizePublicKey(key))!

const scalarOf = (key: PrivateKeyInput): bigint => bytesToBigInt(parsePrivateKey(key))

const checkSlot = (slot: number): void => {
  if (!Number.isInteger(slot) || slot < 0 || slot > MAX_P2BK_SLOT) {
    throw new CryptoError({
      reason: "derivation",
      message: `P2BK slot must be an integer in [0, ${MAX_P2BK_SLOT}]`,
    })
  }
}

/** The ECDH shared secret `Zx = x(k·P)` (32 bytes) of a private scalar and a public key (compressed or x-only). */
export const p2bkSharedSecret = (privateKey: PrivateKeyInput, publicKey: string): Uint8Array => {
  const shared = pointOf(publicKey).multiply(scalarOf(privateKey))
  return shared.toBytes(true).slice(1)
}

/** The blinding scalar `r_i` of slot `i` for a shared secret, as 32 big-endian bytes. */
export const p2bkBlindingScalar = (zx: Uint8Array, slot: number): Uint8Array => {
  checkSlot(slot)
  if (zx.length !== 32) throw new CryptoError({ reason: "derivation", message: "Zx must be 32 bytes" })
  const inRange = (r: bigint): boolean => r > 0n && r < CURVE_ORDER
  let r = bytesToBigInt(sha256(concatBytes(DOMAIN, zx, Uint8Array.of(slot))))
  if (!inRange(r)) r = bytesToBigInt(sha256(concatBytes(DOMAIN, zx, Uint8Array.of(slot, 0xff))))
  if (!inRange(r))
    throw new CryptoError({ reason: "derivation", message: "P2BK blinding scalar out of range" })
  return bigIntToBytes(r, 32)
}

/** Result of {@link blindPubkeys}. */
export interface BlindedKeys {
  /** The ephemeral public key `E` for `p2pk_e`, compressed hex. */
  readonly E: string
  /** `P'_i` for each receiver key, compressed hex, in input order. */
  readonly blinded: ReadonlyArray<string>
}

/**
 * Sender side: blinds `receiverKeys` (compressed or x-only hex) with the ephemeral key `e`; key `j` takes slot
 * `startSlot + j`. Use `startSlot = 0` for P2PK (`[data, …pubkeys, …refund]`) and `1` for an HTLC's keys.
 * Use a fresh `e` per output, except for SIG_ALL where all outputs must share one.
 */
export const blindPubkeys = (
  e: PrivateKeyInput,
  receiverKeys: ReadonlyArray<string>,
  startSlot = 0,
): BlindedKeys => {
  const eScalar = scalarOf(e)
  if (receiverKeys.length > 0) checkSlot(startSlot + receiverKeys.length - 1)
  const blinded = receiverKeys.map((key, j) => {
    const P = pointOf(key)
    const zx = P.multiply(eScalar).toBytes(true).slice(1)
    const r = bytesToBigInt(p2bkBlindingScalar(zx, startSlot + j))
    const blindedPoint = P.add(G.multiply(r))
    if (blindedPoint.equals(secp256k1.Point.ZERO)) {
      throw new CryptoError({ reason: "point-at-infinity", message: "blinded key is the point at infinity" })
    }
    return bytesToHex(blindedPoint.toBytes(true))
  })
  return { E: bytesToHex(G.multiply(eScalar).toBytes(true)), blinded }
}

/**
 * Receiver side: the private key that signs for the blinded key `blindedKey` in `slot`, or `undefined` when
 * that key was not blinded from `p`'s public key with this `E`.
 */
export const unblindSigningKey = (
  p: PrivateKeyInput,
  E: string,
  blindedKey: string,
  slot: number,
): Uint8Array | undefined => receiverContext(p, E)(blindedKey, slot)

/** Computes `Zx` and `p·G` once, then unblinds any number of slots (one ECDH per proof, not per slot). */
const receiverContext = (
  p: PrivateKeyInput,
  E: string,
): ((blindedKey: string, slot: number) => Uint8Array | undefined) => {
  const pScalar = scalarOf(p)
  const ephemeral = decodeCompressedPoint(E)
  if (ephemeral === undefined)
    throw new DecodeError({ reason: "schema", message: "p2pk_e is not a compressed public key" })
  const zx = ephemeral.multiply(pScalar).toBytes(true).slice(1)
  const natural = G.multiply(pScalar).toBytes(true)
  return (blindedKey, slot) => {
    const blindedPoint = decodeCompressedPoint(blindedKey)
    if (blindedPoint === undefined) {
      throw new DecodeError({ reason: "schema", message: "blinded key is not a compressed public key" })
    }
    const r = bytesToBigInt(p2bkBlindingScalar(zx, slot))
    const unblinded = blindedPoint.subtract(G.multiply(r))
    if (unblinded.equals(secp256k1.Point.ZERO)) return undefined
    const candidate = unblinded.toBytes(true)
    if (!equalBytes(candidate.subarray(1), natural.subarray(1))) return undefined
    // Same parity: P = p·G, so p + r signs P'. Opposite parity: P = −p·G (an x-only key lifted to even Y).
    const k =
      candidate[0] === natural[0] ? (pScalar + r) % CURVE_ORDER : (CURVE_ORDER - pScalar + r) % CURVE_ORDER
    if (k === 0n) throw new CryptoError({ reason: "invalid-scalar", message: "derived P2BK key is zero" })
    return bigIntToBytes(k, 32)
  }
}

/** A signing key found for one slot of a P2BK proof. */
export interface P2bkSlotKey {
  readonly slot: number
  readonly key: Uint8Array
}

/**
 * Every slot of a P2BK proof (its `p2pk_e` and P2PK/HTLC secret) that `p` can sign for, with the derived
 * signing key. Empty when the proof has no `p2pk_e` or no slot belongs to `p`. Malformed secrets are a
 * {@link DecodeError}.
 */
export const p2bkSigningKeys = (
  proof: Pick<Proof, "secret" | "p2pk_e">,
  p: PrivateKeyInput,
): P2bkSlotKey[] => {
  if (proof.p2pk_e === undefined) return []
  const cond = parseSpendingConditions(parseWellKnownSecret(proof.secret))
  // P2PK main keys start with `data` (slot 0); an HTLC's slot 0 is its hash, so its keys start at slot 1.
  const slots = [...(cond.kind === "HTLC" ? [undefined] : []), ...cond.mainKeys, ...cond.refundKeys]
  const unblind = receiverContext(p, proof.p2pk_e)
  const found: P2bkSlotKey[] = []
  slots.forEach((key, slot) => {
    if (key === undefined || slot > MAX_P2BK_SLOT) return
    const k = unblind(key, slot)
    if (k !== undefined) found.push({ slot, key: k })
  })
  return found
}

/** The proof without its `p2pk_e` field, as the receiver sends it to the mint. */
export const withoutP2bkKey = <P extends Proof>(proof: P): Omit<P, "p2pk_e"> => {
  const { p2pk_e: _, ...rest } = proof
  return rest
}
