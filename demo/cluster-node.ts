/**
 * One engine node of a cluster (issue #12) as a long-running process: it opens the engine on a NATS JetStream
 * log with wallet placement by rendezvous hashing, logs the wallets it hosts whenever that set changes, and
 * closes cleanly (releasing its leases and its member entry, so the others take its wallets at once) on
 * SIGTERM or SIGINT.
 *
 *   node --import tsx demo/cluster-node.ts --id node-a --servers nats://127.0.0.1:4222,… \
 *     [--ttl 2000] [--create alice,bob] [--stream CORECASHU] [--subject-prefix cc] [--replicas 3] \
 *     [--data-dir D] [--passphrase-file F]
 *
 * - `--servers` takes what `bash scripts/nats.sh start --cluster 3` prints as `NATS_URL`.
 * - `--ttl` is the lease TTL in ms (default 2000): a node that dies without closing loses its wallets after
 *   about 1–1.5 TTL (its member entry and leases expire on the server, then the next placement pass).
 * - `--create` creates these wallets through this node once it is up (those the log holds already are left
 *   alone); placement then hands each one to its node. The thin client (`connectCluster`) cannot create.
 * - `--replicas` applies when this node is the one that creates the stream and its buckets (default 3 with
 *   three or more servers, else 1).
 * - `--data-dir` is required by `Engine.open` but not used on JetStream (default: a temp dir, removed on exit).
 * - The passphrase comes from `--passphrase-file`, else `WALLET_PASSPHRASE`, else the demo's fixed one (fine
 *   on a loopback cluster of your own; every node of one log must use the same).
 *
 * It logs one line per event, with the time: up, created, `hosts …` (with what came and went), closing,
 * closed. Never a mnemonic, token, proof or quote id. Exit 0 after a clean close, 1 when it cannot open.
 *
 * Started by `demo/cluster.ts` (with an IPC channel) it also reports to its parent ({@link NodeReport}), takes
 * `{ t: "create", ids }`, and closes when the parent goes away.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Engine } from "../src/index.js"
import { explain } from "./common.js"

/** Node → parent (over IPC, when started by `demo/cluster.ts`). */
export type NodeReport =
  | { readonly t: "up"; readonly ms: number }
  | { readonly t: "hosts"; readonly ids: ReadonlyArray<string> }
  | { readonly t: "created"; readonly ids: ReadonlyArray<string>; readonly existed: ReadonlyArray<string> }
  | { readonly t: "failed"; readonly message: string }

/** Parent → node. */
export type NodeCommand = { readonly t: "create"; readonly ids: ReadonlyArray<string> }

/** Used when neither `--passphrase-file` nor `WALLET_PASSPHRASE` is given: a demo on loopback only. */
const DEMO_PASSPHRASE = "corecashu-cluster-demo"
const WATCH_MS = 100
const OPEN_ATTEMPTS = 5

interface Args {
  readonly id: string
  readonly servers: ReadonlyArray<string>
  readonly ttlMs: number
  readonly create: ReadonlyArray<string>
  readonly stream: string
  readonly subjectPrefix: string
  readonly replicas: number
  readonly dataDir: string | undefined
  readonly passphraseFile: string | undefined
}

const USAGE =
  "usage: cluster-node --id ID --servers URL[,URL…] [--ttl MS] [--create ID,…] [--stream S] " +
  "[--subject-prefix P] [--replicas 1|3] [--data-dir D] [--passphrase-file F]"

class Usage extends Error {}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const values = new Map<string, string>()
  const known = [
    "--id",
    "--servers",
    "--ttl",
    "--create",
    "--stream",
    "--subject-prefix",
    "--replicas",
    "--data-dir",
    "--passphrase-file",
  ]
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!
    const value = argv[i + 1]
    if (!known.includes(flag) || value === undefined) throw new Usage(`bad argument ${flag}\n${USAGE}`)
    values.set(flag, value)
  }
  const id = values.get("--id")
  const servers = (values.get("--servers") ?? "").split(",").filter((s) => s !== "")
  if (id === undefined || servers.length === 0) throw new Usage(`--id and --servers are required\n${USAGE}`)
  const ttlMs = Number(values.get("--ttl") ?? "2000")
  if (!Number.isInteger(ttlMs) || ttlMs < 300) throw new Usage("--ttl takes whole milliseconds, ≥ 300")
  const replicas = Number(values.get("--replicas") ?? (servers.length >= 3 ? "3" : "1"))
  if (replicas !== 1 && replicas !== 3) throw new Usage("--replicas takes 1 or 3")
  return {
    id,
    servers,
    ttlMs,
    create: (values.get("--create") ?? "").split(",").filter((s) => s !== ""),
    stream: values.get("--stream") ?? "CORECASHU",
    subjectPrefix: values.get("--subject-prefix") ?? "cc",
    replicas,
    dataDir: values.get("--data-dir"),
    passphraseFile: values.get("--passphrase-file"),
  }
}

const clock = (): string => new Date().toISOString().slice(11, 23)

const tagOf = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && "_tag" in e ? String((e as { _tag: unknown })._tag) : undefined

const report = (msg: NodeReport): void => {
  if (process.send !== undefined && process.connected) process.send(msg)
}

