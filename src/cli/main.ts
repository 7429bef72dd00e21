#!/usr/bin/env node
/**
 * The `corecashu` command. Subcommands grow with the engine; today: `decode` (inspect a token) and `version`.
 *
 * Output never includes proof secrets: `decode` prints amounts, keysets and mints only.
 */
import { readFileSync } from "node:fs"
import { decodeToken } from "../index.js"
import { isCorecashuError } from "../model/index.js"

const usage = `usage: corecashu <command>

commands:
  decode <token|->   decode a cashuA/cashuB token (or read it from stdin) and print its summary
  audit --data-dir DIR [--passphrase-file F] [--json]
                     replay an event log: check its hash chain and invariants
  version            print the version
`

const version = (): string => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string
  }
  return pkg.version
}

const decodeCommand = (arg: string | undefined): number => {
  const text = (arg === undefined || arg === "-" ? readFileSync(0, "utf8") : arg).trim()
  try {
    const token = decodeToken(text)
    const summary = {
      version: token.version,
      unit: token.unit ?? null,
      memo: token.memo ?? null,
      entries: token.entries.map((e) => ({
        mint: e.mint,
        proofs: e.proofs.length,
        amount: e.proofs.reduce((s, p) => s + p.amount, 0n).toString(),
        keysets: [...new Set(e.proofs.map((p) => p.id))],
      })),
    }
    console.log(JSON.stringify(summary, null, 2))
    return 0
  } catch (e) {
    if (isCorecashuError(e)) {
      console.error(`${e._tag}: ${e.message}`)
      return 1
    }
    throw e
  }
}

const main = (argv: ReadonlyArray<string>): number | Promise<number> => {
  const [command, ...rest] = argv
  switch (command) {
    case "decode":
      return decodeCommand(rest[0])
    case "audit":
      return import("./audit.js").then((m) => m.auditCommand(rest))
    case "version":
    case "--version":
      console.log(version())
      return 0
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(usage)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`unknown command: ${command}\n${usage}`)
      return 2
  }
}

process.exitCode = await main(process.argv.slice(2))
