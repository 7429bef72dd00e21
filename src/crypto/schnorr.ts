/**
 * Small BIP340 Schnorr and key helpers for the "key and condition" NUTs (11, 14, 20, 27, 28).
 *
 * These paths sign a handful of messages per operation, so signing uses `@noble/curves` directly; verification
 * goes through the selected backend (a hostile NUT-11 witness can ask for many checks). Every helper fails with
 * a tagged error or returns `false`; none lets a library `Error` escape.
 *
 * @module
 */
import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { CryptoError } from "../model/index.js"
import { getBackend } from "./backend.js"
import { bytesToBigInt, bytesToHex, hexToBytesOrUndefined, utf8 } from "./bytes.js"

/** A private key: 32 big-endian bytes, or their hex. */
export type PrivateKeyInput = Uint8Array | string

/** A secp256k1 point as noble represents it. */
export type Point = ReturnType<typeof secp256k1.Point.fromBytes>

/** The group order `n`. */
export const CURVE_ORDER: bigint = secp256k1.Point.CURVE().n

/** Validates a private key (32 bytes, `1 ≤ k < n`) and returns its bytes. The key never appears in errors. */
export const parsePrivateKey = (key: PrivateKeyInput): Uint8Array => {
  const bytes = typeof key === "string" ? hexToBytesOrUndefined(key) : key
  if (bytes === undefined || bytes.length !== 32) {
    throw new CryptoError({ reason: "invalid-scalar", message: "private key must be 32 bytes" })
  }
  const k = bytesToBigInt(bytes)
  if (k === 0n || k >= CURVE_ORDER) {
    throw new CryptoError({ reason: "invalid-scalar", message: "private key is out of range" })
  }
  return bytes
}

/**
 * Decodes a 33-byte compressed SEC1 public key (hex, either case) into a point, or `undefined` when it is not
 * one (wrong length, prefix other than 02/03, x not on the curve).
 */
export const decodeCompressedPoint = (hex: string): Point | undefined => {
  if (hex.length !== 66) return undefined
  const bytes = hexToBytesOrUndefined(hex)
  if (bytes === undefined || (bytes[0] !== 2 && bytes[0] !== 3)) return undefined
  try {
    return secp256k1.Point.fromBytes(bytes)
  } catch {
    return undefined
  }
}

/** Compressed public key (lowercase hex) of a private key. */
export const publicKeyHex = (privateKey: PrivateKeyInput): string =>
  bytesToHex(secp256k1.getPublicKey(parsePrivateKey(privateKey), true))

/** SHA-256 of the UTF-8 bytes of `s` — the message digest every Cashu Schnorr signature signs. */
export const sha256Utf8 = (s: string): Uint8Array => sha256(utf8(s))

/**
 * BIP340 signature (lowercase hex) over a 32-byte digest. Uses fresh auxiliary randomness, so two signatures
 * on the same digest differ — which is why NUT-11 counts signing keys, not signatures.
 */
export const signDigest = (digest: Uint8Array, privateKey: PrivateKeyInput): string => {
  const key = parsePrivateKey(privateKey)
  try {
    return bytesToHex(schnorr.sign(digest, key))
  } catch {
    throw new CryptoError({ reason: "signature", message: "schnorr signing failed" })
  }
}

/**
 * Verifies a BIP340 signature (hex) over a 32-byte digest for an x-only public key (32 bytes), on the selected
 * secp256k1 backend (libsecp256k1 unless `noble` is forced). Any malformed input is simply "not valid": this
 * never throws.
 */
export const verifyDigest = (signatureHex: string, digest: Uint8Array, xOnlyKey: Uint8Array): boolean => {
  if (signatureHex.length !== 128 || xOnlyKey.length !== 32) return false
  const sig = hexToBytesOrUndefined(signatureHex)
  if (sig === undefined) return false
  return getBackend().verifySchnorr(sig, digest, xOnlyKey)
}

/**
 * The x-only (BIP340) form of a compressed public key given as hex: bytes 1..33. Returns `undefined` when the
 * input is not a valid compressed key.
 */
export const xOnlyFromCompressed = (hex: string): Uint8Array | undefined =>
  decodeCompressedPoint(hex) === undefined ? undefined : hexToBytesOrUndefined(hex.slice(2))
