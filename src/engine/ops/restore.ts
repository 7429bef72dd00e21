/**
 * Restore (NUT-09 + NUT-13): find the proofs the wallet's seed can re-derive, and move its counters past
 * every counter the mint has ever signed.
 *
 * 1. Sync the mint's keysets (every keyset, active or not, of the units the wallet trusts there, or `sat`).
 * 2. Per keyset, scan counters from `fromCounter` (default 0) in batches of `batchSize`: derive secret and
 *    blinding factor per counter, blind, `POST /v1/restore` (amount 1 placeholders: a mint looks outputs up
 *    by `B_` and answers the amount it signed). Answers are matched by `B_`; signatures for outputs we did not
 *    ask for, or asked twice, are ignored (a mint must not make us count proofs we never blinded). The scan
 *    stops after `emptyBatches` consecutive batches without a signature. A gap of `g` unused counters
 *    (counters burned by failed operations) is therefore always crossed when `g < emptyBatches × batchSize`,
 *    and never crossed when `g ≥ (emptyBatches + 1) × batchSize − 1`; in between it depends on the gap's
 *    alignment with the batches.
 * 3. Each batch's signatures are checked (keyset, amount key, DLEQ when the mint advertises NUT-12) and
 *    unblinded, and their Ys checked (NUT-07, ≤ 100 per request, mapped by Y: a lying answer fails the
 *    restore). Only **UNSPENT** proofs the wallet does not hold (live or known spent) are kept. PENDING ones
 *    (an in-flight melt of another copy of the wallet) are not imported: they are counted, their counters are
 *    still passed, and a later restore from 0 finds them if the payment fails and they come back unspent.
 *    Memory stays bounded by the batch plus the proofs kept.
 * 4. Nothing is recorded until the scan has finished: then ONE append records `OperationStarted`,
 *    `OperationRequested` #1, `CountersReserved` (per keyset, only forward: from the next unused counter to
 *    the highest counter found + 1), `ProofsIssued` (per unit, each proof with its counter) and
 *    `OperationCompleted`. A restore that fails midway (mint unreachable, a lying answer) records nothing at
 *    all, so there is nothing to compensate. The restore saga lets a restore complete from `requested`
 *    without `OperationSigned`: the proofs themselves are in `ProofsIssued`.
 *
 * `recoverSwapAdvancing` (`./swap-recovery.ts`) applies restore to the 11003 case: outputs the mint had
 * already signed mean our counters were used before (a wallet restored from its mnemonic without a scan),
 * so the keyset is scanned from the operation's first counter and the counter moves past the used range.
 *
 * @module
 */
import { Effect } from "effect"
import { blind } from "../../crypto/bdhke.js"
import { bytesToHex, utf8 } from "../../crypto/bytes.js"
import { outputDeriver } from "../../crypto/nut13.js"
import type {
  CountersReserved,
  OperationStarted,
  OutputIntent,
  Signature,
  StoredProof,
  WalletEvent,
} from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf, type OperationState } from "../../machines/decider.js"
import { DecodeError, KeysetError, UnknownMint, type WalletError } from "../../model/index.js"
import type { KeysetView } from "../../projections/mints.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import { syncMint } from "../mints.js"
import { checkedProofs } from "../outputs.js"
import { attempt } from "../pure.js"
import type { WalletRuntime } from "../runtime.js"
import { ifAny, sumAmounts } from "./lists.js"
import { dleqRequired } from "./shared.js"

/** What to restore. */
export interface RestoreRequest {
  readonly mintUrl: string
  /** Default: every keyset of the mint the wallet knows (after syncing the mint's keysets). */
  readonly keysetIds?: ReadonlyArray<string>
  /** Scan from this counter (default 0). */
  readonly fromCounter?: number
  /** Outputs per request (default: engine option `restoreBatchSize`). */
  readonly batchSize?: number
  /** Stop after this many consecutive empty batches (default: engine option `restoreEmptyBatches`). */
  readonly emptyBatches?: number
}

/** What a restore found. */
export interface RestoreResult {
  readonly operationId: string
  /** Unspent proofs recovered that the wallet did not hold. */
  readonly found: number
  readonly amount: bigint
  /** Signed outputs the mint reports spent (not imported). */
  readonly spent: number
  /** Signed outputs the mint reports pending (not imported; a later restore finds them if they return). */
  readonly pending: number
  /** Next unused counter per keyset after the restore. */
  readonly counters: ReadonlyArray<{ readonly keysetId: string; readonly next: number }>
}

/** NUT-07 requests carry at most this many Ys (the mints' usual limit). */
export const CHECKSTATE_BATCH = 100

/** Largest batch a restore sends (NUT-13 ranges are capped at 10 000; mints cap far lower). */
const MAX_BATCH = 1000

