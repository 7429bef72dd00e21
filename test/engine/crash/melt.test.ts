/**
 * Crash points of a melt (quote → pay with NUT-08 change): after every crash the payment happened exactly once
 * or not at all, the change is in the wallet when it happened, and the wallet's value equals what the mint has
 * outstanding for it.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { walletRuntime } from "../../../src/engine/internal.js"
import {
  type CrashCase,
  type CrashMint,
  enumerateCrashPoints,
  freshWallet,
  fund,
  held,
  startCrashMint,
} from "./harness.js"

let cm: CrashMint
/** A mint whose Lightning payments stay in flight until the test settles them. */
let slow: CrashMint
beforeAll(async () => {
  cm = await startCrashMint()
  slow = await startCrashMint({ config: { meltOutcome: "pending" } })
})
afterAll(async () => {
  await cm.served.close()
  await slow.served.close()
})

const meltCase = (stats: { paidByRecovery: number }): CrashCase<undefined> => ({
  setup: async (cm) => {
    const { dataDir, engine, wallet } = await freshWallet(cm)
    await fund(cm, wallet, 16n)
    await engine.close()
    return { dataDir, op: { kind: "melt", invoice: cm.mint.invoice(5n) }, state: undefined }
  },
  check: async (cm, r, base) => {
    const w = r.wallet
    expect(held(w, cm.url)).toBe(cm.mint.stats().outstanding - base)
    const melts = w.history().filter((op) => op.kind === "melt")
    const paid = melts.filter((op) => op.status === "completed")
    expect(paid.length).toBeLessThanOrEqual(1)
    // Paid: 5 to the invoice and the mint's lightning fee of 1, the rest of the reserve back as change.
    expect(held(w, cm.url)).toBe(paid.length === 1 ? 10n : 16n)
    if (paid[0] !== undefined && paid[0].recoveries > 0) stats.paidByRecovery++
    if (!r.run.crashed) expect(paid).toHaveLength(1)
    expect(w.pending()).toEqual([])
    await fund(cm, w, 3n)
    expect(held(w, cm.url)).toBe(cm.mint.stats().outstanding - base)
  },
})

describe("crash points: melt", { timeout: 600_000 }, () => {
  it("pays once or not at all at every crash point, change included, and in recovery", async () => {
    const stats = { paidByRecovery: 0 }
    const result = await enumerateCrashPoints(cm, meltCase(stats))
    expect(result.points).toContain("request-lost melt")
    expect(stats.paidByRecovery).toBeGreaterThanOrEqual(1)
    // The melt's answer was lost; then recovery itself crashes at each of its points.
    const inRecovery = { paidByRecovery: 0 }
    const recovery = await enumerateCrashPoints(cm, meltCase(inRecovery), {
      thenRecoverFrom: result.points.indexOf("request-lost melt") + 1,
    })
    expect(recovery.points).toContain("after-append")
    expect(inRecovery.paidByRecovery).toBe(recovery.crashes + 1)
  })

  it("a payment still pending at the crash stays pending, then settles once", async () => {
    let pendingAfterRecovery = 0
    const result = await enumerateCrashPoints(
      slow,
      {
        ...meltCase({ paidByRecovery: 0 }),
        resolve: async (cm, w) => {
          // Recovery must leave a melt whose payment is in flight pending (inputs held), never release it.
          const open = w.history().filter((op) => op.kind === "melt" && op.status === "pending")
          if (open.length === 0) return
          pendingAfterRecovery++
          expect(w.pending().reduce((s, p) => s + p.amount, 0n)).toBe(16n)
          const events = await Effect.runPromise(walletRuntime(w).operationEvents(open[0]!.operationId))
          const started = events.map((r) => r.event).find((e) => e._tag === "OperationStarted")
          if (started?._tag !== "OperationStarted" || started.kind !== "melt") expect.fail("no melt quote")
          cm.mint.settleMelt(started.quoteId, "paid")
          await w.checkPending(cm.url)
        },
        expectFinal: (report) => expect(report).toMatchObject({ t: "done", result: "melted 5 pending" }),
      },
      // From the intent's durable append on: the quote's points are covered above.
      { from: 6 },
    )
    expect(result.points.slice(5, 7)).toEqual(["after-append", "request-lost melt"])
    expect(pendingAfterRecovery).toBeGreaterThanOrEqual(3)
  })
})
