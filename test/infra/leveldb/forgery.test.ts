import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { buildHistory } from "../../projections/history.js"
import { forgeLog } from "../../support/log-forgery.js"
import { leveldbHarness, withRaw } from "../fixtures/leveldb-harness.js"

/**
 * A forger with write access but without the key rewrites the log consistently (sequences, hashes, links,
 * indexes and the marker all recomputed): the keyless chain holds, so only the key can reveal the edit.
 * These are the edits that passed the full audit before payloads' associated data bound their place.
 */
const { freshDir, open, auditClosed } = leveldbHarness("corecashu-forgery-")
const key = new Uint8Array(32).fill(21)
const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/**
 * A valid history of 3 wallets (the audit's invariants hold), one chunk per append, the last three appends
 * in one turn (one sealed group of several).
 */
const written = async () => {
  const dir = await freshDir()
  const store = await open({ dataDir: dir, key })
  const steps = Array.from({ length: 24 }, (_, i) => ({
    wallet: i % 3,
    action: [1, 1, 2, 3, 1, 4, 5, 1][i % 8]!,
    a: i * 13,
    b: i * 7,
  }))
  const { appends } = buildHistory(steps)
  const last = appends.length - 3
  for (const a of appends.slice(0, last)) await run(store.append(a.streamId, "any", a.events))
  await Promise.all(appends.slice(last).map((a) => run(store.append(a.streamId, "any", a.events))))
  await run(store.close)
  return dir
}

const auditOf = async (dir: string) => {
  const { store, report } = await auditClosed(dir, key)
  const chainOnly = await run(store.verifyChain)
  await run(store.close)
  return { report, chainOnly }
}

describe("LevelDB event store: a consistent forgery without the key", () => {
  it("the forger itself is faithful: rewriting the log unchanged still audits clean", async () => {
    const dir = await written()
    expect((await auditOf(dir)).report).toMatchObject({ ok: true, scope: "full" })
    await withRaw(dir, (db) => forgeLog(db, (log) => log))
    expect((await auditOf(dir)).report).toMatchObject({ ok: true, scope: "full" })
  })

  const edits: Array<[string, (log: import("../../support/log-forgery.js").ForgedLog) => typeof log]> = [
    ["removing a middle batch (a wallet's creation)", (log) => [...log.slice(0, 1), ...log.slice(2)]],
    ["removing a middle batch of proofs", (log) => [...log.slice(0, 4), ...log.slice(5)]],
    ["swapping two batches", (log) => [log[0]!, log[1]!, log[2]!, log[4]!, log[3]!, ...log.slice(5)]],
    [
      "re-timing one event",
      (log) =>
        log.map((chunk, i) =>
          i === 4
            ? chunk.map((r) => ({ ...r, fields: { ...r.fields, time: r.fields.time + 3_600_000 } }))
            : chunk,
        ),
    ],
    ["moving the last sealed group to the front", (log) => [log[log.length - 1]!, ...log.slice(0, -1)]],
  ]

  for (const [name, edit] of edits)
    it(`detects ${name} with the key, though the keyless chain holds`, async () => {
      const dir = await written()
      await withRaw(dir, (db) =>
        forgeLog(db, (log) => {
          // Enough batches for every edit to touch the middle of the log.
          expect(log.length).toBeGreaterThanOrEqual(8)
          const forged = edit(log)
          expect(forged).not.toEqual(log)
          return forged
        }),
      )
      const { report, chainOnly } = await auditOf(dir)
      // The forgery is consistent: the chain and indexes check out without the key …
      expect(chainOnly.verified).toBeGreaterThan(0)
      // … but a payload no longer opens where it now sits.
      expect(report.ok).toBe(false)
    })
})
