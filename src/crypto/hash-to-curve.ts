/**
 * NUT-00 `hash_to_curve`: maps a secret to the point Y that the mint signs.
 *
 * `msg_hash = SHA256("Secp256k1_HashToCurve_Cashu_" || x)`; for counter = 0, 1, … (uint32 LITTLE-endian) the
 * candidate is `02 || SHA256(msg_hash || counter)`; the first candidate that is a point wins. This is Cashu's own
 * construction, not RFC 9380. Each candidate costs one SHA256 and one square-root test (the backend's `isPoint`);
 * about half the candidates are points, so two tries on average.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { CryptoError } from "../model/index.js"
import { getBackend } from "./backend.js"
import type { Secp256k1Backend } from "./backends/types.js"
import { utf8 } from "./bytes.js"

const DOMAIN = utf8("Secp256k1_HashToCurve_Cashu_")
/** SHA256 state after the domain prefix, cloned per call instead of re-hashing the prefix. */
const PREFIXED = sha256.create().update(DOMAIN)

/** Upper bound on candidates (the spec's 2^16); reaching it has probability 2^-65536 with a sound hash. */
export const HASH_TO_CURVE_MAX_ITERATIONS = 65536

/**
 * NUT-00 `hash_to_curve(x)` for the message bytes `x`; returns Y as a 33-byte compressed point.
 * Fails with `hash-to-curve-exhausted` if no candidate is a point within {@link HASH_TO_CURVE_MAX_ITERATIONS}.
 */
export const hashToCurve = (message: Uint8Array, backend: Secp256k1Backend = getBackend()): Uint8Array => {
  const msgHash = PREFIXED.clone().update(message).digest()
  const input = new Uint8Array(36) // msg_hash || uint32_le(counter)
  input.set(msgHash, 0)
  const candidate = new Uint8Array(33)
  candidate[0] = 2
  for (let counter = 0; counter < HASH_TO_CURVE_MAX_ITERATIONS; counter++) {
    input[32] = counter & 0xff
    input[33] = (counter >>> 8) & 0xff
    input[34] = (counter >>> 16) & 0xff
    input[35] = (counter >>> 24) & 0xff
    candidate.set(sha256(input), 1)
    if (backend.isPoint(candidate)) return candidate
  }
  throw new CryptoError({ reason: "hash-to-curve-exhausted", message: "hash_to_curve found no point" })
}

/** `hash_to_curve` of a proof secret: the UTF-8 bytes of the string, as mints and NUT-07 compute `Y`. */
export const hashToCurveSecret = (secret: string, backend: Secp256k1Backend = getBackend()): Uint8Array =>
  hashToCurve(utf8(secret), backend)
