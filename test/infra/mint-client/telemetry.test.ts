import { Effect, Metric, Tracer } from "effect"
import { describe, expect, it } from "vitest"
import {
  mintCallDuration,
  mintCallsTotal,
  mintOrigin,
  mintRetriesTotal,
} from "../../../src/infra/mint-client/telemetry.js"
import type { MintCallError } from "../../../src/model/index.js"
import { encodeMintRequest } from "../../../src/protocol/decode.js"
import { MintRequestSchema } from "../../../src/protocol/schemas/index.js"
import { activeKeyset, mintProofs, outputsFor, swapBody } from "../../mint/client.js"
import { createTestMint } from "../../support/mint/index.js"
import { clientOver, fail, run, setup } from "./harness.js"

/** A tracer that keeps every span. */
const recording = () => {
  const spans: Tracer.NativeSpan[] = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    },
  })
  return {
    spans,
    trace: <A, E>(self: Effect.Effect<A, E>) => Effect.provideService(self, Tracer.Tracer, tracer),
  }
}

/** Everything a span exposes, as text. */
const spanText = (s: Tracer.NativeSpan): string =>
  JSON.stringify({ name: s.name, attributes: [...s.attributes], events: s.events }, (_, v) =>
    typeof v === "bigint" ? v.toString() : v,
  )

const errorText = (e: MintCallError): string => `${e.message} ${JSON.stringify(e)} ${String(e)}`

describe("spans", () => {
  it("one span per call, named by endpoint, with only the mint origin and the endpoint; no HTTP client spans", async () => {
    const { mint, client, url } = await setup()
    const { spans, trace } = recording()
    const quote = await run(trace(client.mintQuote(url, "bolt11", { amount: 4n, unit: "sat" })))
    await run(trace(client.mintQuoteState(url, "bolt11", quote.quote)))
    mint.faults.next({ path: `/v1/mint/quote/bolt11/${quote.quote}`, kind: "error-500" })
    await run(trace(client.mintQuoteState(url, "bolt11", quote.quote)))
    const keyset = await activeKeyset(mint)
    mint.faults.next({ path: "/v1/mint/bolt11", kind: "drop-response" })
    const body = encodeMintRequest(MintRequestSchema, {
      quote: quote.quote,
      outputs: outputsFor(keyset, [4n]),
    })
    await fail(trace(client.mint(url, "bolt11", body)))
    await fail(trace(client.mint(url, "bolt11", body.replace('"outputs"', ' "outputs"'))))

    expect(spans.map((s) => s.name)).toEqual([
      "mint.mint-quote",
      "mint.mint-quote-state",
      "mint.mint-quote-state",
      "mint.mint",
      "mint.mint",
    ])
    for (const s of spans) {
      expect(s.attributes.get("mint")).toBe(mintOrigin(url))
      expect(s.attributes.get("endpoint")).toBe(s.name.slice("mint.".length))
      expect(spanText(s)).not.toContain(quote.quote)
    }
    expect(spans[2]!.attributes.get("outcome")).toBe("ok")
    expect(spans[3]!.attributes.get("outcome")).toBe("MintUnreachable")
    expect(spans[4]!.attributes.get("outcome")).toBe("MintAmbiguous")
  })
})

