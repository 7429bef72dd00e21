/**
 * Scale-out in one command (`npm run demo:cluster`, issue #12): three engine nodes on a 3-node NATS JetStream
 * cluster, one real Cashu mint, and a thin client that moves value between wallets wherever they live.
 *
 * It starts the NATS cluster (`scripts/nats.sh start --cluster 3`: JetStream, fsync on every write, the log's
 * stream and buckets at R3), the nutshell mint (`scripts/mint.sh start`, FakeWallet, 100 ppk input fee) and
 * three `demo/cluster-node.ts` processes (lease TTL 2 s, placement by rendezvous hashing). Then it creates six
 * wallets through node-a and watches placement hand them to their nodes; a thin client (`connectCluster`: no
 * log, no wallets, no output of its own) funds them, moves value around a ring of transfers and pays an
 * invoice, every call routed to the wallet's owner. It SIGKILLs node-b (no lease released) and shows its
 * wallets served by the others once the leases expire — a routed balance and a transfer succeed — then checks
 * the books through routed calls (minted − melted − fees = what the wallets hold, nothing pending) and runs the
 * `corecashu audit --nats` command over the log (chain, payloads, invariants; ownership epochs 1, 2, 3… per
 * wallet). Everything it started is stopped at the end, on failure and on Ctrl-C.
 *
 *   node --import tsx demo/cluster.ts [--verbose]
 *
 * `--verbose` also prints the nodes' own log lines (`| node-a: hosts …`). Nothing secret is printed: no
 * mnemonic, token, invoice or quote id. Exit 0 when every step and the audit succeed; 1 with a one-line
 * reason otherwise (and the nodes' last log lines).
 *
 * Uses the engine only through the package's public entry point, as a user would.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Cluster, connectCluster, type RemoteWallet } from "../src/index.js"
import type { NodeCommand, NodeReport } from "./cluster-node.js"
import { DemoFailure, explain, startDemoMint } from "./common.js"
import { externalInvoice, type RealMint } from "./real-mint.js"

const NODE_SCRIPT = fileURLToPath(new URL("./cluster-node.ts", import.meta.url))
const NATS_SCRIPT = fileURLToPath(new URL("../scripts/nats.sh", import.meta.url))
const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))

const NODES = ["node-a", "node-b", "node-c"] as const
/** Six wallets that rendezvous hashing spreads two per node, node-b's two going one to each survivor. */
const WALLETS = ["alice", "bob", "carol", "dave", "erin", "victor"] as const
const VICTIM = "node-b"
const TTL_MS = 2000
const INPUT_FEE_PPK = 100
const FUND = 1000n
const HOP = 100n
const MELT = 200n

