/**
 * NUT-12 discrete-log-equality proofs: the mint proves that the key `a` behind `A = a·G` also produced
 * `C_ = a·B_`, so a wallet (or a later receiver) can check a signature without asking the mint.
 *
 * - `hash_e(R1, R2, A, C_) = SHA256` of the concatenated 130-character LOWERCASE hex strings of the 65-byte
 *   uncompressed points (the hex text is hashed, not the bytes).
 * - Verify: `R1 = s·G − e·A`, `R2 = s·B_ − e·C_`, holds iff `e == hash_e(R1, R2, A, C_)`.
 * - A proof with `r` (held by a receiver) first rebuilds `B_ = Y + r·G` and `C_ = C + r·A`.
 *
 * Result convention (used throughout this module): verification returns `false` when the proof does not hold —
 * including an intermediate point at infinity, which no honest proof produces — and throws a tagged
 * {@link CryptoError} when the input is malformed (bad hex or length, a point off the curve, a scalar that is 0
 * or ≥ n, a missing `dleq` / `r`). It never throws anything untagged.
 *
 * `e` and `s` are public, so verification uses the variable-time paths; `r` (a blinding factor: it links the
 * proof to the mint's view) and the mint's `a` and nonce go through the constant-time ones.
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { bytesToNumberBE, numberToBytesBE } from "@noble/curves/utils.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { CryptoError, type Dleq } from "../model/index.js"
import { getBackend } from "./backend.js"
import {
  isValidScalar,
  negateUnchecked,
  type PointInput,
  pointBytes,
  type ScalarInput,
  scalarBytes,
} from "./backends/common.js"
import type { Secp256k1Backend } from "./backends/types.js"
import { bytesToHex, equalBytes, utf8 } from "./bytes.js"
import { hashToCurveSecret } from "./hash-to-curve.js"
import { type KeyPoint, keyPoint } from "./keys.js"

const HEX_ASCII = utf8("0123456789abcdef")

/** Writes the lowercase hex of `bytes` as ASCII into `out` at `offset` (hash_e hashes hex text). */
const writeHex = (out: Uint8Array, offset: number, bytes: Uint8Array): void => {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    out[offset + 2 * i] = HEX_ASCII[b >> 4]!
    out[offset + 2 * i + 1] = HEX_ASCII[b & 15]!
  }
}

/** hash_e over four 65-byte uncompressed points: SHA256 of their 520 hex characters, without building strings. */
const hashEUncompressed = (r1: Uint8Array, r2: Uint8Array, a: Uint8Array, c: Uint8Array): Uint8Array => {
  const buf = new Uint8Array(520)
  writeHex(buf, 0, r1)
  writeHex(buf, 130, r2)
  writeHex(buf, 260, a)
  writeHex(buf, 390, c)
  return sha256(buf)
}

/** NUT-12 `hash_e(R1, R2, A, C_)` of four compressed points; returns the 32-byte digest `e`. */
export const hashE = (
  R1: PointInput,
  R2: PointInput,
  A: PointInput,
  C_: PointInput,
  backend: Secp256k1Backend = getBackend(),
): Uint8Array =>
  hashEUncompressed(
    backend.uncompress(pointBytes(R1, "R1")),
    backend.uncompress(pointBytes(R2, "R2")),
    backend.uncompress(pointBytes(A, "A")),
    backend.uncompress(pointBytes(C_, "C_")),
  )

const NONCE_DOMAIN = utf8("Cashu_DLEQ_R_v1")
const Fn = secp256k1.Point.Fn

/**
 * Mint side: the NUT-12 proof `{e, s}` (lowercase hex) that `C_ = a·B_` and `A = a·G` share the key `a`.
 * The nonce is deterministic: `r = HMAC-SHA256(key = a, "Cashu_DLEQ_R_v1" || A || B_ || C_ || ctr)` over
 * uncompressed points, `ctr` one byte from 0, retried while r is 0 or ≥ n; then `s = r + e·a mod n`.
 * Intended for the test mint: the final `mod n` arithmetic runs on BigInt, which is not constant-time.
 */
