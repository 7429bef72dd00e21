/**
 * Fee previews against the in-process mint with NUT-02 input fees (100 ppk): `prepareSend` (offline and
 * swap), `prepareReceive` and `prepareMelt` answer exactly what the operation then spends and charges, append
 * nothing (the log's head stays), reserve nothing (balances stay), and fail with the operation's own error.
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { Engine } from "../../../src/engine/engine.js"
import { engineStore, walletRuntime } from "../../../src/engine/internal.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import { decodeToken } from "../../../src/protocol/token.js"
import { openTestEngine, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close()
})

const FEE_PPK = 100n

/** A wallet `a` funded with `fund` at a fresh mint charging input fees, and `b`, which trusts no mint yet. */
const setup = async (name: string, fund: bigint) => {
  const mint = testMint(name, { inputFeePpk: FEE_PPK })
  const engine = await openTestEngine([mint])
  engines.push(engine)
  const a = await engine.createWallet({ walletId: "a" })
  await a.addMint(mint.baseUrl)
  const q = await a.mintQuote({ mintUrl: mint.baseUrl, amount: fund })
  await a.mint(q.operationId)
  const b = await engine.createWallet({ walletId: "b" })
  return { mint, engine, a, b }
}

const head = (engine: Engine): Promise<number> => Effect.runPromise(engineStore(engine).head)

/** The wallet's unspent proofs by Y: amount and keyset. */
const unspent = (w: Wallet) =>
  new Map(
    walletRuntime(w)
      .view()
      .proofs({ state: "unspent" })
      .map((p) => [p.proof.Y, { amount: p.proof.amount, keysetId: p.proof.id }]),
  )

/** The proofs of `before` that are gone from `after` (what an operation spent), sorted. */
const spent = (before: ReturnType<typeof unspent>, after: ReturnType<typeof unspent>) =>
  sorted([...before].filter(([y]) => !after.has(y)).map(([, p]) => p))

const sorted = (ps: ReadonlyArray<{ readonly amount: bigint; readonly keysetId: string }>) =>
  [...ps].sort((x, y) => (x.amount < y.amount ? -1 : x.amount > y.amount ? 1 : 0))

const rejection = async (p: Promise<unknown>): Promise<Record<string, unknown>> => {
  try {
    await p
  } catch (e) {
    return e as Record<string, unknown>
  }
  throw new Error("expected a rejection")
}

/** Runs `preview` and checks that it moved nothing: head, balances, proofs, history. */
const untouched = async <A>(engine: Engine, ws: ReadonlyArray<Wallet>, preview: () => Promise<A>) => {
  const h = await head(engine)
  const state = () => ws.map((w) => ({ balances: w.balances(), history: w.history(), mints: w.mints() }))
  const before = state()
  const out = await preview()
  expect(await head(engine)).toBe(h)
  expect(state()).toEqual(before)
  return out
}

