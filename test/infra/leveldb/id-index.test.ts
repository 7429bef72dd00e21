import { describe, expect, it } from "vitest"
import { probeOf } from "../../../src/infra/leveldb/id-filter.js"
import { IdIndex } from "../../../src/infra/leveldb/id-index.js"

describe("IdIndex", () => {
  it("places every committed id at its sequence, also after growing far past its initial capacity", () => {
    const index = new IdIndex(1024)
    const n = 50_000
    for (let i = 0; i < n; i++) index.add(`op-${i}:step`, i + 1)
    expect(index.size).toBe(n)
    for (let i = 0; i < n; i++) expect(index.candidates(probeOf(`op-${i}:step`))).toContain(i + 1)
  })

  it("has no candidate for an id it never saw (exact without a read), whatever the Bloom filter says", () => {
    const index = new IdIndex(1024)
    const n = 20_000
    for (let i = 0; i < n; i++) index.add(`op-${i}:prepared`, i + 1)
    let candidates = 0
    for (let i = 0; i < n; i++) candidates += index.candidates(probeOf(`op-${i}:requested`)).length
    expect(candidates).toBe(0)
  })

  it("returns every sequence of ids whose hashes collide, so the records decide", () => {
    const index = new IdIndex(1024)
    const probe = probeOf("same")
    index.commit(probe, 7)
    index.commit([probe[0], probe[1] ^ 1], 8)
    index.commit(probe, 9)
    expect(index.candidates(probe).sort()).toEqual([7, 9])
    expect(index.candidates([probe[0], probe[1] ^ 1])).toEqual([8])
  })
})
