/**
 * Send, receive and swap through the engine against the in-process mint: locks, refusals, and the recovery
 * paths of an ambiguous swap (NUT-19 replay; checkstate + restore when the mint has no cache).
 */
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { bytesToHex } from "../../../src/crypto/bytes.js"
import { hashToCurveSecret } from "../../../src/crypto/hash-to-curve.js"
import { publicKeyHex } from "../../../src/crypto/schnorr.js"
import type { Engine } from "../../../src/engine/engine.js"
import { walletRuntime } from "../../../src/engine/internal.js"
import { keysOf } from "../../../src/engine/outputs.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import type { StoredProof } from "../../../src/events/catalogue.js"
import { newOperationId } from "../../../src/events/ids.js"
import { decodeToken, encodeToken } from "../../../src/protocol/token.js"
import { openTestEngine, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"
import { stepEvents } from "../../support/step-events.js"

const engines: Engine[] = []
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close()
})

const setup = async (mint: TestMint, names: ReadonlyArray<string>, fund = 0n): Promise<Wallet[]> => {
  const engine = await openTestEngine([mint])
  engines.push(engine)
  const out: Wallet[] = []
  for (const name of names) {
    const w = await engine.createWallet({ walletId: name })
    await w.addMint(mint.baseUrl)
    out.push(w)
  }
  if (fund > 0n) {
    const q = await out[0]!.mintQuote({ mintUrl: mint.baseUrl, amount: fund })
    await out[0]!.mint(q.operationId)
  }
  return out
}

const rejection = async (p: Promise<unknown>): Promise<{ _tag: string; reason?: string }> => {
  try {
    await p
  } catch (e) {
    return e as { _tag: string; reason?: string }
  }
  throw new Error("expected a rejection")
}

describe("send and receive", () => {
  it("sends offline from exact proofs without any request", async () => {
    const mint = testMint("offline")
    const [a, b] = await setup(mint, ["a", "b"], 64n)
    const swaps = mint.stats().requests["POST /v1/swap"] ?? 0
    const sent = await a!.send({ mintUrl: mint.baseUrl, amount: 64n })
    expect(sent.offline).toBe(true)
    expect(mint.stats().requests["POST /v1/swap"] ?? 0).toBe(swaps)
    expect(a!.balance()).toBe(0n)
    await b!.receive(sent.token)
    expect(b!.balance()).toBe(64n)
  })

  it("locks a token to the receiver's key: the receiver can claim it, another wallet cannot", async () => {
    const mint = testMint("p2pk")
    const [a, b, c] = await setup(mint, ["a", "b", "c"], 50n)
    const sent = await a!.send({ mintUrl: mint.baseUrl, amount: 20n, lock: { pubkey: b!.publicKey() } })
    expect(sent.offline).toBe(false)
    expect(await rejection(c!.receive(sent.token))).toMatchObject({ _tag: "TokenRejected", reason: "locked" })
    const got = await b!.receive(sent.token)
    expect(got.amount).toBe(20n)
    expect(a!.balance() + b!.balance()).toBe(50n)
  })

  it("refuses a token from a mint the wallet does not trust, unless told to trust it", async () => {
    const mint = testMint("trust")
    const [a, b] = await setup(mint, ["a", "b"], 8n)
    const engine2 = await openTestEngine([mint])
    engines.push(engine2)
    const stranger = await engine2.createWallet({ walletId: "stranger" })
    const sent = await a!.send({ mintUrl: mint.baseUrl, amount: 8n })
    expect(await rejection(stranger.receive(sent.token))).toMatchObject({ reason: "unknown-mint" })
    const got = await stranger.receive(sent.token, { trustMint: true })
    expect(got.amount).toBe(8n)
    expect(await rejection(b!.receive(sent.token))).toMatchObject({
      _tag: "OperationFailed",
      reason: "token-spent",
    })
    expect(b!.balance()).toBe(0n)
  })

  it("refuses to receive the same token twice", async () => {
    const mint = testMint("twice")
    const [a, b] = await setup(mint, ["a", "b"], 16n)
    const sent = await a!.send({ mintUrl: mint.baseUrl, amount: 16n })
    await b!.receive(sent.token)
    expect(await rejection(b!.receive(sent.token))).toMatchObject({
      _tag: "TokenRejected",
      reason: "already-spent",
    })
    expect(b!.balance()).toBe(16n)
  })

  it("takes up a token again after a receive that did not happen (its incoming proofs were dropped)", async () => {
    const mint = testMint("again", { cacheTtlSeconds: null })
    const [a, b] = await setup(mint, ["a", "b"], 16n)
    const sent = await a!.send({ mintUrl: mint.baseUrl, amount: 16n })
    mint.faults.next({ path: "/v1/swap", kind: "error-500" })
    expect(await rejection(b!.receive(sent.token))).toMatchObject({
      _tag: "OperationFailed",
      reason: "not-processed",
    })
    // Not the wallet's: the receive ended without effect, so its proofs left the wallet.
    expect(b!.balances()[0]?.incoming).toBe(0n)
    const got = await b!.receive(sent.token)
    expect(got.amount).toBe(16n)
    expect(b!.balance()).toBe(16n)
    expect(b!.balances()[0]?.incoming).toBe(0n)
  })

  it("fails with InsufficientFunds and reserves nothing", async () => {
    const mint = testMint("poor")
    const [a] = await setup(mint, ["a"], 10n)
    expect(await rejection(a!.send({ mintUrl: mint.baseUrl, amount: 11n }))).toMatchObject({
      _tag: "InsufficientFunds",
    })
    expect(a!.balance()).toBe(10n)
    expect(a!.pending()).toEqual([])
  })
})

