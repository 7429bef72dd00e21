/**
 * The programs in `examples/` run as a user would run them — each in its own process
 * (`node --import tsx examples/<name>.ts`), against the real nutshell mint (`scripts/mint.sh`, input fee
 * 100 ppk so fees show), in a fresh data directory — and must exit 0 and print what they promise. Their
 * types are checked with the rest of the repository (`tsconfig.json` includes `examples`).
 *
 * Never skipped: without the nutshell virtualenv (`bash scripts/mint.sh install`) the mint does not start and
 * every example fails with the reason.
 */
import { execFile } from "node:child_process"
import { rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freshDir } from "./support/engine.js"
import { type RealMint, startRealMint } from "./support/real-mint.js"

const ROOT = join(import.meta.dirname, "..")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `examples/<name>.ts` against the mint in a fresh data directory. */
const runExample = (name: string, mintUrl: string): Promise<Run> => {
  const dataDir = join(freshDir("corecashu-example-"), "data")
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "examples", `${name}.ts`)],
      { cwd: ROOT, env: { ...process.env, MINT_URL: mintUrl, DATA_DIR: dataDir }, timeout: 120_000 },
      (error, stdout, stderr) => {
        rmSync(join(dataDir, ".."), { recursive: true, force: true })
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          stdout,
          stderr,
        })
      },
    )
  })
}

describe("examples/ against nutshell", () => {
  let mint: RealMint | undefined
  let startFailure: unknown
  beforeAll(async () => {
    try {
      mint = await startRealMint({ inputFeePpk: 100 })
    } catch (e) {
      startFailure = e
    }
  }, 310_000)
  afterAll(async () => {
    await mint?.stop()
  })
  const run = async (name: string): Promise<string> => {
    if (mint === undefined) throw new Error(`the nutshell mint did not start: ${String(startFailure)}`)
    const result = await runExample(name, mint.url)
    expect(result.code, `${name} failed:\n${result.stdout}\n${result.stderr}`).toBe(0)
    return result.stdout
  }

  it("custodial-service: 13 wallets on one log, the books balance with fees, the audit holds", async () => {
    const out = await run("custodial-service")
    expect(out).toContain("treasury minted 2000 sat")
    expect(out).toContain("wallets hosted: 13")
    expect(out).toMatch(/audit: ok, \d+ events replayed/)
    const books = /books balance: minted 2000 = held (\d+) \+ fees (\d+)/.exec(out)
    expect(books, out).not.toBeNull()
    expect(BigInt(books![1]!) + BigInt(books![2]!)).toBe(2000n)
    expect(BigInt(books![2]!)).toBeGreaterThan(0n) // 100 ppk: every swap and receive paid its input fee
  }, 180_000)

  it("pay-per-request: six paid calls, a 402 first and for garbage, every sat accounted for", async () => {
    const out = await run("pay-per-request")
    expect(out).toContain("service answered 402: 2 sat per request")
    for (let i = 1; i <= 6; i++) expect(out).toMatch(new RegExp(`request ${i}: 200 answer #${i} `))
    expect(out).toContain("a garbage token: 402 DecodeError")
    expect(out).toContain("ok: 6 requests paid, 12 sat moved")
  }, 180_000)

  it("auditor: corecashu audit (chain only, then full with the witness) and engine.audit() hold", async () => {
    const out = await run("auditor")
    expect(out).toMatch(/corecashu audit, chain only \(no passphrase\): exit 0 \{"ok":true,"scope":"chain"/)
    expect(out).toMatch(/corecashu audit, full, with the witness: exit 0 \{"ok":true,"scope":"full"/)
    expect(out).toMatch(/engine\.audit\(\): ok, \d+ events/)
    expect(out).toContain("ok: the log holds")
  }, 180_000)

  it("effect-program: scoped engine, InsufficientFunds caught by tag, app events as a Stream", async () => {
    const out = await run("effect-program")
    expect(out).toContain("carol minted 300 sat")
    expect(out).toContain("carol cannot send 1000 sat: 300 available")
    expect(out).toMatch(/app events: .*MintQuotePaid.*TokenReceived/)
    expect(out).toMatch(/audit: ok, \d+ events/)
    expect(out).toMatch(/ok: \d+ sat moved/)
  }, 180_000)
})
