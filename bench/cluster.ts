/**
 * Cluster benchmark (issue #12): in one process, durable appends through `JetStreamEventStore` against raw
 * JetStream publishes of the same bytes with the same acknowledgement settings, on a real nats-server
 * (`scripts/nats.sh start`, JetStream with `sync_interval: always`, so every acknowledged message is fsynced).
 *
 * Ours: `WALLETS` wallets (Effect fibers) each append `PER_APPEND` events at a time to their own stream, with
 * everything a real append pays (catalogue encoding, AES-256-GCM sealing under a vault, SHA-256 chaining, id
 * and version checks, and the store's compare-and-set on the stream's tail plus the wallet's subject). The
 * peer: the very message bodies our store wrote (read back from the stream), republished to a second stream
 * of the same configuration on the same subjects, each awaiting its acknowledgement with the same headers'
 * kind (`Nats-Msg-Id` and the subject's expected last sequence), `WALLETS` publishers at a time, one per
 * subject, in order — what a store without the global compare-and-set could reach.
 *
 * The two sides run in interleaved rounds (`BENCH_APPENDS_PER_ROUND`, 10 appends per wallet each; 8 rounds
 * quick, 25 full, after one untimed warm-up round of both), so both see the same disk and CPU weather.
 * Reported: `appendPerSec` (events/s), `appendsPerSec`, `rawAppendPerSec`, `appendVsRaw` (target ≥ 0.8;
 * total events over total time of each side), `appendVsRawRoundMedian` (the median of the rounds' ratios),
 * `wallets`, `clusterShape`, and how the store's appends left: `batches` (atomic batches committed, several
 * appends each), `tailRefusals`.
 *
 * Failover (`failoverSeconds`, `leaseTtlSeconds`): engine node A, a process of its own
 * (`test/support/node-child.ts`, `LEASE_TTL_MS` lease), owns `FAILOVER_WALLETS` wallets and keeps each sending
 * against an in-process test mint served over HTTP; node B, in this process, follows the same log. Once A's
 * traffic runs, A is SIGKILLed; B polls `acquire` on one of A's wallets (refused `WalletNotOwned` until the
 * server expires A's lease), recovers it (A's sends in flight are settled the usual way) and sends from it.
 * `failoverSeconds` is from the SIGKILL to that send's completion (target ≤ 2 × the TTL);
 * `failoverAcquireSeconds` the part until `acquire` succeeded. Then B takes the rest of A's wallets and the books
 * are checked against the mint (outstanding = Σ unspent + reserved + pending, every audit clean).
 *
 * Run alone: `node --import tsx bench/cluster.ts [--quick] [--json] [--cluster=3]`; `npm run bench -- cluster …`.
 * `--cluster=3` (or `BENCH_CLUSTER=3`) runs a 3-node routed cluster with R3 streams instead of one server.
 */
import { execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect, Exit, Scope } from "effect"
import { Engine } from "../src/engine/engine.js"
import type { Wallet } from "../src/engine/wallet.js"
import type { WalletEvent } from "../src/events/catalogue.js"
import { openJetStreamEventStore } from "../src/infra/jetstream-store.js"
import { createVault } from "../src/infra/vault.js"
import type { NewEvent } from "../src/ports/event-store.js"
import { directMintClient } from "../test/support/direct-mint-client.js"
import { freshDir } from "../test/support/engine.js"
import { createTestMint, serve } from "../test/support/mint/index.js"
import type { NodeReport, NodeSpec } from "../test/support/node-child.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { flat, hex } from "./fixtures.js"

const SCRIPT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../scripts/nats.sh")
const NODE_CHILD = resolve(fileURLToPath(new URL(".", import.meta.url)), "../test/support/node-child.ts")
/** The failover run's lease TTL (ms): short, so the run is short; the target scales with it. */
const LEASE_TTL_MS = Number(process.env.BENCH_LEASE_TTL_MS ?? 2000)
const FAILOVER_WALLETS = Number(process.env.BENCH_FAILOVER_WALLETS ?? 8)
const WALLETS = Number(process.env.BENCH_WALLETS ?? 16)
const PER_APPEND = Number(process.env.BENCH_PER_APPEND ?? 2)
/** Appends per wallet per round (the warm-up round and each timed one), on both sides. */
const APPENDS_PER_ROUND = Number(process.env.BENCH_APPENDS_PER_ROUND ?? 10)
/** Nodes: 1 (one server, R1) or 3 (a routed cluster, R3 streams). */
const NODES = Number(
  /^--cluster=(\d+)$/.exec(process.argv.find((a) => a.startsWith("--cluster=")) ?? "")?.[1] ??
    process.env.BENCH_CLUSTER ??
    1,
)

