/**
 * The `corecashu` wallet verbs, run as the BUILT binary (`dist/cli/main.js`) against the in-process test mint
 * served over HTTP on loopback (it pays its own invoices): two wallets in two data directories through
 * invoice → send → receive (plain and P2PK-locked) → check → pay, then a restore from the mnemonic into a third
 * data directory; balance, pending and history read back with `--json` (amounts as strings of integers); the
 * failures with their exit codes and one-line, secret-free messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestMint, fakeInvoice, type ServedMint, serve } from "../support/mint/index.js"
import { amount, buildCli, type CliRun, jsonOf, runCli } from "./built-cli.js"

const PASSPHRASE = "cli test passphrase, never printed"
let main: string
let served: ServedMint
let base: string
let dirA: string
let dirB: string
let dirC: string
const runs: CliRun[] = []

/** Runs the binary; every run is kept to be scanned for secrets at the end. */
const cli = async (
  args: ReadonlyArray<string>,
  opts: { env?: Record<string, string>; input?: string } = {},
) => {
  const r = await runCli(main, args, { ...opts, env: { CORECASHU_PASSPHRASE: PASSPHRASE, ...opts.env } })
  runs.push(r)
  return r
}
const ok = (r: CliRun) => {
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)
  return jsonOf(r)
}
const A = (...args: string[]) => ["--data-dir", dirA, "--mint", served.url, "--json", ...args]
const B = (...args: string[]) => ["--data-dir", dirB, "--wallet", "bob", "--json", ...args]

beforeAll(async () => {
  main = buildCli("wallet-cli")
  served = await serve(createTestMint({ baseUrl: "http://127.0.0.1" }))
  base = mkdtempSync(join(tmpdir(), "corecashu-cli-wallet-"))
  dirA = join(base, "a")
  dirB = join(base, "b")
  dirC = join(base, "c")
}, 120_000)
afterAll(async () => {
  await served?.close()
  rmSync(base, { recursive: true, force: true })
})

