/**
 * Checkstate (NUT-07) of pending proofs and sends, and reclaim of unspent sends.
 *
 * **checkPending** asks the mint about every proof pending under a send (≤ 100 Ys per request, answers
 * mapped by Y with `matchProofStates`: a missing, extra or repeated Y decides nothing). Proofs the mint
 * reports SPENT were claimed by the recipient: when there are any, one append records a `checkstate`
 * operation around them (`OperationStarted{ys: the Ys checked}`, `OperationRequested`, `ProofsSpent` under
 * each send, `OperationCompleted` with the tallies), so the history says when and how the wallet learned it.
 * A check that changes nothing records nothing (a periodic poll must not grow the log). It also settles
 * **stray incoming proofs** — proofs of a token whose receive has ended, left `incoming` by an older version
 * (a refused or forged token's): they are not the wallet's, so the same checkstate operation records them
 * spent when the mint says so and drops them otherwise (`ProofsDropped`), and they leave every balance.
 * Incoming proofs of a receive still in flight are left to it. Melt inputs are not
 * touched here: their fate is the melt's, decided by the quote state — the recovery pass that follows
 * (`recoverWallet`) runs `recoverMelt` for melts whose payment is pending, and settles every other operation
 * in doubt.
 *
 * **reclaim** takes back what a send still holds pending: one swap (`purpose: reclaim`) whose intent first
 * releases the proofs from the send (`ProofsReleased` by the send) and then reserves them for the swap. It
 * races the recipient and exactly one side wins: if the recipient claimed first, the mint
 * refuses the swap with 11001 (ambiguous to the engine), recovery finds the inputs SPENT and none of our
 * outputs signed, and the swap is compensated `token-spent` with its inputs recorded spent.
 *
 * A locked send (P2PK) is reclaimed only as far as the wallet can sign for it (`../locks.ts`): its own key
 * on the main pathway, or after the locktime a refund key of its own (or no refund key at all). Proofs
 * locked to someone else stay pending with the send — they are the recipient's until checkstate says
 * spent — and a reclaim that finds nothing it can sign for fails before anything is recorded. A reclaim
 * that ends without effect hands locked proofs back to the send, never to `unspent` (`compensate`).
 *
 * @module
 */
import { Effect } from "effect"
import type { OperationStarted, WalletEvent } from "../../events/catalogue.js"
import { newOperationId } from "../../events/ids.js"
import { intentOf } from "../../machines/decider.js"
import { EngineInvariant, OperationFailed, type WalletError } from "../../model/index.js"
import { operationsOf, operationsProjection } from "../../projections/operations.js"
import { feeForInputs } from "../../protocol/fees.js"
import { matchProofStates } from "../../protocol/schemas/checkstate.js"
import { walletPrivateKey } from "../keys.js"
import { spendableInput } from "../locks.js"
import { attempt } from "../pure.js"
import { recoverWallet } from "../recovery.js"
import type { WalletRuntime } from "../runtime.js"
import { ifAny, sumAmounts } from "./lists.js"
import { CHECKSTATE_BATCH } from "./restore.js"
import { activeKeysetOrFail, driveNew, outputsFor, settledOrFail } from "./shared.js"
import { appendSwapIntent, requestSwap } from "./swap.js"
import { recoverSwapAdvancing } from "./swap-recovery.js"

/** What a check of pending proofs found. */
export interface CheckPendingResult {
  /** Proofs the mint reported spent (now recorded spent). */
  readonly spent: number
  /** Proofs still unspent (sent tokens not yet claimed). */
  readonly unspent: number
  /** Proofs the mint reports pending. */
  readonly pending: number
  /** Proofs whose state could not be learned (mint unreachable, or an answer that did not match). */
  readonly unchecked: number
  /** Operations (melts in flight, in-doubt operations) settled by this check. */
  readonly settled: number
  /** Stray incoming proofs (of receives that ended) taken out of the wallet: never its value. */
  readonly dropped: number
}

/** The Ys the receives in flight hold as inputs; undefined while one is being driven (leave strays alone). */
const heldByReceives = (rt: WalletRuntime) =>
  Effect.gen(function* () {
    const held = new Set<string>()
    const ops = operationsOf(rt.services.runner.state(operationsProjection), rt.stream, {
      inFlight: true,
      kind: "receive",
    })
    for (const op of ops) {
      if (rt.isClaimed(op.operationId)) return undefined
      const s = yield* rt.existingOperation(op.operationId)
      for (const y of intentOf(s)?.inputs ?? []) held.add(y)
    }
    return held
  })