export const createDleq = (
  a: ScalarInput,
  B_: PointInput,
  C_: PointInput,
  backend: Secp256k1Backend = getBackend(),
): { readonly e: string; readonly s: string } => {
  const key = scalarBytes(a, "mint key")
  const B = pointBytes(B_, "B_")
  const Au = backend.uncompress(backend.mulBase(key))
  const Bu = backend.uncompress(B)
  const Cu = backend.uncompress(pointBytes(C_, "C_"))
  const msg = new Uint8Array(NONCE_DOMAIN.length + 3 * 65 + 1)
  msg.set(NONCE_DOMAIN, 0)
  msg.set(Au, NONCE_DOMAIN.length)
  msg.set(Bu, NONCE_DOMAIN.length + 65)
  msg.set(Cu, NONCE_DOMAIN.length + 130)
  let nonce: Uint8Array | undefined
  for (let ctr = 0; ctr < 256 && nonce === undefined; ctr++) {
    msg[msg.length - 1] = ctr
    const candidate = hmac(sha256, key, msg)
    if (isValidScalar(candidate)) nonce = candidate
    else candidate.fill(0)
  }
  // 256 consecutive out-of-range HMAC outputs has probability ~2^-32000.
  if (nonce === undefined) throw new CryptoError({ reason: "dleq", message: "DLEQ nonce derivation failed" })
  try {
    const R1 = backend.uncompress(backend.mulBase(nonce))
    const R2 = backend.uncompress(backend.mul(B, nonce))
    const e = hashEUncompressed(R1, R2, Au, Cu)
    const s = Fn.add(bytesToNumberBE(nonce), Fn.mul(bytesToNumberBE(e), bytesToNumberBE(key)))
    return { e: bytesToHex(e), s: bytesToHex(numberToBytesBE(s, 32)) }
  } finally {
    nonce.fill(0)
  }
}

/** Runs `f`, turning a point at infinity (which no honest proof produces) into "does not hold". */
const unlessInfinity = (f: () => boolean): boolean => {
  try {
    return f()
  } catch (err) {
    if (err instanceof CryptoError && err.reason === "point-at-infinity") return false
    throw err
  }
}

/**
 * The verification equation on already-decoded inputs (bytes in, no hex): the hot path shared by the single and
 * batch APIs. `A` is a prepared key so −A and A's uncompressed form are not recomputed per signature.
 */
export const dleqHolds = (
  A: KeyPoint,
  B_: Uint8Array,
  C_: Uint8Array,
  e: Uint8Array,
  s: Uint8Array,
  backend: Secp256k1Backend,
): boolean =>
  unlessInfinity(() => {
    const R1 = backend.mulAddPublic(null, s, A.negated, e) // s·G + e·(−A)
    const R2 = backend.mulAddPublic(B_, s, negateUnchecked(C_), e) // s·B_ + e·(−C_); parsing checks C_
    return equalBytes(hashEUncompressed(R1, R2, A.uncompressed, backend.uncompress(C_)), e)
  })

const asKey = (A: PointInput | KeyPoint, backend: Secp256k1Backend): KeyPoint =>
  typeof A === "string" || A instanceof Uint8Array ? keyPoint(A, backend) : A

/**
 * Wallet side: does the `{e, s}` proof of a blind signature `C_` on `B_` under the mint key `A` hold?
 * `false` when it does not; {@link CryptoError} for malformed input (see the module note).
 */
export const verifyBlindSignatureDleq = (
  A: PointInput | KeyPoint,
  B_: PointInput,
  C_: PointInput,
  dleq: { readonly e: ScalarInput; readonly s: ScalarInput },
  backend: Secp256k1Backend = getBackend(),
): boolean =>
  dleqHolds(
    asKey(A, backend),
    pointBytes(B_, "B_"),
    pointBytes(C_, "C_"),
    scalarBytes(dleq.e, "e"),
    scalarBytes(dleq.s, "s"),
    backend,
  )

/** The fields of a proof that its DLEQ check reads. */
export interface ProofWithDleq {
  readonly secret: string
  readonly C: string
  readonly dleq?: Dleq
}

/**
 * Receiver side: does the `{e, s, r}` proof attached to a proof hold under the mint key `A`? Rebuilds
 * `B_ = hash_to_curve(utf8(secret)) + r·G` and `C_ = C + r·A` (constant-time in r), then verifies as above.
 * A proof without `dleq` or without `r` cannot be checked: `dleq` {@link CryptoError}.
 */
export const verifyProofDleq = (
  proof: ProofWithDleq,
  A: PointInput | KeyPoint,
  backend: Secp256k1Backend = getBackend(),
): boolean => {
  const d = proof.dleq
  if (d === undefined) throw new CryptoError({ reason: "dleq", message: "proof carries no DLEQ proof" })
  if (d.r === undefined)
    throw new CryptoError({ reason: "dleq", message: "proof DLEQ has no blinding factor r" })
  const K = asKey(A, backend)
  const r = scalarBytes(d.r, "r")
  const e = scalarBytes(d.e, "e")
  const s = scalarBytes(d.s, "s")
  const C = pointBytes(proof.C, "C")
  const Y = hashToCurveSecret(proof.secret, backend)
  return unlessInfinity(() => {
    const B_ = backend.add(Y, backend.mulBase(r))
    const C_ = backend.add(C, backend.mul(K.bytes, r))
    return dleqHolds(K, B_, C_, e, s, backend)
  })
}
