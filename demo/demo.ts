/**
 * The main job (`npm run demo`): two wallets of one engine against a real Cashu mint, end to end.
 *
 * It starts the nutshell reference mint (`scripts/mint.sh start`: FakeWallet backend, which pays invoices by
 * itself, SQLite in a temp dir, 127.0.0.1, input fee 100 ppk so fees show), opens an engine whose event log is
 * an encrypted LevelDB directory in a fresh temp dir, creates Alice and Bob, and runs mint → send → receive →
 * melt (an external invoice, with NUT-08 change) → checkPending. It prints the balances and both histories,
 * checks the value identity (minted − melted − fees = what the wallets hold), and ends with the audit: the
 * engine's own (`engine.audit()`) and the `corecashu audit` command run as a separate process on the closed
 * data directory.
 *
 *   node --import tsx demo/demo.ts [--data-dir DIR] [--keep]
 *
 * `--data-dir` uses DIR (which must not hold a log yet) instead of a temp dir; `--keep` keeps the data dir and
 * the passphrase file for a later `corecashu audit`. By default both are deleted at the end.
 *
 * Nothing secret is printed: no mnemonic, quote id, proof secret or full token (a token is shown truncated).
 * Exit 0 when every step and both audits succeed; 1 with a one-line reason otherwise. The mint is stopped in
 * every case (and dies with this process if it is killed).
 *
 * It lives outside `src` (like `bench/` and `simulations/`) so the published package holds none of it: it
 * uses the engine only through the package's public entry point, as a user would.
 *
 * @module
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { decodeToken, Engine, type Wallet } from "../src/index.js"
import { DemoFailure, explain, startDemoMint } from "./common.js"
import { externalInvoice, type RealMint } from "./real-mint.js"

/** A wallet's history entry. */
type OperationView = ReturnType<Wallet["history"]>[number]

/** The package's CLI, run from source (this file runs under tsx, so its child does too). */
const CLI = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))
const INPUT_FEE_PPK = 100

const say = (line = ""): void => {
  process.stdout.write(`${line}\n`)
}

const fmt = (n: bigint | number | undefined): string => (n === undefined ? "-" : n.toString())

/** Left-aligned first column, right-aligned numbers: a small fixed-width table. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>, leftColumns = 1): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) =>
    r
      .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd(),
  )
}

// ---------------------------------------------------------------------------------------------------------
// The mint
// ---------------------------------------------------------------------------------------------------------

/** A valid bolt11 invoice of a payee outside the mint; a bad one is the demo's failure. */
const invoiceOutside = (sat: bigint): string => {
  try {
    return externalInvoice(sat)
  } catch {
    throw new DemoFailure("scripts/mint.sh invoice printed no invoice")
  }
}

const mintInfo = async (url: string): Promise<{ version: string; nuts: string }> => {
  const info = (await (await fetch(`${url}/v1/info`)).json()) as { version?: string; nuts?: object }
  return { version: info.version ?? "unknown", nuts: Object.keys(info.nuts ?? {}).join(" ") }
}

// ---------------------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------------------

const truncated = (s: string, keep = 24): string => `${s.slice(0, keep)}… (${s.length} chars)`

const historyRows = (name: string, ops: ReadonlyArray<OperationView>): string[][] =>
  ops.map((o) => [
    name,
    o.kind,
    o.status,
    fmt(o.amount),
    fmt(o.fee ?? (o.kind === "mint" ? 0n : undefined)),
    fmt(o.feeReserve),
    `${o.inputs}/${o.outputs}`,
  ])

interface Totals {
  minted: bigint
  melted: bigint
  fees: bigint
}

