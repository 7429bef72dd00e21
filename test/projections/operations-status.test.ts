/**
 * History never disagrees with recovery: the operations projection's status is the decider's, for every
 * legal history of every kind (the projection steps the same machine over the same events).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { evolveOperation, type OperationState, operationStatusOf } from "../../src/machines/decider.js"
import { IllegalOperationStep } from "../../src/machines/operation.js"
import type { OperationEvent } from "../../src/machines/saga.js"
import { OPERATION_KINDS, type OperationKind } from "../../src/model/index.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import { operationOf, operationsProjection } from "../../src/projections/operations.js"
import { events, OUTCOMES, REASONS, STEPS, started } from "../machines/support.js"

const STREAM = "wallet/w"

const recorded = (event: OperationEvent, sequence: number): RecordedEvent => ({
  envelope: {
    eventId: `e${sequence}`,
    streamId: STREAM,
    type: event._tag,
    schemaVersion: 1,
    sequence,
    streamVersion: sequence,
    time: 1_700_000_000_000 + sequence,
    prevHash: "",
    hash: "",
  },
  event,
})

describe("operations projection: status from the decider", () => {
  it("shows the decider's state and status after every step of every random legal history", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPERATION_KINDS),
        fc.array(fc.nat(200), { maxLength: 14 }),
        (kind: OperationKind, picks) => {
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
          let seq = 1
          let view = operationsProjection.evolve(operationsProjection.initial, recorded(started(kind), seq))
          let s = evolveOperation(undefined, started(kind), 0) as OperationState
          for (const p of picks) {
            const candidates = offered(s.attempts)
            const ev = candidates[p % candidates.length]!
            const next = evolveOperation(s, ev, 0)
            if (next instanceof IllegalOperationStep) continue
            s = next
            view = operationsProjection.evolve(view, recorded(ev, ++seq))
            const op = operationOf(view, STREAM, "op-1")!
            expect(op.sagaState).toBe(s.state)
            expect(op.status).toBe(operationStatusOf(s.state))
          }
          return true
        },
      ),
      { numRuns: 300 },
    )
  })

  it("keeps a recorded end whatever led to it, and ignores a refused step (a damaged log)", () => {
    const x = events("swap")
    let view = operationsProjection.evolve(operationsProjection.initial, recorded(started("swap"), 1))
    // Signed before any request: refused by the machine, so the view stays `started`.
    view = operationsProjection.evolve(view, recorded(x.signed(), 2))
    expect(operationOf(view, STREAM, "op-1")).toMatchObject({ status: "started", sagaState: "started" })
    // A completion straight from `started` is not a legal swap step, but it is the recorded outcome.
    view = operationsProjection.evolve(view, recorded(x.completed(), 3))
    expect(operationOf(view, STREAM, "op-1")).toMatchObject({ status: "completed", sagaState: "completed" })
    // And an end is final.
    view = operationsProjection.evolve(view, recorded(x.compensated("rejected"), 4))
    expect(operationOf(view, STREAM, "op-1")).toMatchObject({ status: "completed", lastSequence: 4 })
  })
})
