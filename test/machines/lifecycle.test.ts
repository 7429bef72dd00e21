import { describe, expect, it } from "vitest"
import {
  checkTransition,
  ownerAfter,
  type ProofEventTag,
  type ProofState,
  targetState,
} from "../../src/machines/lifecycle.js"

const OP = "op-1"
const OTHER = "op-2"
const STATES: ReadonlyArray<ProofState | undefined> = [
  undefined,
  "incoming",
  "unspent",
  "reserved",
  "pending",
  "spent",
]
const TAGS: ReadonlyArray<ProofEventTag> = [
  "ProofsIssued",
  "ProofsReceived",
  "ProofsReserved",
  "ProofsReleased",
  "ProofsPending",
  "ProofsSpent",
  "ProofsDropped",
]

/** The allowed moves, written out by hand: [from, event, owner of the reservation] → allowed. */
const ALLOWED = new Set([
  "-:ProofsIssued",
  "-:ProofsReceived",
  "unspent:ProofsReserved",
  "reserved:ProofsPending",
  "reserved:ProofsReleased",
  "pending:ProofsReleased",
  "incoming:ProofsSpent",
  "unspent:ProofsSpent",
  "reserved:ProofsSpent",
  "pending:ProofsSpent",
  "incoming:ProofsDropped",
])

describe("proof lifecycle", () => {
  it("allows exactly the listed transitions when the event's operation holds the reservation", () => {
    for (const s of STATES)
      for (const tag of TAGS) {
        const owner = s === "reserved" || s === "pending" ? OP : undefined
        const refusal = checkTransition(s, owner, tag, OP)
        expect(refusal === undefined, `${s ?? "-"} --${tag}-->`).toBe(ALLOWED.has(`${s ?? "-"}:${tag}`))
      }
  })

  it("names the rule broken", () => {
    expect(checkTransition("spent", undefined, "ProofsSpent", OP)?.kind).toBe("double-spend")
    expect(checkTransition("unspent", undefined, "ProofsIssued", OP)?.kind).toBe("two-states")
    expect(checkTransition("pending", OP, "ProofsReceived", OP)?.kind).toBe("two-states")
    expect(checkTransition("spent", undefined, "ProofsIssued", OP)?.kind).toBe("illegal-transition")
    expect(checkTransition("spent", undefined, "ProofsReleased", OP)?.kind).toBe("illegal-transition")
    expect(checkTransition("reserved", OP, "ProofsReserved", OP)?.kind).toBe("illegal-transition")
    expect(checkTransition("incoming", undefined, "ProofsReserved", OP)?.kind).toBe("illegal-transition")
    expect(checkTransition("reserved", OP, "ProofsReleased", OTHER)?.kind).toBe("not-owner")
    expect(checkTransition("pending", OP, "ProofsReleased", OTHER)?.kind).toBe("not-owner")
    expect(checkTransition("reserved", OP, "ProofsPending", OTHER)?.kind).toBe("not-owner")
    expect(checkTransition(undefined, undefined, "ProofsSpent", OP)?.kind).toBe("unknown-proof")
    expect(checkTransition(undefined, undefined, "ProofsReserved", OP)?.kind).toBe("unknown-proof")
    expect(checkTransition(undefined, undefined, "ProofsDropped", OP)?.kind).toBe("unknown-proof")
    expect(checkTransition("unspent", undefined, "ProofsDropped", OP)?.kind).toBe("illegal-transition")
    expect(checkTransition("spent", undefined, "ProofsDropped", OP)?.kind).toBe("illegal-transition")
  })

  it("drops an incoming proof whoever reports it: the wallet then holds it no more (issue 10, item 5)", () => {
    expect(checkTransition("incoming", undefined, "ProofsDropped", OTHER)).toBeUndefined()
    expect(targetState("ProofsDropped")).toBeUndefined()
    expect(ownerAfter("ProofsDropped", OP)).toBeUndefined()
    // Never held again: it can be received anew.
    expect(checkTransition(undefined, undefined, "ProofsReceived", OP)).toBeUndefined()
  })

  it("accepts a spend from any live state whoever reports it (the mint's verdict)", () => {
    for (const s of ["incoming", "unspent", "reserved", "pending"] as const)
      expect(checkTransition(s, OP, "ProofsSpent", OTHER)).toBeUndefined()
  })

  it("moves to the event's state and keeps the owner only while reserved or pending", () => {
    expect(TAGS.map((t) => targetState(t))).toEqual([
      "unspent",
      "incoming",
      "reserved",
      "unspent",
      "pending",
      "spent",
      undefined,
    ])
    expect(TAGS.map((t) => ownerAfter(t, OP))).toEqual([
      undefined,
      undefined,
      OP,
      undefined,
      OP,
      undefined,
      undefined,
    ])
  })
})
