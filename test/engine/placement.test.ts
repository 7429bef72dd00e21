/**
 * Rendezvous placement (`src/engine/placement.ts`): deterministic, independent of the members' order,
 * stable under unrelated joins and leaves, moves only the joiner's share, balanced on 10 000 ids.
 */
import { describe, expect, it } from "vitest"
import { Engine } from "../../src/engine/engine.js"
import { placementOf, placementWeight } from "../../src/engine/placement.js"
import { InvalidArgument } from "../../src/model/index.js"

const ids = Array.from({ length: 10_000 }, (_, i) => `w-${i}`)
const nodes = ["node-a", "node-b", "node-c"]

describe("rendezvous placement", () => {
  it("is deterministic, order-free, and undefined with no members", () => {
    expect(placementOf("w", [])).toBeUndefined()
    expect(placementOf("w", ["solo"])).toBe("solo")
    for (const id of ids.slice(0, 200)) {
      const one = placementOf(id, nodes)
      expect(placementOf(id, [...nodes].reverse())).toBe(one)
      expect(placementOf(id, [...nodes, ...nodes])).toBe(one)
    }
    // SHA-256 over the framed pair: a fixed value, and the frame separates ("ab","c") from ("a","bc").
    expect(placementWeight("ab", "c")).not.toBe(placementWeight("a", "bc"))
    expect(placementWeight("node-a", "w-0")).toBe(placementWeight("node-a", "w-0"))
  })

  it("is balanced within 10% on 10 000 ids", () => {
    for (const members of [nodes, [...nodes, "node-d"], ["n1", "n2", "n3", "n4", "n5", "n6", "n7"]]) {
      const count = new Map<string, number>()
      for (const id of ids) {
        const o = placementOf(id, members)!
        count.set(o, (count.get(o) ?? 0) + 1)
      }
      const fair = ids.length / members.length
      for (const m of members) expect(Math.abs((count.get(m) ?? 0) - fair) / fair).toBeLessThan(0.1)
    }
  })

  it("a join moves only the joiner's share (≈ 1/n), all to the joiner", () => {
    const before = ids.map((id) => placementOf(id, nodes))
    const after = ids.map((id) => placementOf(id, [...nodes, "node-d"]))
    let moved = 0
    for (let i = 0; i < ids.length; i++)
      if (before[i] !== after[i]) {
        moved++
        expect(after[i]).toBe("node-d")
      }
    expect(Math.abs(moved / ids.length - 1 / 4)).toBeLessThan(0.03)
  })

  it("a leave moves only the leaver's wallets; others stay put", () => {
    const before = ids.map((id) => placementOf(id, [...nodes, "node-d"]))
    const after = ids.map((id) => placementOf(id, nodes))
    for (let i = 0; i < ids.length; i++) {
      if (before[i] === "node-d") expect(after[i]).not.toBe("node-d")
      else expect(after[i]).toBe(before[i])
    }
  })

  it("is stable under an unrelated join and leave", () => {
    const five = [...nodes, "node-x", "node-y"]
    for (const id of ids.slice(0, 2000)) {
      const owner = placementOf(id, five)!
      // Remove a member that does not own the wallet: its owner does not change.
      const other = five.find((n) => n !== owner)!
      expect(
        placementOf(
          id,
          five.filter((n) => n !== other),
        ),
      ).toBe(owner)
      // Add a member that does not win it: unchanged.
      const joined = [...five, "node-z"]
      const o2 = placementOf(id, joined)
      expect(o2 === owner || o2 === "node-z").toBe(true)
    }
  })

  it("Engine.open checks store.node.placement before touching anything", async () => {
    const opening = Engine.open({
      dataDir: "/nonexistent/never-created",
      passphrase: "x",
      store: {
        kind: "jetstream",
        servers: "nats://127.0.0.1:1",
        node: { id: "n", placement: "random" as "rendezvous" },
      },
    })
    await expect(opening).rejects.toBeInstanceOf(InvalidArgument)
  })
})