describe("quote ids never leak", () => {
  const QUOTE = "Qsecret_not-a-uuid.7"

  /** A mint that echoes the quote id in every error, as nutshell does ("Mint quote <id> not found."). */
  const echoing = () => {
    const urls: string[] = []
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const req = new Request(input, init)
      urls.push(req.url)
      const path = new URL(req.url).pathname
      const id = decodeURIComponent(path.split("/").pop() ?? "")
      if (path.startsWith("/v1/mint/quote/")) {
        return new Response(JSON.stringify({ detail: `quote ${id} has expired`, code: 20007 }), {
          status: 400,
        })
      }
      if (path.startsWith("/v1/melt/quote/")) {
        return new Response(JSON.stringify({ detail: `no quote ${id}` }), { status: 404 })
      }
      if (path === "/v1/mint/bolt11") {
        return new Response(JSON.stringify({ detail: `quote ${QUOTE} already issued`, code: 20002 }), {
          status: 400,
        })
      }
      return new Response(JSON.stringify({ detail: `boom at ${path}` }), { status: 503 })
    }
    return { urls, fetch }
  }

  it("is URL-encoded in paths and masked in errors and spans", async () => {
    const { urls, fetch } = echoing()
    const client = await clientOver(fetch, { retry: { times: 0 } })
    const { spans, trace } = recording()
    const weird = `${QUOTE}/x?y#z`
    const errors = [
      await fail(trace(client.mintQuoteState("http://mint.test", "bolt11", QUOTE))),
      await fail(trace(client.meltQuoteState("http://mint.test", "bolt11", QUOTE))),
      await fail(
        trace(client.mint("http://mint.test", "bolt11", JSON.stringify({ quote: QUOTE, outputs: [] }))),
      ),
      await fail(trace(client.mintQuoteState("http://mint.test", "bolt11", weird))),
    ]
    expect(errors.map((e) => e._tag)).toEqual([
      "MintRejected",
      "MintRejected",
      "MintAmbiguous",
      "MintRejected",
    ])
    expect(errors[0]).toMatchObject({ code: 20007, detail: "quote <redacted> has expired" })
    expect(errors[1]).toMatchObject({ status: 404, detail: "no quote <redacted>" })
    for (const e of errors) expect(errorText(e)).not.toContain("Qsecret")
    for (const s of spans) expect(spanText(s)).not.toContain("Qsecret")
    expect(new URL(urls[3]!).pathname).toBe(`/v1/mint/quote/bolt11/${encodeURIComponent(weird)}`)
  })
})

describe("metrics", () => {
  it("counts calls by endpoint and outcome, latency and retries (a money POST is never re-sent)", async () => {
    const mint = createTestMint()
    const client = await clientOver(mint.fetch, { retry: { baseDelayMs: 1, maxDelayMs: 2 } })
    const registry = new Map()
    const go = <A>(self: Effect.Effect<A, MintCallError>) =>
      Effect.runPromiseExit(Effect.provideService(self, Metric.MetricRegistry, registry))
    const value = <S>(metric: Metric.Metric<never, S> | Metric.Metric<number, S>) =>
      Effect.runSync(
        Effect.provideService(
          Metric.value(metric as Metric.Metric<number, S>),
          Metric.MetricRegistry,
          registry,
        ),
      )
    const url = mint.baseUrl

    await go(client.info(url))
    mint.faults.next({ path: "/v1/keysets", kind: "error-500" })
    await go(client.keysets(url))
    const keyset = await activeKeyset(mint)
    const inputs = await mintProofs(mint, 8n)
    mint.faults.next({ path: "/v1/swap", kind: "drop-response" })
    await go(client.swap(url, swapBody(inputs, outputsFor(keyset, [8n]))))
    await go(client.swap(url, swapBody(inputs, outputsFor(keyset, [4n]))))

    const calls = (endpoint: string, outcome: string) =>
      value(Metric.withAttributes(mintCallsTotal, { endpoint, outcome })).count
    const retries = (endpoint: string, kind: string) =>
      value(Metric.withAttributes(mintRetriesTotal, { endpoint, kind })).count
    expect(calls("info", "ok")).toBe(1)
    expect(calls("keysets", "ok")).toBe(1)
    expect(calls("swap", "MintUnreachable")).toBe(1)
    expect(calls("swap", "ok")).toBe(0)
    expect(retries("keysets", "retry")).toBe(1)
    expect(retries("swap", "retry")).toBe(0)
    expect(retries("info", "retry")).toBe(0)
    expect(value(Metric.withAttributes(mintCallDuration, { endpoint: "swap" })).count).toBe(2)
  })
})
