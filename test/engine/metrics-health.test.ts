/**
 * engine.metrics(), engine.health() and the optional telemetry listener (issue #15).
 */
import { describe, expect, it } from "vitest"
import { enginesClosedAfterEach, openTestEngine, testMint } from "../support/engine.js"

const open = enginesClosedAfterEach()

/** The value of the sample `line` (`name{labels}`) in a Prometheus text page, or undefined. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe("engine metrics", () => {
  it("counts operations, appends and proofs of this engine, without wallet ids", async () => {
    const mint = testMint("metrics")
    const engine = await open([mint])
    const origin = new URL(mint.baseUrl).origin
    const before = await engine.metrics()
    const mintsBefore = sample(before, 'corecashu_operations_total{kind="mint",outcome="completed"}') ?? 0
    const sendsBefore = sample(before, 'corecashu_operations_total{kind="send",outcome="completed"}') ?? 0
    const wallet = await engine.createWallet({ walletId: "metrics-wallet-1" })
    await wallet.addMint(mint.baseUrl)
    const q = await wallet.mintQuote({ mintUrl: mint.baseUrl, amount: 100n })
    await wallet.mint(q.operationId)
    await wallet.send({ mintUrl: mint.baseUrl, amount: 37n })
    const text = await engine.metrics()
    // The recorded counters are process-wide (Effect's default registry): compare with the count before.
    expect(sample(text, 'corecashu_operations_total{kind="mint",outcome="completed"}')).toBe(mintsBefore + 1)
    expect(sample(text, 'corecashu_operations_total{kind="send",outcome="completed"}')).toBe(sendsBefore + 1)
    expect(text).toMatch(/^# TYPE corecashu_operation_duration_seconds histogram$/m)
    expect(text).toMatch(/^corecashu_log_append_duration_seconds_bucket\{outcome="ok",le="\+Inf"\} [1-9]/m)
    expect(text).toMatch(/^corecashu_log_append_events_count [1-9]/m)
    // This engine's gauges: exact.
    const unspent = `corecashu_proofs_amount{mint="${origin}",state="unspent",unit="sat"}`
    const pending = `corecashu_proofs_amount{mint="${origin}",state="pending",unit="sat"}`
    expect(sample(text, unspent)).toBe(63)
    expect((sample(text, pending) ?? 0) + (sample(text, unspent.replace("unspent", "reserved")) ?? 0)).toBe(
      37,
    )
    expect(sample(text, "corecashu_wallets_hosted")).toBe(1)
    expect(sample(text, "corecashu_projection_lag_events")).toBe(0)
    expect(sample(text, `corecashu_mint_reachable{mint="${origin}"}`)).toBe(1)
    expect(text).not.toContain("metrics-wallet-1")
    expect(text).not.toContain(q.operationId)
  })
})

describe("engine health", () => {
  it("is ok on a fresh engine, and failing once closed", async () => {
    const mint = testMint("health-ok")
    const engine = await openTestEngine([mint])
    const w = await engine.createWallet()
    await w.addMint(mint.baseUrl)
    const h = await engine.health()
    expect(h.status).toBe("ok")
    expect(h.reasons).toEqual([])
    expect(h.store).toMatchObject({ kind: "leveldb", readable: true, writable: true })
    expect(h.store.lastAppendAt).toBeTypeOf("number")
    expect(h.projections.lag).toBe(0)
    expect(h.mints.map((m) => m.mint)).toEqual([new URL(mint.baseUrl).origin])
    expect(h.operations).toMatchObject({ inFlight: 0, inDoubt: 0 })
    expect(h.checkpoints.enabled).toBe(true)
    const probed = await engine.health({ probe: true })
    expect(probed.mints[0]?.probe).toEqual({ ok: true, error: undefined })
    await engine.close()
    const after = await engine.health()
    expect(after.status).toBe("failing")
    expect(after.reasons).toContain("the engine is closed")
  })

  it("degrades when a mint is down and its breaker opens; serves it on /readyz", async () => {
    const mint = testMint("health-down")
    let down = false
    const engine = await open([mint], {
      mintClient: {
        fetch: (input: string | URL | Request, init?: RequestInit) =>
          down ? Promise.reject(new TypeError("fetch failed")) : mint.fetch(input, init),
        circuitBreaker: { failureThreshold: 2, cooldownMs: 600_000 },
        retry: { times: 0 },
      },
      telemetry: { http: { port: 0 } },
    })
    const addr = engine.telemetryAddress!
    expect(addr.host).toBe("127.0.0.1")
    const base = `http://${addr.host}:${addr.port}`
    const w = await engine.createWallet()
    await w.addMint(mint.baseUrl)
    const ready = await fetch(`${base}/readyz`)
    expect(ready.status).toBe(200)
    expect(((await ready.json()) as { status: string }).status).toBe("ok")
    const live = await fetch(`${base}/healthz`)
    expect(live.status).toBe(200)
    const metrics = await fetch(`${base}/metrics`)
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
    expect(await metrics.text()).toContain("# TYPE corecashu_wallets_hosted gauge")
    expect((await fetch(`${base}/nope`)).status).toBe(404)

    down = true
    const h = await engine.health({ probe: true })
    expect(h.mints[0]?.probe?.ok).toBe(false)
    const h2 = await engine.health({ probe: true })
    expect(h2.status).toBe("degraded")
    expect(h2.mints[0]).toMatchObject({ breaker: "open", reachable: false })
    expect(h2.reasons.join("\n")).toContain("circuit breaker")
    const notReady = await fetch(`${base}/readyz`)
    expect(notReady.status).toBe(503)
    const body = (await notReady.json()) as { status: string; mints: Array<{ breaker: string }> }
    expect(body.status).toBe("degraded")
    expect(body.mints[0]?.breaker).toBe("open")
    expect((await fetch(`${base}/healthz`)).status).toBe(200)

    await engine.close()
    await expect(fetch(`${base}/healthz`)).rejects.toThrow()
  })
})
