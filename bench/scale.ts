/**
 * Scale benchmark (issue #15): how the engine behaves as the number of wallets grows, in one process.
 *
 * 1. **Open time of a big log.** `EVENTS` events over `OPEN_WALLETS` wallets (full: 1M over 1,000) are
 *    written straight through the LevelDB store (sealed with a host key, as the engine writes them): the
 *    realistic wallet histories of the rebuild benchmark (`./rebuild.ts`: cycles of a mint, a swap, a receive
 *    and a send — counters, proofs issued, reserved, spent, received, pending), since running a million
 *    events' worth of operations through the mint would take hours. Then `Engine.open` is timed with no
 *    checkpoint (`openColdMs`: every projection folds the whole log), the engine is closed (it saves its
 *    checkpoints), and `Engine.open` is timed again (`openFromCheckpointMs`). Each time also includes the
 *    first call served (`wallet(...)` and its balance), and nothing of a wallet is derived before it (the
 *    histories' mnemonics are not even valid BIP-39: an open that derived seeds would fail).
 * 2. **Heap per idle wallet.** `IDLE_WALLETS` wallets (full: 10,000), each created with a valid mnemonic,
 *    trusting one mint and knowing its keyset (12 keys), written through the store; `Engine.open` hosts them
 *    all. `heapPerWalletKiB` = (heap after open − heap before, both after a full GC) / wallets. The open time
 *    is reported too (`openIdleMs`), and both at a tenth of the wallets, to show how they grow.
 * 3. **Sustained operations.** `OPS_WALLETS` wallets (full: 1,000) on one engine, each funded at the
 *    in-process test mint (`test/support/mint`, through `test/support/direct-mint-client.ts`: no HTTP), then
 *    every wallet concurrently, for `OPS_SECONDS`, sends a random 1–8 sat to a random other wallet, which
 *    receives the token. Each `send` and each `receive` is one operation (each a swap at the mint, DLEQs
 *    verified, appended durably). `opsPerSec` counts operations over the wall time; `p50Ms`/`p99Ms` are
 *    their latencies. The mint works inside this process too: its signing shares the 2 cores.
 *
 * `--quick` scales everything down (stated in the output) to finish in well under 90 s.
 * Run alone: `node --import tsx bench/scale.ts [--quick] [--json]`.
 *
 * @module
 */
import { rmSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { generateMnemonic } from "@scure/bip39"
import { wordlist } from "@scure/bip39/wordlists/english.js"
import { Effect } from "effect"
import { Engine } from "../src/engine/engine.js"
import type { Wallet } from "../src/engine/wallet.js"
import type { WalletEvent } from "../src/events/catalogue.js"
import { openLevelDbEventStore } from "../src/infra/leveldb-store.js"
import type { NewEvent } from "../src/ports/event-store.js"
import { directMintClient } from "../test/support/direct-mint-client.js"
import { freshDir } from "../test/support/engine.js"
import { createTestMint } from "../test/support/mint/index.js"
import { hex } from "./fixtures.js"
import { walletHistory } from "./rebuild.js"

let log = (line: string) => console.log(line)

const KEY = new Uint8Array(32).fill(11)
const MINT = "https://mint.example.com"

/** A full GC (the flag is set at run time, so `npm run bench` needs no `--expose-gc`). */
const gc: () => void = (() => {
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
})()
const heapAfterGc = (): number => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Writes `streams` (each a list of appends) through a sealed store in `dataDir`, `parallel` streams at a time. */
const writeStreams = (
  dataDir: string,
  count: number,
  appendsOf: (i: number) => NewEvent[][],
  parallel = 32,
): Promise<number> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({ dataDir, key: KEY })
        let events = 0
        yield* Effect.forEach(
          Array.from({ length: count }, (_, i) => i),
          (i) =>
            Effect.gen(function* () {
              let version = 0
              for (const batch of appendsOf(i)) {
                version = (yield* store.append(`wallet/w${i}`, version, batch)).streamVersion
                events += batch.length
              }
            }),
          { concurrency: parallel, discard: true },
        )
        return events
      }),
    ),
  )

/** Opens an engine on `dataDir` (host key), times it up to the first call served, and closes it. */
const timedOpen = async (dataDir: string, firstWallet: string): Promise<number> => {
  const t0 = performance.now()
  const engine = await Engine.open({ dataDir, key: KEY, mintClient: directMintClient(() => undefined) })
  engine.wallet(firstWallet).balance()
  const ms = performance.now() - t0
  await engine.close()
  return ms
}

