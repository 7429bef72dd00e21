/**
 * The network phase (issue #15): what connection reuse and the engine-wide mint cache (`src/engine/mint-cache.ts`:
 * `/v1/info` per mint for its TTL, keys per keyset id) save per operation, against the nutshell reference mint
 * (`test/support/real-mint.ts`, FakeWallet, SQLite, 127.0.0.1), through the engine's default HTTP client.
 *
 * Two modes, each on a fresh engine and log:
 * - `on`: the engine as shipped — the shared mint cache, and Node's global `fetch` (undici), which keeps
 *   connections alive and pools them per origin.
 * - `off`: no shared cache (`setMintCachesEnabled(false)`: each wallet its own info cache, keys fetched per
 *   wallet, the behaviour before the cache), and every request on a new TCP connection (an undici `Agent` with
 *   `pipelining: 0`, i.e. no keep-alive, passed as the `dispatcher` of each fetch; the class is Node's own, taken
 *   from the global dispatcher, as undici is not a dependency).
 *
 * Per operation it reports requests sent (a counting `fetch` handed to the client), new TCP connections
 * (undici's `undici:client:connected` diagnostics channel: every connection undici opens in this process) and
 * wall time; then, outside the engine, the bare cost of a new connection (the same `GET /v1/keysets`, alternately
 * kept alive and on a new connection). Operations, per iteration, each by a new wallet `w` of the engine, `a` being a wallet made at the
 * start: `addMint` of `w` (a second wallet of a known mint), `mintQuote`+`mint` of 64 sat (FakeWallet pays at
 * once; polling every 50 ms), `swap` of 33, `send` of 21, `receive` of that token by `a`, `meltQuote` of an
 * external invoice. The first wallet's `addMint` is reported once per mode.
 *
 * Run: `npm run bench -- network [--quick] [--json]`, or `node --import tsx bench/network.ts [--quick] [--json]`.
 */
