import { describe, expect, it } from "vitest"
import { createOutputs } from "../../../src/crypto/bdhke.js"
import { isDefinitive } from "../../../src/model/index.js"
import { encodeMintRequest } from "../../../src/protocol/decode.js"
import { MeltRequestSchema, MintRequestSchema } from "../../../src/protocol/schemas/index.js"
import { splitAmount } from "../../../src/protocol/split.js"
import { activeKeyset, mintProofs, outputsFor, swapBody, unblind } from "../../mint/client.js"
import { proofY } from "../../support/mint/index.js"
import { FAST, fail, run, seen, setup } from "./harness.js"

/** A mint with 8 sat minted and a ready swap of them into one 8-sat output. */
const withSwap = async (...args: Parameters<typeof setup>) => {
  const s = await setup(...args)
  const keyset = await activeKeyset(s.mint)
  const inputs = await mintProofs(s.mint, 8n)
  const outputs = outputsFor(keyset, [8n])
  return { ...s, keyset, inputs, outputs, body: swapBody(inputs, outputs) }
}

describe("MintClient over HTTP: every endpoint decodes", () => {
  it("walks info → keys → mint → swap → checkstate → restore → melt", async () => {
    const { mint, client, url } = await setup()
    const info = await run(client.info(url))
    expect(info.nuts?.["19"]?.cached_endpoints.length).toBe(3)
    const keysets = await run(client.keysets(`${url}/`))
    expect(keysets.keysets.map((k) => k.id)).toEqual(mint.keysets().map((k) => k.id))
    const active = await run(client.keys(url))
    const byId = await run(client.keys(url, active.keysets[0]!.id))
    expect(byId.keysets[0]!.id).toBe(active.keysets[0]!.id)
    const keyset = await activeKeyset(mint)

    const quote = await run(client.mintQuote(url, "bolt11", { amount: 16n, unit: "sat" }))
    expect(quote.amount).toBe(16n)
    expect((await run(client.mintQuoteState(url, "bolt11", quote.quote))).state).toBe("PAID")
    const mintOutputs = outputsFor(keyset, splitAmount(16n, keyset.keys))
    const minted = await run(
      client.mint(
        url,
        "bolt11",
        encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs: mintOutputs }),
      ),
    )
    const proofs = unblind(mintOutputs, minted.signatures, keyset)
    expect(proofs.reduce((a, p) => a + p.amount, 0n)).toBe(16n)

    const swapOutputs = outputsFor(keyset, [16n])
    const swapped = await run(client.swap(url, swapBody(proofs, swapOutputs)))
    const [fresh] = unblind(swapOutputs, swapped.signatures, keyset)
    const states = await run(client.checkState(url, [proofY(proofs[0]!.secret), proofY(fresh!.secret)]))
    expect(states.states.map((s) => s.state)).toEqual(["SPENT", "UNSPENT"])
    const restored = await run(client.restore(url, { outputs: swapOutputs }))
    expect(restored.signatures).toEqual(swapped.signatures)

    const meltQuote = await run(client.meltQuote(url, "bolt11", { request: mint.invoice(10n), unit: "sat" }))
    const change = createOutputs([{ amount: 0n, id: keyset.id }])
    const melted = await run(
      client.melt(
        url,
        "bolt11",
        encodeMintRequest(MeltRequestSchema, { quote: meltQuote.quote, inputs: [fresh!], outputs: change }),
      ),
    )
    expect(melted.state).toBe("PAID")
    expect((await run(client.meltQuoteState(url, "bolt11", meltQuote.quote))).state).toBe("PAID")
  })
})

