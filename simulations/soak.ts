/**
 * The crash soak: random `SIGKILL`s against the real nutshell mint. A child process (`support/soak-child.ts`)
 * opens the engine on one LevelDB data directory — recovering what the previous child left in flight — and
 * runs random operations (mint, claim, send, receive, melt, swap, reclaim, checkPending) on every wallet at
 * once, through the engine's default HTTP mint client; the parent kills it (`SIGKILL`) at a random moment —
 * most often a random time after it said it was ready, sometimes a random time after its start, so during
 * `Engine.open` and its recovery — and starts the next one on the same directory. After `kills` kills, the
 * parent opens the directory itself, lets recovery and a settle pass (claims, recovery, checkPending) end
 * everything with the mint reachable, and keeps the books against the mint (`support/books.ts`): sats lost,
 * value counted twice, proofs held that the mint has spent, anything stuck (in flight, in doubt, reserved),
 * and the audit of the whole log.
 *
 * Run: `npm run sim -- soak [--kills 400] [--seed 1] [--wallets 3] [--mint-url URL]`. Without `--mint-url`
 * it starts nutshell through `scripts/mint.sh` (no input fee; the books assume none). The last line printed is
 * a JSON summary; the exit code is 0 when every check holds.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type RealMint, startRealMint } from "../demo/real-mint.js"
import { Engine } from "../src/engine/engine.js"
import { childBundle } from "../test/support/child-bundle.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { argNumber, argValue } from "./support/args.js"
import { type Books, keepBooks, settleAll } from "./support/books.js"
import { InvoiceStock } from "./support/invoices.js"
import { dice as makeDice } from "./support/prng.js"
import type { SoakChildMessage, SoakParentMessage, SoakSpec } from "./support/soak-child.js"
import { isExpectedFailure, type PoolToken } from "./support/workload.js"

/** Options of {@link runSoak}; every field has a default. */
export interface SoakOptions {
  readonly kills?: number
  readonly seed?: number
  readonly wallets?: number
  /** A running mint without input fees (default: start nutshell for the run). */
  readonly mintUrl?: string
  /** A kill comes this long after the child is ready: uniform in [min, max] ms. */
  readonly killAfterReadyMs?: readonly [number, number]
  /** Share of kills timed from the child's start instead (they often land in `Engine.open`'s recovery). */
  readonly earlyKillShare?: number
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void
}

/** What a soak did and found. */
export interface SoakSummary {
  readonly ok: boolean
  readonly seed: number
  readonly wallets: number
  readonly kills: number
  /** Kills timed from the child's start that hit it before it was ready (during open / recovery). */
  readonly killsBeforeReady: number
  readonly seconds: number
  /** Actions the children finished before their death, per kind. */
  readonly actions: Record<string, { ok: number; failed: number }>
  /** Failures by error tag. */
  readonly errors: Record<string, number>
  /** Failures that must never happen (untyped throws, engine invariants), first 20 distinct. */
  readonly bugs: ReadonlyArray<string>
  /** Children that died on their own (not killed): the stderr tail of each, first 5. */
  readonly childDeaths: ReadonlyArray<string>
  /** Failures of the final settle pass (kind: tag). */
  readonly settleFailures: ReadonlyArray<string>
  readonly invoicesMade: number
  readonly books: Books
}

const PASSPHRASE = "soak passphrase"
const CHILD_SOURCE = fileURLToPath(new URL("./support/soak-child.ts", import.meta.url))

/** nutshell for the soak: no input fee (the books' identity), quick fake payments (more actions per life). */
export const startSoakMint = (): Promise<RealMint> =>
  startRealMint({
    inputFeePpk: 0,
    env: { FAKEWALLET_DELAY_INCOMING_PAYMENT: "0.2", FAKEWALLET_DELAY_OUTGOING_PAYMENT: "0.2" },
  })

