/**
 * NUT-00 blind Diffie-Hellman key exchange, both sides, plus the batch wallet path.
 *
 * Wallet: `Y = hash_to_curve(secret)`, `B_ = Y + r·G` (blind); the mint answers `C_ = k·B_`; the wallet
 * computes `C = C_ − r·K` (unblind) and keeps the proof `(secret, C)`. Mint: `k·hash_to_curve(secret) == C`.
 *
 * Which path each scalar takes: the blinding factor `r` and the mint key `k` are secret, so every product with
 * them is `mulBase`/`mul` (constant-time). Only NUT-12's public `e`/`s` use the variable-time paths (dleq.ts).
 *
 * The batch functions ({@link createOutputs}, {@link unblindSignatures}) are the hot path: one randomness call per
 * batch, mint keys decoded once per keyset object ({@link prepareKeys}), and hex handled at the edges only.
 *
 * @module
 */
import { randomBytes } from "@noble/hashes/utils.js"
import {
  type Amount,
  type BlindedMessage,
  type BlindSignature,
  CryptoError,
  DecodeError,
  KeysetError,
  type KeysetKeys,
  type Proof,
  VerificationError,
} from "../model/index.js"
import { getBackend } from "./backend.js"
import {
  isValidScalar,
  type PointInput,
  pointBytes,
  type ScalarInput,
  scalarBytes,
} from "./backends/common.js"
import type { Secp256k1Backend } from "./backends/types.js"
import { bytesToHex, utf8 } from "./bytes.js"
import { dleqHolds } from "./dleq.js"
import { hashToCurve, hashToCurveSecret } from "./hash-to-curve.js"
import { type KeyPoint, keyPoint, prepareKeys } from "./keys.js"

/** `B_ = Y + r·G` for a point Y already on the curve (r secret: constant-time base multiplication). */
export const blindPoint = (
  Y: PointInput,
  r: ScalarInput,
  backend: Secp256k1Backend = getBackend(),
): Uint8Array => backend.add(pointBytes(Y, "Y"), backend.mulBase(scalarBytes(r, "blinding factor")))

/** `B_ = hash_to_curve(secret) + r·G` for the secret's message bytes (UTF-8 of the secret string in practice). */
export const blind = (
  secret: Uint8Array,
  r: ScalarInput,
  backend: Secp256k1Backend = getBackend(),
): Uint8Array => blindPoint(hashToCurve(secret, backend), r, backend)

/** `C = C_ − r·K`: the proof's signature from the mint's blind signature (r secret: constant-time). */
export const unblind = (
  C_: PointInput,
  r: ScalarInput,
  K: PointInput | KeyPoint,
  backend: Secp256k1Backend = getBackend(),
): Uint8Array => {
  const key = typeof K === "string" || K instanceof Uint8Array ? keyPoint(K, backend) : K
  return backend.sub(pointBytes(C_, "C_"), backend.mul(key.bytes, scalarBytes(r, "blinding factor")))
}

/** Mint side: `C_ = k·B_` (k secret: constant-time). */
export const signBlinded = (
  B_: PointInput,
  k: ScalarInput,
  backend: Secp256k1Backend = getBackend(),
): Uint8Array => backend.mul(pointBytes(B_, "B_"), scalarBytes(k, "mint key"))

/**
 * Mint side: does `C` sign `secret` under `k`, i.e. `k·hash_to_curve(utf8(secret)) == C`? `false` when not;
 * {@link CryptoError} when `C` is not a point or `k` not a scalar.
 */
export const verifyProof = (
  secret: string,
  C: PointInput,
  k: ScalarInput,
  backend: Secp256k1Backend = getBackend(),
): boolean => {
  const c = pointBytes(C, "C")
  if (!backend.isPoint(c))
    throw new CryptoError({ reason: "invalid-point", message: "C is not on the curve" })
  const expected = backend.mul(hashToCurveSecret(secret, backend), scalarBytes(k, "mint key"))
  // Compressed encodings are unique, so byte equality is point equality; C is public.
  for (let i = 0; i < 33; i++) if (expected[i] !== c[i]) return false
  return true
}

/** Source of random bytes (the default is the platform CSPRNG). */
export type RandomSource = (length: number) => Uint8Array

/** What to blind: amount and keyset id, and optionally a given secret and/or blinding factor (e.g. NUT-13). */
export interface OutputSpec {
  readonly amount: Amount
  readonly id: string
  /** The secret string; random 32 bytes as 64 lowercase hex characters when absent (NUT-00 recommendation). */
  readonly secret?: string
  /** The blinding factor; random when absent. */
  readonly r?: ScalarInput
}

/**
 * A blinded message plus what the wallet must persist BEFORE sending it (`secret` and `r` are secret material:
 * losing them loses the funds, leaking them lets others claim or link them).
 */
export interface PreparedOutput extends BlindedMessage {
  readonly secret: string
  /** The blinding factor, 32 bytes. */
  readonly r: Uint8Array
}

/** Options of {@link createOutputs}. */
export interface CreateOutputsOptions {
  readonly random?: RandomSource
  readonly backend?: Secp256k1Backend
}

