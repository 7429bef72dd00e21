/**
 * Event-log benchmark (issue #3), in one process.
 *
 * Durable appends — ours: `WALLETS` concurrent wallets (Effect fibers) each append `PER_APPEND` events at a
 * time to their own stream through the LevelDB store, with everything a real append pays: catalogue
 * encoding, AES-256-GCM sealing under a vault (host key), SHA-256 chaining, idempotency and version checks,
 * group commit with `sync: true`. The peer: raw classic-level `db.batch(ops, { sync: true })` writing the very
 * same record bytes (envelope + sealed payload, as our store stores them, a key per event where our store
 * keeps a chunk of records per key) in batches of `RAW_BATCH` events —
 * the "~60k events/s" baseline of the issue. Rounds alternate ours/raw on fresh directories and the best
 * round of each is kept (the disk's fsync latency is noisy; interleaving keeps both sides on equal terms).
 *
 * Reported: `appendPerSec`, `rawAppendPerSec`, `appendVsRaw`, `rawChainedAppendPerSec` and
 * `appendVsRawChained` (context: the same raw writes through a chained batch), `appendBatchEvents` (average events per
 * group commit), `reopenMs` (opening the written log again: tail check, stream versions, id filter), and the
 * process CPU time per event of each side (`appendCpuUsPerEvent`, `rawCpuUsPerEvent`: on a busy machine the
 * throughput of the CPU-heavier side suffers first, so these say where the time goes). The projection-rebuild half (`rebuildPerSec`, `rebuildVsRaw`) belongs to the projections
 * work and plugs in at `runRebuildBench` below.
 *
 * Runs in a process started with {@link BENCH_NODE_FLAGS} (`npm run bench` starts one itself).
 * Run alone: `node --import tsx bench/eventlog.ts [--quick] [--json] [--events N]`.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { ClassicLevel } from "classic-level"
import { Effect } from "effect"
import type { WalletEvent } from "../src/events/catalogue.js"
import { splitChunk } from "../src/infra/leveldb/chunk.js"
import { CHUNKS_END, CHUNKS_START, chunkKey, sequenceOfKey } from "../src/infra/leveldb/keys.js"
import { openLevelDbEventStore } from "../src/infra/leveldb-store.js"
import type { NewEvent } from "../src/ports/event-store.js"
import { flat, hex } from "./fixtures.js"
import { runRebuildBench } from "./rebuild.js"

let log = (line: string) => console.log(line)

/**
 * The load: `WALLETS` wallets appending concurrently, `PER_APPEND` events per append (the engine's own
 * appends average ~4.7 events — mint, send, receive — so 2 is the pessimistic case), against raw batches of
 * `RAW_BATCH`. Overridable for exploration (`BENCH_WALLETS`, `BENCH_PER_APPEND`, `BENCH_RAW_BATCH`); the
 * recorded numbers use the defaults.
 */
const WALLETS = Number(process.env.BENCH_WALLETS ?? 64)
const PER_APPEND = Number(process.env.BENCH_PER_APPEND ?? 2)
const RAW_BATCH = Number(process.env.BENCH_RAW_BATCH ?? 100)

/** A ~300-byte payload: one received proof (amount, keyset id, secret, C, Y). */
const sampleEvent = (i: number): WalletEvent =>
  ({
    _tag: "ProofsReceived",
    mintUrl: "https://mint.example.com",
    unit: "sat",
    proofs: [
      {
        amount: BigInt(1 << (i % 12)),
        id: flat(`00${hex(7, 7)}`),
        secret: hex(i, 32),
        C: flat(`02${hex(i + 1, 32)}`),
        Y: flat(`03${hex(i + 2, 32)}`),
      },
    ],
  }) as WalletEvent

const freshDir = (name: string): string => mkdtempSync(join(tmpdir(), `corecashu-bench-${name}-`))

