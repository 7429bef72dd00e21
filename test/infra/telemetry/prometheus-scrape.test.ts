/**
 * A real Prometheus (Debian's 2.42, started by `scripts/prometheus.sh`) scrapes an engine's telemetry
 * listener, and the series are read back through Prometheus's HTTP API (issue #15): the page parses for a
 * real scraper (target up, no scrape error, the histogram typed as one), the counters and the scrape-time
 * gauges carry what the wallet did, and a later send shows up in a later scrape.
 *
 * Never skipped: without the binary the test fails with the script's message (`bash scripts/prometheus.sh
 * install`; scripts/test.sh runs it).
 */
import { afterEach, describe, expect, it } from "vitest"
import { enginesClosedAfterEach, fund, testMint } from "../../support/engine.js"
import { type Prometheus, type PromSample, startPrometheus } from "../../support/prometheus.js"

const open = enginesClosedAfterEach()
const started: Prometheus[] = []
afterEach(async () => {
  for (const p of started.splice(0)) await p.stop()
})

/** The value of the sample `series` (`name{labels}`) in a Prometheus text page, or undefined. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Queries `promql` until `done` holds for the result (Prometheus scrapes every second, and needs a scrape or
 * two after it starts); on timeout fails with the last result and the target's last scrape error.
 */
const until = async (
  prom: Prometheus,
  promql: string,
  done: (r: ReadonlyArray<PromSample>) => boolean,
  timeoutMs = 60_000,
): Promise<ReadonlyArray<PromSample>> => {
  const deadline = Date.now() + timeoutMs
  let last: ReadonlyArray<PromSample> = []
  while (Date.now() < deadline) {
    last = await prom.query(promql)
    if (done(last)) return last
    await sleep(250)
  }
  const targets = await prom.api("targets").catch((e: unknown) => String(e))
  throw new Error(
    `${promql}: not as expected within ${timeoutMs} ms; last result ${JSON.stringify(last)}; targets ${JSON.stringify(targets)}`,
  )
}

const one = (r: ReadonlyArray<PromSample>): number | undefined => (r.length === 1 ? r[0]?.value : undefined)

describe("Prometheus scrapes the engine's /metrics", () => {
  it("reads back the operations, the proofs gauge and up, and sees a later send", {
    timeout: 240_000,
  }, async () => {
    const mint = testMint("prom-scrape")
    const origin = new URL(mint.baseUrl).origin
    const engine = await open([mint], { telemetry: { http: { port: 0 } } })
    const addr = engine.telemetryAddress
    expect(addr).toBeDefined()
    const target = `${addr?.host}:${addr?.port}`

    const wallet = await engine.createWallet()
    await wallet.addMint(mint.baseUrl)
    await fund(wallet, mint, 100n)
    await wallet.send({ mintUrl: mint.baseUrl, amount: 37n })
    expect(wallet.balance(mint.baseUrl)).toBe(63n)
    // The counters are process-wide: what this process's page says is what Prometheus must read.
    const page = await engine.metrics()
    const sends = sample(page, 'corecashu_operations_total{kind="send",outcome="completed"}')
    const mints = sample(page, 'corecashu_operations_total{kind="mint",outcome="completed"}')
    expect(sends).toBeGreaterThanOrEqual(1)
    expect(mints).toBeGreaterThanOrEqual(1)

    const prom = await startPrometheus(target)
    started.push(prom)

    // The target is up: Prometheus reached the listener and parsed the page (a page it cannot parse is `up` 0,
    // with the parse error as the target's lastError, which `until` prints on a timeout).
    const up = await until(prom, 'up{job="corecashu"}', (r) => one(r) === 1)
    expect(up[0]?.metric.instance).toBe(target)

    // The counters, as this process counted them.
    const sendQ = 'corecashu_operations_total{job="corecashu",kind="send",outcome="completed"}'
    expect(one(await until(prom, sendQ, (r) => r.length > 0))).toBe(sends)
    const mintQ = 'corecashu_operations_total{job="corecashu",kind="mint",outcome="completed"}'
    expect(one(await until(prom, mintQ, (r) => r.length > 0))).toBe(mints)
    // No send was compensated.
    expect(await prom.query('corecashu_operations_total{kind="send",outcome="compensated"}')).toEqual([])

    // The scrape-time gauge of unspent proofs is what the wallet holds, labelled by mint origin and unit.
    const unspentQ = `corecashu_proofs_amount{job="corecashu",mint="${origin}",unit="sat",state="unspent"}`
    expect(one(await until(prom, unspentQ, (r) => r.length > 0))).toBe(Number(wallet.balance(mint.baseUrl)))
    // Summed over every state but spent: the 100 minted (63 unspent, 37 held by the send).
    const heldQ = `sum(corecashu_proofs_amount{job="corecashu",mint="${origin}",state!="spent"})`
    expect(one(await until(prom, heldQ, (r) => r.length > 0))).toBe(100)
    expect(one(await until(prom, 'corecashu_wallets_hosted{job="corecashu"}', (r) => r.length > 0))).toBe(1)

    // The histograms arrive as histograms: their metadata says so and histogram_quantile works on them.
    const meta = (await prom.api("metadata?metric=corecashu_log_append_duration_seconds")) as Record<
      string,
      ReadonlyArray<{ type: string }>
    >
    expect(meta.corecashu_log_append_duration_seconds?.[0]?.type).toBe("histogram")
    const p99 = await until(
      prom,
      'histogram_quantile(0.99, sum by (le) (corecashu_log_append_duration_seconds_bucket{job="corecashu",outcome="ok"}))',
      (r) => r.length === 1,
    )
    expect(p99[0]?.value).toBeGreaterThan(0)
    expect(Number.isFinite(p99[0]?.value)).toBe(true)

    // A later send reaches Prometheus in a later scrape: the counter goes up by one, the gauge down by 10.
    await wallet.send({ mintUrl: mint.baseUrl, amount: 10n })
    expect(wallet.balance(mint.baseUrl)).toBe(53n)
    await until(prom, sendQ, (r) => one(r) === (sends ?? 0) + 1)
    await until(prom, unspentQ, (r) => one(r) === 53)
    const increase = await prom.query(`max_over_time(${sendQ}[5m]) - min_over_time(${sendQ}[5m])`)
    expect(one(increase)).toBe(1)
  })
})
