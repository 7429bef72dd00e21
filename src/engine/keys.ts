/**
 * The wallet's own P2PK key (NUT-11), derived from its seed so that a restore from the mnemonic can still
 * unlock tokens locked to it: `sk = HMAC-SHA256("corecashu/p2pk/v1", seed ‖ index) mod n` (re-drawn with the
 * next index on the negligible chance of 0).
 *
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8 } from "../crypto/bytes.js"
import { CURVE_ORDER, publicKeyHex } from "../crypto/schnorr.js"

const DOMAIN = utf8("corecashu/p2pk/v1")

/** The wallet's P2PK private key (hex) number `index`. */
export const walletPrivateKey = (seed: Uint8Array, index = 0): string => {
  for (let i = index; ; i++) {
    const msg = new Uint8Array(seed.length + 4)
    msg.set(seed)
    new DataView(msg.buffer).setUint32(seed.length, i)
    const k = BigInt(`0x${bytesToHex(hmac(sha256, DOMAIN, msg))}`) % CURVE_ORDER
    msg.fill(0)
    if (k !== 0n) return k.toString(16).padStart(64, "0")
  }
}

/** The wallet's P2PK public key (compressed hex) number `index`. */
export const walletPublicKey = (seed: Uint8Array, index = 0): string =>
  publicKeyHex(walletPrivateKey(seed, index))