/** Durable appends through our store; returns events/s, the average group size and the stored bytes. */
const runOurs = async (
  events: number,
): Promise<{
  perSec: number
  batchEvents: number
  cpuUs: number
  reopenMs: number
  records: Array<[Uint8Array, Uint8Array]>
}> => {
  const dir = freshDir("ours")
  try {
    const perWallet = Math.ceil(events / WALLETS / PER_APPEND)
    // Built before the clock starts: producing events is the caller's work, not the store's.
    const appends: NewEvent[][][] = Array.from({ length: WALLETS }, (_, w) =>
      Array.from({ length: perWallet }, (_, a) =>
        Array.from({ length: PER_APPEND }, (_, k) => ({
          eventId: `op-${w}-${a}:${k}`,
          event: sampleEvent((w * perWallet + a) * PER_APPEND + k),
        })),
      ),
    )
    const program = Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({ dataDir: dir, key: new Uint8Array(32).fill(7) })
        const cpu0 = process.cpuUsage()
        const started = performance.now()
        yield* Effect.forEach(
          appends,
          (mine, w) =>
            Effect.gen(function* () {
              let version = 0
              for (const batch of mine)
                version = (yield* store.append(`wallet/w${w}`, version, batch)).streamVersion
            }),
          { concurrency: "unbounded", discard: true },
        )
        const seconds = (performance.now() - started) / 1000
        const cpu = process.cpuUsage(cpu0)
        const stats = store.stats()
        return {
          perSec: stats.events / seconds,
          batchEvents: stats.events / stats.batches,
          cpuUs: (cpu.user + cpu.system) / stats.events,
        }
      }),
    )
    const out = await Effect.runPromise(program)
    // Reopening: tail check, stream versions and the id filter rebuilt from the index.
    const reopenStarted = performance.now()
    await Effect.runPromise(
      Effect.scoped(openLevelDbEventStore({ dataDir: dir, key: new Uint8Array(32).fill(7) })),
    )
    const reopenMs = performance.now() - reopenStarted
    // The raw side writes the very records we stored, one key per event (the baseline): re-read
    // them from the store's files, where they sit a chunk per value.
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" })
    await db.open()
    const chunks = await db.iterator({ gte: CHUNKS_START, lt: CHUNKS_END }).all()
    await db.close()
    const records: Array<[Uint8Array, Uint8Array]> = []
    for (const [key, value] of chunks) {
      const first = sequenceOfKey(key)!
      for (const [i, record] of splitChunk(value)!.entries()) records.push([chunkKey(first + i), record])
    }
    return { ...out, reopenMs, records }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Raw classic-level: the same keys and record bytes, `RAW_BATCH` per synced batch — through
 * `db.batch(ops)` (the baseline) or, for context, a chained batch (`db.batch().put(…).write()`),
 * whose per-operation JavaScript is much lighter than the array form's (profiled: ~10 µs/op in
 * abstract-level's array path on this machine).
 */
const runRaw = async (
  records: ReadonlyArray<[Uint8Array, Uint8Array]>,
  form: "array" | "chained" = "array",
): Promise<{ perSec: number; cpuUs: number }> => {
  const dir = freshDir("raw")
  try {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" })
    await db.open()
    const cpu0 = process.cpuUsage()
    const started = performance.now()
    for (let i = 0; i < records.length; i += RAW_BATCH) {
      if (form === "chained") {
        const batch = db.batch()
        for (const [key, value] of records.slice(i, i + RAW_BATCH)) batch.put(key, value)
        await batch.write({ sync: true })
        continue
      }
      const ops = records
        .slice(i, i + RAW_BATCH)
        .map(([key, value]) => ({ type: "put" as const, key, value }))
      await db.batch(ops, { sync: true })
    }
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpu0)
    await db.close()
    return { perSec: records.length / seconds, cpuUs: (cpu.user + cpu.system) / records.length }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * V8 options of the benchmark process. Both sides allocate heavily (records, parsed JSON, projection states),
 * and with V8's default 16 MiB young generation most of the rebuild's time went to scavenges that copy
 * short-lived objects; 64 MiB semi-spaces are what a server process replaying a log would run with.
 * `--expose-gc` makes the proof projection's heap figure exact. Both sides run in the same process, under
 * the same options.
 */
export const BENCH_NODE_FLAGS = ["--max-semi-space-size=64", "--expose-gc"] as const

const hasBenchFlags = (): boolean => BENCH_NODE_FLAGS.every((f) => process.execArgv.includes(f))

/** Runs this suite in a child Node process started with {@link BENCH_NODE_FLAGS}; returns its JSON line. */
const runInChild = (opts: { quick: boolean; events?: number }): Promise<Record<string, number>> =>
  new Promise((resolve, reject) => {
    const args = [
      ...BENCH_NODE_FLAGS,
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--json",
      ...(opts.quick ? ["--quick"] : []),
      ...(opts.events === undefined ? [] : ["--events", String(opts.events)]),
    ]
    // Progress lines go to stderr (inherited); the last stdout line is the result.
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      out += chunk
    })
    child.on("error", reject)
    child.on("close", (code) => {
      const lines = out.trim().split("\n")
      const last = lines.pop() ?? ""
      // Progress lines the child printed to stdout (the rebuild half) are shown, not parsed.
      if (lines.length > 0) process.stderr.write(`${lines.join("\n")}\n`)
      if (code !== 0) reject(new Error(`the event-log benchmark process exited with ${code}`))
      else resolve(JSON.parse(last) as Record<string, number>)
    })
  })

