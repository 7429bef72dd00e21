/**
 * `wallet.checkToken(token)` (issue #13): the state of a token's proofs asked of its mint(s), without
 * receiving it — nothing appended, nothing reserved, no mint added.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { bytesToHex } from "../../../src/crypto/bytes.js"
import { hashToCurveSecret } from "../../../src/crypto/hash-to-curve.js"
import { engineStore } from "../../../src/engine/internal.js"
import { type Engine, InvalidArgument, type Proof } from "../../../src/index.js"
import { decodeToken, encodeToken } from "../../../src/protocol/token.js"
import { enginesClosedAfterEach, fund, testMint } from "../../support/engine.js"
import type { TestMint } from "../../support/mint/index.js"
import type { Ledger } from "../../support/mint/ledger.js"
import { jsonResponse } from "../../support/mint/router.js"

const open = enginesClosedAfterEach()

const head = (engine: Engine): Promise<number> => Effect.runPromise(engineStore(engine).head)

const proofsOf = (token: string): ReadonlyArray<Proof> => decodeToken(token).entries.flatMap((e) => e.proofs)

/** One v4 token of `proofs` at `mintUrl`. */
const tokenOf = (mintUrl: string, proofs: ReadonlyArray<Proof>): string =>
  encodeToken({ version: 4, unit: "sat", entries: [{ mint: mintUrl, proofs }] })

const Y = (p: Proof): string => bytesToHex(hashToCurveSecret(p.secret))

const setup = async (name: string) => {
  const mint = testMint(name, { cacheTtlSeconds: null })
  const engine = await open([mint])
  const alice = await engine.createWallet({ walletId: "alice" })
  const bob = await engine.createWallet({ walletId: "bob" })
  await alice.addMint(mint.baseUrl)
  await bob.addMint(mint.baseUrl)
  await fund(alice, mint, 64n)
  return { mint, engine, alice, bob }
}

