/**
 * Real catalogue events for the machine tests, built as plain objects typed by the catalogue, and a
 * shorthand to write a saga's history as a list of steps.
 */

import { describe, expect, it } from "vitest"
import type {
  OperationCompleted,
  OperationPending,
  OperationRecovering,
  OperationStarted,
} from "../../src/events/catalogue.js"
import {
  IllegalOperationStep,
  replayOperation,
  type SagaSnapshot,
  sagaPhase,
  stepOperation,
} from "../../src/machines/operation.js"
import type { OperationEvent } from "../../src/machines/saga.js"
import type { CompensationReason, OperationKind } from "../../src/model/index.js"

export const MINT = "https://mint.example.com"
export const POINT = `02${"ab".repeat(32)}`
export const KEYSET = `00${"12".repeat(7)}`

/** The `OperationStarted` of each kind, with plausible content. */
export const started = (kind: OperationKind, operationId = "op-1"): OperationStarted => {
  switch (kind) {
    case "mint":
      return {
        _tag: "OperationStarted",
        operationId,
        kind,
        mintUrl: MINT,
        unit: "sat",
        method: "bolt11",
        quoteId: "quote-1",
        amount: 100n,
        request: "lnbc1000n1invoice",
      }
    case "melt":
      return {
        _tag: "OperationStarted",
        operationId,
        kind,
        mintUrl: MINT,
        unit: "sat",
        method: "bolt11",
        quoteId: "quote-2",
        amount: 90n,
        feeReserve: 4n,
        request: "lnbc900n1invoice",
      }
    case "swap":
      return { _tag: "OperationStarted", operationId, kind, mintUrl: MINT, unit: "sat", purpose: "split" }
    case "send":
      return { _tag: "OperationStarted", operationId, kind, mintUrl: MINT, unit: "sat", amount: 21n }
    case "receive":
      return {
        _tag: "OperationStarted",
        operationId,
        kind,
        mintUrl: MINT,
        unit: "sat",
        token: "cashuBtoken",
        amount: 21n,
      }
    case "restore":
      return {
        _tag: "OperationStarted",
        operationId,
        kind,
        mintUrl: MINT,
        keysetIds: [KEYSET],
        batchSize: 100,
        gapLimit: 3,
      }
    case "checkstate":
      return { _tag: "OperationStarted", operationId, kind, mintUrl: MINT, ys: [POINT] }
  }
}

/** The `OperationCompleted` of each kind. */
export const completed = (kind: OperationKind, operationId = "op-1"): OperationCompleted => {
  switch (kind) {
    case "mint":
      return { _tag: "OperationCompleted", operationId, kind, amount: 100n }
    case "melt":
      return {
        _tag: "OperationCompleted",
        operationId,
        kind,
        amount: 90n,
        feeReserve: 4n,
        feePaid: 1n,
        inputFee: 0n,
        change: 3n,
      }
    case "swap":
      return { _tag: "OperationCompleted", operationId, kind, amountIn: 64n, amountOut: 63n, fee: 1n }
    case "send":
      return { _tag: "OperationCompleted", operationId, kind, amount: 21n, fee: 0n, token: "cashuBsent" }
    case "receive":
      return { _tag: "OperationCompleted", operationId, kind, amount: 21n, fee: 0n }
    case "restore":
      return {
        _tag: "OperationCompleted",
        operationId,
        kind,
        found: 1,
        amount: 8n,
        counters: [{ keysetId: KEYSET, next: 7 }],
      }
    case "checkstate":
      return { _tag: "OperationCompleted", operationId, kind, unspent: 1, pending: 0, spent: 0 }
  }
}

