/**
 * The hostile-mint simulation: wallets in one engine (an encrypted LevelDB log) run random operations — mint,
 * claim, send, receive, melt, swap, reclaim, checkPending (`support/workload.ts`) — one at a time through a
 * hostile proxy (`support/hostile-proxy.ts`) in front of the real nutshell mint, with the engine's real HTTP
 * mint client (idle bounds set low, so stalls and drips trip them quickly; a small body cap, so oversized
 * answers trip it). The proxy forwards each request and spoils a share of the answers: drops them after the
 * mint applied the request, answers 500 (applied or not), stalls, holds the request past the idle bound and
 * only then lets the mint apply it, drips bytes past the idle bound or slowly within it, truncates the body, sends an oversized one, sends malformed JSON, flips a hex digit of a
 * signature or of its DLEQ proof, or closes the connection mid-answer.
 *
 * Every operation must end either well or with one of the engine's tagged errors (no untyped throw, no
 * engine invariant). At the end the proxy turns transparent, the engine is closed and reopened (recovery on
 * open), every wallet settles (claims, recovery, checkPending), and the books are kept against the mint
 * itself (`support/books.ts`): 0 sats lost, nothing counted twice, nothing stale or stuck, the audit clean.
 * The summary lists the spoiled answers by kind, with how the operations that met them ended.
 *
 * Run: `npm run sim -- hostile-mint [--operations 300] [--seed 1] [--rate 0.35] [--wallets 3]
 * [--mint-url URL]`. The last line printed is a JSON summary; the exit code is 0 when every check holds.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { type RealMint, startRealMint } from "../demo/real-mint.js"
import { Engine } from "../src/engine/engine.js"
import type { MintClientHttpOptions } from "../src/infra/mint-client/http.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { argNumber, argValue } from "./support/args.js"
import { type Books, inFlightOf, keepBooks, settleAll } from "./support/books.js"
import { type HostileKind, startHostileProxy } from "./support/hostile-proxy.js"
import { InvoiceStock } from "./support/invoices.js"
import { dice as makeDice } from "./support/prng.js"
import { isExpectedFailure, type Outcome, type PoolToken, randomAction } from "./support/workload.js"

/** Options of {@link runHostileMint}; every field has a default. */
export interface HostileMintOptions {
  /** Wallet operations to run through the proxy. */
  readonly operations?: number
  readonly seed?: number
  /** Share of answers the proxy spoils. */
  readonly rate?: number
  readonly wallets?: number
  /** A running mint without input fees (default: start nutshell for the run). */
  readonly mintUrl?: string
  /** Keep the data directory (its path is in the summary) to look into a failed run. */
  readonly keepDataDir?: boolean
  readonly log?: (line: string) => void
}

/** How the operations that met one kind of spoiled answer ended. */
export interface KindReport {
  readonly served: number
  /** Served where the mint had applied the request. */
  readonly applied: number
  /** Endpoint → count. */
  readonly endpoints: Record<string, number>
  /** How the operation that met it ended: `ok` or the error tag → count. */
  readonly ended: Record<string, number>
}

/** What a run did and found. */
export interface HostileMintSummary {
  readonly ok: boolean
  readonly seed: number
  readonly operations: number
  readonly rate: number
  readonly seconds: number
  readonly requests: number
  /** Requests the mint answered after the client had given up (applied all the same), by endpoint. */
  readonly lateAnswers: Record<string, number>
  /** Spoiled answers in all. */
  readonly hostile: number
  readonly byKind: Partial<Record<HostileKind, KindReport>>
  readonly actions: Record<string, { ok: number; failed: number }>
  readonly errors: Record<string, number>
  /** Operations that ended with an untyped throw or an error no wallet call may end with (first 20). */
  readonly bugs: ReadonlyArray<string>
  /** Operations that met a spoiled answer and ended with an untyped error (must be 0). */
  readonly untyped: number
  readonly settleFailures: ReadonlyArray<string>
  readonly books: Books
  /**
   * For the operations still open and those that last moved a stale proof: step, wallet, kind and id → the
   * spoiled answers the step met (`endpoint:kind`).
   */
  readonly openOperationsMet: Record<string, ReadonlyArray<string>>
  /** With `keepDataDir`: where the log is. */
  readonly dataDir?: string
}

const PASSPHRASE = "hostile mint passphrase"

