import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { walletRuntime } from "../../src/engine/internal.js"
import { makeMintCache, setMintCachesEnabled } from "../../src/engine/mint-cache.js"
import type { InfoResponse, KeysetInfo, KeysResponse, KeysResponseKeyset } from "../../src/protocol/index.js"
import { enginesClosedAfterEach, fund, testMint } from "../support/engine.js"
import type { TestMint } from "../support/mint/index.js"
import { createKeyset } from "../support/mint/keysets.js"

const open = enginesClosedAfterEach()
afterEach(() => setMintCachesEnabled(true))

const URL_A = "https://a.example"
const clock = () => {
  let t = 1_000_000
  return { now: () => t, advance: (ms: number) => (t += ms) }
}
/** A fetch effect that counts its runs and answers `value`. */
const counted = <A>(value: A) => {
  const c = { runs: 0 }
  const fetch = Effect.sync(() => {
    c.runs++
    return value
  })
  return { c, fetch }
}
const info = (name: string): InfoResponse => ({ name }) as unknown as InfoResponse

const wireOf = (idVersion: 1 | 2, index = 0, inputFeePpk = 0n): KeysResponseKeyset => {
  const k = createKeyset({ seed: "cache", unit: "sat", index, inputFeePpk, denominations: 8, idVersion })
  return { id: k.id, unit: "sat", active: true, input_fee_ppk: inputFeePpk, keys: k.keys }
}
const listedOf = (w: KeysResponseKeyset, over: Partial<KeysetInfo> = {}): KeysetInfo => ({
  id: w.id,
  unit: w.unit,
  active: true,
  input_fee_ppk: w.input_fee_ppk ?? 0n,
  ...over,
})
const answer = (...keysets: KeysResponseKeyset[]): KeysResponse => ({ keysets })

describe("MintCache: info", () => {
  it("fetches once per TTL and mint URL, hits in between, refetches after expiry", async () => {
    const t = clock()
    const cache = makeMintCache({ now: t.now, infoTtlMs: 60_000 })
    const a = counted(info("a"))
    expect((await Effect.runPromise(cache.info(URL_A, a.fetch))).name).toBe("a")
    expect(await Effect.runPromise(cache.info(`${URL_A}/`, a.fetch))).toEqual(info("a"))
    t.advance(59_999)
    await Effect.runPromise(cache.info(URL_A, a.fetch))
    expect(a.c.runs).toBe(1)
    t.advance(1)
    await Effect.runPromise(cache.info(URL_A, a.fetch))
    expect(a.c.runs).toBe(2)
    // Another mint has its own entry.
    const b = counted(info("b"))
    expect((await Effect.runPromise(cache.info("https://b.example", b.fetch))).name).toBe("b")
    expect(b.c.runs).toBe(1)
    expect(cache.stats()).toMatchObject({ infoHits: 2, infoMisses: 3 })
  })

  it("does not cache a failure", async () => {
    const cache = makeMintCache({ now: clock().now, infoTtlMs: 60_000 })
    let runs = 0
    const failing = Effect.suspend(() => {
      runs++
      return Effect.fail("down" as const)
    })
    expect(await Effect.runPromise(Effect.flip(cache.info(URL_A, failing)))).toBe("down")
    const ok = counted(info("a"))
    expect((await Effect.runPromise(cache.info(URL_A, ok.fetch))).name).toBe("a")
    expect([runs, ok.c.runs]).toEqual([1, 1])
  })
})

