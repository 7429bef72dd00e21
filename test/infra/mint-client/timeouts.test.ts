import { it } from "@effect/vitest"
import { Data, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { describe, expect } from "vitest"
import {
  DEFAULT_IDLE_TIMEOUTS,
  DEFAULT_TIMEOUTS,
  resolveIdleTimeouts,
  resolveTimeouts,
  type TimeoutOverrides,
  timeoutOf,
  withIdleBound,
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

describe("idle bounds", () => {
  it("every endpoint has one, melt included (120 s); overrides apply, nonsense is ignored", () => {
    expect(DEFAULT_IDLE_TIMEOUTS.melt).toBe(120_000)
    for (const ms of Object.values(DEFAULT_IDLE_TIMEOUTS)) expect(ms).toBeGreaterThan(0)
    const t = resolveIdleTimeouts({ melt: 5, swap: -1, info: Number.NaN })
    expect(t.melt).toBe(5)
    expect(t.swap).toBe(DEFAULT_IDLE_TIMEOUTS.swap)
    expect(t.info).toBe(DEFAULT_IDLE_TIMEOUTS.info)
  })

  it.effect("trips only after `ms` without progress, however long the whole takes", () =>
    Effect.gen(function* () {
      // Progress every 90 ms for 10 pieces (900 ms in all) under a 100 ms idle bound: completes.
      const steady = yield* Effect.forkChild(
        withIdleBound(
          100,
          (ms) => new TooSlow({ ms }),
          (touch) => Effect.as(Effect.repeat(Effect.andThen(Effect.sleep(90), touch), { times: 9 }), "done"),
        ),
      )
      for (let i = 0; i < 10; i++) yield* TestClock.adjust(90)
      expect(yield* Fiber.join(steady)).toBe("done")
      // One gap of 100 ms: fails, and the work is interrupted.
      const stalled = yield* Effect.forkChild(
        Effect.flip(
          withIdleBound(
            100,
            (ms) => new TooSlow({ ms }),
            (touch) => Effect.andThen(Effect.andThen(Effect.sleep(50), touch), Effect.sleep(1_000)),
          ),
        ),
      )
      yield* TestClock.adjust(50)
      yield* TestClock.adjust(100)
      expect(yield* Fiber.join(stalled)).toEqual(new TooSlow({ ms: 100 }))
    }),
  )
})
