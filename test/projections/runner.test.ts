import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fc, test } from "@fast-check/vitest"
import { Cause, Effect, Exit, Scope, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { fileCheckpointStore } from "../../src/infra/checkpoint-file-store.js"
import { openLevelDbEventStore } from "../../src/infra/leveldb-store.js"
import { makeMemoryEventStore, makeMemoryLog } from "../../src/infra/memory-store.js"
import { createVault } from "../../src/infra/vault.js"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../../src/ports/event-store.js"
import { type CheckpointStore, memoryCheckpointStore } from "../../src/projections/checkpoint.js"
import { ALL_PROJECTIONS } from "../../src/projections/index.js"
import { type AnyProjection, foldEvents } from "../../src/projections/projection.js"
import { type ProjectionRunner, startProjectionRunner } from "../../src/projections/runner.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"
import { type Append, buildHistory, historyArbitrary, stepArbitrary } from "./history.js"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const vault = createVault({ passphrase: "runner" }, INSECURE_TEST_VAULT_OPTIONS).vault

/** Wraps every projection so that each counts the events it folds (one at a time or in batches). */
const counted = () => {
  const counts = new Map<string, number>()
  const projections: AnyProjection[] = ALL_PROJECTIONS.map((p) => {
    const batch = p.evolveMany
    return {
      ...p,
      evolve: (s: unknown, e: RecordedEvent) => {
        counts.set(p.name, (counts.get(p.name) ?? 0) + 1)
        return p.evolve(s, e)
      },
      ...(batch === undefined
        ? {}
        : {
            evolveMany: (s: unknown, es: ReadonlyArray<RecordedEvent>) => {
              counts.set(p.name, (counts.get(p.name) ?? 0) + es.length)
              return batch(s, es)
            },
          }),
    }
  })
  return { projections, counts, total: () => Math.max(0, ...counts.values()) }
}

const appendAll = async (store: EventStoreShape, appends: ReadonlyArray<Append>, tag = "") => {
  for (const a of appends)
    await run(
      store.append(
        a.streamId,
        "any",
        a.events.map((e) => ({ ...e, eventId: `${tag}${e.eventId}` })),
      ),
    )
}

/** Starts a runner in its own scope; `close` ends it (saving a last checkpoint). */
const start = async (
  store: EventStoreShape,
  projections: ReadonlyArray<AnyProjection>,
  checkpoints?: CheckpointStore,
  checkpointEvery = 0,
): Promise<{ runner: ProjectionRunner; close: () => Promise<void> }> => {
  const scope = await run(Scope.make())
  const runner = await run(
    startProjectionRunner({ projections, checkpointEvery, ...(checkpoints ? { checkpoints } : {}) }).pipe(
      Effect.provideService(EventStore, store),
      Scope.provide(scope),
    ),
  )
  return { runner, close: () => run(Scope.close(scope, Exit.void)) }
}

/** Every projection of `runner` serialised, next to a rebuild from the store's log. */
const compareWithRebuild = async (
  store: EventStoreShape,
  runner: ProjectionRunner,
  projections: ReadonlyArray<AnyProjection>,
) => {
  const events = await run(Stream.runCollect(store.readAll(1)))
  for (const [i, p] of projections.entries()) {
    const base = ALL_PROJECTIONS[i]!
    const rebuilt = base.serialize(foldEvents(base, base.initial, events))
    expect(Buffer.from(base.serialize(runner.state(p))).equals(Buffer.from(rebuilt)), p.name).toBe(true)
  }
}

describe("projection runner", () => {
  it("catches up at open, then follows live appends", async () => {
    const history = buildHistory(
      fc.sample(fc.array(stepArbitrary, { minLength: 30, maxLength: 30 }), { seed: 7, numRuns: 1 })[0]!,
    )
    const half = Math.floor(history.appends.length / 2)
    const store = await run(makeMemoryEventStore())
    await appendAll(store, history.appends.slice(0, half))
    const { projections, counts } = counted()
    const { runner, close } = await start(store, projections)
    const headAtOpen = await run(store.head)
    expect(runner.position()).toBe(headAtOpen)
    await compareWithRebuild(store, runner, projections)
    const earlier = runner.state(projections[2]!)
    const earlierBytes = ALL_PROJECTIONS[2]!.serialize(earlier)
    await appendAll(store, history.appends.slice(half))
    const head = await run(store.head)
    await run(runner.awaitSequence(head))
    expect(runner.position()).toBe(head)
    await compareWithRebuild(store, runner, projections)
    // A state read earlier did not change under its reader.
    expect(Buffer.from(ALL_PROJECTIONS[2]!.serialize(earlier)).equals(Buffer.from(earlierBytes))).toBe(true)
    for (const p of projections) expect(counts.get(p.name)).toBe(head)
    await close()
  })

  test.prop([historyArbitrary, fc.array(fc.nat(100), { minLength: 1, maxLength: 4 })], { numRuns: 12 })(
    "reopening from checkpoints at random points folds only the new events and ends where a rebuild ends",
    async (history, cuts) => {
      const store = await run(makeMemoryEventStore())
      const checkpoints = memoryCheckpointStore()
      const points = [...new Set(cuts.map((c) => c % (history.appends.length + 1)))].sort((a, b) => a - b)
      let done = 0
      let checkpointed = 0
      for (const point of [...points, history.appends.length]) {
        // Append while no runner is open; the next open must fold just what came after the last close.
        await appendAll(store, history.appends.slice(done, point))
        done = point
        const head = await run(store.head)
        const { projections, total } = counted()
        const { runner, close } = await start(store, projections, checkpoints)
        expect(total()).toBe(head - checkpointed)
        expect(runner.position()).toBe(head)
        await compareWithRebuild(store, runner, projections)
        await close()
        checkpointed = head
      }
    },
  )

  /** How opening the runner fails (it must fail, typed). */
  const openFailure = async (
    store: EventStoreShape,
    projections: ReadonlyArray<AnyProjection>,
    checkpoints: CheckpointStore,
  ) => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        startProjectionRunner({ projections, checkpoints }).pipe(Effect.provideService(EventStore, store)),
      ),
    )
    if (exit._tag === "Success") throw new Error("the runner opened")
    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None") throw new Error("untyped failure")
    return error.value
  }

  it("refuses a checkpoint that names another event at its sequence (the log was rewritten)", async () => {
    const a = buildHistory([
      { wallet: 0, action: 1, a: 0, b: 1 },
      { wallet: 0, action: 2, a: 0, b: 0 },
    ])
    const b = buildHistory([
      { wallet: 0, action: 1, a: 3, b: 1 },
      { wallet: 0, action: 2, a: 0, b: 0 },
    ])
    const checkpoints = memoryCheckpointStore()
    const storeA = await run(makeMemoryEventStore({ clock: () => 1 }))
    await appendAll(storeA, a.appends)
    await (await start(storeA, ALL_PROJECTIONS, checkpoints)).close()
    // Log B has the same length but other events: the checkpoints' hashes do not match it.
    const storeB = await run(makeMemoryEventStore({ clock: () => 1 }))
    await appendAll(storeB, b.appends)
    const head = await run(storeB.head)
    expect(head).toBe(await run(storeA.head))
    expect(await openFailure(storeB, ALL_PROJECTIONS, checkpoints)).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: head,
    })
    // Also when the projection's version changed: the checkpoint is still evidence of the old log.
    const newer = ALL_PROJECTIONS.map((p) => ({ ...p, version: p.version + 1 }))
    expect(await openFailure(storeB, newer, checkpoints)).toMatchObject({ _tag: "StoreCorrupted" })
  })

  it("refuses a log that ends before its checkpoint (rolled back), instead of rebuilding from less", async () => {
    const history = buildHistory([
      { wallet: 0, action: 1, a: 0, b: 1 },
      { wallet: 0, action: 2, a: 0, b: 0 },
      { wallet: 1, action: 1, a: 2, b: 2 },
    ])
    const checkpoints = memoryCheckpointStore()
    const full = await run(makeMemoryEventStore({ clock: () => 1 }))
    await appendAll(full, history.appends)
    await (await start(full, ALL_PROJECTIONS, checkpoints)).close()
    // The same log without its last append.
    const cut = await run(makeMemoryEventStore({ clock: () => 1 }))
    await appendAll(cut, history.appends.slice(0, -1))
    const head = await run(cut.head)
    expect(await openFailure(cut, ALL_PROJECTIONS, checkpoints)).toMatchObject({
      _tag: "StoreCorrupted",
      firstBadSequence: head + 1,
    })
  })

  it("a new projection version refolds the log instead of using an old version's state", async () => {
    const history = buildHistory([
      { wallet: 0, action: 1, a: 0, b: 1 },
      { wallet: 0, action: 2, a: 0, b: 0 },
    ])
    const checkpoints = memoryCheckpointStore()
    const store = await run(makeMemoryEventStore({ clock: () => 1 }))
    await appendAll(store, history.appends)
    await (await start(store, ALL_PROJECTIONS, checkpoints)).close()
    const bumped = counted()
    const newer = bumped.projections.map((p) => ({ ...p, version: p.version + 1 }))
    const again = await start(store, newer, checkpoints)
    expect(bumped.total()).toBe(await run(store.head))
    await compareWithRebuild(store, again.runner, newer)
    await again.close()
  })

  it("rebuilds from scratch on demand and keeps following", async () => {
    const history = buildHistory(
      fc.sample(fc.array(stepArbitrary, { minLength: 20, maxLength: 20 }), { seed: 3, numRuns: 1 })[0]!,
    )
    const store = await run(makeMemoryEventStore())
    await appendAll(store, history.appends)
    const { projections, counts } = counted()
    const { runner, close } = await start(store, projections, memoryCheckpointStore())
    const head = await run(store.head)
    await run(runner.rebuild)
    for (const p of projections) expect(counts.get(p.name)).toBe(2 * head)
    await compareWithRebuild(store, runner, projections)
    await appendAll(store, history.appends.slice(0, 2), "again-")
    const newHead = await run(store.head)
    await run(runner.awaitSequence(newHead))
    await compareWithRebuild(store, runner, projections)
    await close()
  })

  it("writes checkpoints every N events while running", async () => {
    const history = buildHistory(
      fc.sample(fc.array(stepArbitrary, { minLength: 30, maxLength: 30 }), { seed: 5, numRuns: 1 })[0]!,
    )
    const store = await run(makeMemoryEventStore())
    const checkpoints = memoryCheckpointStore()
    const { runner, close } = await start(store, ALL_PROJECTIONS, checkpoints, 10)
    await appendAll(store, history.appends)
    const head = await run(store.head)
    await run(runner.awaitSequence(head))
    const saved = await run(checkpoints.load("proofs"))
    expect(saved).toBeDefined()
    expect(saved!.sequence).toBeGreaterThanOrEqual(10)
    expect(saved!.sequence).toBeLessThanOrEqual(head)
    await close()
  })

  it("saves nothing during the catch-up of open, and spaces live saves by a quarter of the log (issue #15)", async () => {
    const history = buildHistory(
      fc.sample(fc.array(stepArbitrary, { minLength: 80, maxLength: 80 }), { seed: 11, numRuns: 1 })[0]!,
    )
    const half = Math.floor(history.appends.length / 2)
    const store = await run(makeMemoryEventStore())
    await appendAll(store, history.appends.slice(0, half))
    const headAtOpen = await run(store.head)
    expect(headAtOpen).toBeGreaterThan(40) // a save every 10 events would have saved several times
    const inner = memoryCheckpointStore()
    const saves: number[] = []
    const checkpoints: CheckpointStore = {
      ...inner,
      save: (c) => {
        if (c.projection === "proofs") saves.push(c.sequence)
        return inner.save(c)
      },
    }
    const { runner, close } = await start(store, ALL_PROJECTIONS, checkpoints, 10)
    expect(runner.position()).toBe(headAtOpen)
    expect(saves).toEqual([])
    await appendAll(store, history.appends.slice(half))
    const head = await run(store.head)
    await run(runner.awaitSequence(head))
    expect(head - headAtOpen).toBeGreaterThan(Math.max(10, head / 4))
    expect(saves.length).toBeGreaterThan(0)
    let previous = headAtOpen
    for (const at of saves) {
      expect(at - previous).toBeGreaterThanOrEqual(Math.max(10, Math.floor(at / 4)))
      previous = at
    }
    await close()
    expect(saves[saves.length - 1]).toBe(head) // and the last state at close
  })

  it("runs over the LevelDB store with sealed file checkpoints, across a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "corecashu-runner-"))
    try {
      const history = buildHistory(
        fc.sample(fc.array(stepArbitrary, { minLength: 30, maxLength: 30 }), { seed: 11, numRuns: 1 })[0]!,
      )
      const half = Math.floor(history.appends.length / 2)
      const checkpoints = fileCheckpointStore(join(dir, "checkpoints"), vault)
      const session = async (appends: ReadonlyArray<Append>) => {
        const scope = await run(Scope.make())
        try {
          const store = await run(
            openLevelDbEventStore({ dataDir: join(dir, "log"), unencrypted: true }).pipe(
              Scope.provide(scope),
            ),
          )
          const before = await run(store.head)
          const { projections, total } = counted()
          const { runner, close } = await start(store, projections, checkpoints)
          expect(total()).toBe(0) // resumed from the checkpoints written at the last close
          expect(runner.position()).toBe(before)
          await appendAll(store, appends)
          const head = await run(store.head)
          await run(runner.awaitSequence(head))
          expect(total()).toBe(head - before)
          await compareWithRebuild(store, runner, projections)
          await close()
        } finally {
          await run(Scope.close(scope, Exit.void))
        }
      }
      await session(history.appends.slice(0, half))
      await session(history.appends.slice(half))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("fails waiters when the subscription fails", async () => {
    const log = makeMemoryLog()
    const store = await run(makeMemoryEventStore({ log }))
    const { runner, close } = await start(store, ALL_PROJECTIONS)
    await run(store.close)
    const r = await run(Effect.result(runner.awaitSequence(1)))
    expect(r._tag).toBe("Failure")
    await close()
  })
})
