import { it } from "@effect/vitest"
import { Data, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect } from "vitest"
import {
  DEFAULT_TIMEOUTS,
  resolveTimeouts,
  type TimeoutOverrides,
  timeoutOf,
  withTimeout,
} from "../../../src/infra/mint-client/timeouts.js"

class TooSlow extends Data.TaggedError("TooSlow")<{ readonly ms: number }> {}

describe("timeouts", () => {
  it("melt has none; GETs are shorter than money-moving POSTs", () => {
    expect(timeoutOf(DEFAULT_TIMEOUTS, "melt")).toBeNull()
    expect(timeoutOf(DEFAULT_TIMEOUTS, "info")).toBeLessThan(timeoutOf(DEFAULT_TIMEOUTS, "swap")!)
    expect(timeoutOf(DEFAULT_TIMEOUTS, "mint")).toBe(30_000)
  })

  it("overrides apply, except to melt and except nonsense values", () => {
    const t = resolveTimeouts({ swap: 5, info: -1, keys: Number.NaN, melt: 10 } as TimeoutOverrides)
    expect(t.swap).toBe(5)
    expect(t.info).toBe(DEFAULT_TIMEOUTS.info)
    expect(t.keys).toBe(DEFAULT_TIMEOUTS.keys)
    expect(t.melt).toBeNull()
  })

  it.effect("fails with the given error once the time is up, on the Effect clock", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(
        Effect.flip(Effect.sleep(1_000).pipe(withTimeout(100, (ms) => new TooSlow({ ms })))),
      )
      yield* TestClock.adjust(100)
      expect(yield* Fiber.join(fiber)).toEqual(new TooSlow({ ms: 100 }))
    }),
  )

  it.effect("no timeout leaves the effect unbounded", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(
        Effect.as(Effect.sleep(3_600_000), "done").pipe(withTimeout(null, (ms) => new TooSlow({ ms }))),
      )
      yield* TestClock.adjust(3_600_000)
      expect(yield* Fiber.join(fiber)).toBe("done")
    }),
  )
})