/** What the scan of one keyset found. */
interface KeysetScan {
  readonly keyset: KeysetView
  /** Unspent proofs the wallet did not hold when they were checked. */
  readonly kept: StoredProof[]
  /** The highest counter the mint had signed, if any. */
  highest: number | undefined
  spent: number
  pending: number
}

/** Checks the Ys of `proofs` (≤ 100 per request) and returns their states, mapped by Y. */
const statesOf = (rt: WalletRuntime, mintUrl: string, ys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const states = new Map<string, string>()
    for (let i = 0; i < ys.length; i += CHECKSTATE_BATCH) {
      const chunk = ys.slice(i, i + CHECKSTATE_BATCH)
      const res = yield* rt.services.mint.checkState(mintUrl, chunk)
      const matched = yield* attempt(() => matchProofStates(chunk, res))
      for (const [y, e] of matched) states.set(y, e.state)
    }
    return states
  })

/** Scans one keyset (see the module comment). */
const scanKeyset = (
  rt: WalletRuntime,
  mintUrl: string,
  keyset: KeysetView,
  from: number,
  batchSize: number,
  emptyBatches: number,
  requireDleq: boolean,
) =>
  Effect.gen(function* () {
    const scan: KeysetScan = { keyset, kept: [], highest: undefined, spent: 0, pending: 0 }
    const derive = yield* attempt(() => outputDeriver(rt.seed, keyset.id))
    let counter = from
    let empty = 0
    while (empty < emptyBatches) {
      const byB = new Map<string, number>()
      const outputs = yield* attempt(() => {
        const out: Array<{ amount: bigint; id: string; B_: string }> = []
        for (let c = counter; c < counter + batchSize; c++) {
          const s = derive(c)
          const B_ = bytesToHex(blind(utf8(s.secret), s.r))
          s.r.fill(0)
          byB.set(B_, c)
          out.push({ amount: 1n, id: keyset.id, B_ })
        }
        return out
      })
      const res = yield* rt.services.mint.restore(mintUrl, { outputs })
      const intents: OutputIntent[] = []
      const signatures: Signature[] = []
      res.outputs.forEach((o, i) => {
        const B_ = o.B_.toLowerCase()
        const c = byB.get(B_)
        const sig = res.signatures[i]
        if (c === undefined || sig === undefined) return // not asked, or already answered once
        byB.delete(B_)
        intents.push({ amount: sig.amount, id: keyset.id, B_, role: "keep", counter: c })
        signatures.push(sig)
      })
      counter += batchSize
      if (intents.length === 0) {
        empty++
        continue
      }
      empty = 0
      // Checked like any signatures (keyset, a key for the amount, DLEQ), then unblinded.
      const proofs = yield* checkedProofs(rt.seed, keyset, intents, signatures, { requireDleq })
      for (const p of proofs)
        if (p.counter !== undefined && (scan.highest === undefined || p.counter > scan.highest))
          scan.highest = p.counter
      const view = rt.view()
      const unknown = proofs.filter((p) => view.proof(p.Y) === undefined && !view.isSpent(p.Y))
      const states = yield* statesOf(
        rt,
        mintUrl,
        unknown.map((p) => p.Y),
      )
      for (const p of unknown) {
        const s = states.get(p.Y)
        if (s === "UNSPENT") scan.kept.push(p)
        else if (s === "PENDING") scan.pending++
        else scan.spent++
      }
    }
    return scan
  })

/** The keysets to scan: the requested ones (each must be this mint's), else every keyset of the mint. */
const keysetsToScan = (rt: WalletRuntime, req: RestoreRequest) =>
  Effect.gen(function* () {
    const view = rt.view()
    if (req.keysetIds === undefined) {
      const all = view.keysets(req.mintUrl)
      if (all.length === 0)
        return yield* new UnknownMint({
          mintUrl: req.mintUrl,
          unit: "sat",
          message: "the wallet knows no keyset of this mint",
        })
      return all
    }
    const out: KeysetView[] = []
    for (const raw of new Set(req.keysetIds.map((id) => id.toLowerCase()))) {
      const k = view.keyset(raw)
      if (k === undefined || k.mintUrl !== req.mintUrl)
        return yield* new KeysetError({
          reason: "unknown-id",
          message: "restore asked for a keyset this mint does not have",
          keysetId: raw,
        })
      out.push(k)
    }
    return out
  })

