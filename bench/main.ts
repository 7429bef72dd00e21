/**
 * Benchmark entry point: `npm run bench -- [suite…] [--quick] [--json]`.
 *
 * Suites: `crypto` and `tokens` (the default, issue #2), `eventlog` (issue #3), `engine` (issue #4: our
 * engine's swap vs cashu-ts on an in-process mint) and `engine-real` (the same swap against nutshell, which it
 * starts; not in the default set), `cluster` (issue #12: appends through the JetStream store vs raw JetStream
 * publishes, on a nats-server it starts), `scale` (issue #15: open time of a 1M-event log, heap per idle
 * wallet, sustained operations of 1,000 wallets; not in the default set), `network` (issue #15: requests,
 * new TCP connections and latency per operation against nutshell, with connection reuse and the engine-wide
 * mint cache on vs off; not in the default set). Each suite runs ours and the
 * peer side by side in this one process and returns throughput ratios (ours / peer). With `--json`, the last
 * line printed is one JSON object merging every suite's results.
 */
type Suite = (opts: { quick: boolean }) => Promise<Record<string, number | string>>

const suites: Record<string, () => Promise<Suite>> = {
  crypto: async () => (await import("./crypto.js")).runCryptoBench,
  tokens: async () => (await import("./tokens.js")).runTokenBench,
  eventlog: async () => (await import("./eventlog.js")).runEventLogBench,
  engine: async () => (await import("./engine.js")).runEngineBench,
  "engine-real": async () => (await import("./engine-real.js")).runEngineRealBench,
  cluster: async () => (await import("./cluster.js")).runClusterBench,
  scale: async () => (await import("./scale.js")).runScaleBench,
  network: async () => (await import("./network.js")).runNetworkBench,
}

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const json = args.includes("--json")
const named = args.filter((a) => !a.startsWith("--"))
const chosen = named.length > 0 ? named : ["crypto", "tokens"]

const unknown = chosen.filter((n) => !(n in suites))
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; known: ${Object.keys(suites).join(", ")}`)
  process.exit(2)
}

const merged: Record<string, number | string> = { quick: quick ? "yes" : "no", node: process.version }
for (const name of chosen) {
  const load = suites[name]!
  const run = await load()
  const started = performance.now()
  const result = await run({ quick })
  if (!json) console.log(`\n[${name}] ${((performance.now() - started) / 1000).toFixed(1)} s`)
  Object.assign(merged, result)
}
console.log(JSON.stringify(merged))