describe("corecashu wallet verbs against a mint over HTTP", () => {
  let mnemonic = ""
  let balanceA = 0n

  it("invoice creates the default wallet, waits for the payment and mints", async () => {
    const r = await cli(A("invoice", "100"))
    const j = ok(r)
    expect(j.state).toBe("issued")
    expect(amount(j.amount)).toBe(100n)
    expect(amount(j.balance)).toBe(100n)
    expect(typeof j.request === "string" && j.request.startsWith("lnbcrt")).toBe(true)
    expect(r.stderr).toContain("created the wallet `default`")
    expect(r.stderr).toContain(`pay this invoice: ${String(j.request)}`)
    expect(amount(ok(await cli(A("balance"))).balance)).toBe(100n)
    const mints = ok(await cli(A("mints")))
    expect(mints.mints).toEqual([{ mintUrl: served.url, units: ["sat"], balance: "100" }])
  })

  it("invoice --no-wait then --claim mints the same quote once", async () => {
    const quoted = ok(await cli(A("invoice", "8", "--no-wait")))
    expect(quoted.state).toBe("unpaid")
    const claimed = ok(await cli(A("invoice", "--claim", String(quoted.operationId))))
    expect(amount(claimed.amount)).toBe(8n)
    expect(amount(claimed.balance)).toBe(108n)
  })

  it("send makes a token; a second wallet in another data dir receives it from standard input", async () => {
    const created = ok(await cli(B("wallets", "create")))
    expect(created).toMatchObject({ walletId: "bob", fromMnemonic: false })
    const sent = ok(await cli(A("send", "30")))
    const token = String(sent.token)
    expect(token.startsWith("cashuB")).toBe(true)
    expect(amount(sent.amount)).toBe(30n)
    expect(amount(sent.balance)).toBe(78n)
    const pending = ok(await cli(A("pending"))).pending as Array<Record<string, unknown>>
    expect(pending.map((p) => amount(p.amount))).toEqual([30n])
    const decoded = ok(await cli(["--json", "decode"], { input: `${token}\n` }))
    expect(amount(decoded.amount)).toBe(30n)
    expect(JSON.stringify(decoded)).not.toContain(token.slice(10, 40))
    // Unknown mint: refused without --trust-mint, nothing received.
    const refused = await cli(B("receive"), { input: token })
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim().split("\n")).toHaveLength(1)
    expect(refused.stderr).toContain("TokenRejected: the token's mint is not trusted")
    expect(refused.stderr).toContain("--trust-mint")
    const got = ok(await cli(B("receive", "--trust-mint"), { input: token }))
    expect(amount(got.amount) + amount(got.fee)).toBe(30n)
    expect(got.mintUrl).toBe(served.url)
    expect(amount(ok(await cli(B("balance"))).balance)).toBe(amount(got.amount))
    // The sender learns it was claimed.
    const checked = ok(await cli(A("check")))
    expect(checked.spent).toBeGreaterThan(0)
    expect(ok(await cli(A("pending"))).pending).toEqual([])
  })

  it("send --lock locks a token to the receiver's key: only that wallet can take it", async () => {
    const bobKey = String(ok(await cli(B("lock"))).publicKey)
    expect(bobKey).toMatch(/^0[23][0-9a-f]{64}$/)
    const sent = ok(await cli(A("send", "5", "--lock", bobKey)))
    expect(sent.locked).toBe(true)
    const other = await cli(A("receive"), { input: String(sent.token) })
    expect(other.code).toBe(1)
    expect(other.stderr).toContain("TokenRejected")
    const got = ok(await cli(B("receive"), { input: String(sent.token) }))
    expect(amount(got.amount) + amount(got.fee)).toBe(5n)
  })

  it("pay melts an invoice with its fee accounted exactly", async () => {
    const before = amount(ok(await cli(A("balance"))).balance)
    const paid = ok(await cli(A("pay", fakeInvoice(20n))))
    expect(paid.state).toBe("paid")
    expect(amount(paid.amount)).toBe(20n)
    const spent = amount(paid.amount) + amount(paid.feePaid) + amount(paid.inputFee)
    balanceA = amount(ok(await cli(A("balance"))).balance)
    expect(balanceA).toBe(before - spent)
    expect(amount(paid.balance)).toBe(balanceA)
    const history = ok(await cli(A("history"))).history as Array<Record<string, unknown>>
    const count = (kind: string) => history.filter((h) => h.kind === kind).length
    expect([count("mint"), count("send"), count("melt")]).toEqual([2, 2, 1])
    expect(history.filter((h) => h.kind === "mint").map((h) => amount(h.amount))).toEqual([100n, 8n])
    expect(history.find((h) => h.kind === "melt")).toMatchObject({ status: "completed", amount: "20" })
    for (const h of history) expect(["completed", "compensated"]).toContain(h.status)
  })

  it("restores the wallet from its mnemonic into a new data dir", async () => {
    const shown = await cli(A("wallets", "mnemonic"))
    mnemonic = String(ok(shown).mnemonic)
    expect(mnemonic.split(" ")).toHaveLength(12)
    const created = ok(
      await cli(["--data-dir", dirC, "--json", "wallets", "create", "--from-mnemonic"], {
        input: `${mnemonic}\n`,
      }),
    )
    expect(created).toMatchObject({ walletId: "default", fromMnemonic: true })
    const restored = ok(await cli(["--data-dir", dirC, "--mint", served.url, "--json", "restore"]))
    expect(amount(restored.amount)).toBe(balanceA)
    expect(amount(restored.balance)).toBe(balanceA)
    const wallets = ok(await cli(["--data-dir", dirC, "--json", "wallets"]))
    expect(wallets.wallets).toEqual([{ walletId: "default", balance: balanceA.toString() }])
  })

  it("fails with documented exit codes and one secret-free line", async () => {
    const wrong = await cli(A("balance"), { env: { CORECASHU_PASSPHRASE: "not it" } })
    expect(wrong.code).toBe(3)
    expect(jsonOf(wrong)).toMatchObject({ error: { exitCode: 3 } })
    expect(wrong.stderr.trim().split("\n")).toHaveLength(1)
    const passFile = join(base, "pass")
    writeFileSync(passFile, `${PASSPHRASE}\n`)
    const viaFile = await cli(["--data-dir", dirA, "--passphrase-file", passFile, "--json", "balance"], {
      env: { CORECASHU_PASSPHRASE: "" },
    })
    expect(amount(ok(viaFile).balance)).toBe(balanceA)
    const none = await cli(A("balance"), { env: { CORECASHU_PASSPHRASE: "" } })
    expect(none.code).toBe(3)
    expect(none.stderr).toContain("no passphrase")
    const poor = await cli(A("send", "1000000"))
    expect(poor.code).toBe(1)
    expect(poor.stderr).toContain("InsufficientFunds")
    const unknown = await cli(["--data-dir", dirA, "--wallet", "nobody", "balance"])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toContain("wallets create nobody")
    expect((await cli(A("send"))).code).toBe(2)
    expect((await cli(A("send", "-3x"))).code).toBe(2)
    expect((await cli(["frobnicate"])).code).toBe(2)
    const argvToken = await cli(["decode", "cashuBo2Ftdmh0dHA6Ly9leGFtcGxl"])
    expect(argvToken.code).toBe(2)
    expect(argvToken.stderr).toContain("standard input")
    const unreachable = await cli(["--data-dir", dirA, "--mint", "http://127.0.0.1:9", "info"])
    expect(unreachable.code).toBe(5)
  })

  it("prints help, the version and completion scripts", async () => {
    const help = await cli(["--help"])
    expect(help.code).toBe(0)
    for (const verb of [
      "balance",
      "invoice",
      "pay",
      "send",
      "receive",
      "pending",
      "check",
      "restore",
      "wallets",
    ])
      expect(help.stdout).toContain(verb)
    const version = await cli(["version"])
    expect(version.stdout.trim()).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+/)
    const bash = await cli(["completions", "bash"])
    expect(bash.code).toBe(0)
    expect(bash.stdout).toContain("corecashu")
    expect(bash.stdout).toContain("receive")
    const zsh = await cli(["--completions", "zsh"])
    expect(zsh.stdout).toContain("#compdef corecashu")
    const info = ok(await cli(["--mint", served.url, "--json", "info"]))
    expect(info.mintUrl).toBe(served.url)
    expect(Array.isArray(info.nuts)).toBe(true)
  })

  it("printed no passphrase anywhere, and the mnemonic only where it was asked for", () => {
    expect(runs.length).toBeGreaterThan(20)
    for (const r of runs) {
      expect(r.stdout + r.stderr).not.toContain(PASSPHRASE)
      expect(r.stderr).not.toContain(mnemonic)
    }
    expect(runs.filter((r) => r.stdout.includes(mnemonic))).toHaveLength(1)
  })
})
