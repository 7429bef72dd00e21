import { describe, expect, it } from "vitest"
import { meltMachine } from "../../src/machines/melt.js"
import { sagaPhase } from "../../src/machines/operation.js"
import { legal, moneySagaLaws, refused, STEPS } from "./support.js"

moneySagaLaws("melt", "quote-state")

const PAYING = ["P", "R", "pend:payment-pending"]

describe("melt saga", () => {
  it("is the melt machine", () => {
    expect(meltMachine.id).toBe("melt")
  })

  it("completes on the answer alone when there is no change, or with the change signatures", () => {
    expect(legal("melt", ["P", "R", "C"]).state).toBe("completed")
    expect(legal("melt", ["P", "R", "S", "C"]).state).toBe("completed")
  })

  it("compensates on a definitive answer: an error, or the payment failed", () => {
    expect(legal("melt", ["P", "R", "comp:payment-failed"]).state).toBe("compensated")
    expect(legal("melt", ["comp:quote-expired"]).state).toBe("compensated")
    expect(refused("melt", ["P", "comp:quote-expired"]).from).toBe("prepared")
  })

  it("keeps a pending payment pending until a quote-state check decides it", () => {
    const paying = legal("melt", PAYING)
    expect(paying.state).toBe("paymentPending")
    expect(sagaPhase(paying)).toEqual({ _tag: "PaymentPending" })
    for (const outcome of ["pending", "skipped", "failed"])
      expect(legal("melt", [...PAYING, `rec:quote-state:${outcome}`]).state).toBe("paymentPending")
    expect(legal("melt", [...PAYING, "pend:payment-pending", "pend:ambiguous"]).state).toBe("paymentPending")
    expect(legal("melt", [...PAYING, "rec:quote-state:recovered", "S", "C"]).state).toBe("completed")
    expect(legal("melt", [...PAYING, "rec:quote-state:recovered", "C"]).state).toBe("completed")
    expect(legal("melt", [...PAYING, "rec:quote-state:compensated", "comp:payment-failed"]).state).toBe(
      "compensated",
    )
  })

  it("refuses to end a pending payment without the quote state", () => {
    expect(refused("melt", [...PAYING, "C"])).toEqual({ from: "paymentPending", event: "OperationCompleted" })
    expect(refused("melt", [...PAYING, "S"])).toEqual({ from: "paymentPending", event: "OperationSigned" })
    expect(refused("melt", [...PAYING, "comp:payment-failed"])).toEqual({
      from: "paymentPending",
      event: "OperationCompensated",
    })
    expect(refused("melt", [...PAYING, "R"])).toEqual({ from: "paymentPending", event: "OperationRequested" })
    for (const step of STEPS.filter((s) => s !== "quote-state"))
      for (const outcome of ["recovered", "compensated"])
        expect(refused("melt", [...PAYING, `rec:${step}:${outcome}`])).toEqual({
          from: "paymentPending",
          event: "OperationRecovering",
        })
  })

  it("treats a timeout as unknown: only the quote state may release the inputs", () => {
    const timedOut = ["P", "R", "pend:ambiguous"]
    expect(legal("melt", [...timedOut, "rec:quote-state:pending"]).state).toBe("paymentPending")
    expect(refused("melt", [...timedOut, "rec:checkstate:compensated"])).toEqual({
      from: "ambiguous",
      event: "OperationRecovering",
    })
    expect(legal("melt", [...timedOut, "rec:quote-state:compensated", "comp:payment-failed"]).state).toBe(
      "compensated",
    )
    expect(legal("melt", [...timedOut, "rec:quote-state:recovered", "C"]).state).toBe("completed")
  })

  it("admits only its own compensation reasons", () => {
    for (const reason of ["invalid-token", "token-spent"])
      expect(refused("melt", [`comp:${reason}`]).event).toBe("OperationCompensated")
    expect(refused("melt", ["P", "R", "comp:not-processed"]).from).toBe("requested")
  })
})
