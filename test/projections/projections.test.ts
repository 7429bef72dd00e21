import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { PROOF_STATES } from "../../src/machines/lifecycle.js"
import { ProjectionStateError } from "../../src/model/index.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import { backupOf, backupProjection } from "../../src/projections/backup.js"
import { balanceOf, balancesProjection } from "../../src/projections/balances.js"
import { canonicalJson } from "../../src/projections/canonical.js"
import { countersProjection, nextCounter } from "../../src/projections/counters.js"
import { ALL_PROJECTIONS } from "../../src/projections/index.js"
import { keysetOf, mintsOf, mintsProjection } from "../../src/projections/mints.js"
import { operationOf, operationsOf, operationsProjection } from "../../src/projections/operations.js"
import { type AnyProjection, foldEvents, foldPage } from "../../src/projections/projection.js"
import { keysetTotals, liveProofs, proofStateOf, proofsProjection } from "../../src/projections/proofs.js"
import { buildHistory, type History, historyArbitrary, recordHistory, stepArbitrary } from "./history.js"

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

/** Folds one event at a time, restoring from a checkpoint (serialise → deserialise) at the chosen points. */
const incremental = (
  p: AnyProjection,
  events: ReadonlyArray<RecordedEvent>,
  restoreAt: ReadonlySet<number>,
) => {
  let s = p.initial
  for (const [i, e] of events.entries()) {
    if (restoreAt.has(i)) s = p.deserialize(p.serialize(s))
    s = p.evolve(s, e)
  }
  return s
}

describe("projections: rebuild equals incremental", () => {
  test.prop([historyArbitrary, fc.array(fc.nat(400), { maxLength: 8 }), fc.nat(400)], { numRuns: 60 })(
    "every projection, serialised, byte for byte — and earlier states never change",
    (history, restorePoints, midPoint) => {
      const events = recordHistory(history)
      const restoreAt = new Set(restorePoints.map((r) => r % (events.length + 1)))
      const mid = midPoint % (events.length + 1)
      for (const p of ALL_PROJECTIONS) {
        const rebuilt = foldEvents(p, p.initial, events)
        // A state handed out mid-way, then the fold goes on from it: the old state must stay as it was.
        const early = foldEvents(p, p.initial, events.slice(0, mid))
        const earlyBytes = p.serialize(early)
        const continued = foldEvents(p, early, events.slice(mid))
        const inc = incremental(p, events, restoreAt)
        const expected = p.serialize(rebuilt)
        expect(bytesEqual(p.serialize(inc), expected), p.name).toBe(true)
        expect(bytesEqual(p.serialize(continued), expected), p.name).toBe(true)
        expect(bytesEqual(p.serialize(early), earlyBytes), `${p.name} (earlier state)`).toBe(true)
        expect(
          bytesEqual(p.serialize(continued), expected),
          `${p.name} (after reading the earlier state)`,
        ).toBe(true)
        // The rebuilt state still folds to the same result after being serialised and read back.
        expect(bytesEqual(p.serialize(p.deserialize(expected)), expected), p.name).toBe(true)
      }
    },
  )
})

/** Cuts `events` into pages at the given points (as the store hands out pages). */
const paginate = (events: ReadonlyArray<RecordedEvent>, cuts: ReadonlyArray<number>) => {
  const at = [...new Set(cuts.map((c) => c % (events.length + 1)))].sort((a, b) => a - b)
  const pages: RecordedEvent[][] = []
  let from = 0
  for (const c of [...at, events.length]) {
    pages.push(events.slice(from, c))
    from = c
  }
  return pages
}