const say = (line = ""): void => {
  process.stdout.write(`${line}\n`)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** Waits for `ok()`; fails with `what` after `ms`. */
const until = async (ok: () => boolean, ms: number, what: string): Promise<number> => {
  const start = performance.now()
  while (!ok()) {
    if (performance.now() - start > ms) throw new DemoFailure(`${what} not within ${seconds(ms)}`)
    await sleep(25)
  }
  return performance.now() - start
}

// ---------------------------------------------------------------------------------------------------------
// What the demo starts
// ---------------------------------------------------------------------------------------------------------

interface Nats {
  readonly url: string
  readonly dir: string
}

/** `scripts/nats.sh start --cluster 3`; the servers also stop when this process exits (`--owner-pid`). */
const startNats = (): Promise<Nats> =>
  new Promise((resolve, reject) => {
    execFile(
      "bash",
      [NATS_SCRIPT, "start", "--cluster", "3", "--owner-pid", String(process.pid)],
      { encoding: "utf8", timeout: 120_000 },
      (error, stdout, stderr) => {
        const url = /^NATS_URL=(.+)$/m.exec(stdout)?.[1]
        const dir = /^NATS_DIR=(.+)$/m.exec(stdout)?.[1]
        if (error === null && url !== undefined && dir !== undefined) return resolve({ url, dir })
        const why = stderr.trim().split("\n").slice(-6).join("\n") || (error?.message ?? "no NATS_URL")
        reject(new DemoFailure(`scripts/nats.sh start --cluster 3 failed: ${why}`))
      },
    )
  })

const stopNats = (nats: Nats): void => {
  spawnSync("bash", [NATS_SCRIPT, "stop", "--dir", nats.dir], { stdio: "ignore", timeout: 30_000 })
}

/** One `demo/cluster-node.ts` process, as the demo sees it through its reports. */
class NodeProcess {
  readonly child: ChildProcess
  /** The wallets it last reported hosting. */
  hosts: ReadonlyArray<string> = []
  up = false
  created: ReadonlyArray<string> | undefined
  failure: string | undefined
  exited = false
  readonly #lines: string[] = []

  constructor(
    readonly id: string,
    nats: Nats,
    root: string,
    passphrase: string,
    verbose: boolean,
  ) {
    const dataDir = join(root, id)
    mkdirSync(dataDir)
    this.child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        NODE_SCRIPT,
        ...["--id", id, "--servers", nats.url, "--ttl", String(TTL_MS), "--data-dir", dataDir],
      ],
      { env: { ...process.env, WALLET_PASSPHRASE: passphrase }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
    )
    const keep = (chunk: string): void => {
      for (const line of chunk.split("\n")) {
        if (line === "") continue
        this.#lines.push(line)
        if (this.#lines.length > 20) this.#lines.shift()
        if (verbose) say(`  | ${line}`)
      }
    }
    this.child.stdout!.setEncoding("utf8").on("data", keep)
    this.child.stderr!.setEncoding("utf8").on("data", keep)
    this.child.on("message", (m: NodeReport) => {
      if (m.t === "up") this.up = true
      else if (m.t === "hosts") this.hosts = m.ids
      else if (m.t === "created") this.created = m.ids
      else this.failure = m.message
    })
    this.child.once("exit", () => {
      this.exited = true
      this.hosts = []
    })
  }

  send(command: NodeCommand): void {
    this.child.send(command)
  }

  /** Its last log lines (for a failure's report). */
  tail(): string {
    return this.#lines.map((l) => `  | ${l}`).join("\n")
  }

  /** SIGTERM (a clean close), SIGKILL after 15 s; resolves once it has exited. */
  stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.exited) return Promise.resolve()
    return new Promise((resolve) => {
      const hard = setTimeout(() => this.child.kill("SIGKILL"), 15_000)
      this.child.once("exit", () => {
        clearTimeout(hard)
        resolve()
      })
      this.child.kill(signal)
    })
  }
}

// ---------------------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------------------

interface Books {
  minted: bigint
  melted: bigint
  fees: bigint
}

/** Which live node hosts `walletId` (exactly one), or undefined. */
const hostOf = (nodes: ReadonlyArray<NodeProcess>, walletId: string): string | undefined => {
  const on = nodes.filter((n) => !n.exited && n.hosts.includes(walletId))
  return on.length === 1 ? on[0]!.id : undefined
}

/** Every wallet hosted by exactly one live node, every live node hosting some. */
const placed = (nodes: ReadonlyArray<NodeProcess>): boolean =>
  WALLETS.every((w) => hostOf(nodes, w) !== undefined) && nodes.every((n) => n.exited || n.hosts.length > 0)

/** Waits until the placement holds and has not changed for a lease TTL (placement passes every TTL / 3). */
const settle = async (nodes: ReadonlyArray<NodeProcess>, what: string): Promise<number> => {
  const start = performance.now()
  const snapshot = () => WALLETS.map((w) => hostOf(nodes, w)).join(",")
  for (;;) {
    await until(() => placed(nodes), 30_000, what)
    const seen = snapshot()
    const at = performance.now()
    await sleep(TTL_MS)
    if (placed(nodes) && snapshot() === seen) return at - start
    if (performance.now() - start > 60_000) throw new DemoFailure(`${what}: placement keeps changing`)
  }
}

const printHosts = (nodes: ReadonlyArray<NodeProcess>, label: string): void => {
  const width = Math.max(...nodes.map((n) => n.id.length))
  nodes.forEach((n, i) => {
    const hosted = n.exited ? "(killed)" : n.hosts.join(", ")
    say(`${i === 0 ? label.padEnd(9) : " ".repeat(9)}${n.id.padEnd(width)}  ${hosted}`)
  })
}

