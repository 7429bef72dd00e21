/**
 * Projection-rebuild benchmark (issue #3, second half), in one process.
 *
 * Setup (not timed): N events of realistic wallet histories — `WALLETS` wallets, each running cycles of a
 * mint (counters reserved, 4 proofs issued, completion), a swap (2 proofs reserved, request, spent, 3 change
 * proofs issued), a receive (3 proofs received) and a send (1 proof reserved then pending): ten events and
 * ten proofs per cycle — written through our LevelDB store with a vault (host key, AES-256-GCM), as the
 * engine writes them. The same events are also written, as plain JSON records (envelope + payload JSON), to
 * a second classic-level database.
 *
 * Timed, best of `rounds` interleaved rounds:
 * - ours: a full rebuild of every projection through the store — `readAll` (page reads, record decoding,
 *   payload decryption, catalogue decoding and validation) → all six projections, a page at a time as the
 *   runner folds catch-up and rebuild (`foldPage`: the batch `evolveMany` where a projection has one);
 * - the same rebuild through an unencrypted copy of the store (same events), which shows what the per-event
 *   AES-256-GCM costs — the raw side reads plaintext;
 * - raw: a classic-level scan of the JSON database + `JSON.parse` of each record, nothing else.
 * Then the heap retained by the proof projection alone after folding the whole log (measured with
 * `global.gc` when run with `--expose-gc`, else an estimate from `process.memoryUsage`).
 *
 * Reported: `rebuildPerSec`, `rawRebuildPerSec`, `rebuildVsRaw`, `rebuildPlainPerSec`, `rebuildPlainVsRaw`,
 * `rebuildEvents`, `proofProjectionProofs`,
 * `proofProjectionHeapBytes`, `proofProjectionBytesPerProof`, `heapMeasuredWithGc` (1/0).
 * Targets: rebuild ≥ 0.6× raw; 1M proofs in the proof projection ≤ 1 GiB.
 *
 * Run alone: `node --expose-gc --import tsx bench/rebuild.ts [--quick] [--json] [--events N]`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { ClassicLevel } from "classic-level"
import { Effect, Stream } from "effect"
import type { StoredProof, WalletEvent } from "../src/events/catalogue.js"
import { encodeEvent } from "../src/events/codec.js"
import { openLevelDbEventStore } from "../src/infra/leveldb-store.js"
import type { NewEvent } from "../src/ports/event-store.js"
import { ALL_PROJECTIONS } from "../src/projections/index.js"
import { foldPage } from "../src/projections/projection.js"
import { type ProofsState, proofsProjection } from "../src/projections/proofs.js"
import { hex } from "./fixtures.js"

let log = (line: string) => console.log(line)

const MINT = "https://mint.example.com"
const KEY = new Uint8Array(32).fill(7)
/** How a store is opened: sealed with a vault (production) or plain (to show what decryption costs). */
type Access = { readonly key: Uint8Array } | { readonly unencrypted: true }
const SEALED: Access = { key: KEY }
const PLAIN: Access = { unencrypted: true }
const CYCLE = 10

/** A deterministic, pattern-valid proof (the codec checks shapes, not curve membership). */
const proof = (n: number, keysetId: string, counter: number): StoredProof => ({
  amount: BigInt(1 << (n % 12)),
  id: keysetId,
  secret: hex(n * 3 + 1, 32),
  C: `02${hex(n * 3 + 2, 32)}`,
  Y: `03${hex(n * 3 + 3, 32)}`,
  dleq: { e: hex(n * 5 + 7, 32), s: hex(n * 5 + 8, 32) },
  counter,
})

