import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { transition } from "xstate"
import type { WalletEvent } from "../../src/events/catalogue.js"
import {
  assertBatchLegal,
  IllegalOperationStep,
  replayOperation,
  type SagaSnapshot,
  sagaMachineOf,
  sagaPhase,
  startOperation,
  stepOperation,
} from "../../src/machines/operation.js"
import {
  isOperationEvent,
  type OperationEvent,
  SAGA_STATES,
  type SagaEvent,
  type SagaState,
} from "../../src/machines/saga.js"
import { OPERATION_KINDS, type OperationKind } from "../../src/model/index.js"
import { candidates, events, KEYSET, OUTCOMES, POINT, REASONS, STEPS, started } from "./support.js"

const MONEY: ReadonlyArray<OperationKind> = ["swap", "mint", "melt", "send", "receive"]

describe("sagaMachineOf", () => {
  it("gives each kind its own machine, with the shared states", () => {
    const machines = OPERATION_KINDS.map(sagaMachineOf)
    expect(machines.map((m) => m.id)).toEqual([...OPERATION_KINDS])
    expect(new Set(machines).size).toBe(OPERATION_KINDS.length)
    for (const m of machines) expect(Object.keys(m.states).sort()).toEqual([...SAGA_STATES].sort())
  })
})

describe("startOperation / stepOperation", () => {
  it("starts every kind in started with no attempt", () => {
    for (const kind of OPERATION_KINDS)
      expect(startOperation(started(kind, "op-7"))).toEqual({
        kind,
        operationId: "op-7",
        state: "started",
        attempts: 0,
      })
  })

  it("refuses a second start, another operation's event and another kind's event, without payload values", () => {
    const s = startOperation(started("mint", "op-secret-id"))
    const again = stepOperation(s, started("mint", "op-secret-id"))
    const other = stepOperation(s, events("mint", "op-other").prepared())
    const kind = stepOperation(s, events("swap", "op-secret-id").prepared())
    for (const r of [again, other, kind]) {
      expect(r.ok).toBe(false)
      if (r.ok) continue
      expect(r.error).toBeInstanceOf(IllegalOperationStep)
      expect(r.error._tag).toBe("IllegalOperationStep")
      expect(r.error.kind).toBe("mint")
      expect(r.error.from).toBe("started")
      expect(r.error.message).not.toContain("op-secret-id")
      expect(r.error.message).not.toContain("op-other")
      expect(r.error.message).not.toContain("quote-1")
    }
    expect(again.ok ? undefined : again.error.event).toBe("OperationStarted")
    expect(kind.ok ? undefined : kind.error.event).toBe("OperationPrepared")
  })

  it("does not change the snapshot it steps from", () => {
    const s = startOperation(started("swap"))
    const r = stepOperation(s, events("swap").prepared())
    expect(r.ok && r.snapshot.state).toBe("prepared")
    expect(s.state).toBe("started")
  })
})

describe("replayOperation", () => {
  it("refuses an empty history and one that does not begin with the start", () => {
    expect(replayOperation([])).toBeInstanceOf(IllegalOperationStep)
    const r = replayOperation([events("swap").prepared()])
    expect(r).toBeInstanceOf(IllegalOperationStep)
    if (r instanceof IllegalOperationStep)
      expect([r.kind, r.from, r.event]).toEqual(["swap", "none", "OperationPrepared"])
  })
})

