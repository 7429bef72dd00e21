import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { OPERATION_KINDS, type OperationKind } from "../../src/events/catalogue.js"
import {
  decideOperation,
  evolveOperation,
  firstSentAtOf,
  intentOf,
  type OperationCommand,
  type OperationState,
  operationStatusOf,
  replayOperationState,
  startedOfKind,
} from "../../src/machines/decider.js"
import { IllegalOperationStep, replayOperation } from "../../src/machines/operation.js"
import { type OperationEvent, SAGA_STATES } from "../../src/machines/saga.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import { completed, events, KEYSET, OUTCOMES, POINT, REASONS, STEPS, started } from "./support.js"

const NOW = 1_700_000_000_000

const decided = (s: OperationState | undefined, commands: ReadonlyArray<OperationCommand>, now = NOW) => {
  const d = decideOperation(s, commands, now)
  if (d instanceof IllegalOperationStep) throw new Error(d.message)
  return d
}

const recorded = (event: OperationEvent, time: number, sequence: number): RecordedEvent => ({
  envelope: {
    eventId: `e${sequence}`,
    streamId: "wallet-1",
    type: event._tag,
    schemaVersion: 1,
    sequence,
    streamVersion: sequence,
    time,
    prevHash: "",
    hash: "",
  },
  event,
})

describe("decideOperation", () => {
  it("records a swap's life with the ids and numbering the log has always used", () => {
    const e = events("swap")
    const prepared = e.prepared()
    if (prepared._tag !== "OperationPrepared") throw new Error("support")
    const begun = decided(undefined, [
      { _tag: "Start", started: started("swap") },
      { _tag: "Prepare", prepared, effects: [{ _tag: "ProofsReserved", operationId: "op-1", ys: [POINT] }] },
      { _tag: "Request" },
    ])
    expect(begun.events.map((x) => x.eventId)).toEqual([
      "op:op-1:started:0",
      "op:op-1:prepared:0",
      "op:op-1:prepared:1",
      "op:op-1:requested:1:0",
    ])
    expect(begun.events.map((x) => x.event._tag)).toEqual([
      "OperationStarted",
      "ProofsReserved",
      "OperationPrepared",
      "OperationRequested",
    ])
    const s = begun.state
    expect(s.state).toBe("requested")
    if (s.state !== "requested") return
    expect(s.attempts).toBe(1)
    expect(s.firstSentAt).toBe(NOW)
    expect(intentOf(s)).toBe(prepared)

    // The answer was lost; a recovery pass, a replay (attempt 2), the signatures and the completion.
    const lost = decided(s, [{ _tag: "Pend", reason: "ambiguous", code: 11001 }], NOW + 5)
    const replay = decided(
      lost.state,
      [{ _tag: "Recover", step: "replay", outcome: "pending" }, { _tag: "Request" }],
      NOW + 10,
    )
    expect(replay.events.map((x) => x.eventId)).toEqual(["op:op-1:recovering:1:0", "op:op-1:requested:2:0"])
    expect(replay.state.attempts).toBe(2)
    expect(replay.state.recoveries).toBe(1)
    // The replay window still starts at attempt 1.
    expect(replay.state.state).toBe("requested")
    expect(firstSentAtOf(replay.state)).toBe(NOW)
    const done = decided(replay.state, [
      { _tag: "Recover", step: "replay", outcome: "recovered" },
      { _tag: "Sign", signatures: [{ amount: 8n, id: KEYSET, C_: POINT }] },
      { _tag: "Complete", completed: completed("swap") },
    ])
    expect(done.events.map((x) => x.eventId)).toEqual([
      "op:op-1:recovering:2:0",
      "op:op-1:signed:0",
      "op:op-1:completed:0",
    ])
    expect(done.state.state).toBe("completed")
    if (done.state.state === "completed") expect(done.state.completed).toEqual(completed("swap"))
  })

  it("refuses what the kind's machine does not allow, as a whole and without payload values", () => {
    const s = decided(undefined, [{ _tag: "Start", started: started("swap", "op-secret") }]).state
    // A swap must prepare before it requests; nothing of the batch is decided.
    const early = decideOperation(s, [{ _tag: "Request" }], NOW)
    expect(early).toBeInstanceOf(IllegalOperationStep)
    // A completion of another kind, or of another operation.
    const otherKind = decideOperation(
      s,
      [{ _tag: "Complete", completed: completed("mint", "op-secret") }],
      NOW,
    )
    expect(otherKind).toBeInstanceOf(IllegalOperationStep)
    const otherOp = decideOperation(s, [{ _tag: "Complete", completed: completed("swap", "op-other") }], NOW)
    expect(otherOp).toBeInstanceOf(IllegalOperationStep)
    // Nothing but a start before the start; nothing after the end.
    expect(decideOperation(undefined, [{ _tag: "Request" }], NOW)).toBeInstanceOf(IllegalOperationStep)
    const ended = decided(s, [{ _tag: "Compensate", reason: "cancelled" }]).state
    expect(decideOperation(ended, [{ _tag: "Compensate", reason: "cancelled" }], NOW)).toBeInstanceOf(
      IllegalOperationStep,
    )
    for (const r of [early, otherKind, otherOp])
      if (r instanceof IllegalOperationStep) {
        expect(r.message).not.toContain("op-secret")
        expect(r.message).not.toContain("op-other")
      }
  })

  it("numbers pendings in their step ids and puts their effects after the record", () => {
    const e = events("melt")
    const prepared = e.prepared()
    if (prepared._tag !== "OperationPrepared") throw new Error("support")
    const s = decided(undefined, [
      { _tag: "Start", started: started("melt") },
      { _tag: "Prepare", prepared },
      { _tag: "Request" },
    ]).state
    const paying = decided(s, [
      {
        _tag: "Pend",
        reason: "payment-pending",
        effects: [{ _tag: "ProofsPending", operationId: "op-1", ys: [POINT] }],
      },
    ])
    expect(paying.events.map((x) => [x.eventId, x.event._tag])).toEqual([
      ["op:op-1:pending:1:0", "OperationPending"],
      ["op:op-1:pending:1:1", "ProofsPending"],
    ])
    expect(paying.state.state).toBe("paymentPending")
    expect(paying.state.pendings).toBe(1)
  })
})