/**
 * Runs the event-log benchmark and returns its numbers — in this process when it was started with
 * {@link BENCH_NODE_FLAGS}, else in a child process that is.
 */
export async function runEventLogBench(opts: {
  quick: boolean
  events?: number
}): Promise<Record<string, number>> {
  if (!hasBenchFlags()) return runInChild(opts)
  const events = opts.events ?? (opts.quick ? 20_000 : 200_000)
  const rounds = 3
  let ours = 0
  let raw = 0
  let rawChained = 0
  let batchEvents = 0
  let reopenMs = Number.POSITIVE_INFINITY
  let cpuUs = Number.POSITIVE_INFINITY
  let rawCpuUs = Number.POSITIVE_INFINITY
  // Warm-up of both sides (JIT, page cache), not measured: a store in service is warm, and a 20k-event
  // round is too short to amortise the compiler on either side (the first quick round after a single
  // 20k-event warm-up still ran ~1.5x the CPU per event of the next one).
  for (let w = 0; w < 2; w++) {
    const warm = await runOurs(20_000)
    await runRaw(warm.records)
    await runRaw(warm.records, "chained")
  }
  for (let r = 0; r < rounds; r++) {
    const o = await runOurs(events)
    const w = await runRaw(o.records)
    const c = await runRaw(o.records, "chained")
    rawChained = Math.max(rawChained, c.perSec)
    if (o.perSec > ours) {
      ours = o.perSec
      batchEvents = o.batchEvents
    }
    raw = Math.max(raw, w.perSec)
    reopenMs = Math.min(reopenMs, o.reopenMs)
    cpuUs = Math.min(cpuUs, o.cpuUs)
    rawCpuUs = Math.min(rawCpuUs, w.cpuUs)
    log(
      `round ${r + 1}: ours ${o.perSec.toFixed(0)} ev/s (≈${o.batchEvents.toFixed(0)} ev/batch, ` +
        `${o.cpuUs.toFixed(1)} µs CPU/ev), raw ${w.perSec.toFixed(0)} ev/s (${w.cpuUs.toFixed(1)} µs CPU/ev), ` +
        `raw chained ${c.perSec.toFixed(0)} ev/s (${c.cpuUs.toFixed(1)} µs CPU/ev)`,
    )
  }
  const result: Record<string, number> = {
    appendPerSec: Math.round(ours),
    rawAppendPerSec: Math.round(raw),
    appendVsRaw: Number((ours / raw).toFixed(3)),
    rawChainedAppendPerSec: Math.round(rawChained),
    appendVsRawChained: Number((ours / rawChained).toFixed(3)),
    appendBatchEvents: Math.round(batchEvents),
    reopenMs: Math.round(reopenMs),
    appendCpuUsPerEvent: Number(cpuUs.toFixed(1)),
    rawCpuUsPerEvent: Number(rawCpuUs.toFixed(1)),
    // The projection-rebuild half (bench/rebuild.ts) sizes its own log.
    ...(await runRebuildBench({ quick: opts.quick })),
  }
  log(
    `durable append: ${result.appendPerSec} ev/s vs raw ${result.rawAppendPerSec} ev/s → ${result.appendVsRaw}× ` +
      `(${WALLETS} wallets × ${PER_APPEND} events per append, raw batches of ${RAW_BATCH})`,
  )
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const at = args.indexOf("--events")
  const events = at >= 0 ? Number(args[at + 1]) : undefined
  const started = performance.now()
  const result = await runEventLogBench(
    events === undefined ? { quick: args.includes("--quick") } : { quick: args.includes("--quick"), events },
  )
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