describe("assertBatchLegal", () => {
  const e = events("swap")
  const intent: WalletEvent[] = [
    { _tag: "CountersReserved", keysetId: KEYSET, start: 0, count: 1 },
    { _tag: "ProofsReserved", operationId: "op-1", ys: [POINT] },
    e.prepared(),
    e.requested(1),
  ]
  const finalisation: WalletEvent[] = [
    e.signed(),
    {
      _tag: "ProofsIssued",
      mintUrl: "https://mint.example.com",
      unit: "sat",
      operationId: "op-1",
      proofs: [{ amount: 8n, id: KEYSET, secret: "s", C: POINT, Y: POINT }],
    },
    { _tag: "ProofsSpent", operationId: "op-1", ys: [POINT] },
    e.completed(),
  ]

  it("folds the operation events of the intent and finalisation batches, ignoring the others", () => {
    const begun = assertBatchLegal(undefined, [started("swap")])
    expect(begun).toEqual(startOperation(started("swap")))
    const sent = assertBatchLegal(begun as SagaSnapshot, intent)
    expect(sent).toEqual({ kind: "swap", operationId: "op-1", state: "requested", attempts: 1 })
    expect(assertBatchLegal(sent as SagaSnapshot, finalisation)).toMatchObject({ state: "completed" })
  })

  it("leaves the snapshot as is for a batch without operation events", () => {
    const s = startOperation(started("swap"))
    expect(assertBatchLegal(s, [intent[0] as WalletEvent])).toBe(s)
    expect(assertBatchLegal(undefined, [intent[0] as WalletEvent])).toBeUndefined()
  })

  it("refuses a batch that skips a step, mixes operations, or starts nothing", () => {
    const s = startOperation(started("swap"))
    const skip = assertBatchLegal(s, finalisation)
    expect(skip).toBeInstanceOf(IllegalOperationStep)
    if (skip instanceof IllegalOperationStep)
      expect([skip.from, skip.event]).toEqual(["started", "OperationSigned"])
    const mixed = assertBatchLegal(s, [e.prepared(), events("swap", "op-2").prepared()])
    expect(mixed).toBeInstanceOf(IllegalOperationStep)
    if (mixed instanceof IllegalOperationStep) expect(mixed.from).toBe("prepared")
    expect(assertBatchLegal(undefined, intent)).toBeInstanceOf(IllegalOperationStep)
  })
})

describe("sagaPhase", () => {
  it("names what recovery does in each state", () => {
    const at = (kind: OperationKind, state: SagaState, attempts = 2): SagaSnapshot => ({
      kind,
      operationId: "op-1",
      state,
      attempts,
    })
    expect(sagaPhase(at("mint", "started", 0))).toEqual({ _tag: "AwaitingPayment" })
    expect(sagaPhase(at("swap", "started", 0))).toEqual({ _tag: "NotSent" })
    expect(sagaPhase(at("mint", "prepared", 0))).toEqual({ _tag: "NotSent" })
    for (const state of ["requested", "ambiguous", "recovered", "compensating"] as const)
      expect(sagaPhase(at("swap", state))).toEqual({ _tag: "InFlight", attempts: 2 })
    expect(sagaPhase(at("melt", "paymentPending"))).toEqual({ _tag: "PaymentPending" })
    expect(sagaPhase(at("receive", "signed"))).toEqual({ _tag: "Signed" })
    expect(sagaPhase(at("send", "completed"))).toEqual({ _tag: "Done", outcome: "completed" })
    expect(sagaPhase(at("send", "compensated"))).toEqual({ _tag: "Done", outcome: "compensated" })
  })
})

/** The legal next events of a saga, among every event the catalogue could offer. */
const legalNext = (s: SagaSnapshot): OperationEvent[] =>
  candidates(s.kind, s.attempts).filter((e) => stepOperation(s, e).ok)

/** A random legal history: at each step, one of the legal next events, picked by `picks`. */
const walk = (kind: OperationKind, picks: ReadonlyArray<number>) => {
  const history: OperationEvent[] = [started(kind)]
  const snapshots: SagaSnapshot[] = [startOperation(started(kind))]
  for (const pick of picks) {
    const current = snapshots[snapshots.length - 1] as SagaSnapshot
    const next = legalNext(current)
    if (next.length === 0) break
    const e = next[pick % next.length] as OperationEvent
    const r = stepOperation(current, e)
    if (!r.ok) throw r.error
    history.push(e)
    snapshots.push(r.snapshot)
  }
  return { history, snapshots }
}

const arbWalk = fc.record({
  kind: fc.constantFrom(...OPERATION_KINDS),
  picks: fc.array(fc.nat({ max: 1000 }), { maxLength: 16 }),
  cuts: fc.array(fc.nat({ max: 20 }), { maxLength: 4 }),
})

