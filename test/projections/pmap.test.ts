import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { PMap } from "../../src/projections/pmap.js"

/** A random program over versions: each op derives a new version from an earlier one. */
const opArbitrary = fc.oneof(
  fc.record({ op: fc.constant("set" as const), from: fc.nat(), key: fc.nat(12), value: fc.nat(5) }),
  fc.record({ op: fc.constant("delete" as const), from: fc.nat(), key: fc.nat(12) }),
  fc.record({
    op: fc.constant("edit" as const),
    from: fc.nat(),
    changes: fc.array(fc.tuple(fc.nat(12), fc.option(fc.nat(5), { nil: undefined })), { maxLength: 24 }),
  }),
  fc.record({ op: fc.constant("read" as const), from: fc.nat() }),
)

const asObject = (m: PMap<number, number>) => Object.fromEntries(m.sorted())

describe("PMap", () => {
  test.prop([fc.array(opArbitrary, { maxLength: 80 })], { numRuns: 200 })(
    "every version keeps its contents, whichever versions are read or derived afterwards",
    (ops) => {
      const versions: Array<PMap<number, number>> = [PMap.empty()]
      const expected: Array<Map<number, number>> = [new Map()]
      for (const o of ops) {
        const i = o.from % versions.length
        const base = versions[i]!
        const model = new Map(expected[i]!)
        let next: PMap<number, number>
        if (o.op === "set") {
          next = base.set(o.key, o.value)
          model.set(o.key, o.value)
        } else if (o.op === "delete") {
          next = base.delete(o.key)
          model.delete(o.key)
        } else if (o.op === "edit") {
          next = base.edit((e) => {
            for (const [k, v] of o.changes) {
              if (v === undefined) e.delete(k)
              else e.set(k, v)
              // Reads inside an edit see its own writes.
              expect(e.get(k)).toBe(v)
            }
          })
          for (const [k, v] of o.changes) v === undefined ? model.delete(k) : model.set(k, v)
        } else {
          expect(asObject(base)).toEqual(Object.fromEntries([...model].sort((a, b) => a[0] - b[0])))
          expect(base.size).toBe(model.size)
          continue
        }
        versions.push(next)
        expected.push(model)
      }
      // Read every version in a scrambled order: all still hold what they held.
      const order = versions.map((_, i) => (i * 7) % versions.length)
      for (const i of [...order, ...order.reverse()])
        expect(asObject(versions[i]!)).toEqual(
          Object.fromEntries([...expected[i]!].sort((a, b) => a[0] - b[0])),
        )
    },
  )

  it("returns the same version when nothing changes", () => {
    const a = PMap.empty<string, number>().set("x", 1)
    expect(a.set("x", 1)).toBe(a)
    expect(a.delete("y")).toBe(a)
    expect(a.edit(() => {})).toBe(a)
    expect(a.edit((e) => e.set("x", 1))).toBe(a)
  })

  it("keeps a transaction open across many changes and commits them as one version", () => {
    const a = PMap.from([
      ["x", 1],
      ["y", 2],
    ])
    const tx = a.begin()
    tx.set("x", 10)
    tx.delete("y")
    expect(tx.get("x")).toBe(10)
    tx.set("z", 3)
    tx.set("x", 11)
    const b = tx.commit()
    expect(() => tx.commit()).toThrow()
    expect(b.sorted()).toEqual([
      ["x", 11],
      ["z", 3],
    ])
    expect(a.sorted()).toEqual([
      ["x", 1],
      ["y", 2],
    ])
    expect(b.sorted()).toEqual([
      ["x", 11],
      ["z", 3],
    ])
    expect(a.begin().commit()).toBe(a)
    const e = PMap.empty<string, number>().begin()
    e.set("k", 1)
    expect(e.commit().get("k")).toBe(1)
    expect(PMap.empty<string, number>().size).toBe(0)
  })

  it("never changes the shared empty map", () => {
    const a = PMap.empty<string, number>().set("x", 1)
    const b = PMap.empty<string, number>().edit((e) => e.set("y", 2))
    expect(PMap.empty<string, number>().size).toBe(0)
    expect(a.entries()).toEqual([["x", 1]])
    expect(b.entries()).toEqual([["y", 2]])
  })
})
