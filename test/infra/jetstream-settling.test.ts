/**
 * Open-time setup against a settling cluster (`src/infra/jetstream/settling.ts`): "not now" failures are
 * retried within the budget, anything else fails at once.
 */
import { describe, expect, it } from "vitest"
import { isSettling, whenSettled } from "../../src/infra/jetstream/settling.js"

describe("whenSettled", () => {
  it("retries what the cluster's settling explains, then answers", async () => {
    let calls = 0
    const r = await whenSettled(async () => {
      if (++calls < 3) throw new Error("503 jetstream is not enabled")
      return "ok"
    })
    expect(r).toBe("ok")
    expect(calls).toBe(3)
  })

  it("fails at once on a refusal, and after the budget on a cluster that never settles", async () => {
    let calls = 0
    await expect(
      whenSettled(async () => {
        calls++
        throw new Error("wrong last sequence: 7")
      }),
    ).rejects.toThrow("wrong last sequence")
    expect(calls).toBe(1)
    const started = Date.now()
    await expect(
      whenSettled(async () => {
        throw new Error("no responders")
      }, 300),
    ).rejects.toThrow("no responders")
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it("knows the settling answers by message or code", () => {
    for (const m of [
      "jetstream is not enabled",
      "TIMEOUT",
      "no suitable peers for placement",
      "no responders",
    ])
      expect(isSettling(new Error(m))).toBe(true)
    expect(isSettling(Object.assign(new Error("request failed"), { code: "503" }))).toBe(true)
    expect(isSettling(new Error("maximum payload exceeded"))).toBe(false)
    expect(isSettling("503")).toBe(false)
  })
})