describe("MintCache: keys by keyset id", () => {
  it("serves a verified v2 keyset from the cache, without its `active`, per mint URL", async () => {
    const cache = makeMintCache({ now: clock().now, infoTtlMs: 1 })
    const w = wireOf(2)
    const f = counted(answer(w))
    await Effect.runPromise(cache.keys(URL_A, listedOf(w), f.fetch))
    const hit = await Effect.runPromise(cache.keys(`${URL_A}/`, listedOf(w, { active: false }), f.fetch))
    expect(f.c.runs).toBe(1)
    expect(hit.keysets).toHaveLength(1)
    expect(hit.keysets[0]!.id).toBe(w.id)
    expect(hit.keysets[0]!.keys).toEqual(w.keys)
    expect(hit.keysets[0]!.active).toBeUndefined()
    // Another mint listing the same id gets its own fetch.
    await Effect.runPromise(cache.keys("https://b.example", listedOf(w), f.fetch))
    expect(f.c.runs).toBe(2)
    expect(cache.stats()).toMatchObject({ keysHits: 1, keysMisses: 2 })
  })

  it("never keeps keys that do not derive to their id", async () => {
    const cache = makeMintCache({ now: clock().now, infoTtlMs: 1 })
    const honest = wireOf(2, 0)
    const forged: KeysResponseKeyset = { ...honest, keys: wireOf(2, 1).keys }
    const f = counted(answer(forged))
    await Effect.runPromise(cache.keys(URL_A, listedOf(honest), f.fetch))
    await Effect.runPromise(cache.keys(URL_A, listedOf(honest), f.fetch))
    expect(f.c.runs).toBe(2)
    // An answer that does not hold the asked id is not kept either.
    const other = counted(answer(wireOf(2, 2)))
    await Effect.runPromise(cache.keys(URL_A, listedOf(wireOf(2, 3)), other.fetch))
    await Effect.runPromise(cache.keys(URL_A, listedOf(wireOf(2, 3)), other.fetch))
    expect(other.c.runs).toBe(2)
  })

  it("serves a v1 keyset only when the listing gives its fee and the same unit", async () => {
    const cache = makeMintCache({ now: clock().now, infoTtlMs: 1 })
    const w = wireOf(1, 0, 100n)
    const f = counted(answer(w))
    await Effect.runPromise(cache.keys(URL_A, listedOf(w), f.fetch))
    await Effect.runPromise(cache.keys(URL_A, listedOf(w, { input_fee_ppk: 200n }), f.fetch))
    expect(f.c.runs).toBe(1) // the listing's fee is the one used, the cached one is not read
    const { input_fee_ppk: _fee, ...noFee } = listedOf(w)
    await Effect.runPromise(cache.keys(URL_A, noFee, f.fetch))
    expect(f.c.runs).toBe(2) // the fee would come from the keys answer: ask the mint
    await Effect.runPromise(cache.keys(URL_A, listedOf(w, { unit: "usd" }), f.fetch))
    expect(f.c.runs).toBe(3)
  })
})

describe("engine-wide mint cache", () => {
  const count = (mint: TestMint, route: string): number => mint.stats().requests[route] ?? 0

  it("a second wallet's addMint fetches no keys; info is fetched once across wallets", async () => {
    const mint = testMint("shared")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    expect(count(mint, "GET /v1/keys/{id}")).toBe(1)
    await bob.addMint(mint.baseUrl)
    expect(count(mint, "GET /v1/keys/{id}")).toBe(1)
    expect(count(mint, "GET /v1/keysets")).toBe(2) // the list is never cached
    // Bob learned the keyset from the cache and uses it: mint, send, receive.
    await fund(alice, mint, 40n)
    await fund(bob, mint, 20n)
    const sent = await bob.send({ mintUrl: mint.baseUrl, amount: 5n })
    expect((await alice.receive(sent.token)).amount).toBe(5n)
    expect([alice.balance(), bob.balance()]).toEqual([45n, 15n])
    expect(count(mint, "GET /v1/info")).toBe(1)
    expect((await engine.audit()).ok).toBe(true)
  })

  it("refetches info after the TTL, and a rotation is seen by the next sync of every wallet", async () => {
    const mint = testMint("rotating", { keysetIdVersion: 1, inputFeePpk: 0n })
    let t = 1_700_000_000_000
    const engine = await open([mint], { now: () => t, options: { quotePollMs: 5, infoTtlMs: 10_000 } })
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 8n)
    await fund(bob, mint, 8n)
    expect(count(mint, "GET /v1/info")).toBe(1)
    t += 10_000
    await fund(bob, mint, 8n)
    expect(count(mint, "GET /v1/info")).toBe(2)

    const rotated = mint.rotateKeyset("sat")
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    expect(count(mint, "GET /v1/keys/{id}")).toBe(2) // the first keyset once, the new one once
    for (const w of [alice, bob]) expect(walletRuntime(w).view().keyset(rotated.id)?.active).toBe(true)
    await fund(bob, mint, 8n)
    expect(bob.balance()).toBe(24n)
  })

  it("without it (the bench's off switch), every wallet fetches its own keys and info", async () => {
    setMintCachesEnabled(false)
    const mint = testMint("unshared")
    const engine = await open([mint])
    const alice = await engine.createWallet({ walletId: "alice" })
    const bob = await engine.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 8n)
    await fund(bob, mint, 8n)
    expect(count(mint, "GET /v1/keys/{id}")).toBe(2)
    expect(count(mint, "GET /v1/info")).toBe(2)
  })
})