/** Runs the soak (see the module comment). */
export const runSoak = async (opts: SoakOptions = {}): Promise<SoakSummary> => {
  const kills = opts.kills ?? 400
  const seed = opts.seed ?? 1
  const walletCount = opts.wallets ?? 3
  const [minAfter, maxAfter] = opts.killAfterReadyMs ?? [50, 2500]
  const earlyShare = opts.earlyKillShare ?? 0.15
  const log = opts.log ?? (() => {})
  const d = makeDice(seed)
  const started = Date.now()

  const mint = opts.mintUrl === undefined ? await startSoakMint() : undefined
  const mintUrl = opts.mintUrl ?? mint!.url
  const work = mkdtempSync(join(tmpdir(), "corecashu-soak-"))
  const dataDir = join(work, "data")
  const specFile = join(work, "spec.json")
  const actions: Record<string, { ok: number; failed: number }> = {}
  const errors: Record<string, number> = {}
  const bugs: string[] = []
  const childDeaths: string[] = []
  const pool: PoolToken[] = []
  let child: ChildProcess | undefined
  const toChild = (m: SoakParentMessage) => {
    if (child?.connected === true) child.send(m, () => {})
  }
  const stock = new InvoiceStock(
    12,
    () => BigInt(d.int(1, 32)),
    (i) => toChild({ t: "invoices", invoices: [{ amount: String(i.amount), bolt11: i.bolt11 }] }),
  )
  let killsBeforeReady = 0
  try {
    // The wallets, made once: every child opens them.
    const setup = await Engine.open({ dataDir, passphrase: PASSPHRASE, vault: INSECURE_TEST_VAULT_OPTIONS })
    try {
      for (let i = 0; i < walletCount; i++) {
        const w = await setup.createWallet({ walletId: `w${i}` })
        await w.addMint(mintUrl)
      }
    } finally {
      await setup.close()
    }
    await stock.fill(6)
    stock.refill()
    const bundle = await childBundle("soak-child", CHILD_SOURCE, ["simulations"])

    for (let k = 1; k <= kills; k++) {
      const spec: SoakSpec = {
        dataDir,
        passphrase: PASSPHRASE,
        mintUrl,
        seed: seed * 100_003 + k,
        tokens: pool,
        invoices: stock.invoices.map((i) => ({ amount: String(i.amount), bolt11: i.bolt11 })),
      }
      writeFileSync(specFile, JSON.stringify(spec))
      const early = d.random() < earlyShare
      const delay = early ? d.int(20, 1500) : d.int(minAfter, maxAfter)
      const c = spawn(process.execPath, [bundle], {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        env: { ...process.env, SOAK_SPEC_FILE: specFile },
      })
      child = c
      let stderr = ""
      c.stderr?.on("data", (b: Buffer) => {
        stderr = (stderr + b.toString("utf8")).slice(-4000)
      })
      let ready = false
      let timer: NodeJS.Timeout | undefined
      const kill = () => {
        if (!ready) killsBeforeReady++
        c.kill("SIGKILL")
      }
      if (early) timer = setTimeout(kill, delay)
      c.on("message", (m: SoakChildMessage) => {
        switch (m.t) {
          case "ready":
            ready = true
            if (!early) timer = setTimeout(kill, delay)
            break
          case "token-add":
            pool.push({ from: m.from, token: m.token })
            break
          case "token-take": {
            const i = pool.findIndex((t) => t.token === m.token)
            if (i >= 0) pool.splice(i, 1)
            break
          }
          case "invoice-take":
            stock.remove(m.bolt11)
            stock.refill()
            break
          case "outcome": {
            const o = m.outcome
            const a = actions[o.kind] ?? { ok: 0, failed: 0 }
            actions[o.kind] = a
            if (o.ok) a.ok++
            else {
              a.failed++
              errors[o.tag ?? "?"] = (errors[o.tag ?? "?"] ?? 0) + 1
              const bug = `${o.kind}: ${o.tag}: ${o.message ?? ""}`.slice(0, 300)
              if (!isExpectedFailure(o) && !bugs.includes(bug) && bugs.length < 20) bugs.push(bug)
            }
            break
          }
        }
      })
      const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        c.on("exit", (code, signal) => resolve({ code, signal })),
      )
      clearTimeout(timer)
      child = undefined
      if (signal !== "SIGKILL") {
        if (childDeaths.length < 5)
          childDeaths.push(`kill ${k}: exited with ${code ?? signal}: ${stderr.slice(-1500)}`)
        // Without a kill this child did not count as one.
      }
      if (k % 10 === 0 || k === kills)
        log(
          `soak: ${k}/${kills} kills, ${Math.round((Date.now() - started) / 1000)} s, pool ${pool.length}, ` +
            `actions ${Object.values(actions).reduce((s, a) => s + a.ok + a.failed, 0)}`,
        )
    }
    stock.stop()

    // The end: recovery on open, then settle everything with the mint reachable, then the books.
    const engine = await Engine.open({ dataDir, passphrase: PASSPHRASE, vault: INSECURE_TEST_VAULT_OPTIONS })
    try {
      const settleFailures = await settleAll(engine, mintUrl, 6, 30_000)
      const books = await keepBooks(engine, mintUrl)
      return {
        ok: books.ok && bugs.length === 0 && childDeaths.length === 0,
        seed,
        wallets: walletCount,
        kills,
        killsBeforeReady,
        seconds: Math.round((Date.now() - started) / 1000),
        actions,
        errors,
        bugs,
        childDeaths,
        settleFailures,
        invoicesMade: stock.made,
        books,
      }
    } finally {
      await engine.close()
    }
  } finally {
    stock.stop()
    child?.kill("SIGKILL")
    await mint?.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/** The CLI (`npm run sim -- soak …`). */
export const soakMain = async (args: ReadonlyArray<string>): Promise<number> => {
  const kills = argNumber(args, "kills")
  const seed = argNumber(args, "seed")
  const wallets = argNumber(args, "wallets")
  const mintUrl = argValue(args, "mint-url")
  const summary = await runSoak({
    ...(kills !== undefined ? { kills } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(wallets !== undefined ? { wallets } : {}),
    ...(mintUrl !== undefined ? { mintUrl } : {}),
    log: (line) => console.error(line),
  })
  console.log(JSON.stringify(summary))
  return summary.ok ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await soakMain(process.argv.slice(2)))
}