/** The non-start events of one operation. */
export const events = (kind: OperationKind, operationId = "op-1") => ({
  prepared: (): OperationEvent => ({
    _tag: "OperationPrepared",
    operationId,
    kind,
    inputs: [POINT],
    outputs: [{ amount: 8n, id: KEYSET, B_: POINT, role: "keep", counter: 0 }],
    request: { path: "/v1/swap", body: '{"inputs":[],"outputs":[]}' },
  }),
  requested: (attempt: number): OperationEvent => ({
    _tag: "OperationRequested",
    operationId,
    kind,
    attempt,
  }),
  signed: (): OperationEvent => ({
    _tag: "OperationSigned",
    operationId,
    kind,
    signatures: [{ amount: 8n, id: KEYSET, C_: POINT }],
  }),
  pending: (reason: OperationPending["reason"]): OperationEvent => ({
    _tag: "OperationPending",
    operationId,
    kind,
    reason,
  }),
  completed: (): OperationEvent => completed(kind, operationId),
  compensated: (reason: CompensationReason): OperationEvent => ({
    _tag: "OperationCompensated",
    operationId,
    kind,
    reason,
  }),
  recovering: (
    step: OperationRecovering["step"],
    outcome: OperationRecovering["outcome"],
    attempt = 1,
  ): OperationEvent => ({ _tag: "OperationRecovering", operationId, kind, attempt, step, outcome }),
})

/**
 * A history in shorthand, after the start: `P` prepared, `R` requested (next attempt; `R3` attempt 3), `S`
 * signed, `C` completed, `pend:<reason>`, `comp:<reason>`, `rec:<step>:<outcome>`.
 */
export const history = (kind: OperationKind, steps: ReadonlyArray<string>): OperationEvent[] => {
  const e = events(kind)
  let attempts = 0
  const out: OperationEvent[] = [started(kind)]
  for (const s of steps) {
    const [head, a, b] = s.split(":")
    if (head === "P") out.push(e.prepared())
    else if (head === "S") out.push(e.signed())
    else if (head === "C") out.push(e.completed())
    else if (head?.startsWith("R")) {
      attempts = head.length > 1 ? Number(head.slice(1)) : attempts + 1
      out.push(e.requested(attempts))
    } else if (head === "pend") out.push(e.pending(a as OperationPending["reason"]))
    else if (head === "comp") out.push(e.compensated(a as CompensationReason))
    else if (head === "rec")
      out.push(e.recovering(a as OperationRecovering["step"], b as OperationRecovering["outcome"]))
    else throw new Error(`bad step ${s}`)
  }
  return out
}

/** Every compensation reason. */
export const REASONS: ReadonlyArray<CompensationReason> = [
  "rejected",
  "not-processed",
  "cancelled",
  "quote-expired",
  "payment-failed",
  "invalid-token",
  "token-spent",
]
export const STEPS: ReadonlyArray<OperationRecovering["step"]> = [
  "local",
  "replay",
  "checkstate",
  "restore",
  "quote-state",
]
export const OUTCOMES: ReadonlyArray<OperationRecovering["outcome"]> = [
  "recovered",
  "compensated",
  "pending",
  "skipped",
  "failed",
]

/**
 * Every event an operation could be offered next: the catalogue's steps with every reason, step and
 * outcome, and request attempts from 1 to `attempts + 2` (so that skipped attempts are offered too).
 */
export const candidates = (kind: OperationKind, attempts: number): OperationEvent[] => {
  const e = events(kind)
  const out: OperationEvent[] = [started(kind), e.prepared(), e.signed(), e.completed()]
  for (let n = 1; n <= attempts + 2; n++) out.push(e.requested(n))
  out.push(e.pending("ambiguous"), e.pending("payment-pending"))
  for (const r of REASONS) out.push(e.compensated(r))
  for (const s of STEPS) for (const o of OUTCOMES) out.push(e.recovering(s, o))
  return out
}

/** Replays the shorthand history of one operation. */
export const run = (kind: OperationKind, steps: ReadonlyArray<string>): SagaSnapshot | IllegalOperationStep =>
  replayOperation(history(kind, steps))

/** The snapshot after a legal history (fails the test with the refusal otherwise). */
export const legal = (kind: OperationKind, steps: ReadonlyArray<string>): SagaSnapshot => {
  const r = run(kind, steps)
  if (r instanceof IllegalOperationStep) throw new Error(`expected a legal history: ${r.message}`)
  return r
}

