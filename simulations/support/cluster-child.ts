/**
 * One engine node of the cluster soak (`simulations/cluster-soak.ts` starts it as an esbuild bundle with
 * `CLUSTER_SPEC_FILE` naming a JSON {@link ClusterChildSpec} and an IPC channel). It opens node `nodeId` on the
 * JetStream log with `placement: "rendezvous"` and the engine's default HTTP mint client, says `ready`, and
 * runs `loops` workers: each picks one of the wallets this node hosts at that moment and runs one random
 * action on it (`workload.ts`) — wallets arrive and leave as nodes join, die and come back. Tokens it sends go
 * to the parent, which hands each to one node for one of its wallets to receive; invoices come from the
 * parent. It reports every action's end (with the wallet, so the parent sees when a dead node's wallets are
 * served elsewhere) and, every 250 ms, the wallets it hosts.
 *
 * On `stop` the workers finish their action and stop; `digest` answers the projections' digests
 * (`projection-digest.ts`); `checkpoint` saves every projection's checkpoint now; `close` closes the engine
 * and exits 0.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { Effect } from "effect"
import { Engine } from "../../src/engine/engine.js"
import { engineServices } from "../../src/engine/internal.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../../test/support/vault.js"
import { dice as makeDice } from "./prng.js"
import { type ProjectionDigests, projectionDigests } from "./projection-digest.js"
import { type Invoice, type Outcome, outcome, type PoolToken, randomAction } from "./workload.js"

/** What a cluster node runs. */
export interface ClusterChildSpec {
  readonly servers: ReadonlyArray<string>
  readonly stream: string
  readonly subjectPrefix: string
  readonly replicas: number
  readonly nodeId: string
  readonly leaseTtlMs: number
  readonly dataDir: string
  readonly passphrase: string
  readonly mintUrl: string
  readonly seed: number
  /** Workers running actions at once (0: a node that only hosts, e.g. to compare projections). */
  readonly loops: number
  /** Whether the node places wallets by rendezvous hashing (false: it hosts nothing unless asked). */
  readonly placement: boolean
}

/** Child → parent. */
export type ClusterChildMessage =
  | { readonly t: "ready"; readonly openMs: number }
  | { readonly t: "hosted"; readonly ids: ReadonlyArray<string> }
  | { readonly t: "token-add"; readonly from: string; readonly token: string }
  | { readonly t: "invoice-take"; readonly bolt11: string }
  | { readonly t: "outcome"; readonly walletId: string; readonly at: number; readonly outcome: Outcome }
  | { readonly t: "stopped" }
  | { readonly t: "digest"; readonly digest: ProjectionDigests }
  | { readonly t: "checkpointed" }

/** Parent → child. */
export type ClusterParentMessage =
  | { readonly t: "token"; readonly from: string; readonly token: string }
  | {
      readonly t: "invoices"
      readonly invoices: ReadonlyArray<{ readonly amount: string; readonly bolt11: string }>
    }
  | { readonly t: "stop" }
  | { readonly t: "digest" }
  | { readonly t: "checkpoint" }
  | { readonly t: "close" }

const spec = JSON.parse(readFileSync(process.env.CLUSTER_SPEC_FILE ?? "", "utf8")) as ClusterChildSpec
const dice = makeDice(spec.seed)
const tokens: PoolToken[] = []
const invoices: Invoice[] = []
let stopping = false
let engine: Engine | undefined

const tell = (m: ClusterChildMessage): void => {
  if (process.connected) process.send?.(m)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// The parent is gone: nothing will stop us, so stop.
process.on("disconnect", () => process.exit(0))

const workers: Array<Promise<void>> = []

process.on("message", (m: ClusterParentMessage) => {
  switch (m.t) {
    case "token":
      tokens.push({ from: m.from, token: m.token })
      break
    case "invoices":
      for (const i of m.invoices) invoices.push({ amount: BigInt(i.amount), bolt11: i.bolt11 })
      break
    case "stop":
      stopping = true
      void Promise.all(workers).then(() => tell({ t: "stopped" }))
      break
    case "digest":
      if (engine !== undefined) void projectionDigests(engine).then((digest) => tell({ t: "digest", digest }))
      break
    case "checkpoint":
      if (engine !== undefined)
        void Effect.runPromise(engineServices(engine).runner.checkpoint).then(() =>
          tell({ t: "checkpointed" }),
        )
      break
    case "close":
      stopping = true
      void Promise.all(workers)
        .then(() => engine?.close())
        .then(() => process.exit(0))
      break
  }
})

const host = {
  mintUrl: spec.mintUrl,
  dice,
  takeToken: (walletId: string) => {
    const i = tokens.findIndex((t) => t.from !== walletId)
    if (i < 0) return undefined
    return tokens.splice(i, 1)[0]
  },
  addToken: (t: PoolToken) => tell({ t: "token-add", from: t.from, token: t.token }),
  takeInvoice: (max: bigint) => {
    const i = invoices.findIndex((x) => x.amount <= max)
    if (i < 0) return undefined
    const [x] = invoices.splice(i, 1)
    tell({ t: "invoice-take", bolt11: x!.bolt11 })
    return x
  },
}

/** One worker: an action on a hosted wallet nobody else here is acting on, again and again. */
const worker = async (e: Engine, busy: Set<string>): Promise<void> => {
  while (!stopping) {
    const free = e.walletIds().filter((id) => !busy.has(id))
    if (free.length === 0) {
      await sleep(50)
      continue
    }
    const id = dice.pick(free)
    busy.add(id)
    try {
      // The wallet may leave between the pick and the call (placement moved it, or this node was fenced).
      let o: Outcome | undefined
      try {
        o = await randomAction(e.wallet(id), host)
      } catch (err) {
        o = await outcome("wallet", () => Promise.reject(err))
      }
      if (o !== undefined) tell({ t: "outcome", walletId: id, at: Date.now(), outcome: o })
    } finally {
      busy.delete(id)
    }
    await new Promise((r) => setImmediate(r))
  }
}

const main = async (): Promise<void> => {
  const started = Date.now()
  const e = await Engine.open({
    dataDir: spec.dataDir,
    passphrase: spec.passphrase,
    vault: INSECURE_TEST_VAULT_OPTIONS,
    options: { quotePollMs: 100 },
    store: {
      kind: "jetstream",
      servers: [...spec.servers],
      stream: spec.stream,
      subjectPrefix: spec.subjectPrefix,
      replicas: spec.replicas,
      node: {
        id: spec.nodeId,
        leaseTtlMs: spec.leaseTtlMs,
        ...(spec.placement ? { placement: "rendezvous" as const } : {}),
      },
    },
  })
  engine = e
  tell({ t: "ready", openMs: Date.now() - started })
  const report = setInterval(() => tell({ t: "hosted", ids: e.walletIds() }), 250)
  report.unref()
  const busy = new Set<string>()
  for (let i = 0; i < spec.loops; i++) workers.push(worker(e, busy))
}

main().catch((e: unknown) => {
  process.stderr.write(`cluster child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(3)
})
