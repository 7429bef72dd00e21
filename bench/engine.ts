/**
 * Engine benchmark (issue #4): an 8-input → 8-output swap with DLEQ checks, through our engine and through
 * `@cashu/cashu-ts` 4.8's `Wallet`, against the SAME in-process test mint, in one process, interleaved round by
 * round after a warm-up round (rotating which side goes first), reporting wallet-side swaps per second.
 *
 * - **Ours**: `wallet.swap({ mintUrl, amount: 255n })` on an {@link Engine} with a durable LevelDB log (every
 *   append fsynced, sealed by the vault — weak test KDF, which only matters at open), `requireDleq` on (the
 *   default): every returned signature's DLEQ is verified before the proofs are stored. The wallet holds
 *   exactly the proofs 1, 2, 4, …, 128 (255 sat), so every swap spends all 8 and gets the same 8 back.
 * - **cashu-ts**: `wallet.prepareSwapToSend(255, proofs)` + `wallet.completeSwap(preview)` (the public swap
 *   path; `wallet.send` would hand over the 8 proofs offline as an exact match instead of swapping). DLEQs:
 *   the mint returns a DLEQ on every signature, `OutputData.toProof` verifies each one and throws on a bad
 *   one, and the `Wallet` is built with `requireSigDleq: true`, so a signature without DLEQ fails the swap —
 *   the same policy as ours. We also check every returned proof carries the (verified) DLEQ. It gets a BIP-39
 *   seed, so its secrets are NUT-13 deterministic like ours (same derivation work); it persists nothing.
 * - **Transport**: both sides call `mint.handle({method, path, body})` directly with JSON text — ours through
 *   `test/support/direct-mint-client.ts`, cashu-ts through a `customRequest` (its pluggable `RequestFn`) that
 *   serialises with its own `JSONInt` and throws its `MintOperationError` on a Cashu error, as its fetch
 *   transport does. Same path for both, and no `Request`/`Response` objects whose cost would blur the
 *   comparison; the HTTP client is measured against the real mint in `./engine-real.ts`.
 * - **Wallet-side time** = wall time of the swap call minus the time spent inside `mint.handle` (the test
 *   mint does all its work synchronously inside that call: input checks, signing, DLEQ creation), for both
 *   sides; `swapsPerSec` / `cashuTsSwapsPerSec` are its inverse and `swapVsCashuTs` their ratio. Ours includes
 *   waiting for its two fsynced appends per swap (durability is part of the wallet's cost); cashu-ts's is
 *   all CPU. On a loaded machine wall time also holds the time the process waited for a core, so the wallet's
 *   CPU (process CPU — all threads, LevelDB's included — minus the CPU spent inside `mint.handle`) is reported
 *   too, with its ratio `swapCpuVsCashuTs`.
 *
 * Run alone: `node --import tsx bench/engine.ts [--quick] [--json]`.
 */
import { rmSync } from "node:fs"
import { pathToFileURL } from "node:url"
import {
  Mint as CtsMint,
  type Proof as CtsProof,
  Wallet as CtsWallet,
  HttpResponseError,
  JSONInt,
  MintOperationError,
  type RequestFn,
} from "@cashu/cashu-ts"
import { mnemonicToSeedSync } from "@scure/bip39"
import { Engine } from "../src/engine/engine.js"
import { walletRuntime } from "../src/engine/internal.js"
import { directMintClient } from "../test/support/direct-mint-client.js"
import { freshDir } from "../test/support/engine.js"
import { createTestMint, type TestMint } from "../test/support/mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"

/** 1 + 2 + … + 128: eight proofs, one per denomination, spent and re-created whole by every swap. */
const AMOUNT = 255
const PIECES = 8
const MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

type Side = "ours" | "cashuTs"

/** Prints to stderr with --json (so stdout stays machine-readable), else to stdout. */
let log: (line: string) => void = (line) => console.log(line)

/**
 * Wraps `mint.handle` to add the time (wall and process CPU) spent inside it to counters: the test mint does
 * all its work synchronously within the call.
 */
const meterMint = (mint: TestMint): { ms: () => number; cpuMs: () => number } => {
  let wall = 0
  let cpu = 0
  const handle = mint.handle.bind(mint)
  mint.handle = (req) => {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    try {
      return handle(req)
    } finally {
      wall += performance.now() - t0
      const c = process.cpuUsage(c0)
      cpu += (c.user + c.system) / 1000
    }
  }
  return { ms: () => wall, cpuMs: () => cpu }
}