describe("an ambiguous swap", () => {
  it("is replayed byte for byte under NUT-19 when the response is lost", async () => {
    const mint = testMint("replay")
    const [a] = await setup(mint, ["a"], 100n)
    mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    const r = await a!.swap({ mintUrl: mint.baseUrl, amount: 30n })
    expect(r.amountIn).toBeGreaterThanOrEqual(30n)
    expect(r.amountOut).toBe(r.amountIn)
    expect(mint.stats().cacheHits).toBeGreaterThan(0)
    expect(a!.balance()).toBe(100n)
  })

  it("is settled by checkstate + restore when the mint has no cache", async () => {
    const mint = testMint("nocache", { cacheTtlSeconds: null })
    const [a] = await setup(mint, ["a"], 100n)
    mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    const r = await a!.swap({ mintUrl: mint.baseUrl, amount: 30n })
    expect(r.amountOut).toBe(r.amountIn)
    expect(a!.balance()).toBe(100n)
    expect(mint.stats().outstanding).toBe(100n)
    const last = a!.history().at(-1)!
    expect(last.status).toBe("completed")
    expect(last.lastRecovery).toBeDefined()
  })

  it("releases its inputs when the mint never processed it (500 before applying)", async () => {
    const mint = testMint("unprocessed", { cacheTtlSeconds: null })
    const [a] = await setup(mint, ["a"], 100n)
    mint.faults.next({ path: "/v1/swap", kind: "error-500" })
    expect(await rejection(a!.swap({ mintUrl: mint.baseUrl, amount: 30n }))).toMatchObject({
      _tag: "OperationFailed",
      reason: "not-processed",
    })
    expect(a!.balance()).toBe(100n)
    expect(a!.pending()).toEqual([])
  })
})