describe("startedOfKind", () => {
  it("narrows the started record by kind, and only to its own kind", () => {
    const s = decided(undefined, [{ _tag: "Start", started: started("mint") }]).state
    expect(startedOfKind(s, "mint")?.quoteId).toBe("quote-1")
    expect(startedOfKind(s, "melt")).toBeUndefined()
  })
})

describe("evolveOperation / replayOperationState", () => {
  const e = events("swap")
  const history: OperationEvent[] = [
    started("swap"),
    e.prepared(),
    e.requested(1),
    e.pending("ambiguous"),
    e.recovering("checkstate", "skipped", 1),
    e.requested(2),
    e.signed(),
    e.completed(),
  ]

  it("replays a history into the state the machine reaches, with the data of every step", () => {
    const records = history.map((x, i) => recorded(x, NOW + i * 1000, i + 1))
    // Another operation's events in between are skipped.
    records.splice(3, 0, recorded(started("mint", "op-2"), NOW, 99))
    const s = replayOperationState("op-1", records)
    expect(s).not.toBeInstanceOf(IllegalOperationStep)
    if (s === undefined || s instanceof IllegalOperationStep) return
    const snapshot = replayOperation(history)
    expect(snapshot).not.toBeInstanceOf(IllegalOperationStep)
    if (snapshot instanceof IllegalOperationStep) return
    expect({ state: s.state, attempts: s.attempts }).toEqual({
      state: snapshot.state,
      attempts: snapshot.attempts,
    })
    expect(s.recoveries).toBe(1)
    expect(s.pendings).toBe(1)
    expect(replayOperationState("op-missing", records)).toBeUndefined()
  })

  it("keeps the first attempt's time as the replay window's start", () => {
    let s: OperationState | undefined
    history.slice(0, 6).forEach((x, i) => {
      const next = evolveOperation(s, x, NOW + i * 1000)
      if (next instanceof IllegalOperationStep) throw new Error(next.message)
      s = next
    })
    expect(s?.state === "requested" && s.firstSentAt).toBe(NOW + 2000)
  })

  it("refuses an illegal history at the first illegal event", () => {
    const records = [started("swap"), e.requested(1)].map((x, i) => recorded(x, NOW, i + 1))
    expect(replayOperationState("op-1", records)).toBeInstanceOf(IllegalOperationStep)
  })

  it("agrees with the saga machine on every random history (property)", () => {
    const kinds = fc.constantFrom(...OPERATION_KINDS)
    fc.assert(
      fc.property(kinds, fc.array(fc.nat(200), { maxLength: 12 }), (kind: OperationKind, picks) => {
        // A random walk over candidate events; the decider state and the saga snapshot must agree at each step.
        const x = events(kind)
        const offered = (attempts: number): OperationEvent[] => [
          x.prepared(),
          x.signed(),
          x.completed(),
          x.requested(attempts + 1),
          x.pending("ambiguous"),
          x.pending("payment-pending"),
          ...REASONS.map((r) => x.compensated(r)),
          ...STEPS.flatMap((st) => OUTCOMES.map((o) => x.recovering(st, o, 1))),
        ]
        let s = evolveOperation(undefined, started(kind), NOW)
        if (s instanceof IllegalOperationStep) return false
        const taken: OperationEvent[] = [started(kind)]
        for (const p of picks) {
          const candidatesNow = offered(s.attempts)
          const ev = candidatesNow[p % candidatesNow.length]!
          const next = evolveOperation(s, ev, NOW)
          const snap = replayOperation([...taken, ev])
          expect(next instanceof IllegalOperationStep).toBe(snap instanceof IllegalOperationStep)
          if (next instanceof IllegalOperationStep || snap instanceof IllegalOperationStep) continue
          expect(next.state).toBe(snap.state)
          expect(SAGA_STATES).toContain(next.state)
          taken.push(ev)
          s = next
        }
        return true
      }),
      { numRuns: 300 },
    )
  })
})

describe("operationStatusOf", () => {
  it("shows every state an unknown or settling outcome is in as pending, and the rest as themselves", () => {
    expect(SAGA_STATES.map(operationStatusOf)).toEqual([
      "started",
      "prepared",
      "requested",
      "pending",
      "pending",
      "pending",
      "pending",
      "signed",
      "completed",
      "compensated",
    ])
  })
})
