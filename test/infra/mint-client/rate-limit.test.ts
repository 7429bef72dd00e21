import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { afterEach, describe, expect, it as vit } from "vitest"
import { makeRateLimiter, parseRetryAfter } from "../../../src/infra/mint-client/rate-limit.js"
import { createTestMint, type TestMint } from "../../support/mint/index.js"
import { clientOver, FAST, fail, run } from "./harness.js"

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1)
  vit("reads delay-seconds", () => expect(parseRetryAfter("120", now, 1000)).toBe(now + 120_000))
  vit("reads an HTTP date", () =>
    expect(parseRetryAfter(new Date(now + 5_000).toUTCString(), now, 1000)).toBe(now + 5_000),
  )
  vit("a date in the past means now", () =>
    expect(parseRetryAfter(new Date(now - 5_000).toUTCString(), now, 1000)).toBe(now),
  )
  vit("missing or garbage falls back to the default", () => {
    expect(parseRetryAfter(undefined, now, 1000)).toBe(now + 1000)
    expect(parseRetryAfter("soon", now, 1000)).toBe(now + 1000)
    expect(parseRetryAfter("-3", now, 1000)).toBe(now + 1000)
  })
})

describe("token bucket (TestClock)", () => {
  it.effect("lets a burst through, then paces calls at the rate", () =>
    Effect.gen(function* () {
      const limiter = makeRateLimiter({ ratePerSecond: 1, burst: 2, maxWaitMs: 5_000 })
      yield* limiter.acquire("http://a.test", "info")
      yield* limiter.acquire("http://a.test", "info")
      let third = false
      yield* Effect.forkChild(
        Effect.tap(limiter.acquire("http://a.test", "info"), () => Effect.sync(() => (third = true))),
      )
      yield* Effect.yieldNow
      expect(third).toBe(false)
      // Another mint has its own bucket.
      yield* limiter.acquire("http://b.test", "info")
      yield* TestClock.adjust(999)
      expect(third).toBe(false)
      yield* TestClock.adjust(1)
      yield* Effect.yieldNow
      expect(third).toBe(true)
    }),
  )

  it.effect("refuses, unsent, a call that would wait longer than maxWait", () =>
    Effect.gen(function* () {
      const limiter = makeRateLimiter({ ratePerSecond: 1, burst: 1, maxWaitMs: 500 })
      yield* limiter.acquire("http://a.test", "swap")
      const e = yield* Effect.flip(limiter.acquire("http://a.test", "swap"))
      expect(e).toMatchObject({ _tag: "MintNotSent", reason: "rate-limited", retryAt: 1_000 })
      yield* TestClock.adjust(1_000)
      yield* limiter.acquire("http://a.test", "swap")
    }),
  )

  it.effect("a Retry-After blocks every call of that mint until it passes", () =>
    Effect.gen(function* () {
      const limiter = makeRateLimiter({ maxWaitMs: 10_000 })
      yield* limiter.blockUntil("http://a.test", 20_000)
      expect(yield* Effect.flip(limiter.acquire("http://a.test", "info"))).toMatchObject({ retryAt: 20_000 })
      yield* TestClock.adjust(12_000)
      let done = false
      yield* Effect.forkChild(
        Effect.tap(limiter.acquire("http://a.test", "info"), () => Effect.sync(() => (done = true))),
      )
      yield* TestClock.adjust(7_999)
      expect(done).toBe(false)
      yield* TestClock.adjust(1)
      yield* Effect.yieldNow
      expect(done).toBe(true)
    }),
  )
})

/** A real HTTP server in front of a test mint that answers 429 while `limited` says so. */
const servers: Server[] = []
const serveLimited = (
  mint: TestMint,
  limited: (method: string, path: string) => string | undefined,
): Promise<{ url: string; hits: () => number }> =>
  new Promise((resolve) => {
    let hits = 0
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        hits++
        const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
        const retryAfter = limited(req.method ?? "GET", path)
        if (retryAfter !== undefined) {
          res.writeHead(429, { "content-type": "application/json", "retry-after": retryAfter })
          res.end('{"detail":"Rate limit exceeded."}')
          return
        }
        const body = Buffer.concat(chunks).toString("utf8")
        mint.handle({ method: req.method ?? "GET", path, ...(body.length > 0 ? { body } : {}) }).then(
          (answer) => {
            res.writeHead(answer.status, answer.headers ?? {})
            res.end(answer.body)
          },
          () => res.destroy(),
        )
      })
    })
    servers.push(server)
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits }),
    )
  })

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((done) => s.close(done))
  }
})

describe("HTTP 429 over a real socket", () => {
  vit("a GET waits for Retry-After, then is retried and succeeds", async () => {
    const mint = createTestMint()
    let first = true
    const server = await serveLimited(mint, (_, path) => {
      if (path !== "/v1/keysets" || !first) return undefined
      first = false
      return "1"
    })
    const client = await clientOver(globalThis.fetch, FAST)
    const started = Date.now()
    const res = await run(client.keysets(server.url))
    expect(res.keysets.length).toBe(1)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(server.hits()).toBe(2)
  })

  vit("a 429 on a swap is MintNotSent(rate-limited); later calls wait or fail unsent", async () => {
    const mint = createTestMint()
    const server = await serveLimited(mint, (method) => (method === "POST" ? "60" : undefined))
    const client = await clientOver(globalThis.fetch, FAST)
    const before = Date.now()
    const e = await fail(client.swap(server.url, "{}"))
    expect(e).toMatchObject({ _tag: "MintNotSent", reason: "rate-limited" })
    const retryAt = e._tag === "MintNotSent" ? (e.retryAt ?? 0) : 0
    expect(retryAt).toBeGreaterThanOrEqual(before + 60_000)
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 60_000)
    // The mint asked for 60 s, more than the 10 s the client waits: the next call is not even sent.
    expect(await fail(client.info(server.url))).toMatchObject({ _tag: "MintNotSent", reason: "rate-limited" })
    expect(server.hits()).toBe(1)
  })

  vit("reads an HTTP-date Retry-After", async () => {
    const mint = createTestMint()
    const at = new Date(Date.now() + 30_000)
    const server = await serveLimited(mint, () => at.toUTCString())
    const client = await clientOver(globalThis.fetch, FAST)
    const e = await fail(client.mintQuote(server.url, "bolt11", { amount: 1n, unit: "sat" }))
    expect(e).toMatchObject({
      _tag: "MintNotSent",
      reason: "rate-limited",
      retryAt: Math.floor(at.getTime() / 1000) * 1000,
    })
  })
})