describe("MintClient over HTTP: definitive vs ambiguous", () => {
  it("a refusal (unbalanced swap, 11005) is MintRejected and definitive", async () => {
    const s = await withSwap()
    const e = await fail(s.client.swap(s.url, swapBody(s.inputs, outputsFor(s.keyset, [4n]))))
    expect(e._tag).toBe("MintRejected")
    expect(e._tag === "MintRejected" && e.code).toBe(11005)
    expect(isDefinitive(e)).toBe(true)
    expect(seen(s.mint, "POST /v1/swap")).toBe(1)
  })

  it("spending the same proofs after a first success (11001) is MintAmbiguous, reason code", async () => {
    const s = await withSwap()
    await run(s.client.swap(s.url, s.body))
    const e = await fail(s.client.swap(s.url, swapBody(s.inputs, outputsFor(s.keyset, [8n]))))
    expect(e).toMatchObject({ _tag: "MintAmbiguous", code: 11001, reason: "code", status: 400 })
    expect(isDefinitive(e)).toBe(false)
  })

  it("a 500 is MintAmbiguous (status) and is not replayed", async () => {
    const s = await withSwap()
    s.mint.faults.next({ path: "/v1/swap", kind: "error-500", apply: true })
    const e = await fail(s.client.swap(s.url, s.body))
    expect(e).toMatchObject({ _tag: "MintAmbiguous", reason: "status", status: 500 })
    expect(seen(s.mint, "POST /v1/swap")).toBe(1)
    expect(s.mint.isSpent(proofY(s.inputs[0]!.secret))).toBe(true)
  })

  it("a garbled 200 is MintAmbiguous (malformed), not replayed", async () => {
    const s = await withSwap()
    s.mint.faults.next({ path: "/v1/swap", kind: "malformed-200" })
    const e = await fail(s.client.swap(s.url, s.body))
    expect(e).toMatchObject({ _tag: "MintAmbiguous", reason: "malformed", status: 200 })
    expect(seen(s.mint, "POST /v1/swap")).toBe(1)
  })

  it("a 200 over the body cap is MintAmbiguous (malformed)", async () => {
    const { client, url } = await setup({}, { ...FAST, maxBodyBytes: 64 })
    expect(await fail(client.info(url))).toMatchObject({ _tag: "MintAmbiguous", reason: "malformed" })
  })

  it("an unpaid quote (20001) is MintRejected; an unknown keyset id is MintRejected", async () => {
    const { mint, client, url } = await setup({ config: { autoPay: false } })
    const keyset = await activeKeyset(mint)
    const quote = await run(client.mintQuote(url, "bolt11", { amount: 2n, unit: "sat" }))
    const body = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [2n]),
    })
    expect(await fail(client.mint(url, "bolt11", body))).toMatchObject({ _tag: "MintRejected", code: 20001 })
    expect(await fail(client.keys(url, "00ffffffffffffff"))).toMatchObject({ _tag: "MintRejected" })
  })

  it("a mint that does not answer is MintUnreachable", async () => {
    const { client } = await setup()
    const e = await fail(client.info("http://nowhere.test"))
    expect(e._tag).toBe("MintUnreachable")
  })

  it("a request that cannot be built is MintNotSent (invalid-request) and never sent", async () => {
    const { mint, client, url } = await setup()
    expect(await fail(client.checkState(url, ["not a point"]))).toMatchObject({
      _tag: "MintNotSent",
      reason: "invalid-request",
    })
    expect(seen(mint, "POST /v1/checkstate")).toBe(0)
    expect(await fail(client.info("not a url"))).toMatchObject({
      _tag: "MintNotSent",
      reason: "invalid-request",
    })
  })
})

describe("MintClient over HTTP: money POSTs are sent once (NUT-19 replays are the engine's)", () => {
  it("a swap whose response was dropped is not sent again: MintUnreachable, one request at the mint", async () => {
    const s = await withSwap()
    s.mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    expect((await fail(s.client.swap(s.url, s.body)))._tag).toBe("MintUnreachable")
    expect(seen(s.mint, "POST /v1/swap")).toBe(1)
    // The mint applied it: only the engine, which logged the attempt, may now replay the same bytes.
    expect(s.mint.stats().cacheHits).toBe(0)
    expect(seen(s.mint, "GET /v1/info")).toBe(0)
  })

  it("a mint whose response was dropped is not sent again either", async () => {
    const { mint, client, url } = await setup()
    const keyset = await activeKeyset(mint)
    const quote = await run(client.mintQuote(url, "bolt11", { amount: 4n, unit: "sat" }))
    const body = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [4n]),
    })
    mint.faults.next({ path: "/v1/mint/bolt11", kind: "drop-response" })
    expect((await fail(client.mint(url, "bolt11", body)))._tag).toBe("MintUnreachable")
    expect(seen(mint, "POST /v1/mint/bolt11")).toBe(1)
    // The same bytes sent again by the caller are answered from the mint's NUT-19 cache.
    const replayed = await run(client.mint(url, "bolt11", body))
    expect(replayed.signatures.length).toBe(1)
    expect(mint.stats().cacheHits).toBe(1)
  })

  it("a 5xx answer to a swap is not retried (ambiguous, one request)", async () => {
    const s = await withSwap()
    s.mint.faults.next({ path: "/v1/swap", kind: "error-500" })
    expect((await fail(s.client.swap(s.url, s.body)))._tag).toBe("MintAmbiguous")
    expect(seen(s.mint, "POST /v1/swap")).toBe(1)
  })

  it("a swap timeout is MintTimeout", async () => {
    const s = await withSwap({}, { ...FAST, timeouts: { swap: 30 } })
    s.mint.faults.next({ path: "/v1/swap", kind: "delay", ms: 200 })
    const e = await fail(s.client.swap(s.url, s.body))
    expect(e).toMatchObject({ _tag: "MintTimeout", afterMs: 30 })
  })
})

