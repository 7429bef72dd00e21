/**
 * The test mint's cryptography, built on the project's own primitives: BDHKE signing with a NUT-12 DLEQ on
 * every signature, input verification (`k·hash_to_curve(secret) == C`), and the request-shape checks every
 * spending endpoint shares (duplicates, keysets, units, amounts).
 *
 * @module
 */
import { getBackend } from "../../../src/crypto/backend.js"
import { signBlinded, verifyProof } from "../../../src/crypto/bdhke.js"
import { bytesToHex, hexToBytes } from "../../../src/crypto/bytes.js"
import { createDleq } from "../../../src/crypto/dleq.js"
import { hashToCurveSecret } from "../../../src/crypto/hash-to-curve.js"
import type { Amount, BlindedMessage, BlindSignature, Proof } from "../../../src/model/index.js"
import { feeForInputs } from "../../../src/protocol/fees.js"
import { Code, refuse } from "./errors.js"
import type { KeysetStore, MintKeyset } from "./keysets.js"
import type { Ledger } from "./ledger.js"
import type { MintConfig } from "./state.js"

/** Refuses requests larger than the configured limits (11014 / 11015), before any cryptography. */
export const checkLimits = (config: MintConfig, inputs: number, outputs: number): void => {
  if (inputs > config.maxInputs) refuse(Code.MaxInputsExceeded, "too many inputs")
  if (outputs > config.maxOutputs) refuse(Code.MaxOutputsExceeded, "too many outputs")
}

/** `Y = hash_to_curve(utf8(secret))` as compressed hex: the key of the spent set. */
export const proofY = (secret: string): string => bytesToHex(hashToCurveSecret(secret))

/** Signs `B_` for `amount` (the output's own amount, or the NUT-08 change piece) with a NUT-12 DLEQ. */
export const signOutput = (keyset: MintKeyset, B_: string, amount: Amount): BlindSignature => {
  const k = keyset.privateKeys.get(amount)
  if (k === undefined) return refuse(Code.AmountOutOfLimitRange, "invalid amount for keyset")
  const C_ = signBlinded(B_, k, getBackend())
  const dleq = createDleq(k, B_, C_)
  return { amount, id: keyset.id, C_: bytesToHex(C_), dleq }
}

/** Checks outputs (before anything is applied): no duplicate `B_`, known active keyset of `unit`, amounts with a key. */
export const checkOutputs = (
  outputs: ReadonlyArray<BlindedMessage>,
  keysets: KeysetStore,
  unit: string | undefined,
  opts: { readonly blank?: boolean } = {},
): string | undefined => {
  if (new Set(outputs.map((o) => o.B_)).size !== outputs.length)
    refuse(Code.DuplicateOutputs, "duplicate outputs provided")
  let outUnit = unit
  const backend = getBackend()
  for (const o of outputs) {
    const ks = keysets.get(o.id)
    if (ks === undefined) return refuse(Code.KeysetUnknown, "keyset is not known")
    if (!ks.active) refuse(Code.KeysetInactive, "keyset is inactive, cannot sign messages")
    if (outUnit !== undefined && ks.unit !== outUnit)
      refuse(Code.UnitMismatch, "inputs and outputs not of same unit")
    if (!backend.isPoint(hexToBytes(o.B_, "B_"))) refuse(Code.Generic, "blinded message is not a curve point")
    outUnit = ks.unit
    if (opts.blank !== true && !ks.privateKeys.has(o.amount))
      refuse(Code.AmountOutOfLimitRange, "invalid amount for keyset")
  }
  return outUnit
}

/** Refuses with 11003 when any output was signed before (checked after validation, as nutshell does). */
export const checkNotSigned = (outputs: ReadonlyArray<BlindedMessage>, ledger: Ledger): void => {
  for (const o of outputs)
    if (ledger.isSigned(o.B_)) refuse(Code.OutputsAlreadySigned, "outputs have already been signed before")
}

/** What input verification found: the Ys (in input order), the unit, the total and the fee. */
export interface VerifiedInputs {
  readonly Ys: ReadonlyArray<string>
  readonly unit: string
  readonly total: Amount
  readonly fee: Amount
}

/** Verifies inputs: non-empty, no duplicate secret, known keysets of one unit, valid signatures; computes the fee. */
export const verifyInputs = (inputs: ReadonlyArray<Proof>, keysets: KeysetStore): VerifiedInputs => {
  if (inputs.length === 0) refuse(Code.TransactionUnbalanced, "no inputs provided")
  const Ys = inputs.map((p) => proofY(p.secret))
  if (new Set(Ys).size !== Ys.length) refuse(Code.DuplicateInputs, "duplicate inputs provided")
  let unit: string | undefined
  let total = 0n
  for (const p of inputs) {
    const ks = keysets.get(p.id)
    if (ks === undefined) return refuse(Code.KeysetUnknown, "keyset is not known")
    if (unit !== undefined && ks.unit !== unit) refuse(Code.MultipleUnits, "inputs of multiple units")
    unit = ks.unit
    const k = ks.privateKeys.get(p.amount)
    if (k === undefined || !safeVerify(p, k)) refuse(Code.ProofVerificationFailed, "could not verify proofs")
    total += p.amount
  }
  const fee = feeForInputs(inputs, (id) => keysets.get(id)?.inputFeePpk)
  return { Ys, unit: unit!, total, fee }
}

const safeVerify = (p: Proof, k: Uint8Array): boolean => {
  try {
    return verifyProof(p.secret, p.C, k)
  } catch {
    return false
  }
}

/** Refuses with 11001 / 11002 when an input is spent or held by an unsettled melt. */
export const checkUnspent = (Ys: ReadonlyArray<string>, ledger: Ledger): void => {
  for (const Y of Ys) {
    if (ledger.isSpent(Y)) refuse(Code.ProofsAlreadySpent, "Token already spent.")
    if (ledger.isPending(Y)) refuse(Code.ProofsPending, "proofs are pending")
  }
}
