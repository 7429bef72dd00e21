/**
 * Traces over OTLP to a real receiver (issue #15): an engine opened with `telemetry.otlp` against Jaeger v2
 * (`scripts/jaeger.sh`, built from the Go module proxy) exports a span per wallet call with its steps as
 * children — log appends, projection catch-up, mint calls over HTTP — and closing the engine flushes them.
 * Read back through Jaeger's query API: the tree is right and nothing secret rode along.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Engine } from "../../src/engine/engine.js"
import { decodeToken } from "../../src/protocol/token.js"
import { freshDir } from "../support/engine.js"
import { type Jaeger, type JaegerSpan, startJaeger } from "../support/jaeger.js"
import { createTestMint, type ServedMint, serve } from "../support/mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

let jaeger: Jaeger
let served: ServedMint
const mint = createTestMint({ baseUrl: "http://127.0.0.1" })

beforeAll(async () => {
  jaeger = await startJaeger()
  served = await serve(mint)
})

afterAll(async () => {
  await served?.close()
  await jaeger?.stop()
})

const tag = (s: JaegerSpan, key: string): unknown => s.tags.find((t) => t.key === key)?.value

/** Polls Jaeger until `service` holds spans named `names` (the receiver batches for 200 ms). */
const spansOf = async (service: string, names: ReadonlyArray<string>) => {
  const deadline = Date.now() + 30_000
  for (;;) {
    const got = await jaeger.spans(service)
    const have = new Set(got.spans.map((s) => s.operationName))
    if (names.every((n) => have.has(n)) || Date.now() > deadline) return got
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe("OTLP traces", () => {
  it("export a span per wallet call with its log, projection and mint steps as children, secret-free", async () => {
    const service = `corecashu-test-${randomBytes(4).toString("hex")}`
    const engine = await Engine.open({
      dataDir: freshDir(),
      passphrase: "test passphrase",
      vault: INSECURE_TEST_VAULT_OPTIONS,
      options: { quotePollMs: 5 },
      telemetry: { otlp: { url: jaeger.otlpUrl, serviceName: service, exportIntervalMs: 100 } },
    } as Parameters<typeof Engine.open>[0])
    const wallet = await engine.createWallet({ walletId: "traced" })
    await wallet.addMint(served.url)
    const q = await wallet.mintQuote({ mintUrl: served.url, amount: 64n })
    await wallet.mint(q.operationId)
    const sent = await wallet.send({ mintUrl: served.url, amount: 10n })
    const mnemonic = wallet.mnemonic()
    await engine.close() // flushes the exporter

    const { spans, raw } = await spansOf(service, ["wallet.mint", "wallet.send", "log.append", "mint.swap"])
    const names = new Set(spans.map((s) => s.operationName))
    for (const n of ["wallet.addMint", "wallet.mintQuote", "wallet.mint", "wallet.send", "log.append"])
      expect(names).toContain(n)
    expect(names).toContain("projection.catch-up")
    expect([...names].some((n) => n.startsWith("mint."))).toBe(true)

    // The send's span: the wallet, its outcome; its log appends and mint calls are its descendants.
    const send = spans.find((s) => s.operationName === "wallet.send")!
    expect(tag(send, "walletId")).toBe("traced")
    expect(tag(send, "outcome")).toBe("ok")
    const byId = new Map(spans.map((s) => [s.spanID, s]))
    const ancestors = (s: JaegerSpan): string[] => {
      const out: string[] = []
      let parent = s.references.find((r) => r.refType === "CHILD_OF")?.spanID
      while (parent !== undefined && byId.has(parent)) {
        out.push(parent)
        parent = byId.get(parent)!.references.find((r) => r.refType === "CHILD_OF")?.spanID
      }
      return out
    }
    const underSend = spans.filter((s) => ancestors(s).includes(send.spanID)).map((s) => s.operationName)
    expect(underSend).toContain("log.append")
    expect(underSend.some((n) => n.startsWith("mint."))).toBe(true)
    // Mint call spans name the origin, never a path (quote ids live in paths).
    for (const s of spans.filter((x) => x.operationName.startsWith("mint.")))
      expect(tag(s, "mint")).toBe(new URL(served.url).origin)

    // Nothing secret in anything Jaeger holds for this service.
    const secrets = [
      mnemonic,
      mnemonic.split(" ").slice(0, 4).join(" "),
      sent.token,
      ...decodeToken(sent.token).entries.flatMap((e) => e.proofs.flatMap((p) => [p.secret, p.C])),
      ...mint.quoteIds("mint"),
      "test passphrase",
    ]
    for (const s of secrets) expect(raw).not.toContain(s)
  })

  it("are refused before anything opens when the collector URL is not http(s)", async () => {
    await expect(
      Engine.open({
        dataDir: freshDir(),
        passphrase: "test passphrase",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        telemetry: { otlp: { url: "ftp://collector" } },
      } as Parameters<typeof Engine.open>[0]),
    ).rejects.toMatchObject({ _tag: "InvalidArgument", argument: "options.telemetry.otlp.url" })
  })
})
