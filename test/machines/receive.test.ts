import { describe, expect, it } from "vitest"
import { receiveMachine } from "../../src/machines/receive.js"
import { legal, moneySagaLaws, refused } from "./support.js"

moneySagaLaws("receive", "checkstate")

describe("receive saga", () => {
  it("is the receive machine", () => {
    expect(receiveMachine.id).toBe("receive")
  })

  it("rejects an invalid or already spent token before the swap", () => {
    expect(legal("receive", ["comp:invalid-token"]).state).toBe("compensated")
    expect(legal("receive", ["comp:token-spent"]).state).toBe("compensated")
    expect(refused("receive", ["P", "comp:invalid-token"])).toEqual({
      from: "prepared",
      event: "OperationCompensated",
    })
  })

  it("after the swap left, treats 'already spent' as ambiguous: token-spent needs a recovery finding", () => {
    expect(refused("receive", ["P", "R", "comp:token-spent"])).toEqual({
      from: "requested",
      event: "OperationCompensated",
    })
    expect(
      legal("receive", [
        "P",
        "R",
        "pend:ambiguous",
        "rec:checkstate:pending",
        "rec:restore:compensated",
        "comp:token-spent",
      ]).state,
    ).toBe("compensated")
    // Our own earlier attempt had consumed it: the restore finds our outputs.
    expect(legal("receive", ["P", "R", "pend:ambiguous", "rec:restore:recovered", "S", "C"]).state).toBe(
      "completed",
    )
  })

  it("never completes without signatures", () => {
    expect(refused("receive", ["C"])).toEqual({ from: "started", event: "OperationCompleted" })
    expect(refused("receive", ["P", "R", "C"])).toEqual({ from: "requested", event: "OperationCompleted" })
  })

  it("admits only its own compensation reasons", () => {
    for (const reason of ["quote-expired", "payment-failed"])
      expect(refused("receive", [`comp:${reason}`]).event).toBe("OperationCompensated")
  })
})
