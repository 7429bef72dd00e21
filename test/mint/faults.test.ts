import { Effect } from "effect"
import { FetchHttpClient, HttpClient } from "effect/http"
import { describe, expect, it } from "vitest"
import { decodeMintResponse, encodeMintRequest } from "../../src/protocol/decode.js"
import { parseJson } from "../../src/protocol/json.js"
import { InfoResponseSchema } from "../../src/protocol/schemas/info.js"
import { RestoreRequestSchema, RestoreResponseSchema } from "../../src/protocol/schemas/restore.js"
import { SwapResponseSchema } from "../../src/protocol/schemas/swap.js"
import { createTestMint, proofY, serve, type TestMint } from "../support/mint/index.js"
import {
  activeKeyset,
  errorCode,
  get,
  mintProofs,
  ok,
  outputsFor,
  post,
  swapBody,
  unblind,
} from "./client.js"

/** A mint with 8 sat minted and a ready swap of them into one 8-sat output. */
const setup = async (opts: Parameters<typeof createTestMint>[0] = {}) => {
  const mint = createTestMint(opts)
  const keyset = await activeKeyset(mint)
  const inputs = await mintProofs(mint, 8n)
  const outputs = outputsFor(keyset, [8n])
  return { mint, keyset, inputs, outputs, body: swapBody(inputs, outputs) }
}

const applied = (mint: TestMint, s: Awaited<ReturnType<typeof setup>>): boolean =>
  mint.isSpent(proofY(s.inputs[0]!.secret)) && mint.isSigned(s.outputs[0]!.B_)

describe("test mint: NUT-19 cache", () => {
  it("answers a byte-identical replay with the identical bytes, without applying it again", async () => {
    const s = await setup()
    const first = await (await post(s.mint, "/v1/swap", s.body)).text()
    const before = s.mint.stats()
    const replay = await post(s.mint, "/v1/swap", s.body)
    expect(replay.status).toBe(200)
    expect(await replay.text()).toBe(first)
    const after = s.mint.stats()
    expect(after.cacheHits).toBe(before.cacheHits + 1)
    expect(after.issued).toBe(before.issued)
    // Not the same bytes, not the cache: the mint sees a double spend.
    expect(await errorCode(await post(s.mint, "/v1/swap", ` ${s.body}`))).toBe(11001)
  })

  it("does not cache refusals", async () => {
    const s = await setup()
    const bad = swapBody(s.inputs, outputsFor(s.keyset, [4n]))
    expect(await errorCode(await post(s.mint, "/v1/swap", bad))).toBe(11005)
    expect(await errorCode(await post(s.mint, "/v1/swap", bad))).toBe(11005)
    expect(s.mint.stats().cacheHits).toBe(0)
  })

  it("forgets entries after the ttl", async () => {
    let now = 1_000_000
    const s = await setup({ cacheTtlSeconds: 60, nowMs: () => now })
    await ok(await post(s.mint, "/v1/swap", s.body), SwapResponseSchema)
    now += 61_000
    expect(await errorCode(await post(s.mint, "/v1/swap", s.body))).toBe(11001)
  })

  it("without caching, NUT-19 is not advertised and a replay is a double spend", async () => {
    const s = await setup({ cacheTtlSeconds: null })
    const info = await ok(await get(s.mint, "/v1/info"), InfoResponseSchema)
    expect(info.nuts?.["19"]).toBeUndefined()
    await ok(await post(s.mint, "/v1/swap", s.body), SwapResponseSchema)
    expect(await errorCode(await post(s.mint, "/v1/swap", s.body))).toBe(11001)
  })
})