interface Transfer {
  readonly sendFee: bigint
  readonly receiveFee: bigint
  readonly received: bigint
}

/** `from` sends `amount` to `to`, each call on its wallet's owner (the token travels through this client). */
const transfer = async (
  cluster: Cluster,
  mintUrl: string,
  from: string,
  to: string,
  amount: bigint,
): Promise<Transfer> => {
  const sent = await cluster.wallet(from).send({ mintUrl, amount })
  const got = await cluster.wallet(to).receive(sent.token)
  if (got.amount + got.fee !== amount)
    throw new DemoFailure(`${to} received ${got.amount} sat after a ${got.fee} sat fee, not ${amount} sat`)
  return { sendFee: sent.fee, receiveFee: got.fee, received: got.amount }
}

const story = async (
  cluster: Cluster,
  mintUrl: string,
  nodes: ReadonlyArray<NodeProcess>,
): Promise<Books> => {
  const books: Books = { minted: 0n, melted: 0n, fees: 0n }
  const wallet = (id: string): RemoteWallet => cluster.wallet(id)
  const where = (id: string): string => hostOf(nodes, id) ?? "?"

  // 1. Fund every wallet, each call routed to its owner.
  for (const id of WALLETS) {
    await wallet(id).addMint(mintUrl)
    const quote = await wallet(id).mintQuote({ mintUrl, amount: FUND })
    const minted = await wallet(id).mint(quote.operationId)
    books.minted += minted.amount
  }
  say(`1. fund  each wallet mints ${FUND} sat on its owner (the mint's FakeWallet pays the invoices)`)
  say(`         → ${books.minted} sat minted over ${WALLETS.length} wallets on 3 nodes`)

  // 2. A ring of transfers: every wallet sends to the next one, across nodes.
  say(`2. move  a ring of ${HOP} sat transfers, send on the sender's node, receive on the receiver's:`)
  for (const [i, from] of WALLETS.entries()) {
    const to = WALLETS[(i + 1) % WALLETS.length]!
    const t = await transfer(cluster, mintUrl, from, to, HOP)
    books.fees += t.sendFee + t.receiveFee
    say(
      `         ${`${from}@${where(from)}`.padEnd(13)} → ${`${to}@${where(to)}`.padEnd(13)} ` +
        `sent ${HOP} sat (fee ${t.sendFee}), received ${t.received} sat (fee ${t.receiveFee})`,
    )
  }
  for (const id of WALLETS) await wallet(id).checkPending(mintUrl)

  // 3. A melt: an invoice of a payee outside the mint.
  const payer = WALLETS[4]
  const mq = await wallet(payer).meltQuote({ mintUrl, request: externalInvoice(MELT) })
  const melted = await wallet(payer).melt(mq.operationId)
  if (melted.state !== "paid") throw new DemoFailure(`the melt is ${melted.state}, expected paid`)
  books.melted += melted.amount
  books.fees += melted.feePaid + melted.inputFee
  say(
    `3. melt  ${payer}@${where(payer)} pays an external ${MELT} sat invoice: lightning fee ${melted.feePaid} sat, ` +
      `input fee ${melted.inputFee} sat, ${melted.change} sat change`,
  )
  return books
}

