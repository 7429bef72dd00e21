/**
 * The pure app-event fold (`src/projections/app-events.ts`) over the log of a realistic run against the
 * in-process test mint: what it derives agrees with the wallets' own views (balances, history) and with what
 * the calls returned; no derived event holds any secret of the log; the fold is pure and resumable.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { isCorecashuError } from "../../src/model/index.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import {
  APP_EVENT_TAGS,
  type AppEvent,
  absorbAppEvents,
  deriveAppEvents,
  initialAppEventState,
  publicMintUrl,
} from "../../src/projections/app-events.js"
import { type AppEventsRun, appEventsRun, derive, json, logOf, secretsOf } from "../support/app-events.js"
import { openTestEngine, testMint } from "../support/engine.js"

const mint = testMint("appevents", { inputFeePpk: 100n })
let engine: Engine
let run: AppEventsRun
let log: RecordedEvent[]
let events: AppEvent[]

beforeAll(async () => {
  engine = await openTestEngine([mint])
  run = await appEventsRun(engine, mint)
  log = await logOf(engine)
  events = derive(log)
})
afterAll(async () => {
  await engine.close()
})

const of = <T extends AppEvent["_tag"]>(tag: T, walletId?: string): Array<Extract<AppEvent, { _tag: T }>> =>
  events.filter(
    (e): e is Extract<AppEvent, { _tag: T }> =>
      e._tag === tag && (walletId === undefined || e.walletId === walletId),
  )

describe("app events of a realistic run", () => {
  it("every kind of event shows up, versioned, positioned in log order, and none looks like an error", () => {
    expect(new Set(events.map((e) => e._tag))).toEqual(new Set(APP_EVENT_TAGS))
    let last = 0
    for (const e of events) {
      expect(e.version).toBe(1)
      expect(e.position).toBeGreaterThanOrEqual(last)
      last = e.position
      const rec = log[e.position - 1]!
      expect(rec.envelope.sequence).toBe(e.position)
      expect(e.time).toBe(rec.envelope.time)
      expect(rec.envelope.streamId).toBe(`wallet/${e.walletId}`)
      expect(isCorecashuError(e)).toBe(false)
    }
  })

  it("balance changes chain up and end at each wallet's balances()", () => {
    for (const w of [run.alice, run.bob, run.carol]) {
      const changes = of("BalanceChanged", w.id)
      const last = new Map<string, AppEvent & { _tag: "BalanceChanged" }>()
      for (const c of changes) {
        const key = `${c.mintUrl} ${c.unit}`
        const before = last.get(key)
        expect(c.previous).toEqual(
          before?.balance ?? { incoming: 0n, unspent: 0n, reserved: 0n, pending: 0n, spent: 0n },
        )
        expect(c.balance).not.toEqual(c.previous)
        last.set(key, c)
      }
      const views = w.balances()
      expect(last.size).toBe(views.length)
      for (const b of views) {
        const { mintUrl, unit, ...amounts } = b
        expect(last.get(`${mintUrl} ${unit}`)?.balance).toEqual(amounts)
      }
    }
    expect(of("BalanceChanged", "alice").length).toBeGreaterThan(5)
  })

  it("operations start once and end as history says, with its amounts and fees", () => {
    for (const w of [run.alice, run.bob, run.carol]) {
      const history = w.history()
      expect(of("OperationStarted", w.id).map((e) => e.operationId)).toEqual(
        history.map((o) => o.operationId),
      )
      for (const o of history) {
        const started = of("OperationStarted", w.id).find((e) => e.operationId === o.operationId)!
        expect(started).toMatchObject({ kind: o.kind, mintUrl: o.mintUrl, unit: o.unit })
        const settled = of("OperationSettled", w.id).filter((e) => e.operationId === o.operationId)
        const reverted = of("OperationReverted", w.id).filter((e) => e.operationId === o.operationId)
        if (o.status === "completed") {
          expect(settled).toEqual([expect.objectContaining({ kind: o.kind, amount: o.amount, fee: o.fee })])
          expect(reverted).toEqual([])
        } else if (o.status === "compensated") {
          expect(reverted).toEqual([expect.objectContaining({ kind: o.kind, reason: o.compensation })])
          expect(settled).toEqual([])
        } else throw new Error(`operation ${o.kind} left ${o.status}`)
      }
    }
  })

  it("the mint quote paid, the token received, the spent token reverted, the melt pending then paid", () => {
    expect(of("MintQuotePaid")).toEqual([
      expect.objectContaining({
        walletId: "alice",
        operationId: run.mintOperationId,
        mintUrl: mint.baseUrl,
        unit: "sat",
        amount: 200n,
      }),
    ])
    const received = run.bob.history().find((o) => o.operationId === run.receiveOperationId)!
    expect(of("TokenReceived")).toEqual([
      expect.objectContaining({
        walletId: "bob",
        operationId: run.receiveOperationId,
        amount: received.amount,
        fee: received.fee,
      }),
    ])
    expect(of("OperationReverted", "carol")).toEqual([
      expect.objectContaining({ kind: "receive", reason: "token-spent" }),
    ])
    const pending = of("OperationPending", "alice")
    expect(pending).toEqual([
      expect.objectContaining({ operationId: run.meltOperationId, kind: "melt", reason: "payment-pending" }),
    ])
    const paid = of("MeltPaid")
    expect(paid).toEqual([
      expect.objectContaining({
        walletId: "alice",
        operationId: run.meltOperationId,
        amount: 100n,
        feePaid: 1n,
        change: run.meltChange,
      }),
    ])
    expect(paid[0]!.position).toBeGreaterThan(pending[0]!.position)
  })
})

describe("no secret in any app event", () => {
  it("no mnemonic, seed, proof secret, C, Y, blinding factor, quote id, token, invoice or preimage", () => {
    const secrets = secretsOf(log, [run.alice, run.bob, run.carol])
    // The scan has something to find: quote ids, tokens, invoices, proof secrets, mnemonics.
    expect(secrets.size).toBeGreaterThan(100)
    expect(secrets.has(run.token)).toBe(true)
    expect(secrets.has(run.alice.mnemonic())).toBe(true)
    const quoteIds = log.flatMap((r) =>
      r.event._tag === "OperationStarted" && (r.event.kind === "mint" || r.event.kind === "melt")
        ? [r.event.quoteId]
        : [],
    )
    expect(quoteIds.length).toBe(2)
    for (const q of quoteIds) expect(secrets.has(q)).toBe(true)
    // ...and the scan finds them where they are (the log's own payloads).
    expect(log.some((r) => json(r.event).includes(run.token))).toBe(true)
    const leaks: string[] = []
    for (const e of events) {
      const text = json(e)
      for (const s of secrets) if (text.includes(s)) leaks.push(`${e._tag}@${e.position}`)
      for (const w of [run.alice, run.bob, run.carol])
        if (text.includes(w.mnemonic().split(" ").slice(0, 3).join(" "))) leaks.push(`${e._tag}: words`)
    }
    expect(leaks).toEqual([])
  })

  it("a mint URL keeps only its origin and path", () => {
    expect(publicMintUrl("https://user:pw@mint.example:8443/base/?quote=abc#frag")).toBe(
      "https://mint.example:8443/base",
    )
    expect(publicMintUrl("http://mint.test")).toBe("http://mint.test")
    expect(publicMintUrl("not a url")).toBe("invalid")
  })
})

describe("the fold", () => {
  it("is pure: the same state and event give the same result, and the state is left as it was", () => {
    let state = initialAppEventState
    for (const rec of log) {
      const [a, ea] = deriveAppEvents(state, rec)
      const [, eb] = deriveAppEvents(state, rec)
      expect(eb).toEqual(ea)
      state = a
    }
    expect(derive(log)).toEqual(events)
  })

  it("resumes: absorbing the log up to any cut then deriving gives exactly the tail", () => {
    for (const cut of [1, 10, Math.floor(log.length / 2), log.length - 3, log.length]) {
      const warmed = absorbAppEvents(initialAppEventState, log.slice(0, cut))
      expect(derive(log.slice(cut), warmed)).toEqual(events.filter((e) => e.position > cut))
    }
  })

  it("derives nothing from lifecycle events or from a stream that is not a wallet's", () => {
    const created = log.find((r) => r.event._tag === "WalletCreated")!
    expect(deriveAppEvents(initialAppEventState, created)[1]).toEqual([])
    const issued = log.find((r) => r.event._tag === "ProofsIssued")!
    const foreign = { ...issued, envelope: { ...issued.envelope, streamId: "engine" } }
    expect(deriveAppEvents(initialAppEventState, foreign)[1]).toEqual([])
  })
})
