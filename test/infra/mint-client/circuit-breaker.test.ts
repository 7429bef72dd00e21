import { it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect } from "vitest"
import { type CallVerdict, makeCircuitBreaker } from "../../../src/infra/mint-client/circuit-breaker.js"
import { MintClientHttpLive } from "../../../src/infra/mint-client/http.js"
import { mintBreakerState } from "../../../src/infra/mint-client/telemetry.js"
import { MintUnreachable } from "../../../src/model/index.js"
import { MintClient } from "../../../src/ports/mint-client.js"
import { createTestMint } from "../../support/mint/index.js"
import { seen } from "./harness.js"

const URL_A = "http://a.test"
const boom = Effect.fail(new MintUnreachable({ mintUrl: URL_A, endpoint: "info", message: "down" }))
const verdict = (exit: Exit.Exit<unknown, unknown>): CallVerdict =>
  Exit.isSuccess(exit) ? "success" : "failure"

describe("circuit breaker (unit, TestClock)", () => {
  it.effect("opens after N consecutive failures, fails fast, half-opens after the cool-down", () =>
    Effect.gen(function* () {
      const breaker = makeCircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000 })
      let runs = 0
      const failing = Effect.suspend(() => {
        runs++
        return boom
      })
      const ok = Effect.sync(() => {
        runs++
        return "ok"
      })
      const call = <A, E>(self: Effect.Effect<A, E>) =>
        Effect.flip(breaker.protect(URL_A, "info", verdict, self))
      for (let i = 0; i < 3; i++) expect((yield* call(failing))._tag).toBe("MintUnreachable")
      expect(yield* breaker.state(URL_A)).toBe("open")
      const refused = yield* call(ok)
      expect(refused).toMatchObject({ _tag: "MintNotSent", reason: "circuit-open" })
      expect(runs).toBe(3)
      // Another mint is unaffected.
      expect(yield* breaker.protect("http://b.test", "info", verdict, ok)).toBe("ok")

      yield* TestClock.adjust(9_999)
      expect((yield* call(ok))._tag).toBe("MintNotSent")
      yield* TestClock.adjust(1)
      expect(yield* breaker.state(URL_A)).toBe("half-open")
      // The probe fails: open again for a full cool-down.
      expect((yield* call(failing))._tag).toBe("MintUnreachable")
      expect(yield* breaker.state(URL_A)).toBe("open")
      expect((yield* call(ok))._tag).toBe("MintNotSent")
      yield* TestClock.adjust(10_000)
      // The probe succeeds: closed.
      expect(yield* breaker.protect(URL_A, "info", verdict, ok)).toBe("ok")
      expect(yield* breaker.state(URL_A)).toBe("closed")
      expect(yield* breaker.protect(URL_A, "info", verdict, ok)).toBe("ok")
    }),
  )

  it.effect("lets a single probe through while half-open", () =>
    Effect.gen(function* () {
      const breaker = makeCircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 })
      yield* Effect.flip(breaker.protect(URL_A, "info", verdict, boom))
      yield* TestClock.adjust(1_000)
      const probe = yield* Effect.forkChild(breaker.protect(URL_A, "info", verdict, Effect.sleep(500)))
      yield* Effect.yieldNow
      const second = yield* Effect.flip(breaker.protect(URL_A, "info", verdict, Effect.void))
      expect(second).toMatchObject({ _tag: "MintNotSent", reason: "circuit-open" })
      yield* TestClock.adjust(500)
      yield* Fiber.join(probe)
      expect(yield* breaker.state(URL_A)).toBe("closed")
    }),
  )

  it.effect("a success in between resets the count", () =>
    Effect.gen(function* () {
      const breaker = makeCircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 })
      yield* Effect.flip(breaker.protect(URL_A, "info", verdict, boom))
      yield* breaker.protect(URL_A, "info", verdict, Effect.void)
      yield* Effect.flip(breaker.protect(URL_A, "info", verdict, boom))
      expect(yield* breaker.state(URL_A)).toBe("closed")
    }),
  )
})

describe("circuit breaker in the HTTP client", () => {
  it.effect("transport failures open it; calls then fail unsent; a probe after the cool-down closes it", () =>
    Effect.gen(function* () {
      const mint = createTestMint()
      const registry = new Map()
      const client = yield* Effect.provide(
        Effect.gen(function* () {
          return yield* MintClient
        }),
        MintClientHttpLive({
          fetch: mint.fetch,
          retry: { times: 0 },
          circuitBreaker: { failureThreshold: 3, cooldownMs: 30_000 },
        }),
      )
      const gauge = Metric.withAttributes(mintBreakerState, { mint: mint.baseUrl })
      const url = mint.baseUrl
      mint.faults.next({ path: "/v1/keysets", kind: "drop-request", times: 2 })
      mint.faults.next({ path: "/v1/keys", kind: "error-500" })
      const run = <A, E>(self: Effect.Effect<A, E>) =>
        Effect.provideService(self, Metric.MetricRegistry, registry)
      expect((yield* run(Effect.flip(client.keysets(url))))._tag).toBe("MintUnreachable")
      expect((yield* run(Effect.flip(client.keysets(url))))._tag).toBe("MintUnreachable")
      expect((yield* run(Effect.flip(client.keys(url))))._tag).toBe("MintAmbiguous")
      expect((yield* run(Metric.value(gauge))).value).toBe(2)
      // Open: nothing is sent, and a swap refused this way is definitive (the inputs never left).
      const refused = yield* run(Effect.flip(client.swap(url, "{}")))
      expect(refused).toMatchObject({ _tag: "MintNotSent", reason: "circuit-open" })
      expect(seen(mint, "POST /v1/swap")).toBe(0)
      expect(seen(mint, "GET /v1/info")).toBe(0)

      yield* TestClock.adjust(30_000)
      yield* run(client.keysets(url))
      expect((yield* run(Metric.value(gauge))).value).toBe(0)
      yield* run(client.info(url))
    }),
  )
})