/** Incoming proofs no receive in flight holds, by mint. */
const strayIncoming = (rt: WalletRuntime, mintUrl: string | undefined) =>
  Effect.gen(function* () {
    const view = rt.view()
    const incoming = view.proofs(
      mintUrl === undefined ? { state: "incoming" } : { state: "incoming", mintUrl },
    )
    const byMint = new Map<string, string[]>()
    if (incoming.length === 0) return byMint
    const held = yield* heldByReceives(rt)
    if (held === undefined) return byMint
    for (const p of incoming) {
      if (held.has(p.proof.Y)) continue
      const list = byMint.get(p.mintUrl) ?? []
      list.push(p.proof.Y)
      byMint.set(p.mintUrl, list)
    }
    return byMint
  })

/**
 * Checks the sent proofs of one mint (and its stray incoming ones); records what the mint reports spent,
 * and drops the strays it does not.
 */
const checkMint = (
  rt: WalletRuntime,
  mintUrl: string,
  sent: ReadonlyArray<string>,
  strays: ReadonlyArray<string>,
) =>
  Effect.gen(function* () {
    const ys = [...sent, ...strays]
    const stray = new Set(strays)
    let unspent = 0
    let pending = 0
    let unchecked = 0
    const spentYs: string[] = []
    const checked: string[] = []
    const checkedStrays: string[] = []
    for (let i = 0; i < ys.length; i += CHECKSTATE_BATCH) {
      const chunk = ys.slice(i, i + CHECKSTATE_BATCH)
      const res = yield* rt.services.mint.checkState(mintUrl, chunk).pipe(Effect.option)
      if (res._tag === "None") {
        unchecked += chunk.length
        continue
      }
      let states: ReturnType<typeof matchProofStates>
      try {
        states = matchProofStates(chunk, res.value)
      } catch {
        // A lying or garbled answer decides nothing.
        unchecked += chunk.length
        continue
      }
      checked.push(...chunk)
      for (const y of chunk) {
        const s = states.get(y)?.state
        if (s === "SPENT") spentYs.push(y)
        if (stray.has(y)) checkedStrays.push(y)
        else if (s === "PENDING") pending++
        else if (s !== "SPENT") unspent++
      }
    }
    const first = checked[0]
    const nothing = { spent: 0, unspent, pending, unchecked, dropped: 0 }
    if ((spentYs.length === 0 && checkedStrays.length === 0) || first === undefined) return nothing
    const spentSet = new Set(spentYs)
    return yield* rt.write((_, record) =>
      Effect.gen(function* () {
        const view = rt.view()
        // Grouped by the send holding them now (another call may have settled some meanwhile).
        const bySend = new Map<string, string[]>()
        for (const y of spentYs) {
          const p = view.proof(y)
          if (p?.state !== "pending" || p.operationId === undefined) continue
          const list = bySend.get(p.operationId) ?? []
          list.push(y)
          bySend.set(p.operationId, list)
        }
        // Strays still incoming and still held by no receive in flight (one may have taken them up).
        const held = checkedStrays.length === 0 ? new Set<string>() : yield* heldByReceives(rt)
        const settle =
          held === undefined
            ? []
            : checkedStrays.filter((y) => view.proof(y)?.state === "incoming" && !held.has(y))
        const straySpent = settle.filter((y) => spentSet.has(y))
        const strayDropped = settle.filter((y) => !spentSet.has(y))
        const n = [...bySend.values()].reduce((s, l) => s + l.length, 0)
        if (n === 0 && settle.length === 0) return nothing
        const operationId = newOperationId(rt.services.now())
        const started: Extract<OperationStarted, { kind: "checkstate" }> = {
          _tag: "OperationStarted",
          operationId,
          kind: "checkstate",
          mintUrl,
          ys: [first, ...checked.slice(1)],
        }
        const effects: WalletEvent[] = [
          ...[...bySend].flatMap(([send, list]) =>
            ifAny(list, (l) => ({ _tag: "ProofsSpent", operationId: send, ys: l })),
          ),
          ...ifAny(straySpent, (l) => ({ _tag: "ProofsSpent", operationId, ys: l })),
          ...ifAny(strayDropped, (l) => ({ _tag: "ProofsDropped", operationId, ys: l })),
        ]
        yield* record(operationId, [
          { _tag: "Start", started },
          { _tag: "Request" },
          {
            _tag: "Complete",
            completed: {
              _tag: "OperationCompleted",
              operationId,
              kind: "checkstate",
              unspent,
              pending,
              spent: n + straySpent.length,
            },
            effects,
          },
        ])
        return { spent: n, unspent, pending, unchecked, dropped: settle.length }
      }),
    )
  })

