/**
 * Engine against the REAL mint (issue #4): the same 8-input → 8-output swap with DLEQ checks as `./engine.ts`,
 * against the nutshell reference mint (`test/support/real-mint.ts`, FakeWallet, SQLite, 127.0.0.1), through our
 * engine's default HTTP mint client (retry, timeouts, circuit breaker, NUT-19 replay) — and, for reference,
 * through cashu-ts 4.8's `Wallet` with its default fetch transport. It reports the share of swap latency spent
 * in the wallet.
 *
 * Not part of `engine --quick`: it starts nutshell (a few seconds; the first run installs its virtualenv, see
 * `scripts/mint.sh install`). Run it as `npm run bench -- engine-real [--quick] [--json]`.
 *
 * Per swap, for each side: wall time of the swap call; time waiting on the mint (every `fetch` from the call to
 * the last byte of the answer: loopback HTTP plus nutshell's own work); wallet time = wall − mint wait (our CPU,
 * fsync, event-loop hops); wallet CPU = this process's CPU (`process.cpuUsage`, all threads; nutshell runs in
 * its own process). The share = wallet time ÷ wall time. The `fetch` both clients use is wrapped to measure
 * the wait (ours through the HTTP client's `fetch` option, cashu-ts through `globalThis.fetch`, which its
 * transport calls per request). Our client's per-mint rate limit (20 req/s by default, a politeness policy, not
 * wallet work) is lifted so that its waits do not count as wallet time.
 *
 * Run alone: `node --import tsx bench/engine-real.ts [--quick] [--json]`.
 */
import { rmSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { Mint as CtsMint, type Proof as CtsProof, Wallet as CtsWallet } from "@cashu/cashu-ts"
import { mnemonicToSeedSync } from "@scure/bip39"
import { Engine } from "../src/engine/engine.js"
import { walletRuntime } from "../src/engine/internal.js"
import { freshDir } from "../test/support/engine.js"
import { startRealMint } from "../test/support/real-mint.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"

const AMOUNT = 255
const PIECES = 8
const MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

type Side = "ours" | "cashuTs"

/** Prints to stderr with --json (so stdout stays machine-readable), else to stdout. */
let log: (line: string) => void = (line) => console.log(line)

/** A `fetch` that counts its calls and adds the time until the whole answer has arrived to `meter.ms`. */
const timedFetch = (inner: typeof fetch, meter: { ms: number; calls: number }): typeof fetch =>
  (async (input: string | URL | Request, init?: RequestInit) => {
    const t0 = performance.now()
    meter.calls++
    try {
      const res = await inner(input, init)
      const body = await res.arrayBuffer()
      return new Response(body.byteLength === 0 ? null : body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      })
    } finally {
      meter.ms += performance.now() - t0
    }
  }) as typeof fetch