const sh = (args: string[]): Promise<string> =>
  new Promise((ok, fail) =>
    execFile("bash", [SCRIPT, ...args], { maxBuffer: 1 << 20 }, (e, stdout, stderr) =>
      e ? fail(new Error(`scripts/nats.sh ${args[0]} failed: ${stderr || e.message}`)) : ok(stdout),
    ),
  )

/** A ~300-byte payload: one received proof, as the event-log bench writes. */
const sampleEvent = (i: number): WalletEvent =>
  ({
    _tag: "ProofsReceived",
    mintUrl: "https://mint.example.com",
    unit: "sat",
    operationId: `op-${i}`,
    proofs: [
      {
        amount: BigInt(1 << (i % 12)),
        id: flat(`00${hex(7, 7)}`),
        secret: hex(i, 32),
        C: `02${hex(i + 1, 32)}`,
        Y: `03${hex(i + 2, 32)}`,
      },
    ],
  }) as WalletEvent

/** One timed round of each side: ms taken and events written. */
interface RoundTimes {
  readonly oursMs: number
  readonly rawMs: number
  readonly events: number
}

/**
 * The append comparison, in interleaved rounds: each round, every wallet appends `perRound` times through
 * the store (timed), then the bodies the store wrote in that round are republished raw (timed). Interleaving
 * puts both sides under the same disk and CPU weather (a shared machine's fsync latency drifts by 2× or more
 * within a minute; measured one after the other, the ratio of two quick runs on one commit spread from 0.5 to
 * 1.8). The first round is the warm-up of both sides (the JIT, the connection, the server's first blocks).
 */