/** SIGKILLs the victim and waits until its wallets are served by the others; a routed read and write work. */
const crash = async (
  cluster: Cluster,
  mintUrl: string,
  nodes: ReadonlyArray<NodeProcess>,
  books: Books,
): Promise<void> => {
  const victim = nodes.find((n) => n.id === VICTIM)!
  const orphans = [...victim.hosts]
  if (orphans.length === 0) throw new DemoFailure(`${VICTIM} hosts no wallet to lose`)
  const killed = performance.now()
  await victim.stop("SIGKILL")
  say(
    `4. kill  ${VICTIM} (hosting ${orphans.join(", ")}) SIGKILLed: no lease released, no member entry deleted`,
  )
  const survivors = nodes.filter((n) => n !== victim)
  await until(
    () => orphans.every((w) => hostOf(survivors, w) !== undefined),
    30_000,
    `${VICTIM}'s wallets served by the other nodes`,
  )
  const after = performance.now() - killed
  const moved = orphans.map((w) => `${w} on ${hostOf(survivors, w)}`).join(", ")
  say(`         served again ${seconds(after)} after the kill (lease TTL ${seconds(TTL_MS)}): ${moved}`)
  const first = orphans[0]!
  const balance = await cluster.wallet(first).balance(mintUrl)
  const to = orphans[1] ?? WALLETS.find((w) => !orphans.includes(w))!
  const t = await transfer(cluster, mintUrl, first, to, HOP / 2n)
  books.fees += t.sendFee + t.receiveFee
  await cluster.wallet(first).checkPending(mintUrl)
  say(`         routed calls work: ${first} holds ${balance} sat, and`)
  say(
    `         ${`${first}@${hostOf(survivors, first)}`.padEnd(13)} → ${`${to}@${hostOf(survivors, to)}`.padEnd(13)} ` +
      `sent ${HOP / 2n} sat (fee ${t.sendFee}), received ${t.received} sat (fee ${t.receiveFee})`,
  )
}

/** Routed balances and pending proofs of every wallet against what was minted, melted and paid in fees. */
const checkBooks = async (cluster: Cluster, mintUrl: string, books: Books): Promise<void> => {
  let held = 0n
  let pending = 0
  for (const id of WALLETS) {
    held += await cluster.wallet(id).balance(mintUrl)
    pending += (await cluster.wallet(id).pending()).length
  }
  const expected = books.minted - books.melted - books.fees
  say(
    `5. books minted ${books.minted} − melted ${books.melted} − fees ${books.fees} = ${expected} sat; ` +
      `the ${WALLETS.length} wallets hold ${held} sat (routed balances), ${pending} operations pending`,
  )
  if (held !== expected) throw new DemoFailure("the wallets do not hold minted − melted − fees")
  if (pending !== 0) throw new DemoFailure("proofs are still pending after checkPending")
}

/** `corecashu audit --nats` as its own process, read only, with the passphrase. */
const audit = (nats: Nats, passphraseFile: string): void => {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, CLI, "audit", "--nats", nats.url, "--passphrase-file", passphraseFile],
    { encoding: "utf8", timeout: 120_000 },
  )
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim()
  say(`6. audit corecashu audit --nats <3 servers> --passphrase-file <file>: exit ${r.status}`)
  for (const line of out.split("\n")) say(`         ${line}`)
  if (r.status !== 0) throw new DemoFailure(`corecashu audit exited with ${r.status}`)
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

