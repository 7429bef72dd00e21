import { describe, expect, it } from "vitest"
import { swapMachine, swapSpec } from "../../src/machines/swap.js"
import { legal, moneySagaLaws, refused } from "./support.js"

moneySagaLaws("swap", "checkstate")

describe("swap saga", () => {
  it("is the swap machine", () => {
    expect(swapMachine.id).toBe("swap")
    expect(swapSpec.kind).toBe("swap")
  })

  it("never completes without signatures, whether or not a request left", () => {
    expect(refused("swap", ["C"])).toEqual({ from: "started", event: "OperationCompleted" })
    expect(refused("swap", ["P", "R", "C"])).toEqual({ from: "requested", event: "OperationCompleted" })
    expect(refused("swap", ["P", "R", "pend:ambiguous", "C"])).toEqual({
      from: "ambiguous",
      event: "OperationCompleted",
    })
  })

  it("has no payment that can stay pending", () => {
    expect(refused("swap", ["P", "R", "pend:payment-pending"])).toEqual({
      from: "requested",
      event: "OperationPending",
    })
  })

  it("admits only its own compensation reasons", () => {
    for (const reason of ["quote-expired", "invalid-token", "token-spent", "payment-failed"])
      expect(refused("swap", [`comp:${reason}`]).event).toBe("OperationCompensated")
    expect(refused("swap", ["P", "R", "comp:not-processed"])).toEqual({
      from: "requested",
      event: "OperationCompensated",
    })
    expect(refused("swap", ["P", "R", "comp:cancelled"])).toEqual({
      from: "requested",
      event: "OperationCompensated",
    })
  })

  it("runs the swap recovery: replay-success, spent → restore, unspent → compensate, unreachable → skip", () => {
    const base = ["P", "R", "pend:ambiguous"]
    expect(legal("swap", [...base, "R", "S", "C"]).state).toBe("completed")
    expect(
      legal("swap", [
        ...base,
        "rec:replay:failed",
        "rec:checkstate:pending",
        "rec:restore:recovered",
        "S",
        "C",
      ]).state,
    ).toBe("completed")
    expect(
      legal("swap", [...base, "rec:replay:failed", "rec:checkstate:compensated", "comp:not-processed"]).state,
    ).toBe("compensated")
    expect(legal("swap", [...base, "rec:replay:skipped"]).state).toBe("ambiguous")
  })
})