/** The events of one wallet: a setup append, then `cycles` appends of one cycle each (exported for profiling). */
export const walletHistory = (w: number, cycles: number): NewEvent[][] => {
  const keysetId = `00${hex(w + 1_000_000, 7)}`
  const id = (k: string) => `w${w}:${k}`
  const setup: WalletEvent[] = [
    { _tag: "WalletCreated", walletId: `w${w}`, mnemonic: `seed words of wallet ${w}` },
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
  const out: NewEvent[][] = [setup.map((event, i) => ({ eventId: id(`setup:${i}`), event }))]
  let n = w * 1_000_000
  let counter = 0
  for (let c = 0; c < cycles; c++) {
    const mintOp = `m${c}`
    const swapOp = `s${c}`
    const sendOp = `x${c}`
    const issued = [0, 1, 2, 3].map(() => proof(n++, keysetId, counter++))
    const change = [0, 1, 2].map(() => proof(n++, keysetId, counter++))
    const received = [0, 1, 2].map(() => proof(n++, keysetId, 0))
    const events: WalletEvent[] = [
      { _tag: "CountersReserved", keysetId, start: counter - 7, count: 7 },
      { _tag: "ProofsIssued", mintUrl: MINT, unit: "sat", operationId: mintOp, proofs: issued },
      { _tag: "OperationCompleted", operationId: mintOp, kind: "mint", amount: 15n },
      { _tag: "ProofsReserved", operationId: swapOp, ys: [issued[0]!.Y, issued[1]!.Y] },
      { _tag: "OperationRequested", operationId: swapOp, kind: "swap", attempt: 1 },
      { _tag: "ProofsSpent", operationId: swapOp, ys: [issued[0]!.Y, issued[1]!.Y] },
      { _tag: "ProofsIssued", mintUrl: MINT, unit: "sat", operationId: swapOp, proofs: change },
      { _tag: "ProofsReceived", mintUrl: MINT, unit: "sat", operationId: `r${c}`, proofs: received },
      { _tag: "ProofsReserved", operationId: sendOp, ys: [issued[2]!.Y] },
      { _tag: "ProofsPending", operationId: sendOp, ys: [issued[2]!.Y] },
    ]
    out.push(events.map((event, i) => ({ eventId: id(`${c}:${i}`), event })))
  }
  return out
}

const freshDir = (name: string): string => mkdtempSync(join(tmpdir(), `corecashu-bench-${name}-`))

/**
 * Cycles per append: the engine appends an operation's steps together; a few operations per append keep the
 * (untimed) setup short without changing what is stored.
 */
const CYCLES_PER_APPEND = 5

/**
 * Writes the histories through our store (sealed, in `storeDir`; plain, in `plainDir`) and mirrors them as
 * JSON records into `rawDir` (exported for profiling). Returns the number of events.
 */
export const writeLogs = async (
  storeDir: string,
  plainDir: string,
  rawDir: string,
  wallets: number,
  cycles: number,
): Promise<number> => {
  const histories = Array.from({ length: wallets }, (_, w) => {
    const appends = walletHistory(w, cycles)
    const merged: NewEvent[][] = [appends[0]!]
    for (let i = 1; i < appends.length; i += CYCLES_PER_APPEND)
      merged.push(appends.slice(i, i + CYCLES_PER_APPEND).flat())
    return merged
  })
  const byId = new Map<string, WalletEvent>()
  for (const h of histories) for (const a of h) for (const e of a) byId.set(e.eventId, e.event)
  const raw = new ClassicLevel<Uint8Array, Uint8Array>(rawDir, { keyEncoding: "view", valueEncoding: "view" })
  await raw.open()
  let written = 0
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const write = (access: Access, dataDir: string) =>
          Effect.scoped(
            Effect.gen(function* () {
              const store = yield* openLevelDbEventStore({ dataDir, ...access })
              yield* Effect.forEach(
                histories,
                (appends, w) =>
                  Effect.gen(function* () {
                    let version = 0
                    for (const batch of appends)
                      version = (yield* store.append(`wallet/w${w}`, version, batch)).streamVersion
                  }),
                { concurrency: "unbounded", discard: true },
              )
            }),
          )
        yield* write(PLAIN, plainDir)
        yield* write(SEALED, storeDir)
        const store = yield* openLevelDbEventStore({ dataDir: storeDir, ...SEALED })
        // The raw side: the same events, envelope and payload JSON as one JSON record each, in log order.
        yield* Stream.runForEachArray(store.readRaw(1), (page) =>
          Effect.promise(async () => {
            const ops = page.map((stored) => {
              const key = Buffer.alloc(9)
              key[0] = 0x73
              key.writeBigUInt64BE(BigInt(stored.envelope.sequence), 1)
              const event = byId.get(stored.envelope.eventId)!
              const payload = JSON.parse(Buffer.from(encodeEvent(event).bytes).toString("utf8"))
              return {
                type: "put" as const,
                key,
                value: Buffer.from(JSON.stringify({ ...stored.envelope, payload }), "utf8"),
              }
            })
            written += ops.length
            await raw.batch(ops)
          }),
        )
      }),
    ),
  )
  await raw.close()
  return written
}

/** A full rebuild of every projection through the store; returns the events folded. */
const rebuildOurs = (storeDir: string, access: Access): Promise<number> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({ dataDir: storeDir, ...access, pageSize: 2048 })
        const projections = ALL_PROJECTIONS
        const states: unknown[] = projections.map((p) => p.initial)
        let count = 0
        yield* Stream.runForEachArray(store.readAll(1), (page) =>
          Effect.sync(() => {
            // A page at a time, as the runner folds catch-up and rebuild (see `foldPage`).
            for (let i = 0; i < projections.length; i++)
              states[i] = foldPage(projections[i]!, states[i], page)
            count += page.length
          }),
        )
        return count
      }),
    ),
  )

