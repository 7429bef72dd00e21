/**
 * `engine.events()` / `wallet.events()` and their Effect twins (`engine.eventsEffect()`,
 * `wallet.effect.events()`): live delivery during a mint → send → receive → melt run equals the pure fold of
 * the log; resuming from a position gives exactly the tail; `break` ends the feed; the wallet variant sees
 * only its wallet; closing the engine ends a feed.
 */
import { Effect, Fiber, Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { AppEvent, Engine } from "../../src/index.js"
import { appEventsRun, derive, logOf } from "../support/app-events.js"
import { enginesClosedAfterEach, fund, testMint } from "../support/engine.js"

const open = enginesClosedAfterEach()

/** Reads `iterable` until `done(event)` holds (then closes it), failing after `ms`. */
const readUntil = async (
  iterable: AsyncIterable<AppEvent>,
  done: (e: AppEvent) => boolean,
  ms = 20_000,
): Promise<AppEvent[]> => {
  const out: AppEvent[] = []
  const it = iterable[Symbol.asyncIterator]()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no end after ${ms} ms (${out.length} events)`)), ms)
  })
  try {
    for (;;) {
      const r = await Promise.race([it.next(), timeout])
      if (r.done === true) throw new Error(`the feed ended after ${out.length} events`)
      out.push(r.value)
      if (done(r.value)) return out
    }
  } finally {
    clearTimeout(timer)
    await it.return?.()
  }
}

/** Reads exactly `n` events of `iterable`, then closes it. */
const readN = (iterable: AsyncIterable<AppEvent>, n: number): Promise<AppEvent[]> => {
  let count = 0
  return n === 0 ? Promise.resolve([]) : readUntil(iterable, () => ++count === n)
}

const setup = async () => {
  const mint = testMint("events", { inputFeePpk: 100n })
  const engine = await open([mint])
  return { mint, engine }
}

/** The position of the last event of `log`. */
const headOf = async (engine: Engine) => (await logOf(engine)).length

describe("engine.events(): live", () => {
  it("delivers, while the run goes on, exactly what the fold derives from the log", async () => {
    const { mint, engine } = await setup()
    const start = await headOf(engine)
    const live = readUntil(engine.events(), (e) => e._tag === "MeltPaid")
    const run = await appEventsRun(engine, mint)
    const got = await live
    const log = await logOf(engine)
    const expected = derive(log).filter((e) => e.position > start)
    // The feed stopped at MeltPaid: everything derived up to it, in order.
    const end = expected.findIndex((e) => e._tag === "MeltPaid")
    expect(got).toEqual(expected.slice(0, end + 1))
    expect(new Set(got.map((e) => e.walletId))).toEqual(new Set(["alice", "bob", "carol"]))
    expect(got.some((e) => e._tag === "TokenReceived" && e.operationId === run.receiveOperationId)).toBe(true)
    expect(got.some((e) => e._tag === "MintQuotePaid" && e.operationId === run.mintOperationId)).toBe(true)
  })

  it("starts after what the views show at the call, and a wallet's feed holds only its wallet", async () => {
    const { mint, engine } = await setup()
    const run = await appEventsRun(engine, mint)
    const before = await headOf(engine)
    const engineFeed = engine.events()
    const aliceFeed = run.alice.events()
    // Called before the operation, read after it: nothing is missed, nothing older comes.
    const sent = await run.alice.send({ mintUrl: mint.baseUrl, amount: 10n })
    await run.bob.receive(sent.token)
    // A receive settles with OperationSettled then TokenReceived, at one position.
    const settled = (e: AppEvent) => e._tag === "TokenReceived"
    const all = await readUntil(engineFeed, settled)
    expect(all.every((e) => e.position > before)).toBe(true)
    expect(all).toEqual(
      derive(await logOf(engine)).filter((e) => e.position > before && e.position <= all.at(-1)!.position),
    )
    const mine = await readUntil(
      aliceFeed,
      (e) => e._tag === "OperationSettled" && e.operationId === sent.operationId,
    )
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((e) => e.walletId === "alice")).toBe(true)
    expect(mine).toEqual(all.filter((e) => e.walletId === "alice" && e.position <= mine.at(-1)!.position))
  })
})

describe("resuming", () => {
  it("fromPosition p gives exactly the app events of positions after p, for every p", async () => {
    const { mint, engine } = await setup()
    await appEventsRun(engine, mint)
    const log = await logOf(engine)
    const all = derive(log)
    const last = all.at(-1)!.position
    const positions = [...new Set(all.map((e) => e.position))]
    for (const p of [0, positions[3]!, positions[Math.floor(positions.length / 2)]!, last - 1]) {
      const tail = all.filter((e) => e.position > p)
      expect(tail.length).toBeGreaterThan(0)
      expect(await readN(engine.events({ fromPosition: p }), tail.length), `from ${p}`).toEqual(tail)
    }
    // A position past the head: only what comes after it.
    const feed = engine.events({ fromPosition: log.length + 2 })
    const w = engine.wallet("alice")
    const later = readUntil(feed, (e) => e._tag === "OperationSettled")
    const sent = await w.send({ mintUrl: mint.baseUrl, amount: 5n })
    const got = await later
    expect(got.every((e) => e.position > log.length + 2)).toBe(true)
    expect(got.at(-1)).toMatchObject({ operationId: sent.operationId })
  })
})

describe("ending", () => {
  it("break ends the feed and releases it; the iterable can be read again from the same start", async () => {
    const { mint, engine } = await setup()
    const w = await engine.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    const feed = w.events({ fromPosition: 0 })
    await fund(w, mint, 64n)
    const firstTwo: AppEvent[] = []
    for await (const e of feed) {
      firstTwo.push(e)
      if (firstTwo.length === 2) break
    }
    expect(firstTwo.map((e) => e.walletId)).toEqual(["w", "w"])
    const it = feed[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    expect(await it.return?.()).toEqual({ done: true, value: undefined })
    expect(await it.next()).toEqual({ done: true, value: undefined })
    // Read again: the same events from the same start.
    const again = await readUntil(feed, (e) => e._tag === "OperationSettled")
    expect(again.slice(0, 2)).toEqual(firstTwo)
    expect(again.at(-1)).toMatchObject({ _tag: "OperationSettled", kind: "mint", amount: 64n })
  })

  it("closing the engine ends a feed without an error; a closed engine's feed fails with EngineClosed", async () => {
    const { engine } = await setup()
    const seen: AppEvent[] = []
    const reading = (async () => {
      for await (const e of engine.events()) seen.push(e)
      return "ended"
    })()
    await new Promise((r) => setTimeout(r, 50))
    await engine.close()
    expect(await reading).toBe("ended")
    expect(seen).toEqual([])
    await expect(Effect.runPromise(Stream.runDrain(engine.eventsEffect()))).rejects.toMatchObject({
      _tag: "EngineClosed",
    })
  })
})

describe("the Effect twins", () => {
  it("engine.eventsEffect() and wallet.effect.events() are Streams of the same events", async () => {
    const { mint, engine } = await setup()
    const run = await appEventsRun(engine, mint)
    const all = derive(await logOf(engine))
    const last = all.at(-1)!
    const upToLast = <E>(s: Stream.Stream<AppEvent, E>) =>
      Effect.runPromise(
        Stream.runCollect(Stream.takeUntil(s, (e) => e.position === last.position && e._tag === last._tag)),
      )
    expect(Array.from(await upToLast(engine.eventsEffect({ fromPosition: 0 })))).toEqual(all)
    const alice = all.filter((e) => e.walletId === "alice")
    const aliceLast = alice.at(-1)!
    const mine = await Effect.runPromise(
      Stream.runCollect(
        Stream.takeUntil(
          run.alice.effect.events({ fromPosition: 0 }),
          (e) => e.position === aliceLast.position && e._tag === aliceLast._tag,
        ),
      ),
    )
    expect(Array.from(mine)).toEqual(alice)
    // Default start: when the stream runs, after what the views show then.
    const fiber = Effect.runFork(Stream.runCollect(Stream.take(run.bob.effect.events(), 1)))
    await new Promise((r) => setTimeout(r, 50))
    const head = (await logOf(engine)).length
    await run.bob.swap({ mintUrl: mint.baseUrl, amount: 8n })
    const [first] = Array.from(await Effect.runPromise(Fiber.join(fiber)))
    expect(first).toMatchObject({ walletId: "bob", _tag: "OperationStarted", kind: "swap" })
    expect(first!.position).toBeGreaterThan(head)
  })
})
