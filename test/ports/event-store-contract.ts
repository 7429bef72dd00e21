/**
 * The contract every `EventStore` backend passes (in-memory, LevelDB, later JetStream). A backend's test file
 * calls {@link runEventStoreContract} with a factory; the suite registers its own `describe` block.
 *
 * ```ts
 * runEventStoreContract("leveldb", async () => {
 *   const dir = await mkdtemp(join(tmpdir(), "corecashu-"))
 *   const open = () => Effect.runPromise(openLevelDbStore({ dataDir: dir, ... }))
 *   return { store: await open(), reopen: open, cleanup: () => rm(dir, { recursive: true, force: true }) }
 * })
 * ```
 *
 * Factory rules: every call gives a fresh, empty log. `reopen` (optional, for durable backends) is called
 * only after the suite has closed the current store, and must open a new store over the same data. After a
 * test the suite closes the current store (so `close` must be idempotent) and then calls `cleanup`.
 *
 * @module
 */

import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { WalletEvent } from "../../src/events/catalogue.js"
import { currentSchemaVersion } from "../../src/events/codec.js"
import { GENESIS_HASH, type StoredEvent, verifyEventHash } from "../../src/events/envelope.js"
import { MAX_AMOUNT } from "../../src/model/index.js"
import type {
  AppendResult,
  EventStoreShape,
  ExpectedVersion,
  NewEvent,
  RecordedEvent,
} from "../../src/ports/event-store.js"

/** What a backend's factory returns. */
export interface StoreUnderTest {
  readonly store: EventStoreShape
  /** Opens the same data again; called after the suite closed the current store. Durable backends only. */
  readonly reopen?: () => Promise<EventStoreShape>
  /** Removes everything the factory created (after the suite closed the current store). */
  readonly cleanup: () => Promise<void>
}

/** Knobs for slower backends. */
export interface ContractOptions {
  /** fast-check runs of the interleaving property (each run opens a fresh store). Default 25. */
  readonly propertyRuns?: number
  /** Concurrent appenders × events each, for the subscription test. Default 20 × 50. */
  readonly appenders?: number
  readonly eventsPerAppender?: number
}

// ---------------------------------------------------------------------------------------------------------
// Helpers (exported for backend-specific tests)
// ---------------------------------------------------------------------------------------------------------

const hex64 = (n: number, salt = 0): string =>
  (n * 2654435761 + salt).toString(16).padStart(16, "0").slice(-16).repeat(4)

/** A compressed-point-shaped hex string unique for `n` (the store never checks curve membership). */
export const samplePoint = (n: number, salt = 0): string => (n % 2 === 0 ? "02" : "03") + hex64(n, salt)

/** A valid catalogue event that varies with `n`: proofs with max amounts and secrets, counters, spends. */
export const sampleEvent = (n: number): WalletEvent => {
  switch (n % 4) {
    case 0:
      return {
        _tag: "ProofsIssued",
        mintUrl: "https://mint.example.com",
        unit: "sat",
        operationId: `op-${n}`,
        proofs: [
          {
            amount: MAX_AMOUNT - BigInt(n),
            id: "00ad268c4d1f5826",
            secret: `secret-${n}`,
            C: samplePoint(n, 1),
            Y: samplePoint(n, 2),
            dleq: { e: hex64(n, 3), s: hex64(n, 4), r: hex64(n, 5) },
          },
        ],
      }
    case 1:
      return { _tag: "CountersReserved", keysetId: "00ad268c4d1f5826", start: n, count: 1 + (n % 7) }
    case 2:
      return { _tag: "ProofsSpent", ys: [samplePoint(n), samplePoint(n, 9)], operationId: `op-${n}` }
    default:
      return {
        _tag: "OperationStarted",
        kind: "melt",
        operationId: `op-${n}`,
        mintUrl: "https://mint.example.com",
        unit: "sat",
        method: "bolt11",
        quoteId: `quote-${n}`,
        amount: BigInt(n) * 1000n,
        feeReserve: 2n,
        request: `lnbc${n}`,
      }
  }
}

