import { describe, expect, it } from "vitest"
import * as machines from "../../src/machines/index.js"
import { started } from "./support.js"

describe("machines barrel", () => {
  it("exposes the API the engine relies on, under these exact names", () => {
    const api = machines as Record<string, unknown>
    for (const name of [
      "proofTransition",
      "sagaMachineOf",
      "startOperation",
      "stepOperation",
      "replayOperation",
      "sagaPhase",
      "assertBatchLegal",
      "IllegalOperationStep",
    ])
      expect(typeof api[name], name).toBe("function")
    for (const kind of ["proof", "swap", "mint", "melt", "send", "receive", "restore", "checkstate"])
      expect((api[`${kind}Machine`] as { id: string }).id).toBe(kind)
    expect(machines.sagaPhase(machines.startOperation(started("mint")))).toEqual({ _tag: "AwaitingPayment" })
  })
})