/** Runs the suite; returns per-side wall/mint/wallet times per swap and `engineReal.walletShare`. */
export async function runEngineRealBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const meter = { ms: 0, calls: 0 }
  const realFetch = globalThis.fetch
  const mint = await startRealMint()
  const dataDir = freshDir("corecashu-bench-engine-real-")
  let engine: Engine | undefined
  globalThis.fetch = timedFetch(realFetch, meter)
  try {
    engine = await Engine.open({
      dataDir,
      passphrase: "bench passphrase",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: {
        fetch: timedFetch(realFetch, meter),
        rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
      },
      options: { quotePollMs: 100 },
    })
    const wallet = await engine.createWallet({ walletId: "bench", mnemonic: MNEMONIC })
    await wallet.addMint(mint.url)
    const quote = await wallet.mintQuote({ mintUrl: mint.url, amount: BigInt(AMOUNT) })
    await wallet.mint(quote.operationId)
    if (walletRuntime(wallet).view().proofs({ state: "unspent" }).length !== PIECES)
      throw new Error("bench setup: our wallet does not hold 8 proofs")
    const oursSwap = async (): Promise<void> => {
      const r = await wallet.swap({ mintUrl: mint.url, amount: BigInt(AMOUNT) })
      if (r.inputs !== PIECES || r.outputs !== PIECES)
        throw new Error(`our swap was ${r.inputs} → ${r.outputs}, not ${PIECES} → ${PIECES}`)
    }

    const cts = new CtsWallet(new CtsMint(mint.url), {
      unit: "sat",
      bip39seed: mnemonicToSeedSync(MNEMONIC, "cashu-ts"),
      requireSigDleq: true,
    })
    await cts.loadMint()
    const q = await cts.createMintQuoteBolt11(AMOUNT)
    let proofs: CtsProof[] = []
    // FakeWallet marks the invoice paid after a short delay.
    for (let i = 0; i < 100 && proofs.length === 0; i++) {
      try {
        proofs = await cts.mintProofsBolt11(AMOUNT, q.quote)
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    if (proofs.length !== PIECES) throw new Error("bench setup: cashu-ts did not mint 8 proofs")
    const ctsSwap = async (): Promise<void> => {
      const preview = await cts.prepareSwapToSend(AMOUNT, proofs)
      if (preview.inputs.length !== PIECES) throw new Error("cashu-ts swap did not spend 8 inputs")
      const { keep, send } = await cts.completeSwap(preview)
      proofs = [...keep, ...send]
      if (proofs.length !== PIECES || proofs.some((p) => p.dleq === undefined))
        throw new Error("cashu-ts swap returned proofs without a verified DLEQ")
    }

    const run: Record<Side, () => Promise<void>> = { ours: oursSwap, cashuTs: ctsSwap }
    const sides: Side[] = ["ours", "cashuTs"]
    const perRound = opts.quick ? 8 : 30
    const rounds = opts.quick ? 3 : 5 // the first is warm-up
    const acc = new Map<Side, { n: number; wall: number; mint: number; cpu: number; calls: number }>()
    for (const s of sides) acc.set(s, { n: 0, wall: 0, mint: 0, cpu: 0, calls: 0 })
    for (let round = 0; round < rounds; round++) {
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!)
      for (const side of order) {
        const m0 = meter.ms
        const k0 = meter.calls
        const c0 = process.cpuUsage()
        const t0 = performance.now()
        for (let i = 0; i < perRound; i++) await run[side]()
        const wall = performance.now() - t0
        const cpu = process.cpuUsage(c0)
        if (round === 0) continue
        const a = acc.get(side)!
        a.n += perRound
        a.wall += wall
        a.mint += meter.ms - m0
        a.calls += meter.calls - k0
        a.cpu += (cpu.user + cpu.system) / 1000
      }
    }

    const result: Record<string, number> = {}
    const fmt = (x: number, d = 1) => x.toFixed(d).padStart(10)
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(10)
    log(
      `engine-real bench (${opts.quick ? "quick" : "full"}): ${PIECES} → ${PIECES} swap with DLEQ, nutshell`,
    )
    log(
      `${"side".padEnd(10)}${"swaps".padStart(10)}${"wall ms".padStart(10)}${"mint ms".padStart(10)}${"wallet ms".padStart(10)}${"cpu ms".padStart(10)}${"share".padStart(10)}${"cpu share".padStart(10)}`,
    )
    for (const side of sides) {
      const a = acc.get(side)!
      const key = side === "ours" ? "engineReal" : "cashuTsReal"
      const wall = a.wall / a.n
      const walletMs = (a.wall - a.mint) / a.n
      const cpu = a.cpu / a.n
      result[`${key}.wallMsPerSwap`] = wall
      result[`${key}.mintMsPerSwap`] = a.mint / a.n
      result[`${key}.walletMsPerSwap`] = walletMs
      result[`${key}.walletCpuMsPerSwap`] = cpu
      result[`${key}.walletShare`] = walletMs / wall
      result[`${key}.walletCpuShare`] = cpu / wall
      result[`${key}.requestsPerSwap`] = a.calls / a.n
      log(
        `${side.padEnd(10)}${fmt(a.n, 0)}${fmt(wall, 2)}${fmt(a.mint / a.n, 2)}${fmt(walletMs, 2)}${fmt(cpu, 2)}${pct(walletMs / wall)}${pct(cpu / wall)}`,
      )
    }
    return result
  } finally {
    globalThis.fetch = realFetch
    await engine?.close()
    await mint.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const started = performance.now()
  const result = await runEngineRealBench({ quick: args.includes("--quick") })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
