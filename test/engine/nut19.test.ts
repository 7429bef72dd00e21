/**
 * NUT-19 replays are decided in one layer, the engine's, which records each attempt before its bytes leave:
 * the mint client sends a money POST once. Through the real HTTP client, in front of the in-process mint:
 * every swap and mint request the mint received is an `OperationRequested` in the log, and the log never
 * holds a request the mint did not get at most once.
 */
import { Effect, Metric } from "effect"
import { describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore } from "../../src/engine/internal.js"
import { walletStream } from "../../src/events/ids.js"
import { mintRetriesTotal } from "../../src/infra/mint-client/telemetry.js"
import { clientOver, FAST, seen } from "../infra/mint-client/harness.js"
import { enginesClosedAfterEach, fund } from "../support/engine.js"
import { createTestMint, type TestMint, type TestMintOptions } from "../support/mint/index.js"

const open = enginesClosedAfterEach()

/** An engine whose mint client is the real HTTP one, over the in-process mint's `fetch`. */
const setup = async (name: string, mintOptions: TestMintOptions = {}) => {
  const mint = createTestMint({ baseUrl: `http://${name}.mint.test`, ...mintOptions })
  const engine = await open([mint], { mintClient: await clientOver(mint.fetch, FAST) })
  const w = await engine.createWallet({ walletId: "w" })
  await w.addMint(mint.baseUrl)
  return { mint, engine, w }
}

/** The attempts the log records for the wallet's operations, by request path. */
const recordedAttempts = async (engine: Engine, walletId: string) => {
  const events = await Effect.runPromise(engineStore(engine).read(walletStream(walletId), 1))
  const paths = new Map<string, string>()
  const attempts = new Map<string, number>()
  for (const { event } of events) {
    if (event._tag === "OperationPrepared") paths.set(event.operationId, event.request.path)
    if (event._tag === "OperationRequested") {
      const path = paths.get(event.operationId) ?? "none"
      attempts.set(path, (attempts.get(path) ?? 0) + 1)
    }
  }
  return attempts
}

const swapsSeen = (mint: TestMint) => seen(mint, "POST /v1/swap")

/** The process-wide count of NUT-19 replays of `endpoint` (`corecashu_mint_retries_total{kind="replay"}`). */
const replaysCounted = (endpoint: "swap" | "mint") =>
  Effect.runPromise(Metric.value(Metric.withAttributes(mintRetriesTotal, { endpoint, kind: "replay" }))).then(
    (s) => BigInt(s.count),
  )

describe("NUT-19 replay, decided by the engine", () => {
  it("a swap whose answer was lost is replayed once, as attempt 2 recorded before it left; the cache answers", async () => {
    const { mint, engine, w } = await setup("replay-swap")
    await fund(w, mint, 64n)
    mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    const before = await replaysCounted("swap")
    const sent = await w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 5n, forceSwap: true })
    expect(sent.amount).toBe(5n)
    // Counted in the metrics as one replay of /v1/swap.
    expect((await replaysCounted("swap")) - before).toBe(1n)
    // The client sent the first request once; the engine's recovery replayed the same bytes once.
    expect(swapsSeen(mint)).toBe(2)
    expect(mint.stats().cacheHits).toBe(1)
    expect((await recordedAttempts(engine, "w")).get("/v1/swap")).toBe(2)
    expect((await w.audit()).ok).toBe(true)
  })

  it("without a NUT-19 cache nothing is replayed: one request, one recorded attempt, recovery by checkstate/restore", async () => {
    const { mint, engine, w } = await setup("no-cache", { cacheTtlSeconds: null })
    await fund(w, mint, 64n)
    mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    const sent = await w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 5n, forceSwap: true })
    expect(sent.amount).toBe(5n)
    expect(swapsSeen(mint)).toBe(1)
    expect((await recordedAttempts(engine, "w")).get("/v1/swap")).toBe(1)
    expect((await w.audit()).ok).toBe(true)
  })

  it("every money POST the mint received is a recorded attempt, however many answers are lost", async () => {
    const { mint, engine, w } = await setup("many-lost")
    await fund(w, mint, 256n)
    for (let i = 0; i < 4; i++) {
      mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
      await w
        .send({ mintUrl: mint.baseUrl, unit: "sat", amount: BigInt(3 + i), forceSwap: true })
        .catch(() => {})
    }
    mint.faults.next({ path: "/v1/mint/bolt11", kind: "drop-response" })
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 16n })
    await w.mint(q.operationId).catch(() => {})
    await w.recover()
    const attempts = await recordedAttempts(engine, "w")
    expect(attempts.get("/v1/swap")).toBe(swapsSeen(mint))
    expect(attempts.get("/v1/mint/bolt11")).toBe(seen(mint, "POST /v1/mint/bolt11"))
    expect(mint.stats().outstanding).toBe(w.balance() + w.pending().reduce((s, p) => s + p.amount, 0n))
    expect((await w.audit()).ok).toBe(true)
  })
})