const story = async (engine: Engine, mintUrl: string): Promise<Totals> => {
  const alice = await engine.createWallet({ walletId: "alice", label: "Alice" })
  const bob = await engine.createWallet({ walletId: "bob", label: "Bob" })
  for (const w of [alice, bob]) await w.addMint(mintUrl)
  say("wallets  alice, bob: fresh 12-word mnemonics, stored only in the encrypted log (not printed)")
  say()

  const totals: Totals = { minted: 0n, melted: 0n, fees: 0n }

  const quote = await alice.mintQuote({ mintUrl, amount: 1000n })
  const minted = await alice.mint(quote.operationId, { timeoutMs: 60_000 })
  totals.minted += minted.amount
  say(
    `1. mint     alice asks for 1000 sat; the mint's invoice ${truncated(quote.request, 16)} is paid by its FakeWallet${quote.locked ? " (NUT-20 locked quote)" : ""}`,
  )
  say(`            → ${minted.proofs} proofs worth ${minted.amount} sat, every DLEQ proof verified`)

  const sent = await alice.send({ mintUrl, amount: 300n })
  totals.fees += sent.fee
  const sentProofs = decodeToken(sent.token).entries.flatMap((e) => e.proofs).length
  say(`2. send     alice → bob 300 sat: token ${truncated(sent.token)}`)
  say(
    `            ${sent.offline ? "offline, from exact proofs" : "swap to send"}, fee ${sent.fee} sat; ${sentProofs} proofs pending until bob claims them`,
  )

  const got = await bob.receive(sent.token)
  totals.fees += got.fee
  say(`3. receive  bob swaps the token's proofs for his own: +${got.amount} sat (input fee ${got.fee} sat)`)

  const mq = await alice.meltQuote({ mintUrl, request: invoiceOutside(200n) })
  const melted = await alice.melt(mq.operationId)
  if (melted.state !== "paid") throw new DemoFailure(`the melt is ${melted.state}, expected paid`)
  totals.melted += melted.amount
  totals.fees += melted.feePaid + melted.inputFee
  say(`4. melt     alice pays an external 200 sat invoice (fee reserve ${mq.feeReserve} sat)`)
  say(
    `            → paid: lightning fee ${melted.feePaid} sat, input fee ${melted.inputFee} sat, ${melted.change} sat back as NUT-08 change`,
  )

  const checked = await alice.checkPending(mintUrl)
  say(
    `5. check    alice asks the mint about her pending proofs: ${checked.spent} spent (bob's claim), ${checked.unspent} unspent`,
  )
  say()

  const wallets: ReadonlyArray<readonly [string, Wallet]> = [
    ["alice", alice],
    ["bob", bob],
  ]
  say("balances (sat)")
  const balanceRows = [["wallet", "unspent", "pending", "reserved"]]
  for (const [name, w] of wallets) {
    const b = w.balances().find((x) => x.mintUrl === mintUrl && x.unit === "sat")
    balanceRows.push([name, fmt(b?.unspent ?? 0n), fmt(b?.pending ?? 0n), fmt(b?.reserved ?? 0n)])
  }
  for (const line of table(balanceRows)) say(`  ${line}`)
  say()
  say("history (amounts and fees in sat; in/out = proofs spent/created)")
  const rows = [["wallet", "operation", "status", "amount", "fee", "reserve", "in/out"]]
  for (const [name, w] of wallets) rows.push(...historyRows(name, w.history()))
  for (const line of table(rows, 3)) say(`  ${line}`)
  say()

  const held = alice.balance(mintUrl) + bob.balance(mintUrl)
  const expected = totals.minted - totals.melted - totals.fees
  say(
    `value    minted ${totals.minted} − melted ${totals.melted} − fees ${totals.fees} = ${expected} sat; the wallets hold ${held} sat`,
  )
  if (held !== expected) throw new DemoFailure("the wallets do not hold minted − melted − fees")
  const stuck = wallets.flatMap(([, w]) => w.pending())
  if (stuck.length > 0) throw new DemoFailure("proofs are still pending after checkPending")
  return totals
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

interface Args {
  readonly dataDir: string | undefined
  readonly keep: boolean
}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  let dataDir: string | undefined
  let keep = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === "--keep") keep = true
    else if (a === "--data-dir" && argv[i + 1] !== undefined) dataDir = argv[++i]
    else throw new DemoFailure(`unknown argument ${a} (usage: demo [--data-dir DIR] [--keep])`)
  }
  return { dataDir, keep }
}

