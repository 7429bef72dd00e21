/**
 * The engine's structured logs (issue #15): records keep only whitelisted scalar fields and scrub what looks
 * like a secret; the engine logs operation lifecycles at the configured level through the configured sink;
 * and a whole mint → send → receive → melt run logs nothing secret (checked by the stricter scan the full
 * suite's log file goes through, `test/support/log-scan.ts`).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { resolveLogging, withEngineLogging } from "../../../src/infra/logging/logger.js"
import {
  formatJson,
  formatPretty,
  type LogRecord,
  safeFields,
  scrub,
} from "../../../src/infra/logging/record.js"
import { decodeToken } from "../../../src/protocol/token.js"
import { enginesClosedAfterEach, testMint } from "../../support/engine.js"
import { scanLogLines } from "../../support/log-scan.js"
import { fakeInvoice } from "../../support/mint/invoice.js"

const open = enginesClosedAfterEach()
const SECRET = "a".repeat(64)
const MNEMONIC = "abandon ability able about above absent absorb abstract absurd abuse access accident"

describe("log records", () => {
  it("keep only whitelisted scalar fields, scrubbing strings", () => {
    const fields = safeFields({
      walletId: "alice",
      operationId: "0123456789abcdef0123456789abcdef",
      kind: "send",
      secret: SECRET,
      proofs: [{ secret: SECRET }],
      reason: `quote ${SECRET} failed`,
      count: 3,
      durationMs: Number.NaN,
      unit: 7n,
    })
    expect(fields).toEqual({
      walletId: "alice",
      operationId: "0123456789abcdef0123456789abcdef",
      kind: "send",
      reason: "quote [redacted] failed",
      count: 3,
      unit: 7n,
    })
  })

  it("scrub hex runs, tokens, UUIDs, quote paths and mnemonic-like word runs, and cut long strings", () => {
    expect(scrub(`x ${SECRET} y`)).toBe("x [redacted] y")
    expect(scrub("token cashuBo2FteCJodHRwczovL21pbnQ")).toBe("token [redacted-token]")
    expect(scrub("quote 3f2504e0-4f89-11d3-9a0c-0305e82c3301 gone")).toBe("quote [redacted-id] gone")
    expect(scrub("GET /v1/mint/quote/bolt11/q123abc failed")).toBe("GET /v1/mint/quote/[redacted] failed")
    expect(scrub(`seed: ${MNEMONIC}`)).toBe("seed: [redacted-words]")
    expect(scrub("x".repeat(300)).length).toBe(201)
    // Engine-made ids (32 hex characters) stay readable.
    expect(scrub("0123456789abcdef0123456789abcdef")).toBe("0123456789abcdef0123456789abcdef")
  })

  it("format as one JSON object or one readable line", () => {
    const r: LogRecord = {
      time: Date.UTC(2026, 11, 7),
      level: "warn",
      message: "operation.pending",
      fields: { walletId: "w 1", kind: "melt", count: 2n },
      errors: ["MintUnavailable"],
    }
    expect(JSON.parse(formatJson(r))).toEqual({
      time: "2026-12-07T00:00:00.000Z",
      level: "warn",
      msg: "operation.pending",
      walletId: "w 1",
      kind: "melt",
      count: "2",
      errors: ["MintUnavailable"],
    })
    expect(formatPretty(r)).toBe(
      '2026-12-07T00:00:00.000Z WARN  operation.pending walletId="w 1" kind=melt count=2 errors=MintUnavailable',
    )
  })
})

describe("the engine logger", () => {
  it("takes level, format and file from the environment when the options leave them unset", () => {
    const r = resolveLogging({}, { CORECASHU_LOG_LEVEL: "DEBUG", CORECASHU_LOG_FORMAT: "pretty" })
    expect(r.level).toBe("debug")
    expect(r.format).toBe("pretty")
    expect(resolveLogging({ level: "error" }, { CORECASHU_LOG_LEVEL: "trace" }).level).toBe("error")
    expect(resolveLogging({}, { CORECASHU_LOG_LEVEL: "loud" }).level).toBe("warn")
  })

  it("filters by level, drops unlisted annotations and reports error tags, never messages", async () => {
    const lines: string[] = []
    const observe = withEngineLogging(resolveLogging({ level: "info", sink: (l) => lines.push(l) }, {}))
    await Effect.runPromise(
      observe(
        Effect.gen(function* () {
          yield* Effect.logDebug("hidden")
          yield* Effect.annotateLogs(Effect.logInfo("shown"), { walletId: "w", mnemonic: MNEMONIC })
          yield* Effect.logError("failed", { _tag: "MintUnavailable", message: SECRET })
        }),
      ),
    )
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown", "failed"])
    expect(JSON.parse(lines[0]!)).not.toHaveProperty("mnemonic")
    expect(lines.join("\n")).not.toContain(SECRET)
  })
})

describe("an engine run's logs", () => {
  it("tell each operation's life at info, through the sink, with nothing secret", async () => {
    const mint = testMint("logging")
    const lines: string[] = []
    const engine = await open([mint], { logging: { level: "trace", sink: (line) => lines.push(line) } })
    const alice = await engine.createWallet({ walletId: "log-alice" })
    const bob = await engine.createWallet({ walletId: "log-bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    const q = await alice.mintQuote({ mintUrl: mint.baseUrl, amount: 200n })
    await alice.mint(q.operationId)
    const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 50n })
    await bob.receive(sent.token)
    const mq = await alice.meltQuote({ mintUrl: mint.baseUrl, request: fakeInvoice(20n) })
    await alice.melt(mq.operationId)

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    const completed = records.filter((r) => r.msg === "operation.completed")
    expect(completed.map((r) => `${r.walletId}:${r.kind}`).sort()).toEqual(
      ["log-alice:melt", "log-alice:mint", "log-alice:send", "log-bob:receive"].sort(),
    )
    expect(completed.every((r) => r.level === "info")).toBe(true)
    expect(records.some((r) => r.msg === "operation.started" && r.operationId === q.operationId)).toBe(true)
    expect(records.some((r) => r.msg === "wallet.appended" && r.level === "trace")).toBe(true)
    // Engine-level calls (creation) log through the same sink, not Effect's default logger.
    expect(records.filter((r) => r.msg === "wallet.created").map((r) => r.walletId)).toEqual([
      "log-alice",
      "log-bob",
    ])
    expect(records.some((r) => r.msg === "mint.trusted" && r.mint === new URL(mint.baseUrl).origin)).toBe(
      true,
    )

    // Nothing secret: the mnemonics, the sent proofs' secrets and points, the token, the quote ids.
    const token = decodeToken(sent.token)
    const secrets = [
      alice.mnemonic(),
      bob.mnemonic(),
      sent.token,
      ...token.entries.flatMap((e) => e.proofs.flatMap((p) => [p.secret, p.C])),
      ...mint.quoteIds("mint"),
      ...mint.quoteIds("melt"),
    ]
    expect(mint.quoteIds("mint").length).toBe(1)
    expect(scanLogLines(lines, secrets)).toEqual([])
    for (const s of secrets) expect(lines.join("\n")).not.toContain(s)
  })

  it("writes nothing below the level it is given", async () => {
    const mint = testMint("logging-quiet")
    const lines: string[] = []
    const engine = await open([mint], { logging: { level: "warn", sink: (line) => lines.push(line) } })
    const w = await engine.createWallet()
    await w.addMint(mint.baseUrl)
    const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 8n })
    await w.mint(q.operationId)
    expect(lines).toEqual([])
  })
})

describe("the log scan", () => {
  it("finds each kind of leak", () => {
    const ok = JSON.stringify({ time: "t", level: "info", msg: "operation.completed", walletId: "w" })
    const leaks = [
      JSON.stringify({ time: "t", level: "info", msg: "x", proof: "p" }),
      JSON.stringify({ time: "t", level: "info", msg: `secret ${SECRET}` }),
      JSON.stringify({ time: "t", level: "info", msg: "x", reason: "cashuBo2FteCJodHRwczovL21pbnQ" }),
      JSON.stringify({ time: "t", level: "info", msg: "x", reason: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" }),
      JSON.stringify({ time: "t", level: "info", msg: "x", reason: "abandon ability able about" }),
      JSON.stringify({ time: "t", level: "info", msg: "x", reason: "the test passphrase" }),
      JSON.stringify({ time: "t", level: "info", msg: "x", reason: "quote-q-12345678" }),
      "not json",
    ]
    expect(scanLogLines([ok])).toEqual([])
    const found = scanLogLines([ok, ...leaks], ["q-12345678"])
    expect(new Set(found.map((f) => f.line))).toEqual(new Set([2, 3, 4, 5, 6, 7, 8, 9]))
  })
})