describe("test mint: faults", () => {
  it("drop-response applies the swap, then fails the call like a lost connection; replay and restore recover it", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    await expect(post(s.mint, "/v1/swap", s.body)).rejects.toThrow(TypeError)
    expect(applied(s.mint, s)).toBe(true)
    const replay = await ok(await post(s.mint, "/v1/swap", s.body), SwapResponseSchema)
    expect(unblind(s.outputs, replay.signatures, s.keyset)[0]!.amount).toBe(8n)
    const restored = await ok(
      await post(s.mint, "/v1/restore", encodeMintRequest(RestoreRequestSchema, { outputs: s.outputs })),
      RestoreResponseSchema,
    )
    expect(restored.signatures).toEqual(replay.signatures)
    expect(s.mint.stats().faultsFired).toBe(1)
  })

  it("drop-request fails the call without applying it", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/swap", kind: "drop-request", method: "POST" })
    await expect(post(s.mint, "/v1/swap", s.body)).rejects.toThrow("fetch failed")
    expect(applied(s.mint, s)).toBe(false)
    await ok(await post(s.mint, "/v1/swap", s.body), SwapResponseSchema)
  })

  it("error-500 answers 500, applied only when asked", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/swap", kind: "error-500" })
    expect((await post(s.mint, "/v1/swap", s.body)).status).toBe(500)
    expect(applied(s.mint, s)).toBe(false)
    s.mint.faults.next({ path: "/v1/swap", kind: "error-500", apply: true })
    expect((await post(s.mint, "/v1/swap", s.body)).status).toBe(500)
    expect(applied(s.mint, s)).toBe(true)
  })

  it("malformed-200 applies and answers an unreadable 200", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/swap", kind: "malformed-200" })
    const res = await post(s.mint, "/v1/swap", s.body)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(() => parseJson(text)).toThrow()
    expect(applied(s.mint, s)).toBe(true)
  })

  it("wrong-count and wrong-amount tamper with the signatures of an applied request", async () => {
    const s = await setup()
    const two = outputsFor(s.keyset, [4n, 4n])
    s.mint.faults.next({ path: "/v1/swap", kind: "wrong-count" })
    const short = await ok(await post(s.mint, "/v1/swap", swapBody(s.inputs, two)), SwapResponseSchema)
    expect(short.signatures).toHaveLength(1)
    expect(s.mint.isSigned(two[1]!.B_)).toBe(true)
    const more = await mintProofs(s.mint, 8n)
    s.mint.faults.next({ path: "/v1/swap", kind: "wrong-amount" })
    const res = await ok(await post(s.mint, "/v1/swap", swapBody(more, s.outputs)), SwapResponseSchema)
    expect(res.signatures[0]!.amount).toBe(16n)
    expect(() => unblind(s.outputs, res.signatures, s.keyset)).toThrow()
  })

  it("delay: a client timeout fails the call but the request is still applied", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/swap", kind: "delay", ms: 200 })
    await expect(post(s.mint, "/v1/swap", s.body, { signal: AbortSignal.timeout(20) })).rejects.toThrow()
    expect(applied(s.mint, s)).toBe(false)
    await new Promise((r) => setTimeout(r, 300))
    expect(applied(s.mint, s)).toBe(true)
  })

  it("fires only on the matching path and only `times` times", async () => {
    const s = await setup()
    s.mint.faults.next({ path: "/v1/checkstate", kind: "error-500", times: 2 })
    await ok(await post(s.mint, "/v1/swap", s.body), SwapResponseSchema)
    const body = JSON.stringify({ Ys: [proofY(s.inputs[0]!.secret)] })
    expect((await post(s.mint, "/v1/checkstate", body)).status).toBe(500)
    expect((await post(s.mint, "/v1/checkstate", body)).status).toBe(500)
    expect((await post(s.mint, "/v1/checkstate", body)).status).toBe(200)
    expect(s.mint.faults.pending()).toBe(0)
  })
})

describe("test mint: transport", () => {
  it("fetch refuses other hosts like a DNS failure", async () => {
    const mint = createTestMint()
    await expect(mint.fetch("http://elsewhere.test/v1/info")).rejects.toThrow(TypeError)
  })

  it("works as the Fetch of Effect's FetchHttpClient", async () => {
    const mint = createTestMint()
    const text = await Effect.runPromise(
      HttpClient.get(`${mint.baseUrl}/v1/info`).pipe(
        Effect.flatMap((res) => res.text),
        Effect.provide(FetchHttpClient.layer),
        Effect.provideService(FetchHttpClient.Fetch, mint.fetch),
      ),
    )
    expect(decodeMintResponse(InfoResponseSchema, text).pubkey).toMatch(/^0[23][0-9a-f]{64}$/)
  })

  it("honours a base URL with a path prefix", async () => {
    const mint = createTestMint({ baseUrl: "http://mint.test/cashu/" })
    const res = await mint.fetch("http://mint.test/cashu/v1/info")
    expect(decodeMintResponse(InfoResponseSchema, await res.text()).name).toBe("corecashu test mint")
  })

  it("serves over real HTTP on 127.0.0.1 and drops the socket on drop-response", async () => {
    const mint = createTestMint()
    const server = await serve(mint)
    try {
      const res = await fetch(`${server.url}/v1/keysets`)
      expect(res.status).toBe(200)
      mint.faults.next({ path: "/v1/info", kind: "drop-response" })
      await expect(fetch(`${server.url}/v1/info`)).rejects.toThrow()
    } finally {
      await server.close()
    }
  })
})