/** The raw peer: scan every record and `JSON.parse` it. */
const scanRaw = async (rawDir: string): Promise<number> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(rawDir, { keyEncoding: "view", valueEncoding: "view" })
  await db.open()
  const decoder = new TextDecoder()
  let count = 0
  let sink = 0
  const it = db.iterator()
  for (;;) {
    const page = await it.nextv(2048)
    if (page.length === 0) break
    for (const [, value] of page) {
      const record = JSON.parse(decoder.decode(value)) as { sequence: number }
      sink += record.sequence
      count++
    }
  }
  await it.close()
  await db.close()
  if (sink < 0) throw new Error("unreachable")
  return count
}

const gc = (globalThis as { gc?: () => void }).gc

/** Folds only the proof projection and measures the heap it retains. */
const proofHeap = async (storeDir: string): Promise<{ bytes: number; proofs: number; withGc: boolean }> => {
  const settle = () => {
    if (gc !== undefined) {
      gc()
      gc()
    }
    return process.memoryUsage().heapUsed
  }
  let state: ProofsState = proofsProjection.initial
  const before = settle()
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({ dataDir: storeDir, ...SEALED, pageSize: 2048 })
        yield* Stream.runForEachArray(store.readAll(1), (page) =>
          Effect.sync(() => {
            state = foldPage(proofsProjection, state, page)
          }),
        )
      }),
    ),
  )
  const after = settle()
  let proofs = 0
  state.wallets.forEach((w) => {
    proofs += w.live.size + w.spent.size
  })
  return { bytes: after - before, proofs, withGc: gc !== undefined }
}

/** Runs the rebuild benchmark and returns its numbers. */
export async function runRebuildBench(opts: {
  quick: boolean
  events?: number
}): Promise<Record<string, number>> {
  const events = opts.events ?? (opts.quick ? 30_000 : 1_000_000)
  const wallets = opts.quick ? 100 : 1_000
  const cycles = Math.max(1, Math.round(events / wallets / CYCLE))
  const rounds = opts.quick ? 2 : 3
  const storeDir = freshDir("rebuild-store")
  const plainDir = freshDir("rebuild-plain")
  const rawDir = freshDir("rebuild-raw")
  try {
    const t0 = performance.now()
    const written = await writeLogs(storeDir, plainDir, rawDir, wallets, cycles)
    log(`wrote ${written} events (${wallets} wallets) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    let ours = 0
    let plain = 0
    let raw = 0
    // Interleaved rounds, best of each: the machine's load varies, and both sides should see the same.
    for (let r = 0; r < rounds; r++) {
      const timed = async (f: () => Promise<number>) => {
        const started = performance.now()
        const n = await f()
        if (n !== written) throw new Error("the benchmark read a different log")
        return n / ((performance.now() - started) / 1000)
      }
      const o = await timed(() => rebuildOurs(storeDir, SEALED))
      const w = await timed(() => scanRaw(rawDir))
      const p = await timed(() => rebuildOurs(plainDir, PLAIN))
      ours = Math.max(ours, o)
      plain = Math.max(plain, p)
      raw = Math.max(raw, w)
      log(
        `round ${r + 1}: rebuild ${o.toFixed(0)} ev/s (unencrypted store ${p.toFixed(0)}), raw scan+parse ${w.toFixed(0)} ev/s`,
      )
    }
    const heap = await proofHeap(storeDir)
    const result: Record<string, number> = {
      rebuildPerSec: Math.round(ours),
      rawRebuildPerSec: Math.round(raw),
      rebuildVsRaw: Number((ours / raw).toFixed(3)),
      rebuildPlainPerSec: Math.round(plain),
      rebuildPlainVsRaw: Number((plain / raw).toFixed(3)),
      rebuildEvents: written,
      proofProjectionProofs: heap.proofs,
      proofProjectionHeapBytes: heap.bytes,
      proofProjectionBytesPerProof: Math.round(heap.bytes / Math.max(1, heap.proofs)),
      heapMeasuredWithGc: heap.withGc ? 1 : 0,
    }
    log(
      `rebuild: ${result.rebuildPerSec} ev/s vs raw ${result.rawRebuildPerSec} ev/s → ${result.rebuildVsRaw}× ` +
        `(unencrypted store: ${result.rebuildPlainVsRaw}×); proof projection: ${heap.proofs} proofs in ` +
        `${(heap.bytes / 2 ** 20).toFixed(0)} MiB (${result.proofProjectionBytesPerProof} B/proof` +
        `${heap.withGc ? "" : ", without --expose-gc"})`,
    )
    return result
  } finally {
    for (const d of [storeDir, plainDir, rawDir]) rmSync(d, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const at = args.indexOf("--events")
  const events = at >= 0 ? Number(args[at + 1]) : undefined
  const started = performance.now()
  const quick = args.includes("--quick")
  const result = await runRebuildBench(events === undefined ? { quick } : { quick, events })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