/**
 * Builds the outputs (`BlindedMessage`s with their secrets) for `specs`, in order: random secrets and blinding
 * factors where not given, `Y = hash_to_curve(utf8(secret))`, `B_ = Y + r·G`. One call to `random` serves the
 * whole batch. Fails with `invalid-scalar` for a given `r` that is 0 or ≥ n.
 */
export const createOutputs = (
  specs: ReadonlyArray<OutputSpec>,
  opts: CreateOutputsOptions = {},
): PreparedOutput[] => {
  const backend = opts.backend ?? getBackend()
  const draw = (length: number): Uint8Array => {
    const bytes = (opts.random ?? randomBytes)(length)
    if (bytes.length !== length)
      throw new CryptoError({ reason: "invalid-scalar", message: "random source returned the wrong length" })
    return bytes
  }
  let need = 0
  for (const s of specs) need += (s.secret === undefined ? 32 : 0) + (s.r === undefined ? 32 : 0)
  const pool = need > 0 ? draw(need) : new Uint8Array(0)
  let o = 0
  const out: PreparedOutput[] = new Array(specs.length)
  try {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!
      let secret = spec.secret
      if (secret === undefined) {
        secret = bytesToHex(pool.subarray(o, o + 32))
        o += 32
      }
      let r: Uint8Array
      if (spec.r !== undefined) r = scalarBytes(spec.r, "blinding factor").slice()
      else {
        r = pool.slice(o, o + 32)
        o += 32
        // Out of range with probability ~2^-128; redraw rather than reduce, so r stays uniform.
        while (!isValidScalar(r)) r = draw(32).slice()
      }
      const B_ = backend.add(hashToCurve(utf8(secret), backend), backend.mulBase(r))
      out[i] = { amount: spec.amount, id: spec.id, B_: bytesToHex(B_), secret, r }
    }
  } finally {
    pool.fill(0)
  }
  return out
}

/** Options of {@link unblindSignatures}. */
export interface UnblindOptions {
  /** Reject a signature that carries no DLEQ proof (default `false`: NUT-12 says verify when present). */
  readonly requireDleq?: boolean
  /** Attach `dleq {e, s, r}` to the proofs so a receiver can verify offline (default `true`). */
  readonly keepDleq?: boolean
  readonly backend?: Secp256k1Backend
}

/**
 * Turns the mint's blind signatures into proofs: `signatures[i]` answers `outputs[i]`. For each, the key is
 * looked up by the signature's amount, its DLEQ proof (if present) is verified, and `C = C_ − r·K` computed.
 *
 * Fails with: {@link DecodeError} if the arrays differ in length (NUT-08 change: pass
 * `outputs.slice(0, signatures.length)`); {@link KeysetError} for a signature from another keyset
 * (`unknown-id`) or an amount without a key (`unknown-amount`); {@link VerificationError} (`dleq`) if a proof
 * does not hold or is required but absent; {@link CryptoError} for malformed points or scalars.
 */
export const unblindSignatures = (
  outputs: ReadonlyArray<Pick<PreparedOutput, "secret" | "r" | "B_">>,
  signatures: ReadonlyArray<BlindSignature>,
  keyset: { readonly id: string; readonly keys: KeysetKeys },
  opts: UnblindOptions = {},
): Proof[] => {
  if (outputs.length !== signatures.length)
    throw new DecodeError({
      reason: "schema",
      message: `expected ${outputs.length} blind signatures, got ${signatures.length}`,
    })
  const backend = opts.backend ?? getBackend()
  const keepDleq = opts.keepDleq ?? true
  const keys = prepareKeys(keyset.keys, backend)
  const proofs: Proof[] = new Array(signatures.length)
  for (let i = 0; i < signatures.length; i++) {
    const sig = signatures[i]!
    const output = outputs[i]!
    if (sig.id !== keyset.id)
      throw new KeysetError({
        reason: "unknown-id",
        message: `blind signature ${i} names another keyset`,
        keysetId: sig.id,
      })
    const K = keys.get(sig.amount)
    if (K === undefined)
      throw new KeysetError({
        reason: "unknown-amount",
        message: `keyset has no key for the amount of blind signature ${i}`,
        keysetId: keyset.id,
      })
    const C_ = pointBytes(sig.C_, "C_")
    const dleq = sig.dleq
    if (dleq !== undefined) {
      const B_ = pointBytes(output.B_, "B_")
      if (!dleqHolds(K, B_, C_, scalarBytes(dleq.e, "e"), scalarBytes(dleq.s, "s"), backend))
        throw new VerificationError({
          check: "dleq",
          message: `DLEQ proof of blind signature ${i} does not hold`,
        })
    } else if (opts.requireDleq === true)
      throw new VerificationError({ check: "dleq", message: `blind signature ${i} carries no DLEQ proof` })
    // C = C_ − r·K: r is secret, so the constant-time multiplication. (r·K rather than r·(−K): backends that
    // cache per-point tables then share one table per key between unblinding and proof-DLEQ checks.)
    const C = bytesToHex(backend.sub(C_, backend.mul(K.bytes, output.r)))
    proofs[i] =
      dleq !== undefined && keepDleq
        ? {
            amount: sig.amount,
            id: sig.id,
            secret: output.secret,
            C,
            dleq: { e: dleq.e, s: dleq.s, r: bytesToHex(output.r) },
          }
        : { amount: sig.amount, id: sig.id, secret: output.secret, C }
  }
  return proofs
}
