import { describe, expect, it } from "vitest"
import { mintMachine } from "../../src/machines/mint.js"
import { sagaPhase } from "../../src/machines/operation.js"
import { legal, moneySagaLaws, refused } from "./support.js"

moneySagaLaws("mint", "checkstate")

describe("mint saga", () => {
  it("is the mint machine", () => {
    expect(mintMachine.id).toBe("mint")
  })

  it("waits for the quote's payment in started, polling it", () => {
    expect(sagaPhase(legal("mint", []))).toEqual({ _tag: "AwaitingPayment" })
    const polled = legal("mint", ["rec:quote-state:pending", "rec:quote-state:skipped"])
    expect(polled.state).toBe("started")
    expect(sagaPhase(polled)).toEqual({ _tag: "AwaitingPayment" })
    // Paid: the outputs are prepared and no longer await anything.
    expect(sagaPhase(legal("mint", ["P"]))).toEqual({ _tag: "NotSent" })
  })

  it("compensates an expired quote only before anything was prepared", () => {
    expect(legal("mint", ["comp:quote-expired"]).state).toBe("compensated")
    expect(refused("mint", ["P", "comp:quote-expired"])).toEqual({
      from: "prepared",
      event: "OperationCompensated",
    })
    expect(refused("mint", ["P", "R", "comp:quote-expired"])).toEqual({
      from: "requested",
      event: "OperationCompensated",
    })
  })

  it("recovers replay-first, then by restore", () => {
    expect(legal("mint", ["P", "R", "pend:ambiguous", "R", "S", "C"])).toMatchObject({
      state: "completed",
      attempts: 2,
    })
    // 11003 (outputs already signed) is ambiguous: restore the stored outputs.
    expect(
      legal("mint", ["P", "R", "pend:ambiguous", "rec:replay:failed", "rec:restore:recovered", "S", "C"])
        .state,
    ).toBe("completed")
  })

  it("never completes without signatures and never has a payment pending", () => {
    expect(refused("mint", ["C"])).toEqual({ from: "started", event: "OperationCompleted" })
    expect(refused("mint", ["P", "R", "C"])).toEqual({ from: "requested", event: "OperationCompleted" })
    expect(refused("mint", ["P", "R", "pend:payment-pending"])).toEqual({
      from: "requested",
      event: "OperationPending",
    })
    expect(refused("mint", ["comp:invalid-token"]).event).toBe("OperationCompensated")
  })
})