/** Checks every pending proof of the wallet (optionally of one mint) with the mint. */
export const checkPending = (
  rt: WalletRuntime,
  mintUrl?: string,
): Effect.Effect<CheckPendingResult, WalletError> =>
  Effect.gen(function* () {
    const view = rt.view()
    const byMint = new Map<string, string[]>()
    for (const p of view.proofs(
      mintUrl === undefined ? { state: "pending" } : { state: "pending", mintUrl },
    )) {
      if (p.operationId === undefined || view.operation(p.operationId)?.kind !== "send") continue
      const list = byMint.get(p.mintUrl) ?? []
      list.push(p.proof.Y)
      byMint.set(p.mintUrl, list)
    }
    const strays = yield* strayIncoming(rt, mintUrl)
    let spent = 0
    let unspent = 0
    let pending = 0
    let unchecked = 0
    let dropped = 0
    for (const url of new Set([...byMint.keys(), ...strays.keys()])) {
      const r = yield* checkMint(rt, url, byMint.get(url) ?? [], strays.get(url) ?? [])
      spent += r.spent
      unspent += r.unspent
      pending += r.pending
      unchecked += r.unchecked
      dropped += r.dropped
    }
    const report = yield* recoverWallet(rt, mintUrl === undefined ? {} : { mintUrl })
    return { spent, unspent, pending, unchecked, dropped, settled: report.recovered + report.compensated }
  })

/** What a reclaim got back. */
export interface ReclaimResult {
  readonly operationId: string
  readonly amount: bigint
  readonly fee: bigint
}

/** Takes back the proofs of an unclaimed send (a swap that races the recipient: exactly one side wins). */
export const reclaim = (
  rt: WalletRuntime,
  sendOperationId: string,
): Effect.Effect<ReclaimResult, WalletError> =>
  Effect.gen(function* () {
    const operationId = newOperationId(rt.services.now())
    return yield* driveNew(
      rt,
      operationId,
      Effect.gen(function* () {
        const state = yield* rt.write((_, record) =>
          Effect.gen(function* () {
            const view = rt.view()
            const send = view.operation(sendOperationId)
            if (send?.kind !== "send")
              return yield* new EngineInvariant({ message: "reclaim needs the id of a send operation" })
            const held = view.proofs({ state: "pending" }).filter((p) => p.operationId === sendOperationId)
            const first = held[0]
            if (first === undefined)
              return yield* new OperationFailed({
                operationId: sendOperationId,
                kind: "send",
                reason: "cancelled",
                code: undefined,
                message: "nothing of this send is pending: it was claimed or reclaimed already",
              })
            const { mintUrl, unit } = first
            const keyset = yield* activeKeysetOrFail(view, mintUrl, unit)
            // Only what the wallet can sign for (locks to other keys stay the recipient's, pending here).
            const key = walletPrivateKey(rt.seed)
            const nowSeconds = rt.services.now() / 1000
            const inputs = held.flatMap((p) => {
              const input = spendableInput(p.proof, key, nowSeconds)
              return input === undefined ? [] : [input]
            })
            if (inputs.length === 0)
              return yield* new OperationFailed({
                operationId: sendOperationId,
                kind: "send",
                reason: "cancelled",
                code: undefined,
                message:
                  "the send is locked to a key this wallet cannot sign for: its proofs stay with the send until the recipient claims them (or its locktime lets a refund key of this wallet take them back)",
              })
            const fee = yield* attempt(() => feeForInputs(inputs, (id) => view.keyset(id)?.inputFeePpk))
            const total = sumAmounts(inputs)
            if (total <= fee)
              return yield* new OperationFailed({
                operationId: sendOperationId,
                kind: "send",
                reason: "cancelled",
                code: undefined,
                message: "the send's value does not cover the fee of swapping it back",
              })
            const ys = inputs.map((p) => p.Y) as [string, ...string[]]
            const started: Extract<OperationStarted, { kind: "swap" }> = {
              _tag: "OperationStarted",
              operationId,
              kind: "swap",
              mintUrl,
              unit,
              purpose: "reclaim",
              relatedOperationId: sendOperationId,
            }
            return yield* appendSwapIntent(rt, record, {
              started,
              inputs,
              before: [{ _tag: "ProofsReleased", operationId: sendOperationId, ys }],
              reserve: true,
              outputs: yield* attempt(() => outputsFor(keyset, total - fee, "keep")),
              keyset,
            })
          }),
        )
        const settled = yield* requestSwap(rt, state, recoverSwapAdvancing)
        const { completed } = yield* settledOrFail(state, settled)
        if (completed.kind !== "swap")
          return yield* new EngineInvariant({ message: "a reclaim completed without its swap record" })
        return { operationId, amount: completed.amountOut, fee: completed.fee }
      }),
    )
  })
