/**
 * The built `corecashu` binary against the real nutshell mint (`scripts/mint.sh`, fake Lightning backend that
 * pays its own invoices): invoice (wait and claim), send, receive in a second data dir, check, balances, pay
 * (melt) an invoice, and restore the first wallet from its mnemonic into a third data dir — all with `--json`,
 * amounts as strings of integers.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { externalInvoice, NUTSHELL, type RealMint } from "../support/real-mint.js"
import { amount, buildCli, type CliRun, jsonOf, runCli } from "./built-cli.js"

const START_TIMEOUT_MS = 360_000
const PASSPHRASE = "real mint cli passphrase"
let main: string
let mint: RealMint | undefined
let base: string

const cli = async (args: ReadonlyArray<string>, input?: string) => {
  const r = await runCli(main, args, {
    env: { CORECASHU_PASSPHRASE: PASSPHRASE },
    ...(input !== undefined ? { input } : {}),
  })
  if (r.code !== 0) throw new Error(`exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)
  return { run: r, json: jsonOf(r) }
}

beforeAll(async () => {
  main = buildCli("wallet-cli-real-mint")
  mint = await NUTSHELL.start()
  base = mkdtempSync(join(tmpdir(), "corecashu-cli-real-"))
}, START_TIMEOUT_MS)
afterAll(async () => {
  await mint?.stop()
  rmSync(base, { recursive: true, force: true })
})

describe(`corecashu against ${NUTSHELL.name}`, () => {
  it("mints, sends and receives across two data dirs", async () => {
    const a = ["--data-dir", join(base, "a"), "--mint", mint!.url, "--json"]
    const b = ["--data-dir", join(base, "b"), "--json"]
    const minted = await cli([...a, "invoice", "64"])
    expect(minted.json.state).toBe("issued")
    expect(amount(minted.json.amount)).toBe(64n)
    expect(amount(minted.json.balance)).toBe(64n)
    const sent = await cli([...a, "send", "21"])
    const token = String(sent.json.token)
    expect(token.startsWith("cashuB")).toBe(true)
    expect(amount(sent.json.amount)).toBe(21n)
    expect(amount(sent.json.balance)).toBe(43n)
    const got = await cli([...b, "receive", "--trust-mint"], token)
    expect(amount(got.json.amount)).toBe(21n)
    expect(got.json.mintUrl).toBe(mint!.url)
    expect(amount((await cli([...b, "balance"])).json.balance)).toBe(21n)
    const checked = await cli([...a, "check"])
    expect(checked.json.spent).toBeGreaterThan(0)
    expect((await cli([...a, "pending"])).json.pending).toEqual([])
    expect(amount((await cli([...a, "balance"])).json.balance)).toBe(43n)
    const info = await cli([...a, "info"])
    expect(String(info.json.version)).toMatch(/0\.20\.3/)
    const runs: CliRun[] = [minted.run, sent.run, got.run, checked.run]
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain(PASSPHRASE)
  })

  it("pays an invoice, then restores the paying wallet from its mnemonic into a new data dir", async () => {
    const a = ["--data-dir", join(base, "a"), "--mint", mint!.url, "--json"]
    const before = amount((await cli([...a, "balance"])).json.balance)
    expect(before).toBe(43n) // what the test above left
    const paid = await cli([...a, "pay", externalInvoice(10n)])
    expect(paid.json.state).toBe("paid")
    expect(amount(paid.json.amount)).toBe(10n)
    const spent = amount(paid.json.amount) + amount(paid.json.feePaid) + amount(paid.json.inputFee)
    const after = amount((await cli([...a, "balance"])).json.balance)
    expect(after).toBe(before - spent)
    expect(amount(paid.json.balance)).toBe(after)

    const mnemonic = String((await cli([...a, "wallets", "mnemonic"])).json.mnemonic)
    expect(mnemonic.split(" ")).toHaveLength(12)
    const c = ["--data-dir", join(base, "c"), "--json"]
    const created = await cli([...c, "wallets", "create", "--from-mnemonic"], `${mnemonic}\n`)
    expect(created.json).toMatchObject({ walletId: "default", fromMnemonic: true })
    const restored = await cli([...c, "--mint", mint!.url, "restore"])
    expect(amount(restored.json.amount)).toBe(after)
    expect(amount(restored.json.balance)).toBe(after)
    expect(paid.run.stdout + paid.run.stderr + restored.run.stdout).not.toContain(mnemonic)
  })
})
