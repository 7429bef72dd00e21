/**
 * NUT-11 Pay-to-Public-Key, and the spending-condition verifier shared with NUT-14 HTLCs.
 *
 * Rules implemented (11.md, 14.md):
 * - tags `sigflag`, `pubkeys`, `n_sigs`, `locktime`, `refund`, `n_sigs_refund` may each appear once; `n_sigs*`
 *   must be positive and at most the number of keys in their pathway; a key may appear once per pathway
 *   (compared by x-coordinate); keys must be compressed SEC1 points. Anything else is a malformed secret
 *   ({@link DecodeError}), which the mint must reject as unspendable.
 * - `locktime`: absent or not a positive integer → permanent lock. The lock is expired when `now ≥ locktime`
 *   (the spec leaves equality open; nutshell expires strictly after, cashu-ts at equality — we follow cashu-ts).
 *   Before expiry only the main pathway counts; after it main OR refund; expired without `refund` → anyone.
 * - Main pathway: P2PK `[data, …pubkeys]`; HTLC preimage plus `pubkeys` signatures (none needed without
 *   `pubkeys`). Signatures are BIP340 over SHA256(utf8(secret)), or over the SIG_ALL message; what counts is
 *   the number of DISTINCT keys with a valid signature.
 * - SIG_ALL: all inputs share kind, data and tags, and only the first input's witness is read.
 * - Bounded work (NUT-11 sets no limits, so these are ours): a lock lists at most {@link MAX_LOCK_KEYS} keys,
 *   a witness carries at most {@link MAX_WITNESS_SIGNATURES} signatures and never the same one twice (each a
 *   {@link DecodeError}); each signature is matched to one key, each (signature, key) pair checked at most once,
 *   and a pathway stops as soon as its `n_sigs` is reached or out of reach. Checks run on the selected backend
 *   (libsecp256k1 when it loads).
 *
 * `now` is always a parameter (unix seconds): nothing here reads a clock.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { randomBytes } from "@noble/hashes/utils.js"
import {
  type Amount,
  type BlindedMessage,
  DecodeError,
  isPureError,
  type Proof,
  type PureError,
  VerificationError,
} from "../model/index.js"
import { getBackend } from "./backend.js"
import { bytesToHex, hexToBytesOrUndefined } from "./bytes.js"
import { encodeSecret, parseSecret, sameTags, type Tag, type WellKnownSecret } from "./nut10.js"
import { decodeCompressedPoint, type PrivateKeyInput, sha256Utf8, signDigest } from "./schnorr.js"

/** NUT-11 signature flag. */
export type SigFlag = "SIG_INPUTS" | "SIG_ALL"

/** Condition kinds this verifier understands. */
export type ConditionKind = "P2PK" | "HTLC"

/** The validated NUT-11 view of a P2PK or HTLC secret. Keys are lowercase compressed hex. */
export interface SpendingConditions {
  readonly kind: ConditionKind
  /** P2PK: the receiver key (lowercase); HTLC: the lowercase SHA-256 hash lock. */
  readonly data: string
  readonly sigflag: SigFlag
  /** Main (locktime-multisig) pathway: P2PK `[data, …pubkeys]`, HTLC `pubkeys`. */
  readonly mainKeys: ReadonlyArray<string>
  /** Required distinct main-pathway signers (default 1; irrelevant for an HTLC without `pubkeys`). */
  readonly nSigs: number
  /** Unix seconds; `undefined` = permanent lock. */
  readonly locktime?: bigint
  readonly refundKeys: ReadonlyArray<string>
  /** Required distinct refund signers (default 1). */
  readonly nSigsRefund: number
}

/** A parsed NUT-11/14 witness. */
export interface Witness {
  readonly preimage?: string
  readonly signatures: ReadonlyArray<string>
}

/** Unix time in seconds, as a safe integer or a bigint. */
export type UnixSeconds = number | bigint

/** An output as far as signatures are concerned. */
export type SignedOutput = Pick<BlindedMessage, "amount" | "B_">