describe("checkToken", () => {
  it("a sent token is UNSPENT before it is received and SPENT after; nothing is appended", async () => {
    const { mint, engine, alice, bob } = await setup("check-token-sent")
    const { token } = await alice.send({ mintUrl: mint.baseUrl, amount: 13n })
    const proofs = proofsOf(token)
    const before = await head(engine)
    const bobHistory = bob.history()
    const bobBalances = bob.balances()

    const fresh = await bob.checkToken(token)
    expect(fresh).toMatchObject({ unit: "sat", unspent: 13n, pending: 0n, spent: 0n })
    expect(fresh.mints).toHaveLength(1)
    expect(fresh.mints[0]).toMatchObject({ mintUrl: mint.baseUrl, unspent: 13n, pending: 0n, spent: 0n })
    expect(fresh.mints[0]!.proofs).toEqual(
      proofs.map((p) => ({ amount: p.amount, keysetId: p.id, Y: Y(p), state: "UNSPENT" })),
    )
    // A read: no append, no operation, no balance change, no reservation (the token is still receivable).
    expect(await head(engine)).toBe(before)
    expect(bob.history()).toEqual(bobHistory)
    expect(bob.balances()).toEqual(bobBalances)
    // The Effect twin answers the same.
    expect(await Effect.runPromise(bob.effect.checkToken(token))).toEqual(fresh)
    // The sender can check its own token too.
    expect((await alice.checkToken(token)).unspent).toBe(13n)
    expect(await head(engine)).toBe(before)

    await bob.receive(token)
    const after = await bob.checkToken(token)
    expect(after).toMatchObject({ unspent: 0n, pending: 0n, spent: 13n })
    expect(after.mints[0]!.proofs.every((p) => p.state === "SPENT")).toBe(true)
    expect(bob.balance()).toBeGreaterThan(0n)
  })

  it("a token partly spent reports both (and pending proofs as PENDING)", async () => {
    const { mint, engine, alice, bob } = await setup("check-token-partly")
    const a = await alice.send({ mintUrl: mint.baseUrl, amount: 10n })
    const b = await alice.send({ mintUrl: mint.baseUrl, amount: 20n })
    await bob.receive(a.token)
    const both = tokenOf(mint.baseUrl, [...proofsOf(a.token), ...proofsOf(b.token)])
    const before = await head(engine)

    const r = await bob.checkToken(both)
    expect(r).toMatchObject({ unspent: 20n, pending: 0n, spent: 10n })
    expect(r.mints[0]).toMatchObject({ unspent: 20n, pending: 0n, spent: 10n })
    const spentYs = new Set(proofsOf(a.token).map(Y))
    for (const p of r.mints[0]!.proofs) expect(p.state).toBe(spentYs.has(p.Y) ? "SPENT" : "UNSPENT")

    // A proof held by a payment in flight at the mint is PENDING.
    const held = proofsOf(b.token)[0]!
    ;(mint as unknown as { ctx: { ledger: Ledger } }).ctx.ledger.markPending(Y(held), held.amount, "quote")
    const withPending = await bob.checkToken(both)
    expect(withPending).toMatchObject({ unspent: 20n - held.amount, pending: held.amount, spent: 10n })
    expect(withPending.mints[0]!.proofs.find((p) => p.Y === Y(held))?.state).toBe("PENDING")
    expect(await head(engine)).toBe(before)
  })

  it("a token of a mint the wallet does not know works, and adds nothing", async () => {
    const known = testMint("check-token-known", { cacheTtlSeconds: null })
    const other = testMint("check-token-other", { cacheTtlSeconds: null })
    const engine = await open([known, other])
    const dave = await engine.createWallet({ walletId: "dave" })
    await dave.addMint(other.baseUrl)
    await fund(dave, other, 32n)
    const { token } = await dave.send({ mintUrl: other.baseUrl, amount: 7n })
    const carol = await engine.createWallet({ walletId: "carol" })
    await carol.addMint(known.baseUrl)
    const keysets = other.stats().requests["GET /v1/keysets"] ?? 0
    const before = await head(engine)

    const r = await carol.checkToken(token)
    expect(r).toMatchObject({ unspent: 7n, spent: 0n, pending: 0n })
    expect(r.mints.map((m) => m.mintUrl)).toEqual([other.baseUrl])
    expect(carol.mints().map((m) => m.mintUrl)).toEqual([known.baseUrl])
    expect(carol.history().every((o) => o.kind !== "checkstate")).toBe(true)
    expect(await head(engine)).toBe(before)
    // No keys fetched: a Y needs none.
    expect(other.stats().requests["GET /v1/keysets"] ?? 0).toBe(keysets)
    // A wallet that trusts no mint at all can check too.
    const erin = await engine.createWallet({ walletId: "erin" })
    const head2 = await head(engine)
    expect((await erin.checkToken(token)).unspent).toBe(7n)
    expect(erin.mints()).toEqual([])
    expect(await head(engine)).toBe(head2)
  })

  it("batches the Ys by 100 per checkstate request", async () => {
    const mint = testMint("check-token-batch", { cacheTtlSeconds: null })
    const engine = await open([mint])
    const w = await engine.createWallet({ walletId: "w" })
    // Proofs the mint never signed: it reports them UNSPENT (a check needs no signature, no keyset).
    const G = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    const proofs: Proof[] = Array.from({ length: 250 }, (_, i) => ({
      amount: 1n,
      id: "00ad268c4d1f5826",
      secret: `fake-secret-${i}`,
      C: G,
    }))
    const before = mint.stats().requests["POST /v1/checkstate"] ?? 0
    const r = await w.checkToken(tokenOf(mint.baseUrl, proofs))
    expect(r).toMatchObject({ unspent: 250n, spent: 0n, pending: 0n })
    expect(r.mints[0]!.proofs.map((p) => p.Y)).toEqual(proofs.map(Y))
    expect((mint.stats().requests["POST /v1/checkstate"] ?? 0) - before).toBe(3)
  })

  it("a garbage token is InvalidArgument, before any mint is asked", async () => {
    const { mint, engine, alice, bob } = await setup("check-token-garbage")
    const { token } = await alice.send({ mintUrl: mint.baseUrl, amount: 3n })
    const calls = mint.stats().requests["POST /v1/checkstate"] ?? 0
    const before = await head(engine)
    const bad: ReadonlyArray<unknown> = [
      "garbage",
      "cashuBnotbase64!!",
      "cashuAeyJ0b2tlbiI6W119",
      `${token.slice(0, -12)}xxxxxxxxxxxx`,
      "",
      5,
      null,
      undefined,
      // A mint URL that is not http(s).
      encodeToken({ version: 3, unit: "sat", entries: [{ mint: "ftp://x.test", proofs: proofsOf(token) }] }),
    ]
    for (const t of bad) {
      const e = await Effect.runPromise(Effect.flip(bob.effect.checkToken(t as string)))
      expect(e, String(t).slice(0, 40)).toBeInstanceOf(InvalidArgument)
      expect((e as InvalidArgument).argument).toBe("token")
      // Never the token's content.
      const text = `${(e as InvalidArgument).message} ${(e as InvalidArgument).reason}`
      expect(text).not.toContain(token.slice(6, 30))
      expect(text).not.toContain("garbage")
      await expect(bob.checkToken(t as string)).rejects.toBeInstanceOf(InvalidArgument)
    }
    expect(mint.stats().requests["POST /v1/checkstate"] ?? 0).toBe(calls)
    expect(await head(engine)).toBe(before)
  })

  it("a mint's failure surfaces typed, and a lying answer decides nothing", async () => {
    const { mint, alice, bob } = await setup("check-token-faults")
    const { token } = await alice.send({ mintUrl: mint.baseUrl, amount: 5n })
    const original = mint.handle.bind(mint)
    ;(mint as { handle: TestMint["handle"] }).handle = async (req) =>
      req.path.endsWith("/v1/checkstate")
        ? { ...(await original(req)), body: '{"states":[]}' }
        : original(req)
    const lied = await Effect.runPromise(Effect.flip(bob.effect.checkToken(token)))
    expect(lied._tag).toBe("DecodeError")
    ;(mint as { handle: TestMint["handle"] }).handle = async (req) =>
      req.path.endsWith("/v1/checkstate") ? jsonResponse(400, '{"detail":"no","code":10000}') : original(req)
    const refused = await Effect.runPromise(Effect.flip(bob.effect.checkToken(token)))
    // As every call surfaces a mint's HTTP 400 (refused, or not settling what happened: the code decides).
    expect(["MintRejected", "MintAmbiguous"]).toContain(refused._tag)
    ;(mint as { handle: TestMint["handle"] }).handle = original
    expect((await bob.checkToken(token)).unspent).toBe(5n)
  })
})