/** The client's idle bound per endpoint in the simulation (ms): low, so drips and stalls trip it fast. */
export const SIM_IDLE_MS = 400
/** A melt waits for the (fake) payment before answering: its bound is longer. */
export const SIM_MELT_IDLE_MS = 1500
/** The client's body cap in the simulation: oversized answers need only go past this. */
export const SIM_MAX_BODY_BYTES = 256 * 1024

const idleOf = (endpoint: string): number => (endpoint === "melt" ? SIM_MELT_IDLE_MS : SIM_IDLE_MS)

/** The engine's HTTP client settings for the run. */
export const simClientOptions = (): MintClientHttpOptions => ({
  idleTimeouts: {
    info: SIM_IDLE_MS,
    keysets: SIM_IDLE_MS,
    keys: SIM_IDLE_MS,
    "mint-quote-state": SIM_IDLE_MS,
    "melt-quote-state": SIM_IDLE_MS,
    "mint-quote": SIM_IDLE_MS,
    "melt-quote": SIM_IDLE_MS,
    checkstate: SIM_IDLE_MS,
    restore: SIM_IDLE_MS,
    swap: SIM_IDLE_MS,
    mint: SIM_IDLE_MS,
    melt: SIM_MELT_IDLE_MS,
  },
  maxBodyBytes: SIM_MAX_BODY_BYTES,
  // The breaker still opens after 5 failures in a row; a short cooldown keeps it from refusing most of a run.
  circuitBreaker: { cooldownMs: 1_000 },
})

/** nutshell for the run: no input fee (the books' identity), payments without delay. */
export const startHostileTargetMint = (): Promise<RealMint> =>
  startRealMint({
    inputFeePpk: 0,
    env: { FAKEWALLET_DELAY_INCOMING_PAYMENT: "0", FAKEWALLET_DELAY_OUTGOING_PAYMENT: "0" },
  })

