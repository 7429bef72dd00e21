/**
 * Outputs of a request: planning them from a reserved counter range, and turning the mint's signatures into
 * proofs after checking them.
 *
 * Deterministic (NUT-13) outputs record only their counter: secret and blinding factor are re-derived from
 * the seed, so the log need not hold them and a restore from the mnemonic finds them. Outputs whose secret
 * is not the seed's (P2PK/HTLC-locked sends) record secret and `r` in the intent (encrypted at rest), so an
 * interrupted locked send can still be restored.
 *
 * Validation before anything is stored (the hostile mint of `RELIABILITY.md` flips signatures and DLEQs):
 * exactly one signature per output, in order; each signature's keyset is the output's; its amount is the
 * output's (change outputs of a melt excepted: the mint chooses their amounts); DLEQ verified when present
 * and required when the mint advertises NUT-12.
 *
 * @module
 */
import { Effect } from "effect"
import { blind, createOutputs, unblindSignatures } from "../crypto/bdhke.js"
import { bytesToHex, hexToBytes, utf8 } from "../crypto/bytes.js"
import { hashToCurveSecret } from "../crypto/hash-to-curve.js"
import { outputDeriver } from "../crypto/nut13.js"
import type {
  CountersReserved,
  OutputIntent,
  OutputRole,
  Signature,
  StoredProof,
} from "../events/catalogue.js"
import {
  type BlindedMessage,
  type CryptoError,
  type DecodeError,
  isPureError,
  type KeysetError,
  SignatureMismatch,
  type VerificationError,
} from "../model/index.js"
import type { KeysetView } from "../projections/mints.js"

/** One output to create. `secret` given: a non-deterministic (e.g. locked) output with a random `r`. */
export interface OutputRequest {
  readonly amount: bigint
  readonly role: OutputRole
  readonly secret?: string
}

/** Planned outputs: what the log records, what the request carries, and the secrets to unblind with. */
export interface PlannedOutputs {
  /** In request order (ascending amount, NUT-03). */
  readonly intents: ReadonlyArray<OutputIntent>
  readonly blinded: ReadonlyArray<BlindedMessage>
  /** The counter reservation to append with the intent (absent when no output is deterministic). */
  readonly counters: CountersReserved | undefined
}

/** Secret material of an output, in memory only. */
export interface OutputMaterial {
  readonly secret: string
  readonly r: Uint8Array
}

/**
 * Plans `requests` on `keysetId`: deterministic outputs take counters `firstCounter, firstCounter + 1, …` in
 * request order (after sorting by amount), each deterministic output one counter.
 */
export const planOutputs = (
  seed: Uint8Array,
  keysetId: string,
  firstCounter: number,
  requests: ReadonlyArray<OutputRequest>,
): PlannedOutputs => {
  const sorted = [...requests].sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0))
  const derive = outputDeriver(seed, keysetId)
  const intents: OutputIntent[] = []
  const blinded: BlindedMessage[] = []
  let counter = firstCounter
  for (const req of sorted) {
    if (req.secret === undefined) {
      const s = derive(counter)
      const B_ = bytesToHex(blind(utf8(s.secret), s.r))
      s.r.fill(0)
      intents.push({ amount: req.amount, id: keysetId, B_, role: req.role, counter })
      blinded.push({ amount: req.amount, id: keysetId, B_ })
      counter++
    } else {
      const [out] = createOutputs([{ amount: req.amount, id: keysetId, secret: req.secret }])
      const o = out!
      intents.push({
        amount: req.amount,
        id: keysetId,
        B_: o.B_,
        role: req.role,
        secret: o.secret,
        r: bytesToHex(o.r),
      })
      blinded.push({ amount: req.amount, id: keysetId, B_: o.B_ })
      o.r.fill(0)
    }
  }
  const count = counter - firstCounter
  return {
    intents,
    blinded,
    counters: count > 0 ? { _tag: "CountersReserved", keysetId, start: firstCounter, count } : undefined,
  }
}