let idCounter = 0
/** `count` new events with ids unique in this process (`prefix` makes them readable in failures). */
export const newEvents = (count: number, prefix = "e"): NewEvent[] =>
  Array.from({ length: count }, () => {
    const n = idCounter++
    return { eventId: `${prefix}-${n}`, event: sampleEvent(n) }
  })

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

/** The typed failure of `effect`; fails the test when it succeeds or dies. */
const failure = async <A, E>(effect: Effect.Effect<A, E>): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const err = Cause.findErrorOption(exit.cause)
  if (err._tag === "None") throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return err.value
}

const tagOf = (e: unknown): unknown => (e as { _tag?: unknown })._tag

/** Joins a fiber, failing the test instead of hanging when it does not finish in time. */
const joinWithin = <A, E>(fiber: Fiber.Fiber<A, E>, seconds = 30): Promise<A> =>
  run(
    Effect.timeoutOrElse(Fiber.join(fiber), {
      duration: `${seconds} seconds`,
      orElse: () => Effect.die(new Error("the subscription did not deliver the expected events in time")),
    }),
  )

const collect = <A, E>(stream: Stream.Stream<A, E>): Promise<A[]> =>
  run(Stream.runCollect(stream)).then((c) => Array.from(c))

/** Checks the whole log: gap-free sequences, per-stream versions, unique ids, a verifying hash chain. */
const checkLogInvariants = async (store: EventStoreShape): Promise<RecordedEvent[]> => {
  const all = await collect(store.readAll())
  const raw = await collect(store.readRaw())
  const head = await run(store.head)
  expect(all.map((r) => r.envelope.sequence)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
  expect(raw.map((r) => r.envelope)).toEqual(all.map((r) => r.envelope))
  let prev = GENESIS_HASH
  for (const stored of raw) {
    expect(verifyEventHash(prev, stored)).toBe(true)
    prev = stored.envelope.hash
  }
  expect(new Set(all.map((r) => r.envelope.eventId)).size).toBe(all.length)
  const byStream = new Map<string, RecordedEvent[]>()
  for (const r of all) byStream.set(r.envelope.streamId, [...(byStream.get(r.envelope.streamId) ?? []), r])
  for (const [streamId, events] of byStream) {
    expect(events.map((r) => r.envelope.streamVersion)).toEqual(events.map((_, i) => i + 1))
    expect(await run(store.streamVersion(streamId))).toBe(events.length)
    expect(await run(store.read(streamId))).toEqual(events)
  }
  return all
}

// ---------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------

/** Registers the event-store contract tests for one backend. */
export const runEventStoreContract = (
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ContractOptions = {},
): void => {
  const propertyRuns = options.propertyRuns ?? 25
  const appenders = options.appenders ?? 20
  const eventsPerAppender = options.eventsPerAppender ?? 50

  interface Harness {
    readonly store: EventStoreShape
    readonly canReopen: boolean
    /** Closes the current store and opens the data again. */
    reopen(): Promise<EventStoreShape>
  }

  const withStore = async (f: (h: Harness) => Promise<void>): Promise<void> => {
    const sut = await makeStore()
    let current = sut.store
    const harness: Harness = {
      get store() {
        return current
      },
      canReopen: sut.reopen !== undefined,
      async reopen() {
        await run(current.close)
        current = await sut.reopen!()
        return current
      },
    }
    try {
      await f(harness)
    } finally {
      await run(current.close)
      await sut.cleanup()
    }
  }

  describe(`EventStore contract: ${name}`, () => {
    it("starts empty", () =>
      withStore(async ({ store }) => {
        expect(await run(store.head)).toBe(0)
        expect(await run(store.streamVersion("wallet/a"))).toBe(0)
        expect(await run(store.read("wallet/a"))).toEqual([])
        expect(await collect(store.readAll())).toEqual([])
        expect(await collect(store.readRaw())).toEqual([])
      }))

    it("appends and reads back events, envelopes and positions", () =>
      withStore(async ({ store }) => {
        const batch = newEvents(3)
        const before = Date.now()
        const result = await run(store.append("wallet/a", 0, batch))
        const after = Date.now()
        expect(result).toEqual({ firstSequence: 1, lastSequence: 3, streamVersion: 3, deduplicated: false })
        const read = await run(store.read("wallet/a"))
        expect(read.map((r) => r.event)).toEqual(batch.map((e) => e.event))
        read.forEach((r, i) => {
          const env = r.envelope
          expect(env.sequence).toBe(i + 1)
          expect(env.streamId).toBe("wallet/a")
          expect(env.streamVersion).toBe(i + 1)
          expect(env.eventId).toBe(batch[i]!.eventId)
          expect(env.type).toBe(batch[i]!.event._tag)
          expect(env.schemaVersion).toBe(currentSchemaVersion(batch[i]!.event._tag))
          expect(Number.isInteger(env.time)).toBe(true)
          expect(env.time).toBeGreaterThanOrEqual(before - 1)
          expect(env.time).toBeLessThanOrEqual(after + 1)
          expect(env.prevHash).toBe(i === 0 ? GENESIS_HASH : read[i - 1]!.envelope.hash)
          expect(env.hash).toMatch(/^[0-9a-f]{64}$/)
        })
        expect((await run(store.read("wallet/a", 2))).map((r) => r.envelope.streamVersion)).toEqual([2, 3])
        expect(await run(store.read("wallet/a", 4))).toEqual([])
        expect(await collect(store.readAll())).toEqual(read)
        // The returned version is the next expected version.
        const next = await run(store.append("wallet/a", result.streamVersion, newEvents(1)))
        expect(next).toEqual({ firstSequence: 4, lastSequence: 4, streamVersion: 4, deduplicated: false })
      }))

    it("keeps amounts up to 2^64−1 exact through the store", () =>
      withStore(async ({ store }) => {
        const event: WalletEvent = {
          _tag: "OperationCompleted",
          kind: "melt",
          operationId: "op-max",
          amount: MAX_AMOUNT,
          feeReserve: MAX_AMOUNT - 1n,
          feePaid: 9007199254740993n,
          inputFee: 0n,
          change: 1n,
        }
        await run(store.append("wallet/a", 0, [{ eventId: "max", event }]))
        expect((await run(store.read("wallet/a")))[0]!.event).toEqual(event)
      }))

    it("appends a batch atomically: an invalid event fails it whole, with nothing written", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(2)))
        const bad: NewEvent = {
          eventId: "bad",
          event: { _tag: "ProofsSpent", ys: ["not a point"] },
        }
        const err = await failure(store.append("wallet/a", 2, [...newEvents(2), bad]))
        expect(tagOf(err)).toBe("EventCodecError")
        expect(String((err as Error).message)).not.toContain("not a point")
        expect(await run(store.head)).toBe(2)
        expect(await run(store.streamVersion("wallet/a"))).toBe(2)
        // The sequence continues without a hole.
        const ok = await run(store.append("wallet/a", 2, newEvents(2)))
        expect(ok).toEqual({ firstSequence: 3, lastSequence: 4, streamVersion: 4, deduplicated: false })
        await checkLogInvariants(store)
      }))

    it("rejects a stale or future expectedVersion with WrongExpectedVersion and writes nothing", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(2)))
        for (const expected of [0, 1, 3, 10]) {
          const err = await failure(store.append("wallet/a", expected, newEvents(1)))
          expect(err).toMatchObject({
            _tag: "WrongExpectedVersion",
            streamId: "wallet/a",
            expected,
            actual: 2,
          })
        }
        expect(await run(store.head)).toBe(2)
        expect(await run(store.streamVersion("wallet/a"))).toBe(2)
      }))

    it("uses 0 for a new stream: a non-zero version fails on a new stream, 0 fails on an existing one", () =>
      withStore(async ({ store }) => {
        expect(tagOf(await failure(store.append("wallet/new", 1, newEvents(1))))).toBe("WrongExpectedVersion")
        expect((await run(store.append("wallet/new", 0, newEvents(1)))).streamVersion).toBe(1)
        expect(tagOf(await failure(store.append("wallet/new", 0, newEvents(1))))).toBe("WrongExpectedVersion")
        expect(await run(store.head)).toBe(1)
      }))

    it('"any" skips the version check on new and existing streams', () =>
      withStore(async ({ store }) => {
        expect((await run(store.append("wallet/a", "any", newEvents(2)))).streamVersion).toBe(2)
        expect((await run(store.append("wallet/a", "any", newEvents(1)))).streamVersion).toBe(3)
        expect((await run(store.append("wallet/b", "any", newEvents(1)))).firstSequence).toBe(4)
      }))

    it("an empty append checks the version and writes nothing", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(2)))
        expect(await run(store.append("wallet/a", 2, []))).toEqual({
          firstSequence: 3,
          lastSequence: 2,
          streamVersion: 2,
          deduplicated: false,
        })
        expect(tagOf(await failure(store.append("wallet/a", 1, [])))).toBe("WrongExpectedVersion")
        expect(await run(store.head)).toBe(2)
      }))

    it("answers a retried append of the same ids with the original positions, whatever the expected version", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/b", 0, newEvents(2)))
        const batch = newEvents(3)
        const original = await run(store.append("wallet/a", 0, batch))
        await run(store.append("wallet/a", 3, newEvents(2)))
        await run(store.append("wallet/b", 2, newEvents(1)))
        const headBefore = await run(store.head)
        const expectedVersions: ExpectedVersion[] = [0, 3, 5, 42, "any"]
        for (const expected of expectedVersions) {
          const retry = await run(store.append("wallet/a", expected, batch))
          expect(retry).toEqual({ ...original, deduplicated: true })
        }
        // A retry of a contiguous part of the batch reports that part's positions.
        const tail = await run(store.append("wallet/a", "any", batch.slice(1)))
        expect(tail).toEqual({ firstSequence: 4, lastSequence: 5, streamVersion: 3, deduplicated: true })
        expect(await run(store.head)).toBe(headBefore)
        await checkLogInvariants(store)
      }))

    it("rejects a batch mixing stored and new ids, with nothing written", () =>
      withStore(async ({ store }) => {
        const batch = newEvents(2)
        await run(store.append("wallet/a", 0, batch))
        for (const mixed of [
          [...batch, ...newEvents(1)],
          [...newEvents(1), batch[0]!],
        ]) {
          const err = await failure(store.append("wallet/a", "any", mixed))
          expect(tagOf(err)).toBe("WrongExpectedVersion")
        }
        expect(await run(store.head)).toBe(2)
      }))

    it("rejects an id reused in another stream, a reordered retry and an id twice in one batch", () =>
      withStore(async ({ store }) => {
        const batch = newEvents(2)
        await run(store.append("wallet/a", 0, batch))
        expect(tagOf(await failure(store.append("wallet/b", 0, batch)))).toBe("WrongExpectedVersion")
        expect(tagOf(await failure(store.append("wallet/b", "any", [batch[1]!])))).toBe(
          "WrongExpectedVersion",
        )
        expect(tagOf(await failure(store.append("wallet/a", "any", [batch[1]!, batch[0]!])))).toBe(
          "WrongExpectedVersion",
        )
        const [one] = newEvents(1)
        expect(tagOf(await failure(store.append("wallet/c", 0, [one!, one!])))).toBe("WrongExpectedVersion")
        expect(await run(store.head)).toBe(2)
        expect(await run(store.streamVersion("wallet/b"))).toBe(0)
        expect(await run(store.streamVersion("wallet/c"))).toBe(0)
      }))

    it("numbers events 1..n without gaps across streams; readAll(from) reads in that order", () =>
      withStore(async ({ store }) => {
        const streams = ["wallet/a", "wallet/b", "engine"]
        for (let i = 0; i < 12; i++) await run(store.append(streams[i % 3]!, "any", newEvents(1 + (i % 3))))
        const all = await checkLogInvariants(store)
        expect(all).toHaveLength(24)
        expect(await run(store.head)).toBe(24)
        for (const from of [1, 2, 17, 24]) {
          const part = await collect(store.readAll(from))
          expect(part).toEqual(all.slice(from - 1))
        }
        expect(await collect(store.readAll(25))).toEqual([])
        expect((await collect(store.readRaw(20))).map((s) => s.envelope.sequence)).toEqual([
          20, 21, 22, 23, 24,
        ])
      }))

    it("readAll stops at the head it saw when it started", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(3)))
        const seen: number[] = []
        await run(
          Stream.runForEach(store.readAll(), (r) =>
            Effect.gen(function* () {
              seen.push(r.envelope.sequence)
              if (r.envelope.sequence === 1) yield* store.append("wallet/b", 0, newEvents(2))
            }),
          ),
        )
        expect(seen).toEqual([1, 2, 3])
        expect(await run(store.head)).toBe(5)
      }))

    it("exposes raw stored events whose hash chain verifies and reveals tampering", () =>
      withStore(async ({ store }) => {
        for (let i = 0; i < 5; i++) await run(store.append(`wallet/${i % 2}`, "any", newEvents(2)))
        const raw = await collect(store.readRaw())
        expect(raw).toHaveLength(10)
        let prev = GENESIS_HASH
        for (const stored of raw) {
          expect(stored.payload).toBeInstanceOf(Uint8Array)
          expect(verifyEventHash(prev, stored)).toBe(true)
          prev = stored.envelope.hash
        }
        const victim = raw[4]!
        const flipped = victim.payload.slice()
        flipped[0] = flipped[0]! ^ 1
        const tampered: StoredEvent = { envelope: victim.envelope, payload: flipped }
        expect(verifyEventHash(raw[3]!.envelope.hash, tampered)).toBe(false)
        expect(verifyEventHash(raw[2]!.envelope.hash, victim)).toBe(false)
      }))

    it("subscribe catches up, then tails concurrent appends with no gap and no duplicate", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/pre", 0, newEvents(10)))
        const total = 10 + appenders * eventsPerAppender
        const subscriber = Effect.runFork(Stream.runCollect(Stream.take(store.subscribe(), total)))
        const late = Effect.runFork(Stream.runCollect(Stream.take(store.subscribe(7), total - 6)))
        await Promise.all(
          Array.from({ length: appenders }, async (_, a) => {
            for (let i = 0; i < eventsPerAppender; i++) {
              await run(store.append(`wallet/w${a}`, i, newEvents(1, `w${a}`)))
            }
          }),
        )
        const seen = Array.from(await joinWithin(subscriber))
        expect(seen.map((r) => r.envelope.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
        const lateSeen = Array.from(await joinWithin(late))
        expect(lateSeen.map((r) => r.envelope.sequence)).toEqual(
          Array.from({ length: total - 6 }, (_, i) => i + 7),
        )
        expect(seen).toEqual(await checkLogInvariants(store))
      }))

    it("subscribe from a future sequence waits for it", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(2)))
        const fiber = Effect.runFork(Stream.runCollect(Stream.take(store.subscribe(5), 2)))
        for (let i = 0; i < 3; i++) {
          await run(store.append("wallet/a", 2 + i, newEvents(1)))
          await new Promise((r) => setTimeout(r, 5))
        }
        expect(fiber.pollUnsafe()).toBeUndefined()
        await run(store.append("wallet/a", 5, newEvents(1)))
        const got = Array.from(await joinWithin(fiber))
        expect(got.map((r) => r.envelope.sequence)).toEqual([5, 6])
      }))

    it("reports head and stream versions", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(3)))
        await run(store.append("wallet/b", 0, newEvents(2)))
        await run(store.append("wallet/a", 3, newEvents(1)))
        expect(await run(store.head)).toBe(6)
        expect(await run(store.streamVersion("wallet/a"))).toBe(4)
        expect(await run(store.streamVersion("wallet/b"))).toBe(2)
        expect(await run(store.streamVersion("wallet/c"))).toBe(0)
      }))

    it("fails every use after close with StoreUnavailable, and ends live subscriptions", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(2)))
        const live = Effect.runFork(Stream.runCollect(store.subscribe()))
        await new Promise((r) => setTimeout(r, 10))
        await run(store.close)
        await run(store.close)
        const liveExit = await Effect.runPromise(Fiber.await(live))
        expect(Exit.isFailure(liveExit)).toBe(true)
        if (Exit.isFailure(liveExit)) {
          expect(
            tagOf(Cause.findErrorOption(liveExit.cause).pipe((o) => (o._tag === "Some" ? o.value : o))),
          ).toBe("StoreUnavailable")
        }
        const uses: Array<Effect.Effect<unknown, unknown>> = [
          store.append("wallet/a", 2, newEvents(1)),
          store.read("wallet/a"),
          store.streamVersion("wallet/a"),
          store.head,
          Stream.runCollect(store.readAll()),
          Stream.runCollect(store.readRaw()),
          Stream.runCollect(store.subscribe()),
        ]
        for (const use of uses) expect(await failure(use)).toMatchObject({ _tag: "StoreUnavailable" })
      }))

    it("keeps everything across a reopen, and sequences and the chain continue", () =>
      withStore(async (h) => {
        if (!h.canReopen) return
        const first = newEvents(3)
        await run(h.store.append("wallet/a", 0, first))
        await run(h.store.append("wallet/b", 0, newEvents(2)))
        const before = await checkLogInvariants(h.store)
        const store = await h.reopen()
        expect(await run(store.head)).toBe(5)
        expect(await run(store.streamVersion("wallet/a"))).toBe(3)
        expect(await checkLogInvariants(store)).toEqual(before)
        // Idempotency survives the restart: a retry after a crash must not duplicate.
        expect(await run(store.append("wallet/a", "any", first))).toEqual({
          firstSequence: 1,
          lastSequence: 3,
          streamVersion: 3,
          deduplicated: true,
        })
        expect(tagOf(await failure(store.append("wallet/a", 2, newEvents(1))))).toBe("WrongExpectedVersion")
        expect(await run(store.append("wallet/a", 3, newEvents(2)))).toEqual({
          firstSequence: 6,
          lastSequence: 7,
          streamVersion: 5,
          deduplicated: false,
        })
        const after = await checkLogInvariants(store)
        expect(after[5]!.envelope.prevHash).toBe(before[4]!.envelope.hash)
        const again = await h.reopen()
        expect(await checkLogInvariants(again)).toEqual(after)
      }))

    it("lets many concurrent appends to different streams all succeed", () =>
      withStore(async ({ store }) => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => run(store.append(`wallet/c${i}`, 0, newEvents(1 + (i % 3))))),
        )
        const seqs = results.flatMap((r) =>
          Array.from({ length: r.lastSequence - r.firstSequence + 1 }, (_, k) => r.firstSequence + k),
        )
        expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
        expect(
          results.every((r) => !r.deduplicated && r.streamVersion === r.lastSequence - r.firstSequence + 1),
        ).toBe(true)
        await checkLogInvariants(store)
      }))

    it("lets exactly one of concurrent appends with the same expectedVersion win", () =>
      withStore(async ({ store }) => {
        await run(store.append("wallet/a", 0, newEvents(1)))
        for (const expected of [1, 3]) {
          const exits = await Promise.all(
            Array.from({ length: 10 }, () =>
              Effect.runPromiseExit(store.append("wallet/a", expected, newEvents(2))),
            ),
          )
          const wins = exits.filter(Exit.isSuccess)
          expect(wins).toHaveLength(1)
          for (const exit of exits.filter(Exit.isFailure)) {
            const err = Cause.findErrorOption(exit.cause)
            expect(err._tag === "Some" && tagOf(err.value)).toBe("WrongExpectedVersion")
          }
        }
        expect(await run(store.streamVersion("wallet/a"))).toBe(5)
        await checkLogInvariants(store)
      }))

    it("keeps the invariants under random interleavings of appends, retries and conflicts", async () => {
      type Op =
        | {
            readonly kind: "append"
            readonly stream: number
            readonly version: VersionMode
            readonly n: number
          }
        | { readonly kind: "retry"; readonly of: number; readonly version: VersionMode }
      type VersionMode = "current" | "stale" | "ahead" | "any"
      const versionMode = fc.constantFrom<VersionMode>("current", "current", "stale", "ahead", "any")
      const op: fc.Arbitrary<Op> = fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            kind: fc.constant("append" as const),
            stream: fc.nat(3),
            version: versionMode,
            n: fc.integer({ min: 1, max: 3 }),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant("retry" as const), of: fc.nat(), version: versionMode }),
        },
      )
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
          async (groups) =>
            withStore(async ({ store }) => {
              const committed: Array<{ stream: string; batch: NewEvent[]; result: AppendResult }> = []
              const attempted = new Set<string>()
              const expectedFor = async (stream: string, mode: VersionMode): Promise<ExpectedVersion> => {
                if (mode === "any") return "any"
                const v = await run(store.streamVersion(stream))
                // Versions only grow and a run appends far fewer than 1000 events: stale and ahead never match.
                return mode === "current" ? v : mode === "stale" ? v - 1 : v + 1000
              }
              for (const group of groups) {
                // The operations of a group run concurrently; the groups run one after another.
                await Promise.all(
                  group.map(async (o) => {
                    if (o.kind === "retry") {
                      if (committed.length === 0) return
                      const original = committed[o.of % committed.length]!
                      const res = await run(
                        store.append(
                          original.stream,
                          await expectedFor(original.stream, o.version),
                          original.batch,
                        ),
                      )
                      expect(res).toEqual({ ...original.result, deduplicated: true })
                      return
                    }
                    const stream = `wallet/s${o.stream}`
                    const batch = newEvents(o.n, "p")
                    for (const e of batch) attempted.add(e.eventId)
                    const expected = await expectedFor(stream, o.version)
                    const exit = await Effect.runPromiseExit(store.append(stream, expected, batch))
                    if (Exit.isSuccess(exit)) {
                      expect(exit.value.deduplicated).toBe(false)
                      expect(exit.value.lastSequence - exit.value.firstSequence + 1).toBe(o.n)
                      committed.push({ stream, batch, result: exit.value })
                    } else {
                      const err = Cause.findErrorOption(exit.cause)
                      expect(err._tag === "Some" && tagOf(err.value)).toBe("WrongExpectedVersion")
                      expect(o.version).not.toBe("any")
                    }
                    if (o.version === "stale" || o.version === "ahead") {
                      expect(Exit.isFailure(exit)).toBe(true)
                    }
                  }),
                )
              }
              const all = await checkLogInvariants(store)
              // Exactly the committed batches are in the log, each where its append said.
              expect(all.length).toBe(committed.reduce((n, c) => n + c.batch.length, 0))
              for (const c of committed) {
                const slice = all.slice(c.result.firstSequence - 1, c.result.lastSequence)
                expect(slice.map((r) => r.envelope.eventId)).toEqual(c.batch.map((e) => e.eventId))
                expect(slice.map((r) => r.event)).toEqual(c.batch.map((e) => e.event))
                expect(slice.every((r) => r.envelope.streamId === c.stream)).toBe(true)
                expect(slice[slice.length - 1]!.envelope.streamVersion).toBe(c.result.streamVersion)
              }
              for (const r of all) expect(attempted.has(r.envelope.eventId)).toBe(true)
            }),
        ),
        { numRuns: propertyRuns },
      )
    })
  })
}
