/**
 * NUT-27 mint-list backup key: `sk = SHA256(bip39_seed ‖ utf8("cashu-mint-backup"))`, published as a Nostr
 * (x-only) public key. Only the key derivation lives here; the Nostr event and NIP-44 encryption are transport.
 *
 * @module
 */
import { schnorr } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { CryptoError } from "../model/index.js"
import { bytesToBigInt, bytesToHex, concatBytes, utf8 } from "./bytes.js"
import { mnemonicToSeed } from "./nut13.js"
import { CURVE_ORDER } from "./schnorr.js"

/** Domain separator of the NUT-27 backup key. */
export const MINT_BACKUP_DOMAIN = "cashu-mint-backup"

/** The NUT-27 backup key pair. */
export interface MintBackupKey {
  /** 32-byte private key. */
  readonly secretKey: Uint8Array
  /** x-only (BIP340 / Nostr) public key, lowercase hex. */
  readonly publicKey: string
}

/**
 * Derives the backup key from a mnemonic (validated, see `mnemonicToSeed`) or from the 64-byte BIP39 seed.
 */
export const mintBackupKey = (mnemonicOrSeed: string | Uint8Array): MintBackupKey => {
  const seed = typeof mnemonicOrSeed === "string" ? mnemonicToSeed(mnemonicOrSeed) : mnemonicOrSeed
  if (seed.length !== 64) throw new CryptoError({ reason: "derivation", message: "seed must be 64 bytes" })
  const secretKey = sha256(concatBytes(seed, utf8(MINT_BACKUP_DOMAIN)))
  const k = bytesToBigInt(secretKey)
  if (k === 0n || k >= CURVE_ORDER) {
    throw new CryptoError({ reason: "derivation", message: "backup key hash is not a valid scalar" })
  }
  return { secretKey, publicKey: bytesToHex(schnorr.getPublicKey(secretKey)) }
}