/** An input as far as the SIG_ALL message is concerned. */
export type SignedInput = Pick<Proof, "secret" | "C">

/** Options shared by P2PK and HTLC lock creation. */
export interface LockOptions {
  /** Additional main-pathway keys (compressed hex, or 32-byte x-only hex which is lifted with `02`). */
  readonly pubkeys?: ReadonlyArray<string>
  readonly nSigs?: number
  readonly locktime?: UnixSeconds
  readonly refund?: ReadonlyArray<string>
  readonly nSigsRefund?: number
  readonly sigflag?: SigFlag
  /** Extra (non-NUT-11) tags appended after the standard ones. */
  readonly extraTags?: ReadonlyArray<Tag>
  /** Nonce; 32 random bytes as hex when omitted. */
  readonly nonce?: string
}

/**
 * Most signatures one witness may carry. NUT-11 sets no limit; every signature may have to be checked against
 * every key of a pathway, so this and {@link MAX_LOCK_KEYS} bound a witness's work to 32 × 32 BIP340 checks.
 */
export const MAX_WITNESS_SIGNATURES = 32
/**
 * Most keys one lock may list, both pathways together (`data`, `pubkeys`, `refund`). NUT-11 sets no limit
 * (NUT-28 blinds at most 11 slots); a lock over more keys is malformed.
 */
export const MAX_LOCK_KEYS = 32
/** Longest witness string accepted. */
export const MAX_WITNESS_LENGTH = 16 * 1024

const KNOWN_TAGS = new Set(["sigflag", "pubkeys", "n_sigs", "locktime", "refund", "n_sigs_refund"])
const DIGITS = /^[0-9]{1,20}$/
const HASH_HEX = /^[0-9a-fA-F]{64}$/
const PREIMAGE_HEX = /^[0-9a-f]{64}$/
const SIG_HEX = /^[0-9a-fA-F]{128}$/

const malformed = (message: string, reason: "schema" | "duplicate" = "schema"): DecodeError =>
  new DecodeError({ reason, message })

const parseKey = (hex: string, what: string): string => {
  if (decodeCompressedPoint(hex) === undefined) throw malformed(`${what} is not a compressed public key`)
  return hex.toLowerCase()
}

const parseKeys = (keys: ReadonlyArray<string>, what: string): string[] => {
  const out = keys.map((k) => parseKey(k, what))
  const seen = new Set<string>()
  for (const k of out) {
    const x = k.slice(2)
    if (seen.has(x)) throw malformed(`${what} pathway lists the same key twice`, "duplicate")
    seen.add(x)
  }
  return out
}

const parseCount = (tag: Tag | undefined, keys: number, what: string): number => {
  if (tag === undefined) return 1
  const value = tag[1]
  if (tag.length !== 2 || value === undefined || !DIGITS.test(value)) {
    throw malformed(`${what} must be one positive integer`)
  }
  const n = Number(value)
  if (n < 1 || n > keys) throw malformed(`${what} must be between 1 and the ${keys} keys of its pathway`)
  return n
}

const parseLocktime = (tag: Tag | undefined): bigint | undefined => {
  const value = tag?.[1]
  if (tag === undefined || tag.length !== 2 || value === undefined || !DIGITS.test(value)) return undefined
  const t = BigInt(value)
  return t > 0n ? t : undefined
}

/**
 * Validates a P2PK or HTLC well-known secret against the NUT-11 rules. A malformed secret (duplicate tag, bad
 * key, duplicate key in a pathway, bad `n_sigs*`, bad `sigflag`, HTLC data not a 32-byte hash, other kind)
 * is a {@link DecodeError}. Unknown tags are ignored.
 */