/** Part 1: open time of a log of `events` events over `wallets` wallets, cold and from checkpoints. */
const openBigLog = async (wallets: number, events: number) => {
  const cycles = Math.max(1, Math.round((events / wallets - 3) / 10))
  const dataDir = freshDir("corecashu-bench-scale-log-")
  try {
    const t0 = performance.now()
    // Five cycles per append, as the rebuild benchmark (the engine appends an operation's steps together).
    const written = await writeStreams(dataDir, wallets, (w) => {
      const appends = walletHistory(w, cycles)
      const merged: NewEvent[][] = [appends[0]!]
      for (let i = 1; i < appends.length; i += 5) merged.push(appends.slice(i, i + 5).flat())
      return merged
    })
    const writeS = (performance.now() - t0) / 1000
    log(`log: ${written.toLocaleString()} events over ${wallets} wallets written in ${writeS.toFixed(1)} s`)
    const openColdMs = await timedOpen(dataDir, "w0")
    log(`open from nothing (every projection folds the log): ${openColdMs.toFixed(0)} ms`)
    const fromCheckpoint = [await timedOpen(dataDir, "w1"), await timedOpen(dataDir, "w2")]
    const openFromCheckpointMs = Math.min(...fromCheckpoint)
    log(
      `open from checkpoints: ${fromCheckpoint.map((m) => m.toFixed(0)).join(" / ")} ms (best ${openFromCheckpointMs.toFixed(0)})`,
    )
    return { logEvents: written, logWallets: wallets, openColdMs, openFromCheckpointMs }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** An idle wallet's history: created (valid mnemonic), trusting one mint, knowing its keyset. */
const idleWallet = (w: number): NewEvent[][] => {
  const keysetId = `00${hex(w + 7_000_000, 7)}`
  const events: WalletEvent[] = [
    { _tag: "WalletCreated", walletId: `w${w}`, mnemonic: generateMnemonic(wordlist, 128) },
    { _tag: "MintTrusted", mintUrl: MINT, units: ["sat"] },
    {
      _tag: "KeysetLearned",
      mintUrl: MINT,
      id: keysetId,
      unit: "sat",
      active: true,
      inputFeePpk: 0n,
      keys: Array.from({ length: 12 }, (_, i) => [BigInt(1 << i), `02${hex(w * 64 + i, 32)}`] as const),
    },
  ]
  return [events.map((event, i) => ({ eventId: `w${w}:idle:${i}`, event }))]
}

/** Part 2: heap per idle wallet and open time with `wallets` wallets hosted. */
const idleWallets = async (wallets: number) => {
  const dataDir = freshDir("corecashu-bench-scale-idle-")
  try {
    await writeStreams(dataDir, wallets, idleWallet, 64)
    // Warm the engine's code paths once (module loading, JIT) outside the measurement.
    await timedOpen(dataDir, "w0")
    const before = heapAfterGc()
    const t0 = performance.now()
    const engine = await Engine.open({ dataDir, key: KEY, mintClient: directMintClient(() => undefined) })
    engine.wallet(`w${wallets - 1}`).balance()
    const openMs = performance.now() - t0
    const hosted = engine.walletIds().length
    const after = heapAfterGc()
    await engine.close()
    if (hosted !== wallets) throw new Error(`bench: ${hosted} wallets hosted, ${wallets} written`)
    return { wallets, openMs, heapPerWalletKiB: (after - before) / wallets / 1024, heapMiB: after / 2 ** 20 }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** Part 3: `wallets` wallets sending to each other concurrently for `seconds`. */
const sustainedOps = async (wallets: number, seconds: number) => {
  const mint = createTestMint({ baseUrl: "http://scale.mint.test", name: "scale mint" })
  const dataDir = freshDir("corecashu-bench-scale-ops-")
  const engine = await Engine.open({
    dataDir,
    key: KEY,
    mintClient: directMintClient(mint),
    options: { quotePollMs: 5 },
  })
  try {
    const t0 = performance.now()
    const all: Wallet[] = []
    // Setup (not timed): create, trust the mint, fund 256 sat each; 16 wallets at a time.
    for (let i = 0; i < wallets; i += 16) {
      const made = await Promise.all(
        Array.from({ length: Math.min(16, wallets - i) }, async (_, j) => {
          const w = await engine.createWallet({ walletId: `w${i + j}` })
          await w.addMint(mint.baseUrl)
          const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 256n })
          await w.mint(q.operationId)
          return w
        }),
      )
      all.push(...made)
    }
    const outstanding0 = mint.stats().outstanding
    log(`${wallets} wallets created and funded in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const latencies: number[] = []
    let failures = 0
    let rng = 12345
    const next = (n: number) => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0
      return rng % n
    }
    const start = performance.now()
    const until = start + seconds * 1000
    const timed = async <A>(f: () => Promise<A>): Promise<A> => {
      const t = performance.now()
      const a = await f()
      latencies.push(performance.now() - t)
      return a
    }
    await Promise.all(
      all.map(async (from, i) => {
        while (performance.now() < until) {
          let j = next(wallets - 1)
          if (j >= i) j++
          const to = all[j]!
          const amount = BigInt(1 + next(8))
          try {
            if (from.balance(mint.baseUrl) < amount) {
              await new Promise((r) => setTimeout(r, 5))
              continue
            }
            const sent = await timed(() => from.send({ mintUrl: mint.baseUrl, amount }))
            await timed(() => to.receive(sent.token))
          } catch {
            failures++
          }
        }
      }),
    )
    const wall = (performance.now() - start) / 1000
    // Conservation: sends and receives only move value between the wallets (no fees on this mint).
    if (mint.stats().outstanding !== outstanding0)
      throw new Error("bench: the mint's outstanding value moved")
    if (failures > 0) throw new Error(`bench: ${failures} operations failed`)
    const sorted = latencies.slice().sort((a, b) => a - b)
    return {
      wallets,
      ops: latencies.length,
      seconds: wall,
      opsPerSec: latencies.length / wall,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
    }
  } finally {
    await engine.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Runs the suite; see the module comment for what each figure means. */
export async function runScaleBench(opts: { quick: boolean }): Promise<Record<string, number | string>> {
  const q = opts.quick
  const openWallets = q ? 100 : 1_000
  const events = q ? 100_000 : 1_000_000
  const idle = q ? 2_000 : 10_000
  const opsWallets = q ? 100 : 1_000
  const opsSeconds = q ? 10 : 30
  log(
    `scale bench (${q ? "QUICK: scaled down" : "full"}): ${events.toLocaleString()} events over ${openWallets} wallets; ${idle} idle wallets; ${opsWallets} wallets sending for ${opsSeconds} s`,
  )
  const big = await openBigLog(openWallets, events)
  const small = await idleWallets(idle / 10)
  const large = await idleWallets(idle)
  log(
    `idle wallets: ${small.wallets} → open ${small.openMs.toFixed(0)} ms, ${small.heapPerWalletKiB.toFixed(1)} KiB each; ${large.wallets} → open ${large.openMs.toFixed(0)} ms, ${large.heapPerWalletKiB.toFixed(1)} KiB each (heap ${large.heapMiB.toFixed(0)} MiB)`,
  )
  const ops = await sustainedOps(opsWallets, opsSeconds)
  log(
    `${ops.wallets} wallets sending to each other: ${ops.ops} operations in ${ops.seconds.toFixed(1)} s = ${ops.opsPerSec.toFixed(1)} ops/s, p50 ${ops.p50Ms.toFixed(1)} ms, p99 ${ops.p99Ms.toFixed(1)} ms`,
  )
  log(
    `targets: open from checkpoints ≤ 1000 ms: ${big.openFromCheckpointMs <= 1000 ? "met" : "NOT met"}; 10,000 wallets ≤ 2 GiB heap: ${(large.heapPerWalletKiB * 10_000) / 2 ** 20 <= 2 ? "met" : "NOT met"} (${((large.heapPerWalletKiB * 10_000) / 1024).toFixed(0)} MiB at this rate)`,
  )
  return {
    scaleMode: q ? "quick (scaled down)" : "full",
    logEvents: big.logEvents,
    logWallets: big.logWallets,
    openFromCheckpointMs: big.openFromCheckpointMs,
    openColdMs: big.openColdMs,
    idleWallets: large.wallets,
    openIdleMs: large.openMs,
    openIdleTenthMs: small.openMs,
    heapPerWalletKiB: large.heapPerWalletKiB,
    heapPerWalletTenthKiB: small.heapPerWalletKiB,
    opsWallets: ops.wallets,
    ops: ops.ops,
    opsPerSec: ops.opsPerSec,
    p50Ms: ops.p50Ms,
    p99Ms: ops.p99Ms,
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const started = performance.now()
  const result = await runScaleBench({ quick: args.includes("--quick") })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