describe("MintClient over HTTP: retries", () => {
  it("retries a GET after 500s and dropped connections", async () => {
    const { mint, client, url } = await setup()
    mint.faults.next({ path: "/v1/keysets", kind: "error-500" })
    mint.faults.next({ path: "/v1/keysets", kind: "drop-request" })
    await run(client.keysets(url))
    expect(seen(mint, "GET /v1/keysets")).toBe(3)
  })

  it("gives up after the configured retries", async () => {
    const { mint, client, url } = await setup({}, { ...FAST, retry: { ...FAST.retry, times: 2 } })
    mint.faults.next({ path: "/v1/keysets", kind: "error-500", times: 5 })
    expect(await fail(client.keysets(url))).toMatchObject({ _tag: "MintAmbiguous", status: 500 })
    expect(seen(mint, "GET /v1/keysets")).toBe(3)
  })

  it("retries checkstate and restore (read-only POSTs)", async () => {
    const { mint, client, url } = await setup()
    mint.faults.next({ path: "/v1/checkstate", kind: "error-500" })
    mint.faults.next({ path: "/v1/restore", kind: "drop-response" })
    await run(client.checkState(url, []))
    await run(client.restore(url, { outputs: [] }))
    expect(seen(mint, "POST /v1/checkstate")).toBe(2)
    expect(seen(mint, "POST /v1/restore")).toBe(2)
  })

  it("does not retry a well-formed error answer of a GET", async () => {
    const { mint, client, url } = await setup()
    await fail(client.mintQuoteState(url, "bolt11", "no-such-quote"))
    expect(seen(mint, "GET /v1/mint/quote/bolt11/{id}")).toBe(1)
  })

  it("retries quote creation once after no answer (no money moves), never after an answer", async () => {
    const { mint, client, url } = await setup()
    mint.faults.next({ path: "/v1/mint/quote/bolt11", kind: "error-500", apply: true })
    expect((await fail(client.mintQuote(url, "bolt11", { amount: 1n, unit: "sat" })))._tag).toBe(
      "MintAmbiguous",
    )
    expect(seen(mint, "POST /v1/mint/quote/bolt11")).toBe(1)
    mint.faults.next({ path: "/v1/melt/quote/bolt11", kind: "drop-response" })
    const q = await run(client.meltQuote(url, "bolt11", { request: mint.invoice(1n), unit: "sat" }))
    expect(q.state).toBe("UNPAID")
    expect(seen(mint, "POST /v1/melt/quote/bolt11")).toBe(2)
    // Once only: two lost answers in a row are the caller's to handle.
    mint.faults.next({ path: "/v1/melt/quote/bolt11", kind: "drop-response" })
    mint.faults.next({ path: "/v1/melt/quote/bolt11", kind: "drop-response" })
    expect(
      (await fail(client.meltQuote(url, "bolt11", { request: mint.invoice(1n), unit: "sat" })))._tag,
    ).toBe("MintUnreachable")
    expect(seen(mint, "POST /v1/melt/quote/bolt11")).toBe(4)
  })
})

describe("MintClient over HTTP: melt", () => {
  const meltSetup = async () => {
    const s = await withSwap(
      {},
      {
        ...FAST,
        timeouts: {
          info: 40,
          keysets: 40,
          keys: 40,
          "mint-quote": 40,
          "mint-quote-state": 40,
          mint: 40,
          "melt-quote": 40,
          "melt-quote-state": 40,
          swap: 40,
          checkstate: 40,
          restore: 40,
        },
      },
    )
    const q = await run(s.client.meltQuote(s.url, "bolt11", { request: s.mint.invoice(5n), unit: "sat" }))
    const body = encodeMintRequest(MeltRequestSchema, { quote: q.quote, inputs: s.inputs })
    return { ...s, body }
  }

  it("is never timed out, even past every other endpoint's timeout", async () => {
    const s = await meltSetup()
    s.mint.faults.next({ path: "/v1/melt/bolt11", kind: "delay", ms: 250 })
    const res = await run(s.client.melt(s.url, "bolt11", s.body))
    expect(res.state).toBe("PAID")
  })

  it("is never retried or replayed, even though the mint caches it", async () => {
    const s = await meltSetup()
    s.mint.faults.next({ path: "/v1/melt/bolt11", kind: "drop-response" })
    expect((await fail(s.client.melt(s.url, "bolt11", s.body)))._tag).toBe("MintUnreachable")
    s.mint.faults.next({ path: "/v1/melt/bolt11", kind: "error-500" })
    expect((await fail(s.client.melt(s.url, "bolt11", s.body)))._tag).toBe("MintAmbiguous")
    expect(seen(s.mint, "POST /v1/melt/bolt11")).toBe(2)
  })
})