const main = async (): Promise<number> => {
  let args: Args
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`cluster-node: ${(e as Error).message}\n`)
    return 2
  }
  const log = (line: string): void => {
    process.stdout.write(`${clock()} ${args.id}: ${line}\n`)
  }
  const ownDir = args.dataDir === undefined ? mkdtempSync(join(tmpdir(), "corecashu-node-")) : undefined
  const passphrase =
    args.passphraseFile !== undefined
      ? readFileSync(args.passphraseFile, "utf8").trim()
      : (process.env.WALLET_PASSPHRASE ?? DEMO_PASSPHRASE)

  const started = performance.now()
  const open = () =>
    Engine.open({
      dataDir: args.dataDir ?? ownDir!,
      passphrase,
      store: {
        kind: "jetstream",
        servers: [...args.servers],
        stream: args.stream,
        subjectPrefix: args.subjectPrefix,
        replicas: args.replicas,
        node: { id: args.id, leaseTtlMs: args.ttlMs, placement: "rendezvous" },
      },
    })
  let engine: Engine | undefined
  for (let attempt = 1; engine === undefined; attempt++) {
    try {
      engine = await open()
    } catch (e) {
      // Nodes opening a fresh R3 log at the same moment can find its vault bucket not served yet
      // (StoreUnavailable): a node that is started again gets past it, so this one tries again a few times.
      if (tagOf(e) === "StoreUnavailable" && attempt < OPEN_ATTEMPTS) {
        log(`cannot open yet (${explain(e)}); trying again in 1 s`)
        await new Promise((r) => setTimeout(r, 1000))
        continue
      }
      log(`cannot open: ${explain(e)}`)
      report({ t: "failed", message: explain(e) })
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true })
      return 1
    }
  }
  const opened = engine
  const ms = Math.round(performance.now() - started)
  log(
    `up in ${ms} ms: stream ${args.stream} (R${args.replicas}) on ${args.servers.length} NATS server(s), ` +
      `lease TTL ${args.ttlMs} ms, placement rendezvous` +
      (args.passphraseFile === undefined && process.env.WALLET_PASSPHRASE === undefined
        ? " (the demo's fixed passphrase: set WALLET_PASSPHRASE for your own)"
        : ""),
  )
  report({ t: "up", ms })

  // The hosted set, as it changes (placement moves wallets in and out between two looks).
  let hosted: ReadonlyArray<string> = []
  const look = (): void => {
    const now = opened.walletIds()
    if (now.length === hosted.length && now.every((id, i) => id === hosted[i])) return
    const came = now.filter((id) => !hosted.includes(id))
    const went = hosted.filter((id) => !now.includes(id))
    const change = [...came.map((id) => `+${id}`), ...went.map((id) => `-${id}`)].join(" ")
    log(`hosts ${now.length === 0 ? "nothing" : now.join(" ")} (${change})`)
    hosted = now
    report({ t: "hosts", ids: now })
  }
  const watch = setInterval(look, WATCH_MS)

  const create = async (ids: ReadonlyArray<string>): Promise<void> => {
    const made: string[] = []
    const existed: string[] = []
    for (const walletId of ids) {
      try {
        await opened.createWallet({ walletId })
        made.push(walletId)
      } catch (e) {
        if (tagOf(e) !== "WalletExists") throw e
        existed.push(walletId)
      }
    }
    log(
      `created ${made.length === 0 ? "no wallet" : made.join(" ")}` +
        (existed.length > 0 ? ` (in the log already: ${existed.join(" ")})` : "") +
        " — fresh mnemonics, kept sealed in the log; placement hands each wallet to its node",
    )
    look()
    report({ t: "created", ids: made, existed })
  }

  let closing: Promise<number> | undefined
  const close = (why: string): Promise<number> => {
    closing ??= (async () => {
      clearInterval(watch)
      const n = opened.walletIds().length
      log(`${why}: closing (releasing the leases of ${n} wallet${n === 1 ? "" : "s"} and its member entry)`)
      await opened.close()
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true })
      log("closed")
      return 0
    })()
    return closing
  }

  return new Promise<number>((resolve) => {
    const stop = (why: string) => () => {
      void close(why).then(resolve, (e: unknown) => {
        log(`close failed: ${explain(e)}`)
        resolve(1)
      })
    }
    process.on("SIGTERM", stop("SIGTERM"))
    process.on("SIGINT", stop("SIGINT"))
    // Started by demo/cluster.ts: its commands, and a parent that went away (even by SIGKILL) closes us.
    if (process.send !== undefined) {
      process.on("disconnect", stop("parent gone"))
      process.on("message", (m: NodeCommand) => {
        if (m.t === "create")
          create(m.ids).catch((e: unknown) => {
            log(`create failed: ${explain(e)}`)
            report({ t: "failed", message: `create: ${explain(e)}` })
          })
      })
    }
    if (args.create.length > 0)
      create(args.create).catch((e: unknown) => {
        log(`create failed: ${explain(e)}`)
      })
  })
}

process.exitCode = await main()
// The NATS connections and timers are closed; exit even if a library left a handle behind.
process.exit()