describe("projections: batch fold (evolveMany) equals the event-by-event fold", () => {
  it("proofs and balances have a batch fold", () => {
    expect(proofsProjection.evolveMany).toBeDefined()
    expect(balancesProjection.evolveMany).toBeDefined()
  })

  test.prop([historyArbitrary, fc.array(fc.nat(400), { maxLength: 10 })], { numRuns: 40 })(
    "byte for byte, whatever the pages — and the states between pages never change",
    (history, cuts) => {
      const events = recordHistory(history)
      const pages = paginate(events, cuts)
      for (const p of ALL_PROJECTIONS) {
        const expected = p.serialize(foldEvents(p, p.initial, events))
        let s = p.initial
        const seen: Array<{ state: unknown; bytes: Uint8Array }> = []
        for (const page of pages) {
          s = foldPage(p, s, page)
          seen.push({ state: s, bytes: p.serialize(s) })
        }
        expect(bytesEqual(p.serialize(s), expected), p.name).toBe(true)
        // Reading the states handed out between pages (which reroots the maps) finds them as they were…
        for (const { state, bytes } of seen) expect(bytesEqual(p.serialize(state), bytes), p.name).toBe(true)
        // …and the newest state is still right afterwards.
        expect(bytesEqual(p.serialize(s), expected), `${p.name} (after reading older states)`).toBe(true)
        // A batch from an older state forks without disturbing the newer lineage.
        const first = seen[0]
        if (first !== undefined && p.evolveMany !== undefined) {
          const fork = p.evolveMany(first.state, events.slice(pages[0]!.length))
          expect(bytesEqual(p.serialize(fork), expected), `${p.name} (fork)`).toBe(true)
          expect(bytesEqual(p.serialize(s), expected), `${p.name} (after the fork)`).toBe(true)
          expect(bytesEqual(p.serialize(first.state), first.bytes), `${p.name} (fork base)`).toBe(true)
        }
      }
    },
  )

  it("returns the very same state for a batch of events the projection does not follow", () => {
    const events = recordHistory(
      buildHistory(
        fc.sample(fc.array(stepArbitrary, { minLength: 10, maxLength: 10 }), { seed: 1, numRuns: 1 })[0]!,
      ),
    )
    for (const p of [proofsProjection, balancesProjection] as AnyProjection[]) {
      const s = foldPage(p, p.initial, events)
      const unfollowed = events.filter((e) => !e.event._tag.startsWith("Proofs"))
      expect(unfollowed.length).toBeGreaterThan(0)
      expect(p.evolveMany!(s, unfollowed)).toBe(s)
    }
  })
})

/** Sums of the model's proofs per (state, keyset) and per (mint, unit, state). */
const modelSums = (history: History, stream: string) => {
  const w = history.wallets.get(stream)!
  const byKeyset = new Map<string, Map<string, { count: number; amount: bigint }>>()
  const byBucket = new Map<string, bigint>()
  for (const p of w.proofs.values()) {
    const k = byKeyset.get(p.keysetId) ?? new Map()
    byKeyset.set(p.keysetId, k)
    const t = k.get(p.state) ?? { count: 0, amount: 0n }
    k.set(p.state, { count: t.count + 1, amount: t.amount + p.amount })
    const key = `${p.mintUrl} ${p.unit} ${p.state}`
    byBucket.set(key, (byBucket.get(key) ?? 0n) + p.amount)
  }
  return { byKeyset, byBucket }
}

