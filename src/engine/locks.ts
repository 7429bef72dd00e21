/**
 * Which proofs this wallet can spend. A plain proof is a bearer instrument; a NUT-10/11 locked one is the
 * wallet's only when it can satisfy a pathway with its own key:
 *
 * - the main pathway: the wallet's key among its keys and one signature required;
 * - after the locktime, the refund pathway: the wallet's key among the refund keys and one signature
 *   required — or no refund keys at all (an expired lock without refund keys is anyone's).
 *
 * Anything else — a lock to another key, a multisig, an HTLC (needs the preimage), SIG_ALL (signed per
 * transaction), a secret the rules reject — is not the wallet's to spend, so it must never be counted as
 * spendable nor released into `unspent` (issue 10, item 5).
 *
 * @module
 */
import { parseSecret } from "../crypto/nut10.js"
import { parseSpendingConditions, signP2pkProof } from "../crypto/p2pk.js"
import { publicKeyHex } from "../crypto/schnorr.js"
import type { StoredProof } from "../events/catalogue.js"

/** Whether the proof's secret carries a NUT-10 spending condition (a well-known secret, not a plain one). */
export const isLocked = (proof: Pick<StoredProof, "secret">): boolean => {
  // Plain secrets are hex (NUT-13) or random strings; a well-known secret is a JSON array.
  if (proof.secret.charCodeAt(0) !== 0x5b) return false
  try {
    return parseSecret(proof.secret).type !== "plain"
  } catch {
    // Looks like a condition but does not parse: nobody can show the mint it is met.
    return true
  }
}

/**
 * The proof as a request input the wallet can spend now (signed when its lock needs the wallet's
 * signature), or undefined when it is not the wallet's to spend (see the module comment).
 */
export const spendableInput = (
  proof: StoredProof,
  privateKey: string,
  nowSeconds: number,
): StoredProof | undefined => {
  if (!isLocked(proof)) return proof
  try {
    const parsed = parseSecret(proof.secret)
    if (parsed.type === "plain") return proof
    const cond = parseSpendingConditions(parsed)
    const mine = publicKeyHex(privateKey).toLowerCase()
    const expired = cond.locktime !== undefined && BigInt(Math.floor(nowSeconds)) >= cond.locktime
    if (expired && cond.refundKeys.length === 0) return proof
    if (cond.sigflag === "SIG_ALL") return undefined
    const sign = () => {
      const signed = signP2pkProof(proof, privateKey)
      return signed.witness === undefined ? undefined : { ...proof, witness: signed.witness }
    }
    if (cond.kind === "P2PK" && cond.nSigs === 1 && cond.mainKeys.includes(mine)) return sign()
    if (expired && cond.nSigsRefund === 1 && cond.refundKeys.includes(mine)) return sign()
    return undefined
  } catch {
    return undefined
  }
}