export const parseSpendingConditions = (secret: WellKnownSecret): SpendingConditions => {
  if (secret.kind !== "P2PK" && secret.kind !== "HTLC")
    throw malformed("secret kind is neither P2PK nor HTLC")
  const kind: ConditionKind = secret.kind
  const byKey = new Map<string, Tag>()
  for (const tag of secret.tags) {
    if (!KNOWN_TAGS.has(tag[0])) continue
    if (byKey.has(tag[0])) throw malformed(`tag ${tag[0]} appears more than once`, "duplicate")
    byKey.set(tag[0], tag)
  }
  const flagTag = byKey.get("sigflag")
  let sigflag: SigFlag = "SIG_INPUTS"
  if (flagTag !== undefined) {
    const v = flagTag[1]
    if (flagTag.length !== 2 || (v !== "SIG_INPUTS" && v !== "SIG_ALL")) throw malformed("unknown sigflag")
    sigflag = v
  }
  let data: string
  if (kind === "P2PK") data = parseKey(secret.data, "P2PK data")
  else if (HASH_HEX.test(secret.data)) data = secret.data.toLowerCase()
  else throw malformed("HTLC data is not a 32-byte hex hash")
  const extra = byKey.get("pubkeys")?.slice(1) ?? []
  const mainList = kind === "P2PK" ? [secret.data, ...extra] : extra
  const refundList = byKey.get("refund")?.slice(1) ?? []
  if (mainList.length + refundList.length > MAX_LOCK_KEYS) {
    throw new DecodeError({ reason: "limit", message: `lock lists more than ${MAX_LOCK_KEYS} keys` })
  }
  const mainKeys = parseKeys(mainList, "main")
  const refundKeys = parseKeys(refundList, "refund")
  const nSigs = parseCount(byKey.get("n_sigs"), mainKeys.length, "n_sigs")
  const nSigsRefund = parseCount(byKey.get("n_sigs_refund"), refundKeys.length, "n_sigs_refund")
  const locktime = parseLocktime(byKey.get("locktime"))
  const base: SpendingConditions = { kind, data, sigflag, mainKeys, nSigs, refundKeys, nSigsRefund }
  return locktime === undefined ? base : { ...base, locktime }
}

/**
 * Parses a witness string `{"preimage"?: hex, "signatures"?: [hex64]}`. Malformed JSON, wrong types, a
 * signature that is not 64 bytes of hex, the same signature twice, or more than
 * {@link MAX_WITNESS_SIGNATURES} signatures is a {@link DecodeError}.
 */