/** Where an illegal history is refused: the state and the refused event's tag. */
export const refused = (
  kind: OperationKind,
  steps: ReadonlyArray<string>,
): { from: string; event: string } => {
  const r = run(kind, steps)
  if (!(r instanceof IllegalOperationStep)) throw new Error(`expected a refusal, got state ${r.state}`)
  return { from: r.from, event: r.event }
}

/**
 * The laws every saga that moves money shares (swap, mint, melt, send, receive): the happy path, every
 * recovery path (replay, checkstate or quote state, restore), and the illegal steps. `decides` is the
 * recovery step that can prove a request had no effect (a checkstate of the inputs; for a melt, the
 * quote state).
 */
export const moneySagaLaws = (kind: OperationKind, decides: OperationRecovering["step"]) =>
  describe(`${kind}: the shared saga laws`, () => {
    it("runs the happy path prepared → requested → signed → completed", () => {
      expect(legal(kind, ["P", "R", "S", "C"])).toEqual({
        kind,
        operationId: "op-1",
        state: "completed",
        attempts: 1,
      })
      expect(legal(kind, ["P"]).state).toBe("prepared")
      expect(legal(kind, ["P", "R"]).state).toBe("requested")
      expect(legal(kind, ["P", "R", "S"]).state).toBe("signed")
    })

    it("compensates freely before any request left", () => {
      expect(legal(kind, ["comp:cancelled"]).state).toBe("compensated")
      expect(legal(kind, ["P", "comp:cancelled"]).state).toBe("compensated")
      expect(legal(kind, ["P", "comp:not-processed"]).state).toBe("compensated")
      // A recovery pass over an unsent operation leaves it where it is, ready to compensate or send.
      expect(legal(kind, ["P", "rec:local:skipped"]).state).toBe("prepared")
      expect(legal(kind, ["P", "rec:local:compensated", "comp:not-processed"]).state).toBe("compensated")
    })

    it("compensates on the mint's direct definitive answer", () => {
      expect(legal(kind, ["P", "R", "comp:rejected"]).state).toBe("compensated")
      expect(legal(kind, ["P", "R", "R", "comp:rejected"]).state).toBe("compensated")
    })

    it("replays the identical request after a crash or an ambiguous failure, numbering attempts", () => {
      expect(legal(kind, ["P", "R", "R", "S", "C"])).toMatchObject({ state: "completed", attempts: 2 })
      const pending = legal(kind, ["P", "R", "pend:ambiguous"])
      expect(pending.state).toBe("ambiguous")
      expect(sagaPhase(pending)).toEqual({ _tag: "InFlight", attempts: 1 })
      expect(legal(kind, ["P", "R", "pend:ambiguous", "R", "pend:ambiguous", "R", "S", "C"])).toMatchObject({
        state: "completed",
        attempts: 3,
      })
    })

    it("recovers: outputs stored, replay, or restore of the stored outputs", () => {
      expect(legal(kind, ["P", "R", "rec:local:recovered", "S", "C"]).state).toBe("completed")
      expect(legal(kind, ["P", "R", "pend:ambiguous", "rec:replay:recovered", "S", "C"]).state).toBe(
        "completed",
      )
      expect(
        legal(kind, ["P", "R", "pend:ambiguous", "rec:replay:failed", "rec:restore:recovered", "S", "C"])
          .state,
      ).toBe("completed")
      // Found but not yet recorded (a crash here): recovery runs again.
      const found = legal(kind, ["P", "R", "rec:restore:recovered"])
      expect(found.state).toBe("recovered")
      expect(sagaPhase(found)).toEqual({ _tag: "InFlight", attempts: 1 })
      expect(legal(kind, ["P", "R", "rec:restore:recovered", "rec:restore:recovered", "S", "C"]).state).toBe(
        "completed",
      )
    })

    it(`compensates after a request only when recovery (${decides}) proved it had no effect`, () => {
      expect(
        legal(kind, ["P", "R", "pend:ambiguous", `rec:${decides}:compensated`, "comp:not-processed"]).state,
      ).toBe("compensated")
      expect(legal(kind, ["P", "R", `rec:${decides}:compensated`, "comp:not-processed"]).state).toBe(
        "compensated",
      )
      expect(refused(kind, ["P", "R", "pend:ambiguous", "comp:not-processed"])).toEqual({
        from: "ambiguous",
        event: "OperationCompensated",
      })
      expect(refused(kind, ["P", "R", "pend:ambiguous", "comp:rejected"])).toEqual({
        from: "ambiguous",
        event: "OperationCompensated",
      })
      // A finding that is lost again (a later pass could not reach the mint) does not let it compensate.
      expect(
        refused(kind, ["P", "R", `rec:${decides}:compensated`, "rec:replay:skipped", "comp:not-processed"]),
      ).toEqual({
        from: "ambiguous",
        event: "OperationCompensated",
      })
    })

    it("leaves an unreachable mint for the next pass", () => {
      const skipped = legal(kind, ["P", "R", "pend:ambiguous", `rec:${decides}:skipped`])
      expect(skipped.state).toBe("ambiguous")
      expect(sagaPhase(skipped)).toEqual({ _tag: "InFlight", attempts: 1 })
      expect(legal(kind, ["P", "R", "pend:ambiguous", "rec:checkstate:failed", "R", "S", "C"]).state).toBe(
        "completed",
      )
    })

    it("finalises from signed, and never compensates once signatures are stored", () => {
      const signed = legal(kind, ["P", "R", "S"])
      expect(sagaPhase(signed)).toEqual({ _tag: "Signed" })
      expect(legal(kind, ["P", "R", "S", "rec:local:recovered", "C"]).state).toBe("completed")
      for (const reason of REASONS)
        expect(refused(kind, ["P", "R", "S", `comp:${reason}`])).toEqual({
          from: "signed",
          event: "OperationCompensated",
        })
      expect(refused(kind, ["P", "R", "S", "rec:checkstate:compensated"])).toEqual({
        from: "signed",
        event: "OperationRecovering",
      })
    })

    it("refuses steps out of order", () => {
      expect(refused(kind, ["P", "C"])).toEqual({ from: "prepared", event: "OperationCompleted" })
      expect(refused(kind, ["P", "S"])).toEqual({ from: "prepared", event: "OperationSigned" })
      expect(refused(kind, ["P", "pend:ambiguous"])).toEqual({ from: "prepared", event: "OperationPending" })
      expect(refused(kind, ["P", "P"])).toEqual({ from: "prepared", event: "OperationPrepared" })
      expect(refused(kind, ["R"])).toEqual({ from: "started", event: "OperationRequested" })
      expect(refused(kind, ["S"])).toEqual({ from: "started", event: "OperationSigned" })
      expect(refused(kind, ["P", "R", "P"])).toEqual({ from: "requested", event: "OperationPrepared" })
    })

    it("numbers request attempts 1, 2, 3 without gaps or repeats", () => {
      expect(refused(kind, ["P", "R2"])).toEqual({ from: "prepared", event: "OperationRequested" })
      expect(refused(kind, ["P", "R", "R3"])).toEqual({ from: "requested", event: "OperationRequested" })
      expect(refused(kind, ["P", "R", "R1"])).toEqual({ from: "requested", event: "OperationRequested" })
    })

    it("accepts nothing after it ended", () => {
      for (const end of [["P", "R", "S", "C"], ["comp:cancelled"], ["P", "R", "comp:rejected"]]) {
        const done = legal(kind, end)
        expect(sagaPhase(done)).toEqual({ _tag: "Done", outcome: done.state })
        for (const next of [
          "R",
          "P",
          "S",
          "C",
          "pend:ambiguous",
          "comp:cancelled",
          "rec:local:recovered",
          "rec:checkstate:skipped",
        ])
          expect(refused(kind, [...end, next]).from).toBe(done.state)
      }
    })

    it("refuses a second start", () => {
      const r = stepOperation(legal(kind, ["P"]), started(kind))
      expect(r.ok).toBe(false)
      if (!r.ok) expect([r.error.from, r.error.event]).toEqual(["prepared", "OperationStarted"])
    })
  })
