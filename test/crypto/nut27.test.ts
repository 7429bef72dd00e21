import { schnorr } from "@noble/curves/secp256k1.js"
import { describe, expect, it } from "vitest"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { mnemonicToSeed } from "../../src/crypto/nut13.js"
import { MINT_BACKUP_DOMAIN, mintBackupKey } from "../../src/crypto/nut27.js"
import { expectTagged } from "../support/errors.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("27-nostr-backup.json")

describe("NUT-27 mint backup key", () => {
  it("uses the vector's domain separator", () => {
    expect(MINT_BACKUP_DOMAIN).toBe(v.domain_separator)
  })

  it("derives the vector's secret and x-only public key from the mnemonic", () => {
    const k = mintBackupKey(v.mnemonic)
    expect(bytesToHex(k.secretKey)).toBe(v.secret_key)
    expect(k.publicKey).toBe(v.public_key)
    expect(k.publicKey).toHaveLength(64)
  })

  it("gives the same key from the BIP39 seed", () => {
    const k = mintBackupKey(mnemonicToSeed(v.mnemonic))
    expect(bytesToHex(k.secretKey)).toBe(v.secret_key)
    expect(k.publicKey).toBe(v.public_key)
  })

  it("the key signs as a Nostr (BIP340) key", () => {
    const k = mintBackupKey(v.mnemonic)
    const msg = new Uint8Array(32).fill(7)
    expect(schnorr.verify(schnorr.sign(msg, k.secretKey), msg, schnorr.getPublicKey(k.secretKey))).toBe(true)
    expect(bytesToHex(schnorr.getPublicKey(k.secretKey))).toBe(v.public_key)
  })

  it("rejects an invalid mnemonic and a seed of the wrong size", () => {
    expectTagged(() => mintBackupKey(v.mnemonic.replace("half", "halt")), "DecodeError", "mnemonic")
    expectTagged(() => mintBackupKey(new Uint8Array(32)), "CryptoError", "derivation")
  })
})