describe("projections: what they show", () => {
  test.prop([historyArbitrary], { numRuns: 60 })("match the model of the generated history", (history) => {
    const events = recordHistory(history)
    const proofs = foldEvents(proofsProjection, proofsProjection.initial, events)
    const balances = foldEvents(balancesProjection, balancesProjection.initial, events)
    const counters = foldEvents(countersProjection, countersProjection.initial, events)
    const ops = foldEvents(operationsProjection, operationsProjection.initial, events)
    const mints = foldEvents(mintsProjection, mintsProjection.initial, events)
    const backup = foldEvents(backupProjection, backupProjection.initial, events)
    for (const [stream, w] of history.wallets) {
      const sums = modelSums(history, stream)
      for (const [y, p] of w.proofs) expect(proofStateOf(proofs, stream, y)).toBe(p.state)
      const live = [...w.proofs.values()].filter((p) => p.state !== "spent").length
      expect(liveProofs(proofs, stream).length).toBe(live)
      for (const [keysetId, byState] of keysetTotals(proofs, stream))
        for (const s of PROOF_STATES)
          expect(byState[s]).toEqual(sums.byKeyset.get(keysetId)?.get(s) ?? { count: 0, amount: 0n })
      for (const [mintUrl, units] of w.trusted)
        for (const unit of units) {
          const b = balanceOf(balances, stream, mintUrl, unit)
          for (const s of PROOF_STATES) expect(b[s]).toBe(sums.byBucket.get(`${mintUrl} ${unit} ${s}`) ?? 0n)
        }
      for (const keysetId of w.learned) {
        expect(nextCounter(counters, stream, keysetId)).toBe(w.counters.get(keysetId) ?? 0)
        expect(keysetOf(mints, stream, keysetId)?.mintUrl).toBeDefined()
      }
      expect(mintsOf(mints, stream).map((m) => [m.mintUrl, m.units])).toEqual(
        [...w.trusted].sort(([a], [b]) => (a < b ? -1 : 1)),
      )
      for (const [id, o] of w.ops) {
        const view = operationOf(ops, stream, id)
        expect(view?.kind).toBe(o.kind)
        expect(view?.status).toBe(o.status)
      }
      expect(operationsOf(ops, stream, { inFlight: true }).map((v) => v.operationId)).toEqual(
        [...w.ops]
          .filter(([, o]) => o.status !== "completed" && o.status !== "compensated")
          .map(([id]) => id),
      )
      const b = backupOf(backup, stream)!
      expect(b.mnemonic).toBe(
        `zebra quantum walrus ${stream.slice("wallet/w".length)} tangerine oxygen marble`,
      )
      expect(b.keysets.map((k) => [k.id, k.nextCounter])).toEqual(
        [...w.learned].sort().map((id) => [id, w.counters.get(id) ?? 0]),
      )
      expect(b.mints.map((m) => [m.mintUrl, m.units])).toEqual(
        [...w.trusted].sort(([x], [y]) => (x < y ? -1 : 1)),
      )
    }
  })

  it("values and fees of completed operations come from their events", () => {
    const history = buildHistory([
      { wallet: 0, action: 1, a: 5, b: 1 }, // mint, completed
      { wallet: 0, action: 6, a: 0, b: 0 }, // melt, paid
    ])
    const events = recordHistory(history)
    const ops = foldEvents(operationsProjection, operationsProjection.initial, events)
    const [mint, melt] = operationsOf(ops, "wallet/w0")
    expect(mint).toMatchObject({
      kind: "mint",
      status: "completed",
      detail: "bolt11",
      outputs: 2,
      attempts: 1,
    })
    expect(mint?.amount).toBe(6n + 7n)
    expect(melt).toMatchObject({ kind: "melt", status: "completed", fee: 0n, inputs: 2 })
    expect(mint!.startedAt).toBeLessThanOrEqual(mint!.updatedAt)
  })

  it("ignores transitions the lifecycle forbids, deterministically", () => {
    const history = buildHistory([{ wallet: 0, action: 1, a: 0, b: 1 }])
    const events = recordHistory(history)
    const y = [...history.wallets.get("wallet/w0")!.proofs.keys()][0]!
    const last = events.at(-1)!.envelope
    const forged = (sequence: number, event: RecordedEvent["event"]): RecordedEvent => ({
      envelope: { ...last, sequence, eventId: `forged-${sequence}` },
      event,
    })
    const extra = [
      forged(last.sequence + 1, { _tag: "ProofsSpent", operationId: "x", ys: [y] }),
      forged(last.sequence + 2, { _tag: "ProofsReleased", operationId: "x", ys: [y] }), // spent → unspent
      forged(last.sequence + 3, { _tag: "ProofsSpent", operationId: "x", ys: [y] }), // spent twice
    ]
    const all = [...events, ...extra]
    const proofs = foldEvents(proofsProjection, proofsProjection.initial, all)
    expect(proofStateOf(proofs, "wallet/w0", y)).toBe("spent")
    const balances = foldEvents(balancesProjection, balancesProjection.initial, all)
    const b = balanceOf(balances, "wallet/w0", "https://mint-a.example.com", "sat")
    expect(b.unspent + b.spent).toBe(
      [...history.wallets.get("wallet/w0")!.proofs.values()].reduce((s, p) => s + p.amount, 0n),
    )
  })

  it("evolve returns the very same state for events a projection does not follow", () => {
    const events = recordHistory(buildHistory([{ wallet: 0, action: 1, a: 0, b: 1 }]))
    const created = events[0]!
    expect(created.event._tag).toBe("WalletCreated")
    const followers: ReadonlyArray<AnyProjection> = [
      proofsProjection,
      balancesProjection,
      countersProjection,
      operationsProjection,
      mintsProjection,
    ]
    for (const p of followers) expect(p.evolve(p.initial, created)).toBe(p.initial)
  })
})

