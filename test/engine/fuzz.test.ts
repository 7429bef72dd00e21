/**
 * Hostile input through the wallet API: mutated and random tokens, nonsense amounts and URLs. Every refusal
 * must be one of the project's tagged errors, and a refused call must record nothing (no event appended, no
 * value moved).
 */
import { Effect } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore, walletRuntime } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { isCorecashuError } from "../../src/model/index.js"
import { openTestEngine, testMint } from "../support/engine.js"

const ENGINE_TAGS = new Set([
  "UnknownWallet",
  "WalletExists",
  "UnknownMint",
  "InsufficientFunds",
  "OperationFailed",
  "OperationInDoubt",
  "QuoteNotClaimable",
  "TokenRejected",
  "QuoteRejected",
  "EngineClosed",
  "EngineInvariant",
  "MintRejected",
  "MintAmbiguous",
  "MintUnreachable",
  "MintTimeout",
  "MintNotSent",
])

const isTagged = (e: unknown): boolean =>
  isCorecashuError(e) ||
  (typeof e === "object" && e !== null && ENGINE_TAGS.has((e as { _tag: string })._tag))

let engine: Engine
let alice: Wallet
let bob: Wallet
let token: string
const mint = testMint("fuzz")

beforeAll(async () => {
  engine = await openTestEngine([mint])
  alice = await engine.createWallet({ walletId: "alice" })
  bob = await engine.createWallet({ walletId: "bob" })
  await alice.addMint(mint.baseUrl)
  await bob.addMint(mint.baseUrl)
  const q = await alice.mintQuote({ mintUrl: mint.baseUrl, amount: 64n })
  await alice.mint(q.operationId)
  token = (await alice.send({ mintUrl: mint.baseUrl, amount: 21n })).token
})
afterAll(async () => {
  await engine.close()
})

/** The wallet's stream version: unchanged means nothing was recorded. */
const version = (w: Wallet): Promise<number> =>
  Effect.runPromise(engineStore(engine).streamVersion(walletRuntime(w).stream))

/** Refusals that happen before anything is recorded (a failed swap instead keeps the token in the log). */
const REFUSED_UP_FRONT = new Set([
  "DecodeError",
  "TokenRejected",
  "KeysetError",
  "VerificationError",
  "CryptoError",
])

describe("wallet.receive on hostile tokens", () => {
  it("refuses mutated tokens with tagged errors; what is refused up front records nothing", async () => {
    const mutated = fc.tuple(
      fc.nat({ max: token.length - 1 }),
      fc.integer({ min: 33, max: 126 }),
      fc.nat({ max: 8 }),
    )
    await fc.assert(
      fc.asyncProperty(mutated, async ([at, code, cut]) => {
        const bad = token.slice(0, at) + String.fromCharCode(code) + token.slice(at + 1, token.length - cut)
        if (bad === token) return
        const before = await version(bob)
        try {
          await bob.receive(bad)
        } catch (e) {
          expect(isTagged(e)).toBe(true)
          if (REFUSED_UP_FRONT.has((e as { _tag: string })._tag)) expect(await version(bob)).toBe(before)
          return
        }
        // A mutation that still decodes to a valid token of ours may be received: then value moved honestly.
        expect(bob.balance()).toBeGreaterThan(0n)
      }),
      { numRuns: 150 },
    )
    expect((await engine.audit()).ok).toBe(true)
  })

  it("refuses arbitrary strings with tagged errors and records nothing", async () => {
    const before = await version(alice)
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string().map((s) => `cashuB${s}`),
        ),
        async (s) => {
          await expect(alice.receive(s)).rejects.toSatisfy(isTagged)
        },
      ),
      { numRuns: 200 },
    )
    expect(await version(alice)).toBe(before)
  })
})

describe("other entry points on hostile arguments", () => {
  it("refuse bad amounts and unknown mints with tagged errors, recording nothing", async () => {
    const before = await version(alice)
    for (const amount of [0n, -1n, 2n ** 64n]) {
      await expect(alice.send({ mintUrl: mint.baseUrl, amount })).rejects.toSatisfy(isTagged)
      await expect(alice.swap({ mintUrl: mint.baseUrl, amount })).rejects.toSatisfy(isTagged)
    }
    await expect(alice.send({ mintUrl: "http://nowhere.test", amount: 1n })).rejects.toSatisfy(isTagged)
    await expect(alice.mint("not-an-operation")).rejects.toSatisfy(isTagged)
    await expect(alice.melt("not-an-operation")).rejects.toSatisfy(isTagged)
    await expect(alice.reclaim("not-an-operation")).rejects.toSatisfy(isTagged)
    expect(await version(alice)).toBe(before)
  })
})
