import { describe, expect, it } from "vitest"
import { sagaPhase } from "../../src/machines/operation.js"
import { sendMachine } from "../../src/machines/send.js"
import { legal, moneySagaLaws, refused } from "./support.js"

moneySagaLaws("send", "checkstate")

describe("send saga", () => {
  it("is the send machine", () => {
    expect(sendMachine.id).toBe("send")
  })

  it("completes offline from exact proofs without any request", () => {
    expect(sagaPhase(legal("send", []))).toEqual({ _tag: "NotSent" })
    expect(legal("send", ["C"])).toEqual({
      kind: "send",
      operationId: "op-1",
      state: "completed",
      attempts: 0,
    })
  })

  it("once a swap-to-send is prepared, completes only through its swap", () => {
    expect(refused("send", ["P", "C"])).toEqual({ from: "prepared", event: "OperationCompleted" })
    expect(refused("send", ["P", "R", "C"])).toEqual({ from: "requested", event: "OperationCompleted" })
    expect(legal("send", ["P", "R", "S", "C"]).state).toBe("completed")
  })

  it("recovers an interrupted swap-to-send: restore of the stored (also locked) outputs, or release", () => {
    expect(legal("send", ["P", "R", "rec:checkstate:pending", "rec:restore:recovered", "S", "C"]).state).toBe(
      "completed",
    )
    expect(legal("send", ["P", "R", "rec:checkstate:compensated", "comp:not-processed"]).state).toBe(
      "compensated",
    )
  })

  it("admits only its own compensation reasons", () => {
    for (const reason of ["quote-expired", "invalid-token", "token-spent", "payment-failed"])
      expect(refused("send", [`comp:${reason}`]).event).toBe("OperationCompensated")
  })
})
