/**
 * The main job, stage one (issue #2): the protocol core end to end, in one process, with nothing faked.
 *
 * A throwaway keyset plays the mint (real BDHKE signing with NUT-12 DLEQ proofs); a wallet restored from a fresh
 * BIP39 mnemonic derives its outputs deterministically (NUT-13), blinds them, verifies every DLEQ, unblinds,
 * and the "mint" verifies the resulting proofs. The proofs travel as a v4 `cashuB` token and come back intact.
 * Stage two (issue #4) replaces this with two engine wallets against a real local reference mint.
 *
 * Nothing secret is printed: no mnemonic, proof secrets, blinding factors or full tokens.
 */
import { randomBytes } from "node:crypto"
import { generateMnemonic } from "@scure/bip39"
import { wordlist } from "@scure/bip39/wordlists/english.js"
import { getBackend } from "../crypto/backend.js"
import { createOutputs, signBlinded, unblindSignatures, verifyProof } from "../crypto/bdhke.js"
import { bytesToHex } from "../crypto/bytes.js"
import { createDleq } from "../crypto/dleq.js"
import { deriveRange, mnemonicToSeed } from "../crypto/nut13.js"
import { decodeToken, encodeToken } from "../index.js"
import { deriveKeysetId } from "../protocol/keyset-id.js"
import type { BlindSignature } from "../protocol/models.js"
import { splitAmount } from "../protocol/split.js"

const started = performance.now()
const say = (s: string) => console.log(s)

// The "mint": one private key per power-of-two amount, and its public keyset.
const backend = getBackend()
const privateKeys = new Map<bigint, Uint8Array>()
const publicKeys = new Map<bigint, string>()
for (let i = 0n; i < 21n; i++) {
  const k = randomBytes(32)
  privateKeys.set(1n << i, k)
  publicKeys.set(1n << i, bytesToHex(backend.mulBase(k)))
}
const keysetId = deriveKeysetId(publicKeys, { version: 2, unit: "sat" })
say(`mint keyset  ${keysetId.slice(0, 16)}… (v2 id, ${publicKeys.size} keys, backend ${backend.name})`)

// The wallet: a fresh mnemonic, deterministic outputs for 1,337 sat from counter 0.
const seed = mnemonicToSeed(generateMnemonic(wordlist))
const amounts = splitAmount(1337n, publicKeys.keys())
const secrets = deriveRange(seed, keysetId, 0, amounts.length)
const outputs = createOutputs(
  amounts.map((amount, i) => ({ amount, id: keysetId, secret: secrets[i]!.secret, r: secrets[i]!.r })),
)
say(`wallet       ${outputs.length} blinded outputs for 1337 sat: ${amounts.join(" + ")}`)

// The mint signs each output and proves it used the right key.
const signatures: BlindSignature[] = outputs.map((o) => {
  const k = privateKeys.get(o.amount)!
  const C_ = bytesToHex(signBlinded(o.B_, k))
  return { amount: o.amount, id: o.id, C_, dleq: createDleq(k, o.B_, C_) }
})

// The wallet verifies every DLEQ (required here) and unblinds.
const proofs = unblindSignatures(
  outputs,
  signatures,
  { id: keysetId, keys: publicKeys },
  { requireDleq: true },
)
say(`wallet       ${proofs.length} proofs unblinded, every DLEQ verified`)

// The mint accepts them: k·hash_to_curve(secret) == C.
const valid = proofs.every((p) => verifyProof(p.secret, p.C, privateKeys.get(p.amount)!))
say(`mint         proofs verify: ${valid}`)

// They travel as a cashuB token and come back byte for byte.
const token = encodeToken({ version: 4, entries: [{ mint: "http://127.0.0.1:3338", proofs }], unit: "sat" })
const back = decodeToken(token)
const total = back.entries.flatMap((e) => e.proofs).reduce((s, p) => s + p.amount, 0n)
const same = encodeToken(back) === token
say(`token        cashuB, ${token.length} chars, decodes to ${total} sat, re-encodes identically: ${same}`)
say(`done in ${(performance.now() - started).toFixed(0)} ms`)
if (!valid || !same || total !== 1337n) process.exitCode = 1