describe("projections: serialised form", () => {
  test.prop([fc.array(stepArbitrary, { maxLength: 30 })], { numRuns: 20 })(
    "is canonical and names its projection",
    (steps) => {
      const events = recordHistory(buildHistory(steps))
      for (const p of ALL_PROJECTIONS) {
        const bytes = p.serialize(foldEvents(p, p.initial, events))
        const text = Buffer.from(bytes).toString("utf8")
        expect(JSON.parse(text.split("\n")[0]!)).toEqual({ projection: p.name, version: p.version })
        // Every record line is canonical JSON (sorted keys, no spaces) and the lines are not repeated.
        const lines = text.split("\n").slice(1)
        for (const line of lines) expect(canonicalJson(JSON.parse(line))).toBe(line)
        expect(new Set(lines).size).toBe(lines.length)
      }
    },
  )

  it("refuses bytes of another projection, another version or garbage", () => {
    const bytes = proofsProjection.serialize(proofsProjection.initial)
    expect(() => balancesProjection.deserialize(bytes)).toThrow(ProjectionStateError)
    const older = Buffer.from(Buffer.from(bytes).toString().replace('"version":1', '"version":0'))
    expect(() => proofsProjection.deserialize(older)).toThrow(ProjectionStateError)
    expect(() => proofsProjection.deserialize(Buffer.from("not json"))).toThrow(ProjectionStateError)
    const bad = Buffer.concat([Buffer.from(bytes), Buffer.from('\n["p","wallet/w0"]')])
    expect(() => proofsProjection.deserialize(bad)).toThrow(ProjectionStateError)
  })

  it("keeps bigints exact beyond 2^53", () => {
    const history = buildHistory([{ wallet: 0, action: 1, a: 0, b: 1 }])
    const events = recordHistory(history)
    const big = 2n ** 63n + 12345n
    const issued = events.find((e) => e.event._tag === "ProofsIssued")!
    const e = issued.event as Extract<RecordedEvent["event"], { _tag: "ProofsIssued" }>
    const bumped: RecordedEvent = {
      ...issued,
      event: { ...e, proofs: e.proofs.map((p) => ({ ...p, amount: big })) },
    }
    const all = events.map((x) => (x === issued ? bumped : x))
    for (const p of ALL_PROJECTIONS) {
      const s = foldEvents(p, p.initial, all)
      const back = p.deserialize(p.serialize(s))
      expect(bytesEqual(p.serialize(back), p.serialize(s))).toBe(true)
    }
    const balances = foldEvents(balancesProjection, balancesProjection.initial, all)
    expect(balanceOf(balances, "wallet/w0", "https://mint-a.example.com", "sat").unspent).toBe(big * 2n)
  })
})
