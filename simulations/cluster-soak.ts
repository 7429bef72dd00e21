/**
 * The cluster soak (issue #12, "Crash and fence"): three engine processes over a 3-node NATS cluster (R3
 * stream), hosting `wallets` wallets placed by rendezvous hashing, under continuous random mint / send /
 * receive / melt / swap / reclaim traffic against the real nutshell mint (`support/cluster-child.ts`), while:
 *
 * 1. **node-a is SIGKILLed** (no lease released, no member entry deleted): its wallets must be served by the
 *    others — `failoverMs` is the time from the kill to the first completed action of one of its wallets on
 *    another node, `takeoverMs` until every one of them is hosted elsewhere. Then node-a starts again on its
 *    dataDir and takes its share back.
 * 2. **node-b is SIGSTOPped** past its lease: the others take its wallets over and act on them; then SIGCONT.
 *    What node-b had in flight must fail (its appends are refused by the epoch fence), it steps down, and
 *    later rejoins. Nothing is double-spent (the books check every held proof against the mint).
 * 3. **One NATS server of three is SIGKILLed** (the stream's leader): actions go on completing on the
 *    quorum; the server restarts and catches up.
 *
 * Then traffic stops and every node's projections are hashed at the same log position (`nodesAgree`); all
 * nodes save checkpoints, crash together and start again, hosting nothing, and each must reproduce those
 * digests byte for byte (`restartIdentical`), as must a fold from nothing over the log (`foldIdentical`). Last, a "books" node
 * takes every wallet over (acquire → recovery), settles what is left with the mint reachable, and keeps the
 * books against the mint (`support/books.ts`): nothing lost or counted twice, no proof stale or held twice,
 * nothing stuck reserved or in doubt, every ownership epoch 1, 2, 3 … and the audit of the whole log clean.
 *
 * Run: `npm run sim -- cluster [--wallets 300] [--seed 1] [--ttl 2000] [--phase 8000] [--loops 6]`. The last
 * line printed is a JSON summary; the exit code is 0 when every check holds.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Effect } from "effect"
import type { RealMint } from "../demo/real-mint.js"
import { Engine } from "../src/engine/engine.js"
import { engineStore } from "../src/engine/internal.js"
import { walletStream } from "../src/events/ids.js"
import { childBundle } from "../test/support/child-bundle.js"
import { type NatsServers, startNats } from "../test/support/nats-servers.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { startSoakMint } from "./soak.js"
import { argNumber, argValue } from "./support/args.js"
import { type Books, inFlightOf, keepBooks, settleAll } from "./support/books.js"
import type { ClusterChildMessage, ClusterChildSpec, ClusterParentMessage } from "./support/cluster-child.js"
import { InvoiceStock } from "./support/invoices.js"
import { dice as makeDice } from "./support/prng.js"
import { digestsFromLog, type ProjectionDigests } from "./support/projection-digest.js"
import { isExpectedFailure } from "./support/workload.js"

/** Options of {@link runClusterSoak}; every field has a default. */
export interface ClusterSoakOptions {
  readonly wallets?: number
  readonly seed?: number
  /** The ownership lease TTL, ms. */
  readonly leaseTtlMs?: number
  /** Traffic between two events of the run, ms. */
  readonly phaseMs?: number
  /** Workers per node. */
  readonly loops?: number
  /** A running mint without input fees (default: start nutshell for the run). */
  readonly mintUrl?: string
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void
}