describe("prepareSend", () => {
  it("offline: the exact proofs, no fee — and the send then uses exactly them", async () => {
    const { mint, engine, a } = await setup("preview-offline", 100n) // 64 + 32 + 4
    const before = unspent(a)
    const p = await untouched(engine, [a], () => a.prepareSend({ mintUrl: mint.baseUrl, amount: 36n }))
    expect(p).toMatchObject({ offline: true, fee: 0n, change: 0n, amount: 36n, total: 36n, unit: "sat" })
    expect(sorted(p.proofs).map((x) => x.amount)).toEqual([4n, 32n])
    const swaps = mint.stats().requests["POST /v1/swap"] ?? 0
    const sent = await a.send({ mintUrl: mint.baseUrl, amount: 36n })
    expect(sent).toMatchObject({ offline: true, fee: p.fee, amount: p.amount })
    expect(mint.stats().requests["POST /v1/swap"] ?? 0).toBe(swaps)
    const token = decodeToken(sent.token)
    expect(sorted(token.entries[0]!.proofs.map((x) => ({ amount: x.amount, keysetId: x.id })))).toEqual(
      sorted(p.proofs),
    )
    expect(spent(before, unspent(a))).toEqual(sorted(p.proofs))
    expect(a.balance()).toBe(100n - p.total)
  })

  it("swap: the inputs and the input fee — and the send then spends and charges exactly that", async () => {
    const { mint, engine, a } = await setup("preview-swap", 100n)
    const before = unspent(a)
    const p = await untouched(engine, [a], () => a.prepareSend({ mintUrl: mint.baseUrl, amount: 10n }))
    expect(p.offline).toBe(false)
    expect(p.fee).toBe(1n) // ceil(100 ppk × inputs / 1000) for up to 10 inputs
    const inputs = p.proofs.reduce((s, x) => s + x.amount, 0n)
    expect(inputs).toBe(p.amount + p.fee + p.change)
    const sent = await a.send({ mintUrl: mint.baseUrl, amount: 10n })
    expect(sent).toMatchObject({ offline: false, fee: p.fee, amount: p.amount })
    expect(spent(before, unspent(a))).toEqual(sorted(p.proofs))
    expect(a.balance()).toBe(100n - p.total)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("forceSwap and the Effect twin preview a swap even when exact proofs exist", async () => {
    const { mint, engine, a } = await setup("preview-force", 100n)
    const req = { mintUrl: mint.baseUrl, amount: 36n, forceSwap: true }
    const p = await untouched(engine, [a], () => Effect.runPromise(a.effect.prepareSend(req)))
    expect(p).toMatchObject({ offline: false, fee: 1n })
    const sent = await a.send(req)
    expect(sent).toMatchObject({ offline: false, fee: p.fee })
    expect(a.balance()).toBe(100n - p.total)
  })

  it("more than the balance fails with the send's own InsufficientFunds, nothing moved", async () => {
    const { mint, engine, a } = await setup("preview-short", 100n)
    const req = { mintUrl: mint.baseUrl, amount: 101n }
    const e = await untouched(engine, [a], () => rejection(a.prepareSend(req)))
    expect(e).toMatchObject({ _tag: "InsufficientFunds", needed: 101n, available: 100n })
    const f = await rejection(a.send(req))
    expect(f).toMatchObject({ _tag: e._tag, needed: e.needed, available: e.available })
    expect((await rejection(a.prepareSend({ mintUrl: "http://other.mint.test", amount: 1n })))._tag).toBe(
      "UnknownMint",
    )
  })
})

describe("prepareReceive", () => {
  it("the token's value, the swap's fee and the credit — equal to what the receive then credits", async () => {
    const { mint, engine, a, b } = await setup("preview-receive", 100n)
    const { token } = await a.send({ mintUrl: mint.baseUrl, amount: 36n })
    // b trusts no mint yet: the preview fetches the mint's keysets, read-only, and learns nothing.
    const p = await untouched(engine, [a, b], () => b.prepareReceive(token, { trustMint: true }))
    expect(p).toMatchObject({ mintUrl: mint.baseUrl, unit: "sat", amount: 36n, fee: 1n, credited: 35n })
    expect(p.trusted).toBe(false)
    expect(b.mints()).toEqual([])
    expect(sorted(p.proofs).map((x) => x.amount)).toEqual([4n, 32n])
    // Without trustMint it is refused as the receive refuses.
    const e = await rejection(b.prepareReceive(token))
    expect(e).toMatchObject({ _tag: "TokenRejected", reason: "unknown-mint" })
    expect(await rejection(b.receive(token))).toMatchObject({ _tag: e._tag, reason: e.reason })
    const r = await b.receive(token, { trustMint: true })
    expect(r).toMatchObject({ amount: p.credited, fee: p.fee })
    expect(b.balance()).toBe(p.credited)
    // Received already: refused as a second receive would be.
    expect(await rejection(b.prepareReceive(token))).toMatchObject({ reason: "already-spent" })
  })

  it("asks the mint nothing when the wallet knows the token's keysets", async () => {
    const { mint, engine, a, b } = await setup("preview-known", 100n)
    await b.addMint(mint.baseUrl)
    const { token } = await a.send({ mintUrl: mint.baseUrl, amount: 10n })
    const requests = JSON.stringify(mint.stats().requests)
    const p = await untouched(engine, [a, b], () => Effect.runPromise(b.effect.prepareReceive(token)))
    expect(JSON.stringify(mint.stats().requests)).toBe(requests)
    expect(p).toMatchObject({ amount: 10n, trusted: true })
    const r = await b.receive(token)
    expect(r).toMatchObject({ amount: p.credited, fee: p.fee })
  })
})

describe("prepareMelt", () => {
  const quote = async (mint: TestMint, w: Wallet, amount: bigint) =>
    w.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(amount) })

  it("the inputs, the input fee and the fee reserve — equal to what the melt then spends and charges", async () => {
    const { mint, engine, a } = await setup("preview-melt", 1000n)
    const q = await quote(mint, a, 300n)
    const before = unspent(a)
    const p = await untouched(engine, [a], () => a.prepareMelt(q.operationId))
    expect(p).toMatchObject({ operationId: q.operationId, amount: 300n, feeReserve: q.feeReserve })
    expect(p.inputFee).toBeGreaterThan(0n)
    expect(p.maxTotal).toBe(300n + q.feeReserve + p.inputFee)
    expect(p.proofs.reduce((s, x) => s + x.amount, 0n)).toBeGreaterThanOrEqual(p.maxTotal)
    const r = await a.melt(q.operationId)
    expect(r).toMatchObject({ state: "paid", inputFee: p.inputFee, amount: p.amount })
    expect(spent(before, unspent(a))).toEqual(sorted(p.proofs))
    const charged = 1000n - a.balance()
    expect(charged).toBe(r.amount + r.feePaid + r.inputFee)
    expect(charged).toBeLessThanOrEqual(p.maxTotal)
    // Sent already: nothing left to preview.
    expect(await rejection(a.prepareMelt(q.operationId))).toMatchObject({
      _tag: "InvalidArgument",
      argument: "operationId",
    })
  })

  it("more than the balance fails with the melt's own InsufficientFunds, nothing reserved", async () => {
    const { mint, engine, a } = await setup("preview-melt-short", 200n)
    const q = await quote(mint, a, 199n)
    const e = await untouched(engine, [a], () => rejection(a.prepareMelt(q.operationId)))
    expect(e).toMatchObject({ _tag: "InsufficientFunds", available: 200n })
    const f = await rejection(a.melt(q.operationId))
    expect(f).toMatchObject({ _tag: e._tag, needed: e.needed, available: e.available })
    expect(a.balance()).toBe(200n)
  })
})
