import { describe, expect, it } from "vitest"
import { checkstateMachine } from "../../src/machines/checkstate.js"
import { sagaPhase } from "../../src/machines/operation.js"
import { legal, refused } from "./support.js"

describe("checkstate saga", () => {
  it("is the checkstate machine", () => {
    expect(checkstateMachine.id).toBe("checkstate")
  })

  it("completes after its request, with or without a prepared intent", () => {
    expect(legal("checkstate", ["R", "C"])).toMatchObject({ state: "completed", attempts: 1 })
    expect(legal("checkstate", ["P", "R", "C"]).state).toBe("completed")
    expect(legal("checkstate", ["R", "pend:ambiguous", "R", "C"])).toMatchObject({
      state: "completed",
      attempts: 2,
    })
  })

  it("needs a request to complete and never carries signatures", () => {
    expect(refused("checkstate", ["C"])).toEqual({ from: "started", event: "OperationCompleted" })
    expect(refused("checkstate", ["R", "S"])).toEqual({ from: "requested", event: "OperationSigned" })
    expect(refused("checkstate", ["R", "pend:ambiguous", "C"])).toEqual({
      from: "ambiguous",
      event: "OperationCompleted",
    })
  })

  it("holds nothing, so it may stop at any point before the end", () => {
    expect(legal("checkstate", ["comp:cancelled"]).state).toBe("compensated")
    expect(legal("checkstate", ["R", "comp:rejected"]).state).toBe("compensated")
    expect(legal("checkstate", ["R", "pend:ambiguous", "comp:cancelled"]).state).toBe("compensated")
    expect(sagaPhase(legal("checkstate", []))).toEqual({ _tag: "NotSent" })
    expect(refused("checkstate", ["R", "comp:token-spent"]).from).toBe("requested")
  })

  it("accepts nothing after it ended", () => {
    expect(refused("checkstate", ["R", "C", "comp:cancelled"])).toEqual({
      from: "completed",
      event: "OperationCompensated",
    })
    expect(refused("checkstate", ["R", "C", "rec:local:recovered"])).toEqual({
      from: "completed",
      event: "OperationRecovering",
    })
  })
})
