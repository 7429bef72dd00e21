import { describe, expect, it } from "vitest"
import { IdFilter } from "../../../src/infra/leveldb/id-filter.js"

describe("IdFilter", () => {
  it("never forgets an id, also after growing far past its initial capacity", () => {
    const f = new IdFilter(1024)
    const n = 60_000
    for (let i = 0; i < n; i++) f.add(`op-${i}:step-${i % 7}`)
    for (let i = 0; i < n; i++) expect(f.mayContain(`op-${i}:step-${i % 7}`)).toBe(true)
    expect(f.byteSize).toBeLessThan(n * 8)
  })

  it("answers 'certainly new' for almost every id it never saw", () => {
    const f = new IdFilter(1024)
    const n = 60_000
    for (let i = 0; i < n; i++) f.add(`op-${i}:prepared:0`)
    let falsePositives = 0
    for (let i = 0; i < n; i++) if (f.mayContain(`op-${i}:requested:0`)) falsePositives++
    expect(falsePositives / n).toBeLessThan(0.005)
  })
})