const runAppends = async (servers: string[], rounds: number, perRound: number) => {
  if (NODES !== 1 && NODES !== 3) throw new Error(`--cluster must be 1 or 3, not ${NODES}`)
  const scope = Effect.runSync(Scope.make())
  const { vault } = createVault({ key: new Uint8Array(32).fill(7) })
  const store = await Effect.runPromise(
    Scope.provide(scope)(
      openJetStreamEventStore({
        servers,
        stream: "OURS",
        subjectPrefix: "ours",
        replicas: NODES,
        sealer: vault,
      }),
    ),
  )
  const nc = await connect({ servers })
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const info = await jsm.streams.info("OURS")
  await jsm.streams.add({ ...info.config, name: "RAW", subjects: ["raw.>"] })
  let n = 0
  const batch = (): NewEvent[] =>
    Array.from({ length: PER_APPEND }, () => {
      const i = n++
      return { eventId: `e-${i}`, event: sampleEvent(i) }
    })
  const versions = new Array<number>(WALLETS).fill(0)
  // The round's events, built before the clock starts: the bench times the store, not the fixtures.
  const prepare = (appends: number): NewEvent[][][] =>
    Array.from({ length: WALLETS }, () => Array.from({ length: appends }, batch))
  const oursRound = (prepared: NewEvent[][][]) =>
    Effect.runPromise(
      Effect.forEach(
        prepared.map((appends, w) => [w, appends] as const),
        ([w, appends]) =>
          Effect.gen(function* () {
            for (const events of appends)
              versions[w] = (yield* store.append(`wallet/w${w}`, versions[w]!, events)).streamVersion
          }),
        { concurrency: "unbounded", discard: true },
      ),
    )
  // The raw peer: one publisher per subject, in order, each awaiting its acknowledgement.
  const lastRaw = new Map<string, number>()
  const rawRound = async (fromSeq: number, toSeq: number): Promise<number> => {
    const bySubject = new Map<string, Uint8Array[]>()
    for (let seq = fromSeq; seq <= toSeq; seq++) {
      const m = await jsm.streams.getMessage("OURS", { seq })
      if (m === null) throw new Error(`message ${seq} missing`)
      const subject = `raw.${m.subject.slice("ours.".length)}`
      bySubject.set(subject, [...(bySubject.get(subject) ?? []), m.data])
    }
    const t0 = performance.now()
    await Promise.all(
      [...bySubject].map(async ([subject, bodies]) => {
        for (const body of bodies) {
          const last = lastRaw.get(subject) ?? 0
          const ack = await js.publish(subject, body, {
            msgID: `${subject}-${last}`,
            expect: { lastSubjectSequence: last },
          })
          lastRaw.set(subject, ack.seq)
        }
      }),
    )
    return performance.now() - t0
  }
  const times: RoundTimes[] = []
  let seq = 0
  const batchesAtStart: number[] = []
  for (let r = 0; r <= rounds; r++) {
    batchesAtStart.push(store.stats().batches)
    const events0 = n
    const prepared = prepare(perRound)
    const t0 = performance.now()
    await oursRound(prepared)
    const oursMs = performance.now() - t0
    const last = (await jsm.streams.info("OURS")).state.last_seq
    const rawMs = await rawRound(seq + 1, last)
    seq = last
    if (r > 0) times.push({ oursMs, rawMs, events: n - events0 })
  }
  const stats = store.stats()
  await nc.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  vault.destroy()
  const sum = (f: (t: RoundTimes) => number) => times.reduce((a, t) => a + f(t), 0)
  const events = sum((t) => t.events)
  const ratios = times.map((t) => t.rawMs / t.oursMs).sort((a, b) => a - b)
  return {
    eventsPerSec: (events * 1000) / sum((t) => t.oursMs),
    appendsPerSec: ((events / PER_APPEND) * 1000) / sum((t) => t.oursMs),
    rawEventsPerSec: (events * 1000) / sum((t) => t.rawMs),
    roundRatios: { min: ratios[0]!, median: ratios[Math.floor(ratios.length / 2)]!, max: ratios.at(-1)! },
    batches: stats.batches - batchesAtStart[1]!,
    messages: (events / PER_APPEND) | 0,
    refused: stats.refused,
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Σ unspent + reserved + pending over the wallet's balances. */
const held = (w: Wallet): bigint => w.balances().reduce((s, b) => s + b.unspent + b.reserved + b.pending, 0n)

/**
 * SIGKILLs node A (a process owning `FAILOVER_WALLETS` busy wallets) and times how soon node B completes an
 * operation of one of them; then B takes the rest and the books are checked.
 */
const runFailover = async (servers: string[]) => {
  const mint = createTestMint({ baseUrl: "http://127.0.0.1" })
  const served = await serve(mint)
  const walletIds = Array.from({ length: FAILOVER_WALLETS }, (_, i) => `f${i}`)
  const spec: NodeSpec = {
    servers,
    stream: "FAILOVER",
    subjectPrefix: "failover",
    replicas: NODES,
    nodeId: "node-a",
    leaseTtlMs: LEASE_TTL_MS,
    dataDir: freshDir("corecashu-bench-node-"),
    passphrase: "failover",
    mintUrl: served.url,
    walletIds,
    fund: "1000",
    sendAmount: "3",
  }
  const child = spawn(process.execPath, ["--import", "tsx", NODE_CHILD], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, NODE_SPEC: JSON.stringify(spec) },
  })
  let stderr = ""
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString("utf8")
  })
  const exited = new Promise<void>((r) => child.on("exit", () => r()))
  let ready = false
  let sent = 0
  let failure: string | undefined
  child.on("message", (m: NodeReport) => {
    if (m.t === "ready") ready = true
    else if (m.t === "sent") sent++
    else failure ??= `${m.tag}: ${m.message}`
  })
  const waitFor = async (what: string, f: () => boolean, ms: number) => {
    const until = Date.now() + ms
    while (!f()) {
      if (failure !== undefined) throw new Error(`node A failed: ${failure}\n${stderr.slice(-2000)}`)
      if (Date.now() > until) throw new Error(`node A: ${what} not in ${ms} ms\n${stderr.slice(-2000)}`)
      await sleep(20)
    }
  }
  let b: Engine | undefined
  try {
    await waitFor("ready", () => ready, 60_000)
    // Node B: a standby node on the same log, following it.
    b = await Engine.open({
      dataDir: freshDir("corecashu-bench-node-"),
      passphrase: "failover",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: directMintClient((u) => (u === served.url ? mint : undefined)),
      options: { quotePollMs: 5 },
      store: {
        kind: "jetstream",
        servers,
        stream: spec.stream,
        subjectPrefix: spec.subjectPrefix,
        replicas: NODES,
        node: { id: "node-b", leaseTtlMs: LEASE_TTL_MS },
      },
    })
    const nodeB = b
    // A is busy: every wallet has completed sends, and more are in flight.
    await waitFor("traffic", () => sent >= 4 * FAILOVER_WALLETS, 60_000)
    const sentBeforeKill = sent
    const killedAt = performance.now()
    child.kill("SIGKILL")
    const target = walletIds[0]!
    let wallet: Wallet | undefined
    let refusals = 0
    while (wallet === undefined) {
      const r = await nodeB.acquire(target).then(
        (w) => w,
        (e: unknown) => e,
      )
      if ((r as { _tag?: string })._tag === "WalletNotOwned") {
        refusals++
        if (performance.now() - killedAt > 20 * LEASE_TTL_MS)
          throw new Error("node B never acquired the wallet")
        await sleep(25)
        continue
      }
      if (!(r instanceof Object) || !("send" in r)) throw r
      wallet = r as Wallet
    }
    const acquiredAt = performance.now()
    await wallet.send({ mintUrl: served.url, unit: "sat", amount: 1n })
    const servedAt = performance.now()
    await exited

    // B takes the rest; the books balance against the mint.
    const all = [wallet, ...(await Promise.all(walletIds.slice(1).map((id) => nodeB.acquire(id))))]
    for (const w of all) {
      await w.recover()
      await w.checkPending(served.url)
    }
    const heldTotal = all.reduce((s, w) => s + held(w), 0n)
    const outstanding = mint.stats().outstanding
    const audit = await nodeB.audit()
    if (heldTotal !== outstanding || !audit.ok)
      throw new Error(
        `books after failover: held ${heldTotal}, mint outstanding ${outstanding}, audit ${audit.ok}`,
      )
    return {
      failoverSeconds: (servedAt - killedAt) / 1000,
      failoverAcquireSeconds: (acquiredAt - killedAt) / 1000,
      acquireRefusals: refusals,
      sentBeforeKill,
      conserved: `${heldTotal} = ${outstanding}`,
    }
  } finally {
    child.kill("SIGKILL")
    await b?.close()
    await served.close()
  }
}