/** Runs the simulation (see the module comment). */
export const runHostileMint = async (opts: HostileMintOptions = {}): Promise<HostileMintSummary> => {
  const operations = opts.operations ?? 300
  const seed = opts.seed ?? 1
  const rate = opts.rate ?? 0.35
  const walletCount = opts.wallets ?? 3
  const log = opts.log ?? (() => {})
  const started = Date.now()
  const d = makeDice(seed)
  const mint = opts.mintUrl === undefined ? await startHostileTargetMint() : undefined
  const target = opts.mintUrl ?? mint!.url
  const proxy = await startHostileProxy({
    target,
    dice: makeDice(seed ^ 0x5eed),
    rate,
    idleMs: idleOf,
    maxBodyBytes: SIM_MAX_BODY_BYTES,
  })
  const mintUrl = proxy.url
  const dataDir = mkdtempSync(join(tmpdir(), "corecashu-hostile-"))
  const stock = new InvoiceStock(8, () => BigInt(d.int(1, 32)))
  const pool: PoolToken[] = []
  const actions: Record<string, { ok: number; failed: number }> = {}
  const errors: Record<string, number> = {}
  const bugs: string[] = []
  const outcomes = new Map<number, Outcome>()
  /** Operation id → the number of the simulation step that started it. */
  const stepOf = new Map<string, number>()
  const open = () =>
    Engine.open({
      dataDir,
      passphrase: PASSPHRASE,
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: simClientOptions(),
      options: { quotePollMs: 50 },
    })
  try {
    await stock.fill(4)
    stock.refill()
    let engine = await open()
    try {
      // Wallets and their trust in the mint are set up before the proxy turns hostile.
      for (let i = 0; i < walletCount; i++) {
        const w = await engine.createWallet({ walletId: `w${i}` })
        await w.addMint(mintUrl)
      }
      proxy.setHostile(true)
      const host = {
        mintUrl,
        dice: d,
        takeToken: (walletId: string) => {
          const i = pool.findIndex((t) => t.from !== walletId)
          return i < 0 ? undefined : pool.splice(i, 1)[0]
        },
        addToken: (t: PoolToken) => {
          pool.push(t)
        },
        takeInvoice: (max: bigint) => stock.take(max),
      }
      const live = engine.walletIds().map((id) => engine.wallet(id))
      for (let n = 1; n <= operations; n++) {
        proxy.setTag(n)
        let o: Outcome | undefined
        // A pick with nothing to act on (no token, no invoice) is picked again.
        for (let tries = 0; o === undefined && tries < 10; tries++) o = await randomAction(d.pick(live), host)
        if (o === undefined) continue
        outcomes.set(n, o)
        for (const w of live)
          for (const op of w.history()) if (!stepOf.has(op.operationId)) stepOf.set(op.operationId, n)
        const a = actions[o.kind] ?? { ok: 0, failed: 0 }
        actions[o.kind] = a
        if (o.ok) a.ok++
        else {
          a.failed++
          errors[o.tag ?? "?"] = (errors[o.tag ?? "?"] ?? 0) + 1
          const bug = `op ${n} ${o.kind}: ${o.tag}: ${o.message ?? ""}`.slice(0, 300)
          if (!isExpectedFailure(o) && bugs.length < 20) bugs.push(bug)
        }
        if (n % 25 === 0 || n === operations)
          log(
            `hostile-mint: ${n}/${operations} operations, ${proxy.events.length} spoiled answers, ` +
              `${Math.round((Date.now() - started) / 1000)} s`,
          )
      }
      stock.stop()

      // The end: the proxy gets out of the way, recovery on open, settle, the books against the mint.
      proxy.setHostile(false)
      proxy.setTag(0)
      await engine.close()
      engine = await open()
      const settleFailures = await settleAll(engine, mintUrl)
      const books = await keepBooks(engine, target)

      const byKind: Partial<Record<HostileKind, KindReport>> = {}
      let untyped = 0
      for (const ev of proxy.events) {
        const r = byKind[ev.kind] ?? { served: 0, applied: 0, endpoints: {}, ended: {} }
        byKind[ev.kind] = { ...r, served: r.served + 1, applied: r.applied + (ev.applied ? 1 : 0) }
        r.endpoints[ev.endpoint] = (r.endpoints[ev.endpoint] ?? 0) + 1
        const o = outcomes.get(ev.tag)
        const end = o === undefined ? "settle" : o.ok ? "ok" : (o.tag ?? "?")
        r.ended[end] = (r.ended[end] ?? 0) + 1
        if (o !== undefined && !isExpectedFailure(o)) untyped++
      }
      const openOperationsMet: Record<string, string[]> = {}
      const met = (n: number) =>
        proxy.events.filter((ev) => ev.tag === n).map((ev) => `${ev.endpoint}:${ev.kind}`)
      for (const w of engine.walletIds().map((id) => engine.wallet(id)))
        for (const op of inFlightOf(w)) {
          const n = stepOf.get(op.operationId) ?? 0
          openOperationsMet[`${n} ${w.id} ${op.kind} ${op.operationId}`] = met(n)
        }
      for (const id of books.staleOperations) {
        const n = stepOf.get(id) ?? 0
        openOperationsMet[`${n} stale ${id}`] = met(n)
      }
      return {
        ok: books.ok && bugs.length === 0 && untyped === 0,
        seed,
        operations,
        rate,
        seconds: Math.round((Date.now() - started) / 1000),
        requests: proxy.requests(),
        lateAnswers: Object.fromEntries(
          [...new Set(proxy.late.map((l) => l.endpoint))].map((e) => [
            e,
            proxy.late.filter((l) => l.endpoint === e).length,
          ]),
        ),
        hostile: proxy.events.length,
        byKind,
        actions,
        errors,
        bugs,
        untyped,
        settleFailures,
        books,
        openOperationsMet,
        ...(opts.keepDataDir === true ? { dataDir } : {}),
      }
    } finally {
      await engine.close()
    }
  } finally {
    stock.stop()
    await proxy.close()
    await mint?.stop()
    if (opts.keepDataDir !== true) rmSync(dataDir, { recursive: true, force: true })
  }
}

/** The CLI (`npm run sim -- hostile-mint …`). */
export const hostileMintMain = async (args: ReadonlyArray<string>): Promise<number> => {
  const operations = argNumber(args, "operations")
  const seed = argNumber(args, "seed")
  const rate = argNumber(args, "rate")
  const wallets = argNumber(args, "wallets")
  const mintUrl = argValue(args, "mint-url")
  const summary = await runHostileMint({
    ...(args.includes("--keep") ? { keepDataDir: true } : {}),
    ...(operations !== undefined ? { operations } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(wallets !== undefined ? { wallets } : {}),
    ...(mintUrl !== undefined ? { mintUrl } : {}),
    log: (line) => console.error(line),
  })
  console.log(JSON.stringify(summary))
  return summary.ok ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await hostileMintMain(process.argv.slice(2)))
}
