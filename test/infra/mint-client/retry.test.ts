import { it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect } from "vitest"
import { MintSaidWait } from "../../../src/infra/mint-client/rate-limit.js"
import { backoff, isRetryableRead } from "../../../src/infra/mint-client/retry.js"
import {
  MintAmbiguous,
  MintNotSent,
  MintRejected,
  MintTimeout,
  MintUnreachable,
} from "../../../src/model/index.js"

const at = { mintUrl: "http://m.test", endpoint: "info" as const }
const ambiguous = (status: number, reason: "status" | "code" | "malformed") =>
  new MintAmbiguous({ ...at, status, code: undefined, reason, detail: "", message: "x" })

describe("read retry classification", () => {
  it("retries no answer, timeouts, 5xx, garbled 2xx and 429s", () => {
    expect(isRetryableRead(new MintUnreachable({ ...at, message: "x" }))).toBe(true)
    expect(isRetryableRead(new MintTimeout({ ...at, afterMs: 1, message: "x" }))).toBe(true)
    expect(isRetryableRead(ambiguous(502, "status"))).toBe(true)
    expect(isRetryableRead(ambiguous(500, "code"))).toBe(true)
    expect(isRetryableRead(ambiguous(200, "malformed"))).toBe(true)
    expect(isRetryableRead(new MintSaidWait({ ...at, retryAt: 0 }))).toBe(true)
  })

  it("does not retry refusals, well-formed error answers or calls never sent", () => {
    expect(isRetryableRead(ambiguous(400, "code"))).toBe(false)
    expect(
      isRetryableRead(new MintRejected({ ...at, status: 400, code: 12001, detail: "", message: "x" })),
    ).toBe(false)
    expect(
      isRetryableRead(new MintNotSent({ ...at, reason: "circuit-open", retryAt: undefined, message: "x" })),
    ).toBe(false)
  })
})

describe("backoff", () => {
  it.effect("grows exponentially with ±20% jitter, capped, for a bounded number of retries", () =>
    Effect.gen(function* () {
      const times: number[] = []
      const failing = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        times.push(now)
        return Effect.fail("nope")
      })
      const fiber = yield* Effect.forkChild(
        Effect.flip(
          Effect.retry(failing, backoff({ times: 4, baseDelayMs: 100, factor: 2, maxDelayMs: 300 })),
        ),
      )
      yield* TestClock.adjust(10_000)
      expect(yield* Fiber.join(fiber)).toBe("nope")
      expect(times.length).toBe(5)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      const expected = [100, 200, 300, 300]
      gaps.forEach((g, i) => {
        expect(g).toBeGreaterThanOrEqual(Math.floor(expected[i]! * 0.8))
        expect(g).toBeLessThanOrEqual(Math.ceil(expected[i]! * 1.2))
      })
    }),
  )
})