export const runClusterBench = async (opts: { quick: boolean }): Promise<Record<string, number | string>> => {
  const dir = mkdtempSync(join(tmpdir(), "corecashu-bench-nats-"))
  const out = await sh([
    "start",
    "--cluster",
    String(NODES),
    "--dir",
    dir,
    "--owner-pid",
    String(process.pid),
  ])
  const url = /^NATS_URL=(.+)$/m.exec(out)?.[1]
  if (url === undefined) throw new Error("scripts/nats.sh start printed no NATS_URL")
  const servers = url.split(",")
  try {
    const rounds = opts.quick ? 8 : 25
    const appendsPerWallet = rounds * APPENDS_PER_ROUND
    const ours = await runAppends(servers, rounds, APPENDS_PER_ROUND)
    const ratio = ours.eventsPerSec / ours.rawEventsPerSec
    const failover = await runFailover(servers)
    const shape = NODES === 1 ? "1 node, R1" : `${NODES} nodes, R${NODES}`
    console.log(
      `cluster bench (${opts.quick ? "quick" : "full"}): nats-server 2.15.3, ${shape}, sync always; ${WALLETS} wallets × ${appendsPerWallet} appends × ${PER_APPEND} events, in ${rounds} interleaved rounds after a warm-up round`,
    )
    console.log(
      `ours ${ours.eventsPerSec.toFixed(0)} ev/s (${ours.appendsPerSec.toFixed(0)} appends/s; ${ours.messages} messages, ${ours.batches} atomic batches; ${ours.refused} refused by the tail check and retried); raw ${ours.rawEventsPerSec.toFixed(0)} ev/s → ${ratio.toFixed(3)}× (rounds: min ${ours.roundRatios.min.toFixed(3)}, median ${ours.roundRatios.median.toFixed(3)}, max ${ours.roundRatios.max.toFixed(3)})`,
    )
    console.log(
      `failover: node A (${FAILOVER_WALLETS} wallets sending, ${failover.sentBeforeKill} sends done) SIGKILLed; node B acquired one of its wallets after ${failover.failoverAcquireSeconds.toFixed(3)} s (${failover.acquireRefusals} refusals while the lease lived) and completed a send from it ${failover.failoverSeconds.toFixed(3)} s after the kill (lease TTL ${LEASE_TTL_MS / 1000} s, target ≤ ${(2 * LEASE_TTL_MS) / 1000} s); books: ${failover.conserved}`,
    )
    return {
      clusterShape: shape,
      appendPerSec: Math.round(ours.eventsPerSec),
      appendsPerSec: Math.round(ours.appendsPerSec),
      rawAppendPerSec: Math.round(ours.rawEventsPerSec),
      appendVsRaw: Number(ratio.toFixed(3)),
      appendVsRawRoundMedian: Number(ours.roundRatios.median.toFixed(3)),
      wallets: WALLETS,
      batches: ours.batches,
      tailRefusals: ours.refused,
      failoverSeconds: Number(failover.failoverSeconds.toFixed(3)),
      failoverAcquireSeconds: Number(failover.failoverAcquireSeconds.toFixed(3)),
      leaseTtlSeconds: LEASE_TTL_MS / 1000,
    }
  } finally {
    await sh(["stop", "--dir", dir]).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runClusterBench({ quick: process.argv.includes("--quick") })
  if (process.argv.includes("--json")) console.log(JSON.stringify(result))
}