/** Restores proofs from the seed (see the module comment). */
export const restore = (rt: WalletRuntime, req: RestoreRequest): Effect.Effect<RestoreResult, WalletError> =>
  Effect.gen(function* () {
    const { options } = rt.services
    const batchSize = req.batchSize ?? options.restoreBatchSize
    const emptyBatches = req.emptyBatches ?? options.restoreEmptyBatches
    const from = req.fromCounter ?? 0
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
      return yield* new DecodeError({
        reason: "schema",
        message: `restore batch size must be 1…${MAX_BATCH}`,
      })
    if (!Number.isSafeInteger(emptyBatches) || emptyBatches < 1)
      return yield* new DecodeError({ reason: "schema", message: "restore needs at least one empty batch" })
    if (!Number.isSafeInteger(from) || from < 0)
      return yield* new DecodeError({ reason: "schema", message: "restore counter must be a natural number" })

    const { mintUrl } = req
    const trusted = rt
      .view()
      .mints()
      .find((m) => m.mintUrl === mintUrl)
    yield* syncMint(rt, mintUrl, trusted?.units ?? ["sat"])
    const keysets = yield* keysetsToScan(rt, req)
    const requireDleq = yield* dleqRequired(rt, mintUrl)
    const scans: KeysetScan[] = []
    for (const k of keysets)
      scans.push(yield* scanKeyset(rt, mintUrl, k, from, batchSize, emptyBatches, requireDleq))

    const operationId = newOperationId(rt.services.now())
    return yield* rt.write((_, record) =>
      Effect.gen(function* () {
        const view = rt.view()
        const counters: Array<{ keysetId: string; next: number }> = []
        const reservations: CountersReserved[] = []
        const byUnit = new Map<string, StoredProof[]>()
        let found = 0
        let amount = 0n
        for (const s of scans) {
          const next = view.nextCounter(s.keyset.id)
          const past = s.highest === undefined ? next : Math.max(next, s.highest + 1)
          // Only forward: the audit wants every issued counter inside a range reserved before it.
          if (past > next)
            reservations.push({
              _tag: "CountersReserved",
              keysetId: s.keyset.id,
              start: next,
              count: past - next,
            })
          counters.push({ keysetId: s.keyset.id, next: past })
          // Another operation may have brought some of them in meanwhile (it holds them: skip).
          const fresh = s.kept.filter((p) => view.proof(p.Y) === undefined && !view.isSpent(p.Y))
          if (fresh.length === 0) continue
          const list = byUnit.get(s.keyset.unit) ?? []
          list.push(...fresh)
          byUnit.set(s.keyset.unit, list)
          found += fresh.length
          amount += sumAmounts(fresh)
        }
        const started: Extract<OperationStarted, { kind: "restore" }> = {
          _tag: "OperationStarted",
          operationId,
          kind: "restore",
          mintUrl,
          keysetIds: keysets.map((k) => k.id) as [string, ...string[]],
          batchSize,
          gapLimit: batchSize * emptyBatches,
          ...(req.fromCounter !== undefined ? { fromCounter: from } : {}),
        }
        const issued: WalletEvent[] = [...byUnit].flatMap(([unit, proofs]) =>
          ifAny(proofs, (p) => ({ _tag: "ProofsIssued", mintUrl, unit, operationId, proofs: p })),
        )
        yield* record(operationId, [
          { _tag: "Start", started },
          { _tag: "Request" },
          {
            _tag: "Complete",
            completed: { _tag: "OperationCompleted", operationId, kind: "restore", found, amount, counters },
            effects: [...reservations, ...issued],
          },
        ])
        const spent = scans.reduce((n, s) => n + s.spent, 0)
        const pending = scans.reduce((n, s) => n + s.pending, 0)
        return { operationId, found, amount, spent, pending, counters } satisfies RestoreResult
      }),
    )
  })

/** Whether an operation's history shows the mint's 11003 (outputs already signed). */
export const sawOutputsSigned = (events: ReadonlyArray<WalletEvent>, operationId: string): boolean =>
  events.some(
    (e) =>
      (e._tag === "OperationPending" ||
        e._tag === "OperationRecovering" ||
        e._tag === "OperationCompensated") &&
      e.operationId === operationId &&
      e.code === OUTPUTS_ALREADY_SIGNED,
  )

/** NUT error code: "outputs have already been signed". */
export const OUTPUTS_ALREADY_SIGNED = 11003

/**
 * After an operation was refused with 11003, restores its output keyset from its first counter, so the
 * counter moves past the range another copy of the wallet used (and that copy's unspent proofs come in).
 * Best effort: a failure leaves the counter where it is (the next 11003 tries again).
 */
export const advancePastSignedOutputs = (
  rt: WalletRuntime,
  s: OperationState,
): Effect.Effect<RestoreResult | undefined> => {
  const outputs = intentOf(s)?.outputs ?? []
  let first: OutputIntent | undefined
  for (const o of outputs)
    if (o.counter !== undefined && (first === undefined || o.counter < first.counter!)) first = o
  if (first === undefined) return Effect.succeed(undefined)
  return restore(rt, {
    mintUrl: s.started.mintUrl,
    keysetIds: [first.id],
    fromCounter: first.counter!,
  }).pipe(Effect.orElseSucceed(() => undefined))
}
