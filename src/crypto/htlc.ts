/**
 * NUT-14 hashed timelock contracts: the hash lock, HTLC secrets and witnesses.
 *
 * `data = hex(SHA256(preimage))` with a preimage of exactly 32 bytes (64 lowercase hex characters in the
 * witness). Spending is checked by the shared verifier in `p2pk.ts` (`verifySpendingConditions`): receiver
 * pathway = preimage plus main-pathway signatures (`pubkeys`; none when the tag is absent), sender pathway =
 * `refund` signatures after `locktime`, anyone after an expired lock without refund keys.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { DecodeError, type Proof } from "../model/index.js"
import { bytesToHex, equalBytes, hexToBytesOrUndefined } from "./bytes.js"
import {
  createConditionSecret,
  encodeWitness,
  type LockOptions,
  parseWitness,
  signP2pkProof,
} from "./p2pk.js"
import type { PrivateKeyInput } from "./schnorr.js"

const PREIMAGE_HEX = /^[0-9a-f]{64}$/
const HASH_HEX = /^[0-9a-fA-F]{64}$/

const preimageBytes = (preimage: Uint8Array | string): Uint8Array => {
  const bytes = typeof preimage === "string" ? hexToBytesOrUndefined(preimage) : preimage
  if (bytes === undefined || bytes.length !== 32) {
    throw new DecodeError({ reason: "schema", message: "HTLC preimage must be exactly 32 bytes" })
  }
  return bytes
}

/** The hash lock (lowercase hex SHA-256) of a 32-byte preimage given as bytes or hex. */
export const htlcHash = (preimage: Uint8Array | string): string => bytesToHex(sha256(preimageBytes(preimage)))

/**
 * True when `preimage` (64 lowercase hex characters, as the witness must carry it) hashes to `hash` (64 hex).
 * Never throws: malformed input is simply not a match.
 */
export const verifyHtlcPreimage = (hash: string, preimage: string): boolean => {
  if (!PREIMAGE_HEX.test(preimage) || !HASH_HEX.test(hash)) return false
  return equalBytes(sha256(hexToBytesOrUndefined(preimage)!), hexToBytesOrUndefined(hash)!)
}

/**
 * An HTLC secret locked to `hash` (64 hex, stored lowercase), with the NUT-11 options: `pubkeys` are the
 * receivers who must also sign, `refund` + `locktime` the sender's way back.
 */
export const createHtlcSecret = (hash: string, opts: LockOptions = {}): string => {
  if (!HASH_HEX.test(hash))
    throw new DecodeError({ reason: "schema", message: "HTLC hash must be 32 bytes of hex" })
  return createConditionSecret("HTLC", hash.toLowerCase(), opts)
}

/** The witness string `{"preimage": hex, "signatures": […]}`. */
export const htlcWitness = (preimage: Uint8Array | string, signatures: ReadonlyArray<string> = []): string =>
  encodeWitness({ preimage: bytesToHex(preimageBytes(preimage)), signatures })

/** Returns the proof with `preimage` set in its witness; signatures already there are kept. */
export const withHtlcPreimage = (proof: Proof, preimage: Uint8Array | string): Proof => {
  const signatures = proof.witness === undefined ? [] : parseWitness(proof.witness).signatures
  return { ...proof, witness: htlcWitness(preimage, signatures) }
}

/**
 * Unlocks an HTLC proof on the receiver pathway (SIG_INPUTS): sets the preimage and, when a key is given, adds
 * its signature. For SIG_ALL set the preimage with {@link withHtlcPreimage} on the first input and sign the
 * transaction with `signSigAllSwap`/`signSigAllMelt`.
 */
export const signHtlcProof = (
  proof: Proof,
  preimage: Uint8Array | string,
  privateKey?: PrivateKeyInput,
): Proof => {
  const withPreimage = withHtlcPreimage(proof, preimage)
  return privateKey === undefined ? withPreimage : signP2pkProof(withPreimage, privateKey)
}
