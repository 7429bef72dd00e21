import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  checkTransition,
  ownerAfter,
  PROOF_STATES,
  type ProofEventTag,
  type ProofState,
  targetState,
} from "../../src/machines/lifecycle.js"
import { proofMachine, proofTransition } from "../../src/machines/proof.js"

const OP = "op-1"
const OTHER = "op-2"
const TAGS: ReadonlyArray<ProofEventTag> = [
  "ProofsIssued",
  "ProofsReceived",
  "ProofsReserved",
  "ProofsReleased",
  "ProofsPending",
  "ProofsSpent",
  "ProofsDropped",
]
const OPS: ReadonlyArray<string | undefined> = [undefined, OP, OTHER]

/** Every proof the wallet could hold: never held, or each state with no owner, OP or OTHER as owner. */
const CURRENTS: ReadonlyArray<{ state: ProofState; owner: string | undefined } | undefined> = [
  undefined,
  ...PROOF_STATES.flatMap((state) => OPS.map((owner) => ({ state, owner }))),
]

/** What the lifecycle table says for one input. */
const byTable = (
  current: { state: ProofState; owner: string | undefined } | undefined,
  tag: ProofEventTag,
  operationId: string | undefined,
) => {
  const refusal = checkTransition(current?.state, current?.owner, tag, operationId)
  return refusal === undefined
    ? { ok: true as const, state: targetState(tag), owner: ownerAfter(tag, operationId) }
    : { ok: false as const, refusal }
}

describe("proofMachine", () => {
  it("has the lifecycle's states plus the never-held one, and spent is final", () => {
    expect(Object.keys(proofMachine.states).sort()).toEqual([...PROOF_STATES, "unknown"].sort())
    expect(proofMachine.states.spent?.type).toBe("final")
  })

  it("agrees with the lifecycle table on every (state × owner × tag × operation) input", () => {
    let allowed = 0
    const kinds = new Set<string>()
    for (const current of CURRENTS)
      for (const tag of TAGS)
        for (const operationId of OPS) {
          const expected = byTable(current, tag, operationId)
          expect(
            proofTransition(current, { tag, operationId }),
            `${current?.state}/${current?.owner} ${tag} by ${operationId}`,
          ).toEqual(expected)
          if (expected.ok) allowed++
          else kinds.add(expected.refusal.kind)
        }
    // The comparison covered both sides and every refusal kind (not a vacuous agreement).
    expect(allowed).toBeGreaterThan(0)
    expect([...kinds].sort()).toEqual([
      "double-spend",
      "illegal-transition",
      "not-owner",
      "two-states",
      "unknown-proof",
    ])
  })

  it("lets only the reservation's owner move a reserved or pending proof, and anyone report it spent", () => {
    const reserved = { state: "reserved" as const, owner: OP }
    expect(proofTransition(reserved, { tag: "ProofsPending", operationId: OP })).toEqual({
      ok: true,
      state: "pending",
      owner: OP,
    })
    expect(proofTransition(reserved, { tag: "ProofsReleased", operationId: OTHER })).toMatchObject({
      ok: false,
      refusal: { kind: "not-owner" },
    })
    expect(
      proofTransition({ state: "pending", owner: OP }, { tag: "ProofsSpent", operationId: OTHER }),
    ).toEqual({ ok: true, state: "spent", owner: undefined })
    expect(proofTransition({ state: "spent", owner: undefined }, { tag: "ProofsSpent" })).toMatchObject({
      ok: false,
      refusal: { kind: "double-spend" },
    })
  })

  it("drops an incoming proof back to never held, and drops nothing else", () => {
    expect(
      proofTransition({ state: "incoming", owner: undefined }, { tag: "ProofsDropped", operationId: OP }),
    ).toEqual({ ok: true, state: undefined, owner: undefined })
    expect(
      proofTransition({ state: "unspent", owner: undefined }, { tag: "ProofsDropped", operationId: OP }),
    ).toMatchObject({ ok: false, refusal: { kind: "illegal-transition" } })
  })

  it("folds random event sequences exactly like the table", () => {
    const step = fc.record({ tag: fc.constantFrom(...TAGS), operationId: fc.constantFrom(...OPS) })
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        let viaMachine: { state: ProofState; owner: string | undefined } | undefined
        let viaTable: { state: ProofState; owner: string | undefined } | undefined
        for (const s of steps) {
          const m = proofTransition(viaMachine, s)
          const t = byTable(viaTable, s.tag, s.operationId)
          expect(m).toEqual(t)
          if (m.ok) viaMachine = m.state === undefined ? undefined : { state: m.state, owner: m.owner }
          if (t.ok) viaTable = t.state === undefined ? undefined : { state: t.state, owner: t.owner }
        }
      }),
      { numRuns: 200 },
    )
  })
})