/** Runs the CLI's `audit` as its own process on the closed data dir; returns its exit code and output. */
const cliAudit = (dataDir: string, passphraseFile: string): { code: number | null; out: string } => {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, CLI, "audit", "--data-dir", dataDir, "--passphrase-file", passphraseFile],
    { encoding: "utf8" },
  )
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() }
}

const main = async (): Promise<number> => {
  const started = performance.now()
  const args = parseArgs(process.argv.slice(2))
  if (args.dataDir !== undefined) {
    if (existsSync(args.dataDir) && readdirSync(args.dataDir).length > 0)
      throw new DemoFailure(`--data-dir ${args.dataDir} is not empty`)
    mkdirSync(args.dataDir, { recursive: true })
  }
  const root = mkdtempSync(join(tmpdir(), "corecashu-demo-"))
  const dataDir = args.dataDir ?? join(root, "data")
  // A throwaway passphrase for a throwaway log; the file lets the separate audit process open it too.
  const passphrase = `demo-${crypto.randomUUID()}`
  const passphraseFile = join(root, "passphrase")
  writeFileSync(passphraseFile, passphrase, { mode: 0o600 })

  say("corecashu demo: two wallets, one real Cashu mint, one encrypted event log")
  say()
  let mint: RealMint | undefined
  let engine: Engine | undefined
  // Ctrl-C: the mint dies with us (PR_SET_PDEATHSIG); the temp files must not outlive us either.
  const interrupted = (): void => {
    if (!args.keep) rmSync(root, { recursive: true, force: true })
    process.stderr.write("demo interrupted\n")
    process.exit(130)
  }
  process.once("SIGINT", interrupted)
  process.once("SIGTERM", interrupted)
  try {
    mint = await startDemoMint(INPUT_FEE_PPK)
    const info = await mintInfo(mint.url)
    say(
      `mint     ${info.version} (FakeWallet) at ${mint.url}, input fee ${INPUT_FEE_PPK} ppk; NUTs ${info.nuts}`,
    )
    engine = await Engine.open({ dataDir, passphrase })
    say(`engine   LevelDB event log at ${dataDir} (payloads AES-256-GCM, key wrapped by scrypt)`)

    await story(engine, mint.url)

    const own = await engine.audit()
    await engine.close()
    engine = undefined
    say()
    say("audit")
    say(
      own.ok
        ? `  engine.audit(): OK: ${own.events} events replayed; hash chain and every invariant hold`
        : `  engine.audit(): FAILED at sequence ${own.violation.sequence} [${own.violation.kind}]: ${own.violation.message}`,
    )
    const cli = cliAudit(dataDir, passphraseFile)
    say(`  corecashu audit --data-dir <dir> --passphrase-file <file>: exit ${cli.code}`)
    for (const line of cli.out.split("\n")) say(`    ${line}`)
    if (!own.ok) throw new DemoFailure("engine.audit() found a violation")
    if (cli.code !== 0) throw new DemoFailure(`corecashu audit exited with ${cli.code}`)
    say()
    if (args.keep)
      say(
        `kept     ${dataDir} (audit it again: corecashu audit --data-dir ${dataDir} --passphrase-file ${passphraseFile})`,
      )
    say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return 0
  } finally {
    process.off("SIGINT", interrupted)
    process.off("SIGTERM", interrupted)
    await engine?.close()
    await mint?.stop()
    if (!args.keep) {
      rmSync(root, { recursive: true, force: true })
      if (args.dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${explain(e)}\n`)
  return 1
})