/** cashu-ts's `RequestFn` straight onto `mint.handle`, honouring its error contract. */
const ctsRequest =
  (mint: TestMint): RequestFn =>
  async <T>(args: Parameters<RequestFn>[0]): Promise<T> => {
    const path = new URL(args.endpoint).pathname
    const method = (args.method ?? "GET").toUpperCase()
    const body = args.requestBody === undefined ? undefined : JSONInt.stringify(args.requestBody)
    const res = await mint.handle(body === undefined ? { method, path } : { method, path, body })
    if (res.status >= 200 && res.status < 300) return JSONInt.parse(res.body) as T
    const err = JSONInt.parse(res.body) as { code?: unknown; detail?: unknown }
    if (typeof err.code === "number" && typeof err.detail === "string")
      throw new MintOperationError(err.code, err.detail)
    throw new HttpResponseError(typeof err.detail === "string" ? err.detail : "HTTP error", res.status)
  }

/** Our side: a durable engine with one wallet holding exactly 1, 2, …, 128 sat. */
const setupOurs = async (mint: TestMint) => {
  const dataDir = freshDir("corecashu-bench-engine-")
  const engine = await Engine.open({
    dataDir,
    passphrase: "bench passphrase",
    vault: INSECURE_TEST_VAULT_OPTIONS,
    mintClient: directMintClient(mint),
    options: { quotePollMs: 5 },
  })
  const wallet = await engine.createWallet({ walletId: "bench", mnemonic: MNEMONIC })
  await wallet.addMint(mint.baseUrl)
  const quote = await wallet.mintQuote({ mintUrl: mint.baseUrl, amount: BigInt(AMOUNT) })
  await wallet.mint(quote.operationId)
  const held = walletRuntime(wallet).view().proofs({ state: "unspent" })
  if (held.length !== PIECES) throw new Error(`bench setup: expected ${PIECES} proofs, got ${held.length}`)
  const swap = async (): Promise<void> => {
    const r = await wallet.swap({ mintUrl: mint.baseUrl, amount: BigInt(AMOUNT) })
    if (r.inputs !== PIECES || r.outputs !== PIECES || r.fee !== 0n)
      throw new Error(`our swap was ${r.inputs} → ${r.outputs} (fee ${r.fee}), not ${PIECES} → ${PIECES}`)
  }
  const close = async (): Promise<void> => {
    await engine.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { swap, close }
}

/** cashu-ts's side: a `Wallet` (seeded, DLEQ required) and the 8 proofs it holds in memory. */
const setupCashuTs = async (mint: TestMint) => {
  const wallet = new CtsWallet(new CtsMint(mint.baseUrl, { customRequest: ctsRequest(mint) }), {
    unit: "sat",
    bip39seed: mnemonicToSeedSync(MNEMONIC, "cashu-ts"),
    requireSigDleq: true,
  })
  await wallet.loadMint()
  const quote = await wallet.createMintQuoteBolt11(AMOUNT)
  let proofs: CtsProof[] = await wallet.mintProofsBolt11(AMOUNT, quote)
  if (proofs.length !== PIECES) throw new Error(`bench setup: cashu-ts minted ${proofs.length} proofs`)
  const swap = async (): Promise<void> => {
    const preview = await wallet.prepareSwapToSend(AMOUNT, proofs)
    const outs = preview.sendOutputs?.length ?? 0
    if (preview.inputs.length !== PIECES || outs + (preview.keepOutputs?.length ?? 0) !== PIECES)
      throw new Error(`cashu-ts swap was ${preview.inputs.length} → ${outs}, not ${PIECES} → ${PIECES}`)
    const { keep, send } = await wallet.completeSwap(preview)
    proofs = [...keep, ...send]
    // toProof attaches the DLEQ only after verifying it: every new proof must carry one.
    if (proofs.length !== PIECES || proofs.some((p) => p.dleq === undefined))
      throw new Error("cashu-ts swap returned proofs without a verified DLEQ")
  }
  return { swap }
}

/** What one side spent over some swaps: wall and process CPU, and the parts of both inside the mint. */
interface Spent {
  n: number
  wall: number
  mintWall: number
  cpu: number
  mintCpu: number
}

/** Runs `f` for at least `ms` of wall time (and at least `min` times). */
const timedSwaps = async (
  ms: number,
  min: number,
  meter: ReturnType<typeof meterMint>,
  f: () => Promise<void>,
): Promise<Spent> => {
  const m0 = meter.ms()
  const mc0 = meter.cpuMs()
  const c0 = process.cpuUsage()
  const start = performance.now()
  let n = 0
  let now = start
  do {
    await f()
    n++
    now = performance.now()
  } while (now - start < ms || n < min)
  const cpu = process.cpuUsage(c0)
  return {
    n,
    wall: now - start,
    mintWall: meter.ms() - m0,
    cpu: (cpu.user + cpu.system) / 1000,
    mintCpu: meter.cpuMs() - mc0,
  }
}

/** Runs the suite; returns `swapVsCashuTs`, `swapsPerSec`, `cashuTsSwapsPerSec` and per-side detail. */
export async function runEngineBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const mint = createTestMint({ baseUrl: "http://bench.mint.test", name: "bench mint" })
  const meter = meterMint(mint)
  const sides: Side[] = ["ours", "cashuTs"]
  // Slices per side per round; cashu-ts needs ~0.2–0.3 s a swap, so its slice holds a handful.
  const slice = opts.quick ? 2_000 : 5_000
  const rounds = opts.quick ? 4 : 7 // the first is warm-up
  const acc = new Map<Side, Spent>()
  for (const s of sides) acc.set(s, { n: 0, wall: 0, mintWall: 0, cpu: 0, mintCpu: 0 })
  const ours = await setupOurs(mint)
  try {
    const cts = await setupCashuTs(mint)
    const outstanding0 = mint.stats().outstanding
    const run: Record<Side, () => Promise<void>> = { ours: ours.swap, cashuTs: cts.swap }
    const deadline = performance.now() + (opts.quick ? 40_000 : Number.POSITIVE_INFINITY)
    for (let round = 0; round < rounds; round++) {
      if (round >= 2 && performance.now() > deadline) break
      const warm = round === 0
      const order = sides.map((_, i) => sides[(i + round) % sides.length]!)
      for (const side of order) {
        const spent = await timedSwaps(warm ? slice / 4 : slice, 3, meter, run[side])
        if (warm) continue
        const a = acc.get(side)!
        a.n += spent.n
        a.wall += spent.wall
        a.mintWall += spent.mintWall
        a.cpu += spent.cpu
        a.mintCpu += spent.mintCpu
      }
    }
    // Conservation: swaps re-create exactly what they spend, so the mint's outstanding value never moves.
    if (mint.stats().outstanding !== outstanding0)
      throw new Error("bench: the mint's outstanding value moved")
  } finally {
    await ours.close()
  }

  const result: Record<string, number> = {}
  const fmt = (x: number, d = 1) => x.toFixed(d).padStart(11)
  log(
    `engine bench (${opts.quick ? "quick" : "full"}): ${PIECES} → ${PIECES} swap with DLEQ, same in-process mint`,
  )
  log(
    `${"side".padEnd(9)}${"swaps".padStart(6)}${"wall ms".padStart(11)}${"mint ms".padStart(11)}${"wallet ms".padStart(11)}${"swaps/s".padStart(11)}${"wallet cpu".padStart(11)}${"cpu swaps/s".padStart(12)}`,
  )
  const cpuRate: Record<Side, number> = { ours: 0, cashuTs: 0 }
  for (const side of sides) {
    const a = acc.get(side)!
    const key = side === "ours" ? "engine" : "cashuTs"
    const walletMs = (a.wall - a.mintWall) / a.n
    const walletCpuMs = (a.cpu - a.mintCpu) / a.n
    cpuRate[side] = 1000 / walletCpuMs
    result[`${key}.swap.swaps`] = a.n
    result[`${key}.swap.wallMsPerSwap`] = a.wall / a.n
    result[`${key}.swap.mintMsPerSwap`] = a.mintWall / a.n
    result[`${key}.swap.walletMsPerSwap`] = walletMs
    result[`${key}.swap.walletCpuMsPerSwap`] = walletCpuMs
    result[side === "ours" ? "swapsPerSec" : "cashuTsSwapsPerSec"] = 1000 / walletMs
    log(
      `${side.padEnd(9)}${a.n.toFixed(0).padStart(6)}${fmt(a.wall / a.n, 2)}${fmt(a.mintWall / a.n, 2)}${fmt(walletMs, 2)}${fmt(1000 / walletMs)}${fmt(walletCpuMs, 2)}${fmt(cpuRate[side]).padStart(12)}`,
    )
  }
  result.swapVsCashuTs = result.swapsPerSec! / result.cashuTsSwapsPerSec!
  result.swapCpuVsCashuTs = cpuRate.ours / cpuRate.cashuTs
  log(
    `ours / cashu-ts: ×${result.swapVsCashuTs.toFixed(1)} wallet-side swaps/s (target ≥ ×5); ×${result.swapCpuVsCashuTs.toFixed(1)} by wallet CPU`,
  )
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const started = performance.now()
  const result = await runEngineBench({ quick: args.includes("--quick") })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