export const parseWitness = (witness: string): Witness => {
  if (witness.length > MAX_WITNESS_LENGTH) {
    throw new DecodeError({ reason: "too-large", message: `witness is longer than ${MAX_WITNESS_LENGTH}` })
  }
  let json: unknown
  try {
    // Not mint input: a NUT-11 witness, length-capped above, shape-checked below, no amounts.
    // nosemgrep: json-parse-outside-protocol
    json = JSON.parse(witness)
  } catch {
    throw new DecodeError({ reason: "json", message: "witness is not valid JSON" })
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw malformed("witness must be an object")
  const { preimage, signatures } = json as Record<string, unknown>
  if (preimage !== undefined && typeof preimage !== "string")
    throw malformed("witness preimage must be a string")
  let sigs: string[] = []
  if (signatures !== undefined && signatures !== null) {
    if (!Array.isArray(signatures)) throw malformed("witness signatures must be an array")
    if (signatures.length > MAX_WITNESS_SIGNATURES) {
      throw new DecodeError({
        reason: "limit",
        message: `witness has more than ${MAX_WITNESS_SIGNATURES} signatures`,
      })
    }
    const seen = new Set<string>()
    for (const s of signatures) {
      if (typeof s !== "string" || !SIG_HEX.test(s))
        throw malformed("witness signature is not 64 bytes of hex")
      const lower = s.toLowerCase()
      if (seen.has(lower)) throw malformed("witness lists the same signature twice", "duplicate")
      seen.add(lower)
    }
    sigs = signatures as string[]
  }
  return preimage === undefined ? { signatures: sigs } : { preimage, signatures: sigs }
}

/** Encodes a witness as the JSON string the proof carries (`preimage` first when present, as in the spec). */
export const encodeWitness = (witness: Witness): string =>
  JSON.stringify(
    witness.preimage === undefined
      ? { signatures: witness.signatures }
      : { preimage: witness.preimage, signatures: witness.signatures },
  )

/**
 * The NUT-11 SIG_ALL message: `secret_0‖C_0‖…‖secret_n‖C_n‖amount_0‖B_0‖…‖amount_m‖B_m[‖quote_id]` (amounts
 * in decimal). Pass `quoteId` for a melt (its NUT-08 blank outputs are the `outputs`).
 */
export const sigAllMessage = (
  inputs: ReadonlyArray<SignedInput>,
  outputs: ReadonlyArray<SignedOutput>,
  quoteId?: string,
): string => {
  const parts: string[] = []
  for (const p of inputs) parts.push(p.secret, p.C)
  for (const o of outputs) parts.push(amountString(o.amount), o.B_)
  if (quoteId !== undefined) parts.push(quoteId)
  return parts.join("")
}

const amountString = (a: Amount): string => a.toString(10)

const toSeconds = (t: UnixSeconds, what: string): bigint => {
  if (typeof t === "bigint") return t
  if (!Number.isSafeInteger(t)) throw malformed(`${what} must be integer unix seconds`)
  return BigInt(t)
}

/**
 * The signatures of one witness over one digest, checked lazily and each (signature, key) pair at most once
 * across both pathways. A BIP340 signature verifies under at most one x-only key (two keys would need a
 * SHA-256 collision), so once signature `i` has matched a key it is never tried against another.
 */
interface SignatureChecks {
  readonly sigs: ReadonlyArray<Uint8Array>
  readonly digest: Uint8Array
  /** The x-only hex of the key signature `i` verified under, once found. */
  readonly matched: Array<string | undefined>
  /** `${i}:${xOnlyHex}` pairs already checked and found invalid. */
  readonly failed: Set<string>
}

const signatureChecks = (signatures: ReadonlyArray<string>, digest: Uint8Array): SignatureChecks => ({
  sigs: signatures.map((s) => hexToBytesOrUndefined(s)!),
  digest,
  matched: signatures.map(() => undefined),
  failed: new Set(),
})

const signedBy = (checks: SignatureChecks, i: number, x: string, xOnly: Uint8Array): boolean => {
  const m = checks.matched[i]
  if (m !== undefined) return m === x
  const pair = `${i}:${x}`
  if (checks.failed.has(pair)) return false
  if (getBackend().verifySchnorr(checks.sigs[i]!, checks.digest, xOnly)) {
    checks.matched[i] = x
    return true
  }
  checks.failed.add(pair)
  return false
}

/**
 * How many distinct `keys` (compressed hex) of one pathway have a valid signature, stopping as soon as `needed`
 * is reached or can no longer be reached. Each signature is matched to at most one key and each key counted
 * once; the search for signature `i` starts after the key the previous match took, so signatures given in
 * key order cost one check each. At most `keys × signatures` checks, each on the selected backend.
 */
const countSigners = (keys: ReadonlyArray<string>, checks: SignatureChecks, needed: number): number => {
  const open = keys.map((k) => ({ x: k.slice(2), bytes: hexToBytesOrUndefined(k.slice(2))! }))
  const total = checks.sigs.length
  let count = 0
  let start = 0
  for (let i = 0; i < total && count < needed; i++) {
    // Fail fast: even if every remaining signature matched a remaining key, `needed` stays out of reach.
    if (count + Math.min(open.length, total - i) < needed) break
    for (let t = 0; t < open.length; t++) {
      const j = (start + t) % open.length
      const key = open[j]!
      if (signedBy(checks, i, key.x, key.bytes)) {
        count++
        open.splice(j, 1)
        start = open.length === 0 ? 0 : j % open.length
        break
      }
    }
  }
  return count
}

const opensHashLock = (hash: string, preimage: string | undefined): boolean =>
  preimage !== undefined &&
  PREIMAGE_HEX.test(preimage) &&
  bytesToHex(sha256(hexToBytesOrUndefined(preimage)!)) === hash

/**
 * Checks one condition set against a witness and digest; returns `undefined` when satisfied or the reason it
 * is not. The witness is only parsed when a pathway needs it (an expired lock without refund needs nothing).
 */
const unmetReason = (
  cond: SpendingConditions,
  witness: string | undefined,
  digest: Uint8Array,
  now: bigint,
): string | undefined => {
  const expired = cond.locktime !== undefined && now >= cond.locktime
  if (expired && cond.refundKeys.length === 0) return undefined
  const w = witness === undefined ? { signatures: [] } : parseWitness(witness)
  const checks = signatureChecks(w.signatures, digest)
  const hashOk = cond.kind === "P2PK" || opensHashLock(cond.data, w.preimage)
  const needMain = cond.kind === "HTLC" && cond.mainKeys.length === 0 ? 0 : cond.nSigs
  // Without the preimage the main pathway cannot open, whatever its signatures: do not check them.
  const main = needMain === 0 || !hashOk ? 0 : countSigners(cond.mainKeys, checks, needMain)
  if (hashOk && main >= needMain) return undefined
  if (expired) {
    const refund = countSigners(cond.refundKeys, checks, cond.nSigsRefund)
    if (refund >= cond.nSigsRefund) return undefined
    return `neither pathway is satisfied (main ${main}/${needMain}, refund ${refund}/${cond.nSigsRefund})`
  }
  if (!hashOk) return "missing or wrong HTLC preimage"
  return `not enough signers on the main pathway (${main}/${needMain})`
}

/** What a spend needs to be checked: the request's inputs and outputs, the melt quote id, and the time. */
export interface SpendContext {
  readonly inputs: ReadonlyArray<Proof>
  /** Swap outputs, or a melt's NUT-08 blank outputs. Only used by SIG_ALL. Default `[]`. */
  readonly outputs?: ReadonlyArray<SignedOutput>
  /** Melt quote id; makes the SIG_ALL message the melt variant. */
  readonly quoteId?: string
  /** Current unix time in seconds. */
  readonly now: UnixSeconds
}

const conditionsOf = (secret: string): { wk: WellKnownSecret; cond: SpendingConditions } | undefined => {
  const parsed = parseSecret(secret)
  if (parsed.type === "plain") return undefined
  if (parsed.kind !== "P2PK" && parsed.kind !== "HTLC") {
    throw new VerificationError({
      check: "spending-condition",
      message: "unsupported spending condition kind",
    })
  }
  return { wk: parsed, cond: parseSpendingConditions(parsed) }
}

const fail = (cond: SpendingConditions, message: string): VerificationError =>
  new VerificationError({ check: cond.kind === "P2PK" ? "p2pk" : "htlc", message })

/**
 * Throws a {@link VerificationError} unless the SIG_ALL inputs share kind, data and tags (and are SIG_ALL),
 * i.e. unless they form a valid SIG_ALL transaction. Malformed secrets are a {@link DecodeError}.
 */
export const assertSigAllInputs = (inputs: ReadonlyArray<SignedInput>): void => {
  const all = inputs.map((p) => conditionsOf(p.secret))
  const first = all[0]
  if (first === undefined || first.cond.sigflag !== "SIG_ALL") {
    throw new VerificationError({
      check: "spending-condition",
      message: "first input is not a SIG_ALL secret",
    })
  }
  for (const c of all) {
    if (
      c === undefined ||
      c.wk.kind !== first.wk.kind ||
      c.wk.data !== first.wk.data ||
      !sameTags(c.wk.tags, first.wk.tags)
    ) {
      throw new VerificationError({
        check: "spending-condition",
        message: "SIG_ALL inputs must share kind, data and tags",
      })
    }
  }
}

/**
 * Verifies the NUT-10/11/14 spending conditions of a whole swap or melt. Returns normally when every input
 * is unlocked; throws a {@link VerificationError} when a condition is not met (or a kind is unsupported) and a
 * {@link DecodeError} when a secret or witness is malformed. Plain-secret inputs need nothing.
 */
export const verifySpendingConditions = (ctx: SpendContext): void => {
  const now = toSeconds(ctx.now, "now")
  const all = ctx.inputs.map((p) => conditionsOf(p.secret))
  if (all.some((c) => c?.cond.sigflag === "SIG_ALL")) {
    assertSigAllInputs(ctx.inputs)
    const first = ctx.inputs[0]!
    const cond = all[0]!.cond
    const digest = sha256Utf8(sigAllMessage(ctx.inputs, ctx.outputs ?? [], ctx.quoteId))
    const reason = unmetReason(cond, first.witness, digest, now)
    if (reason !== undefined) throw fail(cond, `SIG_ALL: ${reason}`)
    return
  }
  all.forEach((c, i) => {
    if (c === undefined) return
    const proof = ctx.inputs[i]!
    const reason = unmetReason(c.cond, proof.witness, sha256Utf8(proof.secret), now)
    if (reason !== undefined) throw fail(c.cond, `input ${i}: ${reason}`)
  })
}

/** Non-throwing form of {@link verifySpendingConditions}: the tagged error, or `undefined` when spendable. */
export const checkSpendingConditions = (ctx: SpendContext): PureError | undefined => {
  try {
    verifySpendingConditions(ctx)
    return undefined
  } catch (e) {
    if (isPureError(e)) return e
    throw e
  }
}

/**
 * Verifies one P2PK/HTLC proof on its own (SIG_INPUTS semantics). A SIG_ALL proof cannot be checked without
 * its transaction, so it is a {@link VerificationError} here; use {@link verifySpendingConditions}.
 */
export const verifyP2pkSpend = (proof: Proof, now: UnixSeconds): void => {
  const c = conditionsOf(proof.secret)
  if (c === undefined)
    throw new VerificationError({ check: "p2pk", message: "proof has no spending condition" })
  if (c.cond.sigflag === "SIG_ALL") {
    throw new VerificationError({
      check: "spending-condition",
      message: "SIG_ALL proofs need their transaction",
    })
  }
  verifySpendingConditions({ inputs: [proof], now })
}

const addSignature = (witness: string | undefined, signature: string): string => {
  const w = witness === undefined ? { signatures: [] } : parseWitness(witness)
  const signatures = w.signatures.includes(signature) ? w.signatures : [...w.signatures, signature]
  return encodeWitness(w.preimage === undefined ? { signatures } : { preimage: w.preimage, signatures })
}

/**
 * Signs one proof's secret (SIG_INPUTS) and returns the proof with the signature appended to its witness
 * (an existing preimage and signatures are kept). A SIG_ALL proof is a {@link VerificationError}: sign the
 * transaction with {@link signSigAllSwap} / {@link signSigAllMelt} instead.
 */
export const signP2pkProof = (proof: Proof, privateKey: PrivateKeyInput): Proof => {
  const c = conditionsOf(proof.secret)
  if (c?.cond.sigflag === "SIG_ALL") {
    throw new VerificationError({
      check: "spending-condition",
      message: "SIG_ALL proofs are signed per transaction",
    })
  }
  const signature = signDigest(sha256Utf8(proof.secret), privateKey)
  return { ...proof, witness: addSignature(proof.witness, signature) }
}

const signSigAll = (
  inputs: ReadonlyArray<Proof>,
  outputs: ReadonlyArray<SignedOutput>,
  quoteId: string | undefined,
  privateKey: PrivateKeyInput,
): Proof[] => {
  assertSigAllInputs(inputs)
  const signature = signDigest(sha256Utf8(sigAllMessage(inputs, outputs, quoteId)), privateKey)
  return inputs.map((p, i) => (i === 0 ? { ...p, witness: addSignature(p.witness, signature) } : p))
}

/** Adds a SIG_ALL signature over a swap to the first input's witness; the inputs must form a SIG_ALL set. */
export const signSigAllSwap = (
  inputs: ReadonlyArray<Proof>,
  outputs: ReadonlyArray<SignedOutput>,
  privateKey: PrivateKeyInput,
): Proof[] => signSigAll(inputs, outputs, undefined, privateKey)

/** Adds a SIG_ALL signature over a melt (inputs, blank outputs, quote id) to the first input's witness. */
export const signSigAllMelt = (
  inputs: ReadonlyArray<Proof>,
  outputs: ReadonlyArray<SignedOutput>,
  quoteId: string,
  privateKey: PrivateKeyInput,
): Proof[] => signSigAll(inputs, outputs, quoteId, privateKey)

/** Lowercase compressed hex of a key given compressed (33 bytes) or x-only (32 bytes, lifted with `02`). */
export const normalizePublicKey = (key: string): string => {
  const k = key.length === 64 ? "02" + key : key
  if (decodeCompressedPoint(k) === undefined) throw malformed("not a compressed or x-only public key")
  return k.toLowerCase()
}

/**
 * Builds the canonical NUT-11 tag list for lock options, in the order cashu-ts writes them (`locktime`,
 * `pubkeys`, `n_sigs`, `refund`, `n_sigs_refund`, `sigflag`, extras). Defaults are omitted (`n_sigs` 1,
 * SIG_INPUTS) so minimal locks stay small and indistinguishable.
 */
export const lockTags = (opts: LockOptions): Tag[] => {
  const tags: Tag[] = []
  const count = (n: number | undefined, what: string): string | undefined => {
    if (n === undefined) return undefined
    if (!Number.isSafeInteger(n) || n < 1) throw malformed(`${what} must be a positive integer`)
    return n > 1 ? String(n) : undefined
  }
  if (opts.locktime !== undefined) {
    const t = toSeconds(opts.locktime, "locktime")
    if (t <= 0n) throw malformed("locktime must be positive unix seconds")
    tags.push(["locktime", t.toString()])
  } else if ((opts.refund?.length ?? 0) > 0) {
    throw malformed("refund keys need a locktime")
  }
  const pubkeys = (opts.pubkeys ?? []).map(normalizePublicKey)
  if (pubkeys.length > 0) tags.push(["pubkeys", ...pubkeys] as Tag)
  const nSigs = count(opts.nSigs, "nSigs")
  if (nSigs !== undefined) tags.push(["n_sigs", nSigs])
  const refund = (opts.refund ?? []).map(normalizePublicKey)
  if (refund.length > 0) tags.push(["refund", ...refund] as Tag)
  const nSigsRefund = count(opts.nSigsRefund, "nSigsRefund")
  if (nSigsRefund !== undefined) tags.push(["n_sigs_refund", nSigsRefund])
  if (opts.sigflag === "SIG_ALL") tags.push(["sigflag", "SIG_ALL"])
  for (const t of opts.extraTags ?? []) tags.push(t)
  return tags
}

/**
 * Encodes a lock of `kind` and re-parses it, so a lock that {@link parseSpendingConditions} would reject
 * (duplicate key, `n_sigs` above the key count, duplicate tag via `extraTags`) is never produced.
 */
export const createConditionSecret = (kind: ConditionKind, data: string, opts: LockOptions = {}): string => {
  const nonce = opts.nonce ?? bytesToHex(randomBytes(32))
  const secret = encodeSecret({ kind, nonce, data, tags: lockTags(opts) })
  const parsed = parseSecret(secret)
  if (parsed.type === "plain") throw malformed("encoded lock did not parse back")
  parseSpendingConditions(parsed)
  return secret
}

/** A P2PK secret locked to `pubkey` (compressed or x-only hex) with optional NUT-11 options. */
export const createP2pkSecret = (pubkey: string, opts: LockOptions = {}): string =>
  createConditionSecret("P2PK", normalizePublicKey(pubkey), opts)