/** What the cluster soak did and found. */
export interface ClusterSoakSummary {
  readonly ok: boolean
  readonly seed: number
  readonly wallets: number
  readonly leaseTtlMs: number
  readonly seconds: number
  /** From starting the nodes to every wallet hosted by exactly its rendezvous node. */
  readonly placedMs: number
  /** SIGKILL of node-a → the first completed action of one of its wallets on another node. */
  readonly failoverMs: number
  /** SIGKILL of node-a → every one of its wallets hosted by another node. */
  readonly takeoverMs: number
  /** node-a's wallets at its death. */
  readonly killedWallets: number
  /** node-b's wallets when it was paused, and actions completed on them elsewhere while it slept. */
  readonly pausedWallets: number
  readonly actedOnWhilePaused: number
  /** Actions node-b ended, after waking, with the wallet no longer its own (`WalletNotOwned`). */
  readonly refusedAfterWake: number
  /** A NATS server of three (the stream's leader) SIGKILLed → the first action completed on the quorum. */
  readonly natsStallMs: number
  /** Actions completed while one NATS server of three was down, and which one it was. */
  readonly actionsWhileNatsDown: number
  readonly natsKilled: string
  /** Every node's projections at the same log position hash the same. */
  readonly nodesAgree: boolean
  /** The nodes restarted after a crash (shared checkpoints + the log) reproduce those digests byte for byte. */
  readonly restartIdentical: boolean
  /** Every projection folded from nothing over the log (no checkpoint, no runner) gives the same bytes. */
  readonly foldIdentical: boolean
  /** Where they differ: `node:projection@sequence/expected sequence`. */
  readonly digestMismatches: ReadonlyArray<string>
  readonly logHead: number
  readonly actions: Record<string, { ok: number; failed: number }>
  readonly errors: Record<string, number>
  /** Failures that must never happen (untyped throws, engine invariants), first 20 distinct. */
  readonly bugs: ReadonlyArray<string>
  /** Nodes that died on their own (not killed): the stderr tail of each, first 5. */
  readonly childDeaths: ReadonlyArray<string>
  /** Wallets whose ownership epochs are not 1, 2, 3 … */
  readonly badEpochs: ReadonlyArray<string>
  /** Wallets with value reserved once the books node had taken every wallet over (recovered, not settled). */
  readonly reservedAfterTakeover: number
  readonly settleFailures: ReadonlyArray<string>
  /** Operations left open after the settle: kind, saga state, last recovery, attempts, code, the mint's state. */
  readonly openDetails: ReadonlyArray<string>
  /** Completed melts whose recorded fee is not the fake backend's 1 sat (change lost or counted wrong). */
  readonly oddMelts: ReadonlyArray<string>
  readonly books: Books
}

const PASSPHRASE = "cluster soak passphrase"
const STREAM = "SOAK"
const PREFIX = "soak"
const CHILD_SOURCE = fileURLToPath(new URL("./support/cluster-child.ts", import.meta.url))
/** The failures a node may see in a cluster besides the single-process ones. */
const CLUSTER_EXPECTED = new Set(["WalletNotOwned", "StoreUnavailable"])

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One running engine node. */
interface Node {
  readonly id: string
  readonly child: ChildProcess
  hosted: ReadonlyArray<string>
  ready: boolean
  paused: boolean
  stopped: boolean
  exited: boolean
  stderr: string
  digest?: ProjectionDigests | undefined
  checkpointed: boolean
}

/**
 * Every operation still open in `engine`: what the log says of it and what the mint says of its quote (the
 * quote id itself is not reported).
 */
const describeOpen = async (engine: Engine, mintUrl: string): Promise<string[]> => {
  const out: string[] = []
  for (const id of engine.walletIds()) {
    const w = engine.wallet(id)
    for (const op of inFlightOf(w)) {
      const recs = await Effect.runPromise(engineStore(engine).read(walletStream(id), 1))
      const started = recs.find(
        (r) => r.event._tag === "OperationStarted" && r.event.operationId === op.operationId,
      )?.event
      let mintState = "-"
      if (started?._tag === "OperationStarted" && (started.kind === "mint" || started.kind === "melt")) {
        const res = await fetch(`${mintUrl}/v1/${started.kind}/quote/bolt11/${started.quoteId}`)
        mintState = res.ok ? String(((await res.json()) as { state?: unknown }).state) : `HTTP ${res.status}`
      }
      out.push(
        `${op.kind}:${op.sagaState}:${op.lastRecovery ?? ""}:attempts=${op.attempts}:code=${op.code ?? ""}:mint=${mintState}`,
      )
    }
  }
  return out
}

