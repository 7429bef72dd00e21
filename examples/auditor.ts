/**
 * An auditor replaying a wallet log. A service runs a wallet for a while (mint, send, receive) with a witness
 * file of head attestations kept apart from the data directory, and closes it. The auditor then checks that
 * log from the outside, without ever writing to it: the `corecashu audit` command (here run from the
 * repository's source) first without the passphrase — the hash chain and LevelDB's own files only — then with
 * it (every payload and invariant) and the witness (no attested event cut away). Last, it reopens the log
 * read-only in spirit (`recover: false`) and replays it in process with `engine.audit()`.
 *
 *   MINT_URL=http://127.0.0.1:3338 DATA_DIR=/tmp/audited node --import tsx examples/auditor.ts
 *
 * `DATA_DIR` must be missing or empty (`log/`, `witness` and `passphrase` are created in it). Exit 1 if an
 * audit finds a violation or cannot run.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Engine } from "../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`set ${name}`)
  return value
}
const mintUrl = env("MINT_URL")
const dataDir = env("DATA_DIR")
const passphrase = process.env.WALLET_PASSPHRASE ?? "example passphrase, not for real money"
const logDir = join(dataDir, "log")
const witness = join(dataDir, "witness") // in production: another disk or host than the log
const passphraseFile = join(dataDir, "passphrase")
mkdirSync(dataDir, { recursive: true })
writeFileSync(passphraseFile, `${passphrase}\n`, { mode: 0o600 })

// --- the service's history --------------------------------------------------------------------------------
{
  const engine = await Engine.open({ dataDir: logDir, passphrase, witness })
  const alice = await engine.createWallet({ walletId: "alice" })
  const bob = await engine.createWallet({ walletId: "bob" })
  for (const w of [alice, bob]) await w.addMint(mintUrl)
  const quote = await alice.mintQuote({ mintUrl, amount: 500n })
  await alice.mint(quote.operationId)
  for (const amount of [21n, 42n, 84n]) await bob.receive((await alice.send({ mintUrl, amount })).token)
  await alice.checkPending(mintUrl)
  console.log(`history written: alice ${alice.balance(mintUrl)} sat, bob ${bob.balance(mintUrl)} sat`)
  await engine.close() // attests the head into the witness file
}

// --- the auditor ------------------------------------------------------------------------------------------
const cli = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url))
const audit = (...args: string[]): { code: number | null; report: Record<string, unknown> } => {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", cli, "audit", "--data-dir", logDir, ...args, "--json"],
    {
      encoding: "utf8",
    },
  )
  const report = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>
  return { code: run.status, report }
}
let failed = false
for (const [what, args] of [
  ["chain only (no passphrase)", []],
  ["full, with the witness", ["--passphrase-file", passphraseFile, "--witness", witness]],
] as const) {
  const { code, report } = audit(...args)
  console.log(`corecashu audit, ${what}: exit ${code} ${JSON.stringify(report)}`)
  if (code !== 0) failed = true
}

const engine = await Engine.open({ dataDir: logDir, passphrase, witness, recover: false })
try {
  const result = await engine.audit()
  console.log(
    result.ok
      ? `engine.audit(): ok, ${result.events} events, head ${result.head}`
      : `engine.audit(): violation ${result.violation.kind} at ${result.violation.sequence}`,
  )
  if (!result.ok) failed = true
} finally {
  await engine.close()
}
if (failed) process.exitCode = 1
else console.log("ok: the log holds")
