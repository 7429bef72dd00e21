/**
 * Chaos simulation: N wallets in one engine (a real LevelDB log) mint, send, receive, reclaim and melt at
 * random against the in-process test mint for T seconds, while the mint drops responses after applying the
 * request, answers 500s (applied or not) and delays answers. Then everything is recovered — the engine is
 * closed and reopened on the same log (recovery on open), every wallet runs recovery and a checkstate of its
 * pending proofs — and the books are checked:
 *
 * - **conservation**: Σ over wallets of unspent + reserved + pending == the mint's outstanding value
 *   (issued − redeemed): no value lost, nothing counted twice;
 * - nothing left in flight, no proof reserved, no proof a wallet calls unspent that the mint has spent;
 * - the audit of the whole log (hash chain and every invariant) is clean.
 *
 * Run: `npm run sim -- [--wallets 4] [--seconds 10] [--seed 1] [--fault-rate 0.3]` (or `npm run sim -- chaos …`).
 * The last line printed is a JSON summary; the exit code is 0 when every check holds.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Engine } from "../src/engine/engine.js"
import { walletRuntime } from "../src/engine/internal.js"
import type { Wallet } from "../src/engine/wallet.js"
import { directMintClient } from "../test/support/direct-mint-client.js"
import { createTestMint, type FaultSpec, type TestMint } from "../test/support/mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { prng } from "./support/prng.js"

/** Options of {@link runChaos}; every field has a default. */
export interface ChaosOptions {
  readonly wallets?: number
  /** How long the random phase lasts. */
  readonly seconds?: number
  /** Seed of the decisions (the interleaving still depends on timing). */
  readonly seed?: number
  /** Chance that an action is preceded by a queued mint fault. */
  readonly faultRate?: number
  /** Concurrent action loops per wallet (> 1 exercises the single writer). */
  readonly loopsPerWallet?: number
  /** Where the log lives (default: a fresh temp directory, removed afterwards). */
  readonly dataDir?: string
}

/** What a run did and found. */
export interface ChaosSummary {
  readonly ok: boolean
  readonly wallets: number
  readonly seconds: number
  readonly seed: number
  /** Actions attempted and how they ended, per kind. */
  readonly actions: Record<string, { ok: number; failed: number }>
  /** Failures by error tag. */
  readonly errors: Record<string, number>
  readonly faultsFired: number
  /** Mint side: issued − redeemed. */
  readonly outstanding: string
  /** Wallet side: Σ unspent + reserved + pending. */
  readonly held: string
  readonly conservation: boolean
  /** Operations still in flight after recovery (must be 0). */
  readonly inFlight: number
  /** Recorded quotes never acted on (e.g. a melt the wallet could no longer pay): they hold nothing. */
  readonly openQuotes: number
  readonly reserved: number
  /** Proofs a wallet holds as unspent that the mint has spent or holds pending (must be 0). */
  readonly stale: number
  readonly audit: boolean
  readonly events: number
  /** Failures that must never happen (engine invariants, untagged throws): the first 20 distinct ones. */
  readonly bugs: ReadonlyArray<string>
}

const FAULT_PATHS = ["/v1/swap", "/v1/mint/bolt11", "/v1/melt/bolt11", "/v1/checkstate", "/v1/restore"]