/** The secret and blinding factor of each intent (re-derived from the seed for deterministic ones). */
export const outputMaterial = (seed: Uint8Array, intents: ReadonlyArray<OutputIntent>): OutputMaterial[] => {
  const derivers = new Map<string, ReturnType<typeof outputDeriver>>()
  return intents.map((o) => {
    if (o.counter !== undefined) {
      let d = derivers.get(o.id)
      if (d === undefined) {
        d = outputDeriver(seed, o.id)
        derivers.set(o.id, d)
      }
      const s = d(o.counter)
      return { secret: s.secret, r: s.r }
    }
    return { secret: o.secret!, r: hexToBytes(o.r!) }
  })
}

/** Why the mint's signatures were refused. */
export type SignatureCheckError =
  | SignatureMismatch
  | DecodeError
  | KeysetError
  | VerificationError
  | CryptoError

/** True when `u` is one of the {@link SignatureCheckError}s `proofsFromSignatures` throws. */
const isSignatureCheckError = (u: unknown): u is SignatureCheckError =>
  u instanceof SignatureMismatch || isPureError(u)

/**
 * {@link proofsFromSignatures} as an Effect: its tagged errors as failures, anything else (a bug) as a
 * defect.
 */
export const checkedProofs = (
  ...args: Parameters<typeof proofsFromSignatures>
): Effect.Effect<StoredProof[], SignatureCheckError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(proofsFromSignatures(...args))
    } catch (e) {
      return isSignatureCheckError(e) ? Effect.fail(e) : Effect.die(e)
    }
  })

/** The map `amount → public key` of a keyset view. */
export const keysOf = (keyset: KeysetView): ReadonlyMap<bigint, string> => new Map(keyset.keys)

/**
 * Checks the mint's `signatures` against the `intents` they answer (same order) and unblinds them into stored
 * proofs (with Y and, for deterministic outputs, the counter). `change: true` (melt change) lets the mint
 * pick the amounts and answer fewer signatures than outputs (NUT-08). Throws the pure layers' tagged errors
 * (`DecodeError`, `KeysetError`, `VerificationError`, `CryptoError`) or {@link SignatureMismatch}.
 */
export const proofsFromSignatures = (
  seed: Uint8Array,
  keyset: KeysetView,
  intents: ReadonlyArray<OutputIntent>,
  signatures: ReadonlyArray<Signature>,
  options: { readonly requireDleq: boolean; readonly change?: boolean },
): StoredProof[] => {
  const change = options.change === true
  if (change ? signatures.length > intents.length : signatures.length !== intents.length)
    throw new SignatureMismatch({
      message: `expected ${intents.length} signatures, got ${signatures.length}`,
    })
  const used = intents.slice(0, signatures.length)
  signatures.forEach((sig, i) => {
    const o = used[i]!
    if (sig.id !== o.id)
      throw new SignatureMismatch({ message: `signature ${i} names another keyset than its output` })
    if (!change && sig.amount !== o.amount)
      throw new SignatureMismatch({ message: `signature ${i} signs another amount than its output` })
    if (sig.amount <= 0n && !change) throw new SignatureMismatch({ message: `signature ${i} has no value` })
  })
  const material = outputMaterial(seed, used)
  try {
    const proofs = unblindSignatures(
      used.map((o, i) => ({ B_: o.B_, secret: material[i]!.secret, r: material[i]!.r })),
      signatures,
      { id: keyset.id, keys: keysOf(keyset) },
      { requireDleq: options.requireDleq },
    )
    return proofs.map((p, i) => {
      const o = used[i]!
      const stored: StoredProof = {
        amount: p.amount,
        id: p.id,
        secret: p.secret,
        C: p.C,
        Y: bytesToHex(hashToCurveSecret(p.secret)),
        ...(p.dleq !== undefined ? { dleq: p.dleq } : {}),
        ...(o.counter !== undefined ? { counter: o.counter } : {}),
      }
      return stored
    })
  } finally {
    for (const m of material) m.r.fill(0)
  }
}
