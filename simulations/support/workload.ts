/**
 * The random wallet workload of the real-mint simulations (the crash soak's child, the hostile-mint run): one
 * call picks an action for a wallet — mint, send (offline or by swap), receive a token another wallet sent,
 * melt to an external invoice, swap, reclaim an unclaimed send, checkPending, or finish a mint quote an earlier
 * (killed) run left unclaimed — runs it and says how it ended. Every failure must be one of the engine's
 * tagged errors a wallet call may end with ({@link EXPECTED}); anything else (an untagged throw, an
 * `EngineInvariant`) is a bug the simulations report.
 *
 * @module
 */

import { walletRuntime } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import type { Dice } from "./prng.js"

/** Errors a wallet call may end with when processes die or the mint misbehaves: nothing is broken. */
export const EXPECTED: ReadonlySet<string> = new Set([
  "InsufficientFunds",
  "OperationFailed",
  "OperationInDoubt",
  "TokenRejected",
  "QuoteNotClaimable",
  "QuoteRejected",
  "MintRejected",
  "MintAmbiguous",
  "MintUnreachable",
  "MintTimeout",
  "MintNotSent",
  "AmountError",
])

/** A token some wallet sent and nobody has claimed yet (as far as the simulation knows). */
export interface PoolToken {
  readonly from: string
  readonly token: string
}

/** A bolt11 invoice of an external payee (`scripts/mint.sh invoice`), paid at most once. */
export interface Invoice {
  readonly amount: bigint
  readonly bolt11: string
}

/** What the workload needs from its host (the soak child reports these to its parent over IPC). */
export interface WorkloadHost {
  readonly mintUrl: string
  readonly dice: Dice
  /** A token from another wallet than `walletId`, removed from the pool (undefined: none). */
  readonly takeToken: (walletId: string) => PoolToken | undefined
  readonly addToken: (t: PoolToken) => void
  /** An unused invoice of at most `max` sat, removed from the stock (undefined: none small enough). */
  readonly takeInvoice: (max: bigint) => Invoice | undefined
}

/** How one action ended: `tag` is the error's `_tag` ("untagged" for a throw without one). */
export interface Outcome {
  readonly kind: string
  readonly ok: boolean
  readonly tag?: string
  readonly message?: string
}

/** Whether a failure is one a wallet call may end with (see {@link EXPECTED}). */
export const isExpectedFailure = (o: Outcome): boolean => o.ok || (o.tag !== undefined && EXPECTED.has(o.tag))

/** Runs `f` and says how it ended. */
export const outcome = async (kind: string, f: () => Promise<unknown>): Promise<Outcome> => {
  try {
    await f()
    return { kind, ok: true }
  } catch (e) {
    // The engine's errors are Effect tagged errors; anything without a string `_tag` is an untyped throw.
    const tag =
      typeof e === "object" && e !== null && typeof (e as { _tag?: unknown })._tag === "string"
        ? (e as { _tag: string })._tag
        : "untagged"
    const message = (e instanceof Error ? e.message : String(e)).slice(0, 300)
    return { kind, ok: false, tag, message }
  }
}

/** The wallet's value at the mint that is spendable now. */
const spendable = (w: Wallet, mintUrl: string): bigint => w.balance(mintUrl)

/** Sends this wallet made that still hold pending proofs (a token nobody claimed yet, as far as it knows). */
export const reclaimableSends = (w: Wallet): string[] => {
  const view = walletRuntime(w).view()
  const owners = new Set<string>()
  for (const p of view.proofs({ state: "pending" }))
    if (p.operationId !== undefined) owners.add(p.operationId)
  return w
    .history()
    .filter((op) => op.kind === "send" && op.status === "completed" && owners.has(op.operationId))
    .map((op) => op.operationId)
}

/** Mint quotes recorded and not yet claimed (a run was killed between the quote and the claim). */
export const unclaimedQuotes = (w: Wallet): string[] =>
  w
    .history()
    .filter((op) => op.kind === "mint" && op.status === "started")
    .map((op) => op.operationId)

/** One random action of `w` (see the module comment); `undefined` when the pick had nothing to act on. */
export const randomAction = async (w: Wallet, host: WorkloadHost): Promise<Outcome | undefined> => {
  const { mintUrl, dice } = host
  const r = dice.random()
  const balance = spendable(w, mintUrl)
  if (r < 0.22 || balance < 8n) {
    return outcome("mint", async () => {
      const q = await w.mintQuote({ mintUrl, amount: BigInt(dice.int(1, 64)) })
      await w.mint(q.operationId, { timeoutMs: 20_000 })
    })
  }
  if (r < 0.27) {
    const quotes = unclaimedQuotes(w)
    if (quotes.length === 0) return undefined
    return outcome("claim", () => w.mint(dice.pick(quotes), { timeoutMs: 20_000 }))
  }
  if (r < 0.5) {
    return outcome("send", async () => {
      const s = await w.send({
        mintUrl,
        amount: BigInt(dice.int(1, Number(balance))),
        ...(dice.random() < 0.3 ? { forceSwap: true } : {}),
      })
      host.addToken({ from: w.id, token: s.token })
    })
  }
  if (r < 0.68) {
    const t = host.takeToken(w.id)
    if (t === undefined) return undefined
    return outcome("receive", () => w.receive(t.token))
  }
  if (r < 0.74) {
    const sends = reclaimableSends(w)
    if (sends.length === 0) return undefined
    // The token may still be in the pool: a receiver may race the reclaim, and exactly one side must win.
    return outcome("reclaim", () => w.reclaim(dice.pick(sends)))
  }
  if (r < 0.84) {
    // The fee reserve (≥ 2 sat at nutshell) must fit too.
    const invoice = host.takeInvoice(balance / 2n)
    if (invoice === undefined) return undefined
    return outcome("melt", async () => {
      const q = await w.meltQuote({ mintUrl, request: invoice.bolt11 })
      await w.melt(q.operationId)
    })
  }
  if (r < 0.92) {
    return outcome("swap", () => w.swap({ mintUrl, amount: BigInt(dice.int(1, Number(balance / 2n))) }))
  }
  return outcome("checkPending", () => w.checkPending(mintUrl))
}