/** Errors a wallet call may end with under chaos: the operation failed or is in doubt, nothing is broken. */
const EXPECTED = new Set([
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

const held = (w: Wallet): bigint => w.balances().reduce((s, b) => s + b.unspent + b.reserved + b.pending, 0n)

const openOf = (w: Wallet) =>
  w.history().filter((op) => op.status !== "completed" && op.status !== "compensated")

/**
 * A mint or melt quote that was recorded but never acted on (`started`) holds nothing: a melt quote the wallet
 * could no longer pay stays open until it expires. Everything else that is open is in flight.
 */
const isOpenQuote = (op: { readonly kind: string; readonly status: string }) =>
  (op.kind === "mint" || op.kind === "melt") && op.status === "started"

const inFlightOf = (w: Wallet) => openOf(w).filter((op) => !isOpenQuote(op))

const openEngine = (dataDir: string, mint: TestMint) =>
  Engine.open({
    dataDir,
    passphrase: "chaos passphrase",
    vault: INSECURE_TEST_VAULT_OPTIONS,
    mintClient: directMintClient(mint),
    options: { quotePollMs: 2 },
  })

/** Runs the simulation (see the module comment). */
export const runChaos = async (opts: ChaosOptions = {}): Promise<ChaosSummary> => {
  const walletCount = opts.wallets ?? 4
  const seconds = opts.seconds ?? 10
  const seed = opts.seed ?? 1
  const faultRate = opts.faultRate ?? 0.3
  const loops = opts.loopsPerWallet ?? 2
  const random = prng(seed)
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(random() * xs.length)]!
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))

  const ownDir = opts.dataDir === undefined
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "corecashu-chaos-"))
  const mint = createTestMint({ baseUrl: "http://chaos.mint.test", inputFeePpk: 0n })
  const mintUrl = mint.baseUrl
  const actions: Record<string, { ok: number; failed: number }> = {}
  const errors: Record<string, number> = {}
  const bugs: string[] = []
  /** Unclaimed tokens: anyone may receive them, their sender may reclaim them (a race on purpose). */
  const pool: Array<{ readonly from: string; readonly token: string; readonly operationId: string }> = []

  const record = async (kind: string, f: () => Promise<unknown>) => {
    const a = actions[kind] ?? { ok: 0, failed: 0 }
    actions[kind] = a
    try {
      await f()
      a.ok++
    } catch (e) {
      a.failed++
      const tag =
        typeof e === "object" && e !== null && "_tag" in e
          ? String((e as { _tag: unknown })._tag)
          : "untagged"
      errors[tag] = (errors[tag] ?? 0) + 1
      const bug = `${kind}: ${tag}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300)
      if (!EXPECTED.has(tag) && !bugs.includes(bug) && bugs.length < 20) bugs.push(bug)
    }
  }

  const injectFault = () => {
    if (random() >= faultRate) return
    const kind = pick<FaultSpec["kind"]>(["drop-response", "error-500", "delay"])
    const path = pick(FAULT_PATHS)
    mint.faults.next(
      kind === "delay"
        ? { path, kind, ms: int(1, 20) }
        : kind === "error-500"
          ? { path, kind, apply: random() < 0.5 }
          : { path, kind },
    )
  }

  let engine = await openEngine(dataDir, mint)
  try {
    const wallets: Wallet[] = []
    for (let i = 0; i < walletCount; i++) {
      const w = await engine.createWallet({ walletId: `w${i}` })
      await w.addMint(mintUrl)
      wallets.push(w)
    }

    const act = async (w: Wallet) => {
      injectFault()
      const r = random()
      const balance = w.balance(mintUrl)
      if (r < 0.25 || balance < 8n) {
        await record("mint", async () => {
          const q = await w.mintQuote({ mintUrl, amount: BigInt(int(1, 64)) })
          await w.mint(q.operationId)
        })
      } else if (r < 0.55) {
        await record("send", async () => {
          const s = await w.send({
            mintUrl,
            amount: BigInt(int(1, Number(balance))),
            ...(random() < 0.3 ? { forceSwap: true } : {}),
          })
          pool.push({ from: w.id, token: s.token, operationId: s.operationId })
        })
      } else if (r < 0.75) {
        const i = pool.findIndex((t) => t.from !== w.id)
        if (i < 0) return
        const [t] = pool.splice(i, 1)
        await record("receive", () => w.receive(t!.token))
      } else if (r < 0.82) {
        const mine = pool.filter((t) => t.from === w.id)
        if (mine.length === 0) return
        // The token stays in the pool: a receiver may race the reclaim, and exactly one of them must win.
        await record("reclaim", () => w.reclaim(pick(mine).operationId))
      } else if (r < 0.92) {
        await record("melt", async () => {
          const q = await w.meltQuote({
            mintUrl,
            request: mint.invoice(BigInt(int(1, Number(balance / 2n)))),
          })
          await w.melt(q.operationId)
        })
      } else {
        await record("checkPending", () => w.checkPending(mintUrl))
      }
    }

    const deadline = Date.now() + seconds * 1000
    await Promise.all(
      wallets.flatMap((w) =>
        Array.from({ length: loops }, async () => {
          while (Date.now() < deadline) await act(w)
        }),
      ),
    )

    // Recover everything: no faults any more, reopen the log (recovery on open), then every wallet
    // recovers and checks its pending proofs until nothing is in flight.
    mint.faults.clear()
    await engine.close()
    engine = await openEngine(dataDir, mint)
    const reopened = engine.walletIds().map((id) => engine.wallet(id))
    for (let pass = 0; pass < 5; pass++) {
      for (const w of reopened) {
        for (const op of openOf(w)) {
          if (op.kind === "mint" && op.status === "started")
            await record("settle-mint", () => w.mint(op.operationId, { wait: false }))
          else if (op.kind === "melt" && op.status === "started")
            await record("settle-melt", () => w.melt(op.operationId))
        }
        await record("recover", () => w.recover())
        await record("checkPending", () => w.checkPending(mintUrl))
      }
      if (reopened.every((w) => inFlightOf(w).length === 0)) break
    }

    const stats = mint.stats()
    const heldTotal = reopened.reduce((s, w) => s + held(w), 0n)
    const inFlight = reopened.reduce((s, w) => s + inFlightOf(w).length, 0)
    const openQuotes = reopened.reduce((s, w) => s + openOf(w).filter(isOpenQuote).length, 0)
    const reserved = reopened.reduce(
      (s, w) => s + walletRuntime(w).view().proofs({ state: "reserved" }).length,
      0,
    )
    // Proofs a wallet calls spendable that the mint has spent (or holds for a melt): value the sums would hide.
    const stale = reopened.reduce(
      (s, w) =>
        s +
        walletRuntime(w)
          .view()
          .proofs({ state: "unspent" })
          .filter((p) => mint.isSpent(p.proof.Y) || mint.isPending(p.proof.Y)).length,
      0,
    )
    const audit = await engine.audit()
    const conservation = heldTotal === stats.outstanding
    return {
      ok: conservation && audit.ok && inFlight === 0 && reserved === 0 && stale === 0 && bugs.length === 0,
      wallets: walletCount,
      seconds,
      seed,
      actions,
      errors,
      faultsFired: stats.faultsFired,
      outstanding: String(stats.outstanding),
      held: String(heldTotal),
      conservation,
      inFlight,
      openQuotes,
      reserved,
      stale,
      audit: audit.ok,
      events: audit.events,
      bugs,
    }
  } finally {
    await engine.close()
    if (ownDir) rmSync(dataDir, { recursive: true, force: true })
  }
}

const argValue = (args: ReadonlyArray<string>, name: string): number | undefined => {
  const i = args.indexOf(`--${name}`)
  const v = i >= 0 ? Number(args[i + 1]) : Number.NaN
  return Number.isFinite(v) ? v : undefined
}

/** The CLI (`npm run sim -- [chaos] --wallets 4 …`): prints the JSON summary, returns the exit code. */
export const chaosMain = async (args: ReadonlyArray<string>): Promise<number> => {
  const wallets = argValue(args, "wallets")
  const seconds = argValue(args, "seconds")
  const seed = argValue(args, "seed")
  const faultRate = argValue(args, "fault-rate")
  const summary = await runChaos({
    ...(wallets !== undefined ? { wallets } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(faultRate !== undefined ? { faultRate } : {}),
  })
  console.log(JSON.stringify(summary))
  return summary.ok ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await chaosMain(process.argv.slice(2)))
}