const main = async (): Promise<number> => {
  const started = performance.now()
  const argv = process.argv.slice(2)
  const verbose = argv.includes("--verbose")
  const unknown = argv.find((a) => a !== "--verbose")
  if (unknown !== undefined)
    throw new DemoFailure(`unknown argument ${unknown} (usage: demo:cluster [--verbose])`)

  const root = mkdtempSync(join(tmpdir(), "corecashu-cluster-"))
  // A throwaway passphrase for a throwaway log: the nodes get it in their environment, the audit from a file.
  const passphrase = `demo-${crypto.randomUUID()}`
  const passphraseFile = join(root, "passphrase")
  writeFileSync(passphraseFile, passphrase, { mode: 0o600 })

  let nats: Nats | undefined
  let mint: RealMint | undefined
  let cluster: Cluster | undefined
  const nodes: NodeProcess[] = []
  let cleaned: Promise<void> | undefined
  const cleanUp = (): Promise<void> => {
    cleaned ??= (async () => {
      await cluster?.close().catch(() => undefined)
      await Promise.all(nodes.map((n) => n.stop()))
      await mint?.stop()
      if (nats !== undefined) stopNats(nats)
      rmSync(root, { recursive: true, force: true })
    })()
    return cleaned
  }
  // Ctrl-C: the nodes get the terminal's SIGINT too and close themselves; stop the rest, then leave.
  let interrupting = false
  const interrupted = (): void => {
    interrupting = true
    process.stderr.write("cluster demo interrupted: stopping what it started\n")
    void cleanUp().finally(() => process.exit(130))
  }
  process.once("SIGINT", interrupted)
  process.once("SIGTERM", interrupted)

  say("corecashu cluster demo: 3 engine nodes on a 3-node NATS JetStream cluster, one real Cashu mint")
  say()
  try {
    // Both at once; whichever started is stopped by the clean-up even when the other failed.
    const [n, m] = await Promise.allSettled([startNats(), startDemoMint(INPUT_FEE_PPK)])
    if (n.status === "fulfilled") nats = n.value
    if (m.status === "fulfilled") mint = m.value
    if (n.status === "rejected") throw n.reason
    if (m.status === "rejected") throw m.reason
    if (nats === undefined || mint === undefined) throw new DemoFailure("NATS or the mint did not start")
    say(`nats     3 nats-server v2.15.3 nodes (JetStream, fsync always) at ${nats.url}`)
    say(`mint     nutshell (FakeWallet) at ${mint.url}, input fee ${INPUT_FEE_PPK} ppk`)

    // node-a first: it creates the log (stream and buckets at R3); then the two others join it.
    const t0 = performance.now()
    const up = (ids: ReadonlyArray<string>) => {
      for (const id of ids) nodes.push(new NodeProcess(id, nats!, root, passphrase, verbose))
      return until(
        () => {
          const failed = nodes.find((x) => x.failure !== undefined || x.exited)
          if (failed !== undefined)
            throw new DemoFailure(`${failed.id} did not start: ${failed.failure ?? "it exited"}`)
          return nodes.every((x) => x.up)
        },
        120_000,
        `${ids.join(", ")} up`,
      )
    }
    await up(NODES.slice(0, 1))
    await up(NODES.slice(1))
    say(
      `nodes    ${NODES.join(", ")} up in ${seconds(performance.now() - t0)}: one demo/cluster-node.ts process each`,
    )
    say(
      `         (one log: stream CORECASHU at R3; lease TTL ${seconds(TTL_MS)}; placement by rendezvous hashing)`,
    )

    const creator = nodes[0]!
    creator.send({ t: "create", ids: [...WALLETS] })
    await until(
      () => creator.created !== undefined || creator.failure !== undefined,
      60_000,
      "wallet creation",
    )
    if (creator.failure !== undefined) throw new DemoFailure(`${creator.id}: ${creator.failure}`)
    say(`wallets  ${WALLETS.join(", ")} created through ${creator.id} (fresh mnemonics, sealed in the log)`)
    const settled = await settle(nodes, "placement of the new wallets")
    printHosts(nodes, "placed")
    say(`         (placement handed them to their nodes in ${seconds(settled)})`)

    cluster = await connectCluster({ servers: nats.url.split(",") })
    say(
      "client   connectCluster({ servers }): a thin client with no log and no wallets; every call below is routed",
    )
    say()
    const books = await story(cluster, mint.url, nodes)
    await crash(cluster, mint.url, nodes, books)
    printHosts(nodes, "hosts")
    await checkBooks(cluster, mint.url, books)
    audit(nats, passphraseFile)
    say()

    await cluster.close()
    cluster = undefined
    const live = nodes.filter((x) => !x.exited)
    await Promise.all(live.map((x) => x.stop()))
    const clean = live.filter((x) => x.child.exitCode === 0)
    if (clean.length !== live.length) throw new DemoFailure("a node did not close cleanly")
    say(
      `stop     ${live.map((x) => x.id).join(", ")} closed on SIGTERM (leases released); mint and NATS stopped`,
    )
    await cleanUp()
    say(`done in ${seconds(performance.now() - started)}`)
    return 0
  } catch (e) {
    if (interrupting) return 130
    const tails = nodes.filter((x) => x.tail() !== "").map((x) => `${x.id}'s last lines:\n${x.tail()}`)
    if (tails.length > 0) process.stderr.write(`${tails.join("\n")}\n`)
    throw e
  } finally {
    await cleanUp()
    process.off("SIGINT", interrupted)
    process.off("SIGTERM", interrupted)
  }
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`cluster demo failed: ${explain(e)}\n`)
  return 1
})