describe("forged and refused tokens leave no trace in any balance (issue 10, item 5)", () => {
  /** A token of made-up proofs on the mint's real keyset: valid points, no DLEQ, signed by nobody. */
  const forged = (mint: TestMint, w: Wallet, amounts: ReadonlyArray<bigint>) => {
    const keyset = walletRuntime(w).view().activeKeyset(mint.baseUrl, "sat")!
    return encodeToken({
      version: 4,
      unit: "sat",
      entries: [
        {
          mint: mint.baseUrl,
          proofs: amounts.map((amount) => ({
            amount,
            id: keyset.id,
            secret: bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
            C: publicKeyHex(bytesToHex(crypto.getRandomValues(new Uint8Array(32)))),
          })),
        },
      ],
    })
  }
  const incoming = (w: Wallet) => w.balances().reduce((s, b) => s + b.incoming, 0n)

  it("drops a forged token's proofs when the mint refuses the swap", async () => {
    const mint = testMint("forged", { cacheTtlSeconds: null })
    const [a, b] = await setup(mint, ["a", "b"], 8n)
    const largest = [...keysOf(walletRuntime(b!).view().activeKeyset(mint.baseUrl, "sat")!).keys()].at(-1)!
    const token = forged(mint, b!, [largest, largest / 2n])
    expect(await rejection(b!.receive(token))).toMatchObject({ _tag: "OperationFailed" })
    expect(incoming(b!)).toBe(0n)
    expect(b!.balances().every((x) => x.unspent === 0n && x.spent === 0n && x.pending === 0n)).toBe(true)
    expect(walletRuntime(b!).view().proofs()).toEqual([])
    // Nothing is left for checkPending either, and the log holds up.
    expect(await b!.checkPending()).toMatchObject({ dropped: 0 })
    expect(a!.balance()).toBe(8n)
    expect((await a!.audit()).ok).toBe(true)
  })

  it("refuses an amount the keyset cannot sign (2^64 − 1) before recording anything", async () => {
    const mint = testMint("forged-amount")
    const [b] = await setup(mint, ["b"])
    expect(await rejection(b!.receive(forged(mint, b!, [2n ** 64n - 1n])))).toMatchObject({
      _tag: "TokenRejected",
      reason: "keyset",
    })
    expect(incoming(b!)).toBe(0n)
    expect(b!.history()).toEqual([])
    expect(walletRuntime(b!).view().proofs()).toEqual([])
  })

  it("checkPending settles incoming proofs an ended receive left behind (an older version's log)", async () => {
    const mint = testMint("strays", { cacheTtlSeconds: null })
    const [a, b] = await setup(mint, ["a", "b"], 40n)
    const unclaimed = await a!.send({ mintUrl: mint.baseUrl, amount: 16n })
    const fake = forged(mint, b!, [8n])
    let strays = 0
    // What an older version left: receives ended without effect, their proofs still incoming.
    for (const token of [unclaimed.token, fake]) {
      const decoded = decodeToken(token)
      const proofs = decoded.entries[0]!.proofs.map((p) => ({
        amount: p.amount,
        id: p.id,
        secret: p.secret,
        C: p.C,
        Y: bytesToHex(hashToCurveSecret(p.secret)),
      }))
      const operationId = newOperationId(Date.now())
      const amount = proofs.reduce((s, p) => s + p.amount, 0n)
      strays += proofs.length
      await Effect.runPromise(
        walletRuntime(b!).write((append) =>
          append([
            ...stepEvents(operationId, "started", [
              {
                _tag: "OperationStarted",
                operationId,
                kind: "receive",
                mintUrl: mint.baseUrl,
                unit: "sat",
                token,
                amount,
              },
              {
                _tag: "ProofsReceived",
                mintUrl: mint.baseUrl,
                unit: "sat",
                operationId,
                proofs: proofs as [StoredProof, ...StoredProof[]],
              },
            ]),
            ...stepEvents(operationId, "compensated", [
              { _tag: "OperationCompensated", operationId, kind: "receive", reason: "invalid-token" },
            ]),
          ]),
        ),
      )
    }
    expect(incoming(b!)).toBe(24n)
    const r = await b!.checkPending()
    expect(r.dropped).toBe(strays)
    expect(incoming(b!)).toBe(0n)
    expect(walletRuntime(b!).view().proofs()).toEqual([])
    expect(
      b!
        .history()
        .filter((o) => o.kind === "checkstate")
        .map((o) => o.status),
    ).toEqual(["completed"])
    expect((await b!.audit()).ok).toBe(true)
    // The real token was never claimed: receiving it again takes its proofs up anew.
    expect(await b!.receive(unclaimed.token)).toMatchObject({ amount: 16n })
    expect(b!.balance()).toBe(16n)
    expect(mint.stats().outstanding).toBe(a!.balance() + b!.balance())
    expect((await b!.audit()).ok).toBe(true)
  })
})
