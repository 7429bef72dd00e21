import { describe, expect, it } from "vitest"
import { sagaPhase } from "../../src/machines/operation.js"
import { restoreMachine } from "../../src/machines/restore.js"
import { legal, REASONS, refused } from "./support.js"

describe("restore saga", () => {
  it("is the restore machine", () => {
    expect(restoreMachine.id).toBe("restore")
  })

  it("scans batch after batch and completes after its requests", () => {
    expect(legal("restore", ["R", "S", "R", "S", "R", "C"])).toMatchObject({
      state: "completed",
      attempts: 3,
    })
    expect(legal("restore", ["P", "R", "S", "C"]).state).toBe("completed")
    // Nothing found: no signatures at all.
    expect(legal("restore", ["R", "C"]).state).toBe("completed")
  })

  it("completes only after a request", () => {
    expect(refused("restore", ["C"])).toEqual({ from: "started", event: "OperationCompleted" })
    expect(refused("restore", ["P", "C"])).toEqual({ from: "prepared", event: "OperationCompleted" })
    expect(refused("restore", ["R", "pend:ambiguous", "C"])).toEqual({
      from: "ambiguous",
      event: "OperationCompleted",
    })
  })

  it("retries a failed batch and may stop at any point before signatures are stored", () => {
    expect(legal("restore", ["R", "pend:ambiguous", "R", "S", "C"]).state).toBe("completed")
    expect(legal("restore", ["R", "pend:ambiguous", "comp:cancelled"]).state).toBe("compensated")
    expect(legal("restore", ["R", "comp:rejected"]).state).toBe("compensated")
    expect(sagaPhase(legal("restore", ["R", "pend:ambiguous"]))).toEqual({ _tag: "InFlight", attempts: 1 })
  })

  it("never compensates once signatures are stored, nor for a reason that needs money moved", () => {
    for (const reason of REASONS) expect(refused("restore", ["R", "S", `comp:${reason}`]).from).toBe("signed")
    for (const reason of ["quote-expired", "invalid-token", "token-spent", "payment-failed"])
      expect(refused("restore", ["R", `comp:${reason}`]).from).toBe("requested")
    expect(refused("restore", ["R", "pend:payment-pending"])).toEqual({
      from: "requested",
      event: "OperationPending",
    })
  })

  it("accepts nothing after it ended and refuses attempt gaps", () => {
    expect(refused("restore", ["R", "C", "R"])).toEqual({ from: "completed", event: "OperationRequested" })
    expect(refused("restore", ["R", "S", "R3"])).toEqual({ from: "signed", event: "OperationRequested" })
  })
})