/** Runs the cluster soak (see the module comment). */
export const runClusterSoak = async (opts: ClusterSoakOptions = {}): Promise<ClusterSoakSummary> => {
  const walletCount = opts.wallets ?? 300
  const seed = opts.seed ?? 1
  const ttl = opts.leaseTtlMs ?? 2000
  const phaseMs = opts.phaseMs ?? 8000
  const loops = opts.loops ?? 6
  const log = opts.log ?? (() => {})
  const d = makeDice(seed)
  const started = Date.now()
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`

  const work = mkdtempSync(join(tmpdir(), "corecashu-cluster-soak-"))
  let nats: NatsServers | undefined
  let mint: RealMint | undefined
  const nodes = new Map<string, Node>()
  const actions: Record<string, { ok: number; failed: number }> = {}
  const errors: Record<string, number> = {}
  const bugs: string[] = []
  const childDeaths: string[] = []
  /** Completed and failed actions: which node, which wallet, when. */
  const done: Array<{ node: string; walletId: string; at: number; ok: boolean; tag?: string }> = []
  const live = () => [...nodes.values()].filter((n) => n.ready && !n.exited && !n.paused && !n.stopped)
  const tell = (n: Node, m: ClusterParentMessage) => {
    if (n.child.connected && !n.exited) n.child.send(m, () => {})
  }
  const stock = new InvoiceStock(
    12,
    () => BigInt(d.int(1, 32)),
    (i) => {
      const to = live()
      if (to.length > 0)
        tell(d.pick(to), { t: "invoices", invoices: [{ amount: String(i.amount), bolt11: i.bolt11 }] })
    },
  )

  try {
    mint = opts.mintUrl === undefined ? await startSoakMint() : undefined
    const mintUrl = opts.mintUrl ?? mint!.url
    nats = await startNats({ cluster: 3 })
    const servers = [...nats.servers]
    /** A node that hosts what it creates or acquires (no placement). */
    const storeOf = (nodeId: string) =>
      ({
        kind: "jetstream",
        servers,
        stream: STREAM,
        subjectPrefix: PREFIX,
        replicas: 3,
        node: { id: nodeId, leaseTtlMs: ttl },
      }) as const
    log(`cluster soak: mint ${mintUrl}, NATS ${servers.join(",")} (${elapsed()})`)

    // The wallets, made once by a setup node that then leaves (releasing every lease).
    const ids = Array.from({ length: walletCount }, (_, i) => `cw${i}`)
    const setup = await Engine.open({
      dataDir: join(work, "setup"),
      passphrase: PASSPHRASE,
      vault: INSECURE_TEST_VAULT_OPTIONS,
      store: storeOf("setup"),
    })
    try {
      // Eight at a time: each creation is a lease, an append and a key derivation, mostly waiting.
      let next = 0
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < ids.length) {
            const w = await setup.createWallet({ walletId: ids[next++]! })
            await w.addMint(mintUrl)
          }
        }),
      )
    } finally {
      await setup.close()
    }
    log(`cluster soak: ${walletCount} wallets made (${elapsed()})`)
    await stock.fill(6)
    const bundle = await childBundle("cluster-child", CHILD_SOURCE, ["simulations"])

    const spawnNode = (id: string, spec: Partial<ClusterChildSpec> = {}): Node => {
      const full: ClusterChildSpec = {
        servers,
        stream: STREAM,
        subjectPrefix: PREFIX,
        replicas: 3,
        nodeId: id,
        leaseTtlMs: ttl,
        dataDir: join(work, id),
        passphrase: PASSPHRASE,
        mintUrl,
        seed: seed * 1_000_003 + d.int(0, 1_000_000),
        loops,
        placement: true,
        ...spec,
      }
      const specFile = join(work, `${id}-${Date.now()}.json`)
      writeFileSync(specFile, JSON.stringify(full))
      const child = spawn(process.execPath, [bundle], {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
        env: { ...process.env, CLUSTER_SPEC_FILE: specFile },
      })
      const n: Node = {
        id,
        child,
        hosted: [],
        ready: false,
        paused: false,
        stopped: false,
        exited: false,
        checkpointed: false,
        stderr: "",
      }
      child.stderr?.on("data", (b: Buffer) => {
        n.stderr = (n.stderr + b.toString("utf8")).slice(-4000)
      })
      child.on("exit", (code, signal) => {
        n.exited = true
        if (signal !== "SIGKILL" && code !== 0 && childDeaths.length < 5)
          childDeaths.push(`${id} exited with ${code ?? signal}: ${n.stderr.slice(-1500)}`)
      })
      child.on("message", (m: ClusterChildMessage) => {
        switch (m.t) {
          case "ready":
            n.ready = true
            log(`cluster soak: ${id} ready (open ${m.openMs} ms, ${elapsed()})`)
            break
          case "hosted":
            n.hosted = m.ids
            break
          case "token-add": {
            // Any node may receive it; the sender's node too (another of its wallets takes it).
            const to = live()
            if (to.length > 0) tell(d.pick(to), { t: "token", from: m.from, token: m.token })
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
            done.push({
              node: id,
              walletId: m.walletId,
              at: m.at,
              ok: o.ok,
              ...(o.tag ? { tag: o.tag } : {}),
            })
            if (o.ok) a.ok++
            else {
              a.failed++
              errors[o.tag ?? "?"] = (errors[o.tag ?? "?"] ?? 0) + 1
              const expected = isExpectedFailure(o) || CLUSTER_EXPECTED.has(o.tag ?? "")
              const bug = `${id} ${o.kind}: ${o.tag}: ${o.message ?? ""}`.slice(0, 300)
              if (!expected && !bugs.includes(bug) && bugs.length < 20) bugs.push(bug)
            }
            break
          }
          case "stopped":
            n.stopped = true
            break
          case "digest":
            n.digest = m.digest
            break
          case "checkpointed":
            n.checkpointed = true
            break
        }
      })
      nodes.set(id, n)
      return n
    }

    const waitFor = async (what: string, f: () => boolean, ms: number): Promise<number> => {
      const t0 = Date.now()
      while (!f()) {
        if (Date.now() - t0 > ms) throw new Error(`cluster soak: ${what} not reached in ${ms} ms`)
        for (const n of nodes.values())
          if (n.exited && !n.paused && childDeaths.length > 0) throw new Error(childDeaths.join("\n"))
        await sleep(50)
      }
      return Date.now() - t0
    }
    /** Every wallet hosted by exactly one of the live nodes, as they last reported. */
    const allPlaced = () => {
      const count = new Map<string, number>()
      for (const n of live()) for (const w of n.hosted) count.set(w, (count.get(w) ?? 0) + 1)
      return ids.every((w) => count.get(w) === 1)
    }
    const okSince = (t: number, f: (x: (typeof done)[number]) => boolean = () => true) =>
      done.filter((x) => x.at >= t && x.ok && f(x)).length

    const failuresSince = (t: number) => {
      const by: Record<string, number> = {}
      for (const x of done) if (x.at >= t && !x.ok) by[x.tag ?? "?"] = (by[x.tag ?? "?"] ?? 0) + 1
      return by
    }

    // 1. Three nodes; placement settles; traffic warms up.
    const t1 = Date.now()
    for (const id of ["node-a", "node-b", "node-c"]) spawnNode(id)
    await waitFor("three nodes ready", () => live().length === 3, 120_000)
    stock.refill()
    const placedMs = Date.now() - t1 + (await waitFor("placement", allPlaced, 60_000))
    log(`cluster soak: ${walletCount} wallets placed over 3 nodes in ${placedMs} ms (${elapsed()})`)
    const warm = Date.now()
    await sleep(phaseMs)
    await waitFor("traffic", () => okSince(warm) >= 20, 60_000)
    log(`cluster soak: ${okSince(warm)} actions completed while warming up (${elapsed()})`)

    // 2. SIGKILL node-a: its wallets are served by the others; then it comes back.
    const a = nodes.get("node-a")!
    const killed = new Set(a.hosted)
    const tKill = Date.now()
    a.child.kill("SIGKILL")
    a.exited = true
    nodes.delete("node-a")
    const others = (x: { node: string; walletId: string }) => x.node !== "node-a" && killed.has(x.walletId)
    // Both timed from the kill, side by side: the first completed action elsewhere, and every wallet hosted.
    const [failoverMs, takeoverMs] = await Promise.all([
      waitFor("failover", () => okSince(tKill, others) > 0, 120_000),
      waitFor("takeover", () => [...killed].every((w) => live().some((n) => n.hosted.includes(w))), 120_000),
    ])
    log(
      `cluster soak: node-a SIGKILLed with ${killed.size} wallets; first served elsewhere after ${failoverMs} ms, all after ${takeoverMs} ms (TTL ${ttl}) (${elapsed()})`,
    )
    await sleep(phaseMs / 2)
    spawnNode("node-a")
    await waitFor("node-a back", () => live().length === 3, 60_000)
    await waitFor("placement after node-a's return", allPlaced, 60_000)
    await sleep(phaseMs / 2)

    // 3. SIGSTOP node-b past its lease; the others take over and act; SIGCONT: it is fenced and steps down.
    const b = nodes.get("node-b")!
    const paused = new Set(b.hosted)
    b.paused = true
    b.child.kill("SIGSTOP")
    const tStop = Date.now()
    const elsewhere = (x: { node: string; walletId: string }) => x.node !== "node-b" && paused.has(x.walletId)
    await sleep(2.5 * ttl)
    await waitFor("acting on node-b's wallets", () => okSince(tStop, elsewhere) > 0, 60_000)
    await sleep(phaseMs / 2)
    const actedOnWhilePaused = okSince(tStop, elsewhere)
    /** The wallets the others hosted while node-b slept: node-b must not complete anything on them. */
    const takenFromB = new Set([...paused].filter((w) => live().some((n) => n.hosted.includes(w))))
    const tCont = Date.now()
    b.child.kill("SIGCONT")
    b.paused = false
    log(
      `cluster soak: node-b slept ${tCont - tStop} ms with ${paused.size} wallets; ${actedOnWhilePaused} actions completed on them elsewhere (${elapsed()})`,
    )
    await sleep(phaseMs / 2)
    await waitFor("placement after node-b woke", allPlaced, 60_000)
    // Actions node-b had picked before it slept end after it wakes: the fence refuses their appends.
    const fromB = done.filter((x) => x.node === "node-b" && x.at >= tCont && takenFromB.has(x.walletId))
    const refusedAfterWake = fromB.filter((x) => !x.ok && x.tag === "WalletNotOwned").length
    log(`cluster soak: node-b woke: ${refusedAfterWake} of its actions refused by the fence (${elapsed()})`)

    // 4. The stream's leader server dies; actions go on on the quorum; it comes back.
    const nc = await connect({ servers, reconnectTimeWait: 100, maxReconnectAttempts: -1 })
    const jsm = await jetstreamManager(nc, { timeout: 5_000 })
    const leader = (await jsm.streams.info(STREAM)).cluster?.leader ?? "n1"
    await nc.close()
    const natsIndex = Math.max(0, Number(leader.slice(1)) - 1)
    const tNats = Date.now()
    await nats.kill(natsIndex)
    // The survivors elect new leaders for the stream and the buckets it led (nats-server's raft election
    // timeout is 4–9 s, not configurable): appends wait for that, then go on on the quorum.
    const natsStallMs = await waitFor("actions while a NATS server is down", () => okSince(tNats) > 0, 60_000)
    await waitFor("more actions while a NATS server is down", () => okSince(tNats) >= 10, 60_000)
    const actionsWhileNatsDown = okSince(tNats)
    await nats.restart(natsIndex)
    log(
      `cluster soak: NATS ${leader} (the stream leader) down for ${Date.now() - tNats} ms: first action completed after ${natsStallMs} ms, ${actionsWhileNatsDown} in all, failed ${JSON.stringify(failuresSince(tNats))} (${elapsed()})`,
    )
    await sleep(phaseMs / 2)

    // 5. Traffic stops; every node's projections at one position.
    stock.stop()
    for (const n of live()) tell(n, { t: "stop" })
    await waitFor("workers stopped", () => [...nodes.values()].every((n) => n.stopped), 120_000)
    const digestsOf = async (ns: ReadonlyArray<Node>): Promise<ProjectionDigests[]> => {
      for (const n of ns) n.digest = undefined
      for (const n of ns) tell(n, { t: "digest" })
      await waitFor("digests", () => ns.every((n) => n.digest !== undefined), 60_000)
      return ns.map((n) => n.digest!)
    }
    let before: ProjectionDigests[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      before = await digestsOf([...nodes.values()])
      if (before.every((x) => x.sequence === before[0]!.sequence)) break
      await sleep(250)
    }
    const same = (x: ProjectionDigests, y: ProjectionDigests) =>
      x.sequence === y.sequence && JSON.stringify(x.digests) === JSON.stringify(y.digests)
    const nodesAgree = before.every((x) => same(x, before[0]!))
    const logHead = before[0]!.sequence
    log(`cluster soak: traffic stopped at log position ${logHead}; nodes agree: ${nodesAgree} (${elapsed()})`)

    // 6. All nodes save their checkpoints and crash at once (a graceful close would hand wallets over and
    // move the log on); they start again on their dataDirs, one more from nothing: the same bytes.
    for (const n of nodes.values()) tell(n, { t: "checkpoint" })
    await waitFor("checkpoints", () => [...nodes.values()].every((n) => n.checkpointed), 60_000)
    for (const n of nodes.values()) n.child.kill("SIGKILL")
    await waitFor("nodes gone", () => [...nodes.values()].every((n) => n.exited), 60_000)
    nodes.clear()
    // Hosting nothing (no placement, no acquire): opening appends nothing, so the log stays at `logHead`.
    const again = ["node-a", "node-b", "node-c"].map((id) => spawnNode(id, { loops: 0, placement: false }))
    await waitFor("restarted nodes ready", () => again.every((n) => n.ready), 120_000)
    const after = await digestsOf(again)
    const restartIdentical = after.every((x) => same(x, before[0]!))
    const digestMismatches = after.flatMap((x, i) =>
      Object.keys(x.digests)
        .filter((p) => x.sequence !== before[0]!.sequence || x.digests[p] !== before[0]!.digests[p])
        .map((p) => `${again[i]!.id}:${p}@${x.sequence}/${before[0]!.sequence}`),
    )
    for (const n of again) tell(n, { t: "close" })
    await waitFor("restarted nodes closed", () => again.every((n) => n.exited), 60_000)
    nodes.clear()
    log(`cluster soak: the restarted nodes reproduce every projection: ${restartIdentical}`)

    // 7. The books: one node takes every wallet over, settles, and keeps the books against the mint.
    const books = await Engine.open({
      dataDir: join(work, "books"),
      passphrase: PASSPHRASE,
      vault: INSECURE_TEST_VAULT_OPTIONS,
      options: { quotePollMs: 100 },
      store: storeOf("books"),
    })
    try {
      // The crashed nodes' leases expire on the server a TTL after their last renewal.
      for (const id of ids)
        for (let attempt = 0; ; attempt++) {
          const got = await books.acquire(id).then(
            () => true,
            (e: unknown) => {
              if (attempt > 100) throw e
              return false
            },
          )
          if (got) break
          await sleep(ttl / 4)
        }
      const reservedAfterTakeover = ids.filter((id) =>
        books
          .wallet(id)
          .balances()
          .some((bal) => bal.reserved > 0n),
      ).length
      const settleFailures = await settleAll(books, mintUrl, 6, 30_000)
      const kept = await keepBooks(books, mintUrl)
      const badEpochs: string[] = []
      for (const id of ids) {
        const recs = await Effect.runPromise(engineStore(books).read(walletStream(id), 1))
        const epochs = recs.flatMap((r) => (r.event._tag === "WalletOwnerChanged" ? [r.event.epoch] : []))
        if (!epochs.every((e, i) => e === i + 1)) badEpochs.push(`${id}: ${epochs.join(",")}`)
      }
      log(`cluster soak: books ${JSON.stringify(kept)} (${elapsed()})`)
      // The reference: every projection folded from nothing over the log up to where traffic stopped.
      const reference = await digestsFromLog(books, logHead)
      const foldIdentical = same(reference, before[0]!)
      log(`cluster soak: a fold from nothing over the log gives the same bytes: ${foldIdentical}`)
      const openDetails = await describeOpen(books, mintUrl)
      if (openDetails.length > 0) log(`cluster soak: left open: ${openDetails.join("; ")}`)
      // FakeWallet charges 1 sat per external payment: a completed melt that recorded another fee lost change.
      const oddMelts = ids.flatMap((id) =>
        books
          .wallet(id)
          .history()
          .filter((op) => op.kind === "melt" && op.status === "completed" && op.fee !== 1n)
          .map(
            (op) =>
              `fee=${op.fee}:reserve=${op.feeReserve}:attempts=${op.attempts}:recoveries=${op.recoveries}:${op.lastRecovery ?? ""}`,
          ),
      )
      if (oddMelts.length > 0) log(`cluster soak: melts with another fee than 1 sat: ${oddMelts.join("; ")}`)
      const ok =
        kept.ok &&
        bugs.length === 0 &&
        childDeaths.length === 0 &&
        badEpochs.length === 0 &&
        nodesAgree &&
        restartIdentical &&
        foldIdentical &&
        actionsWhileNatsDown > 0
      return {
        ok,
        seed,
        wallets: walletCount,
        leaseTtlMs: ttl,
        seconds: Math.round((Date.now() - started) / 1000),
        placedMs,
        failoverMs,
        takeoverMs,
        killedWallets: killed.size,
        pausedWallets: paused.size,
        actedOnWhilePaused,
        refusedAfterWake,
        natsStallMs,
        actionsWhileNatsDown,
        natsKilled: leader,
        nodesAgree,
        restartIdentical,
        foldIdentical,
        digestMismatches,
        logHead,
        actions,
        errors,
        bugs,
        childDeaths,
        badEpochs,
        reservedAfterTakeover,
        settleFailures,
        openDetails,
        oddMelts,
        books: kept,
      }
    } finally {
      await books.close()
    }
  } finally {
    stock.stop()
    for (const n of nodes.values()) {
      if (n.paused) n.child.kill("SIGCONT")
      n.child.kill("SIGKILL")
    }
    await nats?.stop()
    await mint?.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/** The CLI (`npm run sim -- cluster …`). */
export const clusterSoakMain = async (args: ReadonlyArray<string>): Promise<number> => {
  const wallets = argNumber(args, "wallets")
  const seed = argNumber(args, "seed")
  const ttl = argNumber(args, "ttl")
  const phase = argNumber(args, "phase")
  const loops = argNumber(args, "loops")
  const mintUrl = argValue(args, "mint-url")
  const summary = await runClusterSoak({
    ...(wallets !== undefined ? { wallets } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(ttl !== undefined ? { leaseTtlMs: ttl } : {}),
    ...(phase !== undefined ? { phaseMs: phase } : {}),
    ...(loops !== undefined ? { loops } : {}),
    ...(mintUrl !== undefined ? { mintUrl } : {}),
    log: (line) => console.error(line),
  })
  console.log(JSON.stringify(summary))
  return summary.ok ? 0 : 1
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await clusterSoakMain(process.argv.slice(2)))
}