describe("random legal histories", () => {
  it("replay equals the stepwise fold, and any batching of it agrees", () => {
    fc.assert(
      fc.property(arbWalk, ({ kind, picks, cuts }) => {
        const { history, snapshots } = walk(kind, picks)
        const last = snapshots[snapshots.length - 1]
        expect(replayOperation(history)).toEqual(last)
        // Appending the same history in arbitrary batches gives the same snapshot.
        const bounds = [
          ...new Set([0, ...cuts.map((c) => Math.min(c, history.length)), history.length]),
        ].sort((a, b) => a - b)
        let s: SagaSnapshot | undefined
        for (let i = 1; i < bounds.length; i++) {
          const r = assertBatchLegal(s, history.slice(bounds[i - 1], bounds[i]))
          expect(r).not.toBeInstanceOf(IllegalOperationStep)
          s = r as SagaSnapshot | undefined
        }
        expect(s).toEqual(last)
        // A refused event after the history is refused from the state the history reached.
        const illegal = candidates(kind, last?.attempts ?? 0).find(
          (e) => !stepOperation(last as SagaSnapshot, e).ok,
        )
        if (illegal !== undefined) {
          const r = replayOperation([...history, illegal])
          expect(r).toBeInstanceOf(IllegalOperationStep)
          if (r instanceof IllegalOperationStep)
            expect([r.from, r.event]).toEqual([last?.state, illegal._tag])
        }
      }),
      { numRuns: 100 },
    )
  })

  it("keep the reliability rules: attempts 1..n, nothing after the end, no release on an unknown outcome", () => {
    fc.assert(
      fc.property(arbWalk, ({ kind, picks }) => {
        const { history, snapshots } = walk(kind, picks)
        const tags = history.map((e) => e._tag)
        // One start, first.
        expect(tags.filter((t) => t === "OperationStarted")).toHaveLength(1)
        // Attempts are numbered 1, 2, 3… in order.
        const attempts = history.flatMap((e) => (e._tag === "OperationRequested" ? [e.attempt] : []))
        expect(attempts).toEqual(attempts.map((_, i) => i + 1))
        // Terminal events end the history, and nothing is legal after them.
        const end = tags.findIndex((t) => t === "OperationCompleted" || t === "OperationCompensated")
        if (end >= 0) {
          expect(end).toBe(tags.length - 1)
          expect(legalNext(snapshots[snapshots.length - 1] as SagaSnapshot)).toEqual([])
        }
        const firstRequest = tags.indexOf("OperationRequested")
        const signed = tags.indexOf("OperationSigned")
        if (signed >= 0) {
          // Signatures answer a request, and stored signatures are never undone.
          expect(firstRequest).toBeGreaterThanOrEqual(0)
          expect(firstRequest).toBeLessThan(signed)
          expect(tags.slice(signed)).not.toContain("OperationCompensated")
        }
        if (tags.at(-1) === "OperationCompleted" && !(kind === "send" && firstRequest < 0))
          expect(firstRequest).toBeGreaterThanOrEqual(0)
        if (tags.at(-1) === "OperationCompensated" && firstRequest >= 0 && MONEY.includes(kind)) {
          // After a request, inputs are released only on a definitive basis: the request's own answer, or a
          // recovery that found the request had no effect — never on an ambiguous or unknown outcome.
          const basis = history
            .slice(0, -1)
            .findLast((e) =>
              ["OperationRequested", "OperationPending", "OperationRecovering"].includes(e._tag),
            )
          const definitive =
            basis?._tag === "OperationRequested" ||
            (basis?._tag === "OperationRecovering" &&
              basis.outcome === "compensated" &&
              (kind !== "melt" || basis.step === "quote-state"))
          expect(definitive).toBe(true)
        }
        if (kind === "melt") {
          // A pending payment ends only after a quote-state check decided it.
          const lastPaying = history.findLastIndex(
            (e) =>
              (e._tag === "OperationPending" && e.reason === "payment-pending") ||
              (e._tag === "OperationRecovering" && e.step === "quote-state" && e.outcome === "pending"),
          )
          if (firstRequest >= 0 && lastPaying > firstRequest && end >= 0) {
            const decided = history
              .slice(lastPaying)
              .some(
                (e) =>
                  e._tag === "OperationRecovering" &&
                  e.step === "quote-state" &&
                  (e.outcome === "recovered" || e.outcome === "compensated"),
              )
            expect(decided).toBe(true)
          }
        }
        expect(history.every(isOperationEvent)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })

  it("reach exactly the states each kind can be in, and can always still end", () => {
    // Breadth-first over every candidate event (attempts bounded): the machine's reachable graph.
    const key = (s: SagaSnapshot) => `${s.state}/${s.attempts}`
    for (const kind of OPERATION_KINDS) {
      const start = startOperation(started(kind))
      const graph = new Map<string, { snapshot: SagaSnapshot; next: string[] }>()
      const queue = [start]
      while (queue.length > 0) {
        const s = queue.shift() as SagaSnapshot
        if (graph.has(key(s)) || s.attempts > 3) continue
        const next = legalNext(s).map((e) => {
          const r = stepOperation(s, e)
          if (!r.ok) throw r.error
          queue.push(r.snapshot)
          return key(r.snapshot)
        })
        graph.set(key(s), { snapshot: s, next })
      }
      const states = new Set([...graph.values()].map((n) => n.snapshot.state))
      const absent = SAGA_STATES.filter((s) => !states.has(s))
      expect(absent, kind).toEqual(
        kind === "melt" ? [] : kind === "checkstate" ? ["paymentPending", "signed"] : ["paymentPending"],
      )
      // From every reachable snapshot some path still ends (completed or compensated): no dead end.
      const ends = new Set(
        [...graph.keys()].filter((k) => k.startsWith("completed/") || k.startsWith("compensated/")),
      )
      let grew = true
      while (grew) {
        grew = false
        for (const [k, n] of graph)
          if (!ends.has(k) && n.next.some((x) => ends.has(x))) {
            ends.add(k)
            grew = true
          }
      }
      const stuck = [...graph.keys()].filter((k) => !ends.has(k) && Number(k.split("/")[1]) < 3)
      expect(stuck, kind).toEqual([])
    }
  })
})

describe("stepOperation's memoised transitions", () => {
  /** Every saga event shape the machines distinguish, for a saga that has made `attempts` requests. */
  const shapes = (attempts: number): SagaEvent[] => [
    { type: "OperationPrepared" },
    { type: "OperationRequested", attempt: attempts + 1 },
    { type: "OperationRequested", attempt: attempts + 2 },
    { type: "OperationRequested", attempt: attempts },
    { type: "OperationSigned" },
    { type: "OperationPending", reason: "ambiguous" },
    { type: "OperationPending", reason: "payment-pending" },
    { type: "OperationCompleted" },
    ...REASONS.map((reason) => ({ type: "OperationCompensated" as const, reason })),
    ...STEPS.flatMap((step) =>
      OUTCOMES.map((outcome) => ({ type: "OperationRecovering" as const, step, outcome })),
    ),
  ]

  /** The catalogue event a saga event stands for (amounts and ids do not matter to the machines). */
  const asEvent = (kind: OperationKind, e: SagaEvent): OperationEvent => {
    const base = { operationId: "op", kind }
    switch (e.type) {
      case "OperationPrepared":
        return {
          _tag: e.type,
          ...base,
          inputs: [],
          outputs: [],
          request: { path: "/v1/swap", body: "{}" },
        }
      case "OperationRequested":
        return { _tag: e.type, ...base, attempt: e.attempt }
      case "OperationSigned":
        return { _tag: e.type, ...base, signatures: [] }
      case "OperationPending":
        return { _tag: e.type, ...base, reason: e.reason }
      case "OperationCompleted":
        return {
          _tag: "OperationCompleted",
          operationId: "op",
          kind: "checkstate",
          unspent: 0,
          pending: 0,
          spent: 0,
        }
      case "OperationCompensated":
        return { _tag: e.type, ...base, reason: e.reason }
      case "OperationRecovering":
        return { _tag: e.type, ...base, attempt: 1, step: e.step, outcome: e.outcome }
    }
  }

  it("answers every (kind, state, event, attempts) exactly as the machine does, first time and cached", () => {
    let compared = 0
    for (const kind of OPERATION_KINDS)
      for (const state of SAGA_STATES)
        for (const attempts of [0, 1, 2])
          for (const shape of shapes(attempts)) {
            const machine = sagaMachineOf(kind)
            const current = machine.resolveState({ value: state, context: { attempts } })
            const expected = current.can(shape) ? transition(machine, current, shape)[0] : undefined
            const event = { ...asEvent(kind, shape), kind } as OperationEvent
            for (const round of [1, 2]) {
              const r = stepOperation({ kind, operationId: "op", state, attempts }, event)
              if (expected === undefined)
                expect(r.ok, `${kind} ${state} ${JSON.stringify(shape)} #${round}`).toBe(false)
              else {
                expect(r.ok, `${kind} ${state} ${JSON.stringify(shape)} #${round}`).toBe(true)
                if (!r.ok) continue
                expect(r.snapshot.state).toBe(expected.value)
                expect(r.snapshot.attempts).toBe(expected.context.attempts)
              }
              compared++
            }
          }
    expect(compared).toBeGreaterThan(1000)
  })
})