import diagnostics from "node:diagnostics_channel"
import { rmSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { Engine } from "../src/engine/engine.js"
import { setMintCachesEnabled } from "../src/engine/mint-cache.js"
import type { Wallet } from "../src/engine/wallet.js"
import { freshDir } from "../test/support/engine.js"
import { externalInvoice, startRealMint } from "../test/support/real-mint.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"

type Mode = "on" | "off"
const OPS = ["addMint(first)", "addMint", "mintQuote+mint", "swap", "send", "receive", "meltQuote"] as const
type Op = (typeof OPS)[number]

/** Prints to stderr with --json (so stdout stays machine-readable), else to stdout. */
let log: (line: string) => void = (line) => console.log(line)

const counters = { requests: 0, connections: 0 }
const onConnected = (): void => {
  counters.connections++
}

/** A dispatcher without keep-alive: Node's bundled undici `Agent`, the class of the global dispatcher. */
const noKeepAliveDispatcher = (): unknown => {
  const global = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")]
  if (global === undefined) throw new Error("no undici global dispatcher (run one fetch first)")
  const Agent = (global as { constructor: new (o: object) => unknown }).constructor
  return new Agent({ pipelining: 0 })
}

/** The `fetch` the engine's client gets: counts requests; in `off` mode, sends each on a new connection. */
const fetchFor = (mode: Mode): typeof fetch => {
  const real = globalThis.fetch
  const dispatcher = mode === "off" ? noKeepAliveDispatcher() : undefined
  return ((input: string | URL | Request, init?: RequestInit) => {
    counters.requests++
    return real(input, dispatcher === undefined ? init : ({ ...init, dispatcher } as RequestInit))
  }) as typeof fetch
}

interface Acc {
  n: number
  requests: number
  connections: number
  ms: number
}

const measure = async (acc: Map<Op, Acc>, op: Op, run: () => Promise<unknown>): Promise<void> => {
  const r0 = counters.requests
  const c0 = counters.connections
  const t0 = performance.now()
  await run()
  const ms = performance.now() - t0
  const a = acc.get(op) ?? { n: 0, requests: 0, connections: 0, ms: 0 }
  a.n++
  a.requests += counters.requests - r0
  a.connections += counters.connections - c0
  a.ms += ms
  acc.set(op, a)
}

const runMode = async (mode: Mode, mintUrl: string, iterations: number): Promise<Map<Op, Acc>> => {
  const acc = new Map<Op, Acc>()
  const dataDir = freshDir(`corecashu-bench-network-${mode}-`)
  setMintCachesEnabled(mode === "on")
  let engine: Engine | undefined
  try {
    engine = await Engine.open({
      dataDir,
      passphrase: "bench passphrase",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: { fetch: fetchFor(mode), rateLimit: { ratePerSecond: 10_000, burst: 10_000 } },
      options: { quotePollMs: 50 },
    })
    const a = await engine.createWallet({ walletId: "a" })
    await measure(acc, "addMint(first)", () => a.addMint(mintUrl))
    for (let i = 0; i < iterations; i++) {
      const w: Wallet = await engine.createWallet({ walletId: `w${i}` })
      await measure(acc, "addMint", () => w.addMint(mintUrl))
      await measure(acc, "mintQuote+mint", async () => {
        const q = await w.mintQuote({ mintUrl, amount: 64n })
        await w.mint(q.operationId)
      })
      await measure(acc, "swap", () => w.swap({ mintUrl, amount: 33n }))
      let token = ""
      await measure(acc, "send", async () => {
        token = (await w.send({ mintUrl, amount: 21n })).token
      })
      await measure(acc, "receive", () => a.receive(token))
      await measure(acc, "meltQuote", () => w.meltQuote({ mintUrl, request: externalInvoice(10n) }))
    }
    return acc
  } finally {
    setMintCachesEnabled(true)
    await engine?.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Runs the suite; returns per mode and operation: requests, new connections and ms per call. */
export async function runNetworkBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const iterations = opts.quick ? 3 : 10
  const rounds = opts.quick ? 1 : 2
  const mint = await startRealMint()
  diagnostics.subscribe("undici:client:connected", onConnected)
  try {
    // One request first, so that the global dispatcher exists (the `off` agent is made from its class).
    await (await fetch(`${mint.url}/v1/info`)).arrayBuffer()
    const total = new Map<Mode, Map<Op, Acc>>([
      ["on", new Map()],
      ["off", new Map()],
    ])
    // Modes alternate (off, on, then on, off, …) so a drift of the shared machine hits both alike.
    for (let round = 0; round < rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ["off", "on"] : ["on", "off"]
      for (const mode of order) {
        const got = await runMode(mode, mint.url, iterations)
        const into = total.get(mode)!
        for (const [op, a] of got) {
          const b = into.get(op) ?? { n: 0, requests: 0, connections: 0, ms: 0 }
          into.set(op, {
            n: b.n + a.n,
            requests: b.requests + a.requests,
            connections: b.connections + a.connections,
            ms: b.ms + a.ms,
          })
        }
      }
    }

    // The bare cost of a new connection: the same GET /v1/keysets, alternately on the kept-alive pool and on a
    // new connection, outside the engine.
    const probes = opts.quick ? 40 : 200
    const offDispatcher = noKeepAliveDispatcher()
    const bare = { on: 0, off: 0 }
    for (let i = 0; i < 2 * probes; i++) {
      const mode: Mode = i % 2 === 0 ? "on" : "off"
      const t0 = performance.now()
      const init = mode === "off" ? ({ dispatcher: offDispatcher } as RequestInit) : undefined
      await (await fetch(`${mint.url}/v1/keysets`, init)).arrayBuffer()
      bare[mode] += performance.now() - t0
    }

    const result: Record<string, number> = {}
    result["network.bare.keysets.msKeptAlive"] = bare.on / probes
    result["network.bare.keysets.msNewConnection"] = bare.off / probes
    const col = (s: string, w = 11) => s.padStart(w)
    log(
      `network bench (${opts.quick ? "quick" : "full"}): nutshell on 127.0.0.1, ${rounds} round(s) × ${iterations} iterations per mode; per call`,
    )
    log(
      `${"operation".padEnd(16)}${col("req on")}${col("req off")}${col("conn on")}${col("conn off")}${col("ms on")}${col("ms off")}${col("saved ms")}`,
    )
    for (const op of OPS) {
      const on = total.get("on")!.get(op)!
      const off = total.get("off")!.get(op)!
      const per = (a: Acc, k: "requests" | "connections" | "ms") => a[k] / a.n
      for (const [mode, a] of [
        ["on", on],
        ["off", off],
      ] as const) {
        result[`network.${mode}.${op}.requests`] = per(a, "requests")
        result[`network.${mode}.${op}.connections`] = per(a, "connections")
        result[`network.${mode}.${op}.ms`] = per(a, "ms")
      }
      log(
        `${op.padEnd(16)}${col(per(on, "requests").toFixed(2))}${col(per(off, "requests").toFixed(2))}${col(per(on, "connections").toFixed(2))}${col(per(off, "connections").toFixed(2))}${col(per(on, "ms").toFixed(1))}${col(per(off, "ms").toFixed(1))}${col((per(off, "ms") - per(on, "ms")).toFixed(1))}`,
      )
    }
    log(
      `bare GET /v1/keysets ×${probes} each, alternating: ${(bare.on / probes).toFixed(2)} ms kept alive, ${(bare.off / probes).toFixed(2)} ms on a new connection`,
    )
    return result
  } finally {
    diagnostics.unsubscribe("undici:client:connected", onConnected)
    await mint.stop()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const started = performance.now()
  const result = await runNetworkBench({ quick: args.includes("--quick") })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
