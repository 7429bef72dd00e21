/**
 * `corecashu audit --data-dir DIR [--passphrase-file F] [--json]`: replays the event log of a data
 * directory and checks its hash chain and, when the payloads can be opened, every invariant (see
 * `../projections/audit.ts`).
 *
 * Exit codes: 0 everything holds; 1 a violation was found (the first one is reported, with its sequence);
 * 2 the audit could not run (usage, no log in DIR, directory in use, wrong passphrase, I/O failure).
 *
 * Without `--passphrase-file` an encrypted log is checked for its chain only, and the output says so; an
 * unencrypted log is always audited in full. The passphrase file holds the passphrase; one trailing newline
 * is ignored. Output never contains payload contents: violations name sequences, kinds, streams and keysets.
 *
 * How payloads are opened: the vault material is read from the directory and unlocked here, and the store is
 * opened without its key (`chainOnly`), so the audit decodes every chain-checked event itself and can name
 * the exact sequence of one that does not open.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { ClassicLevel } from "classic-level"
import { Effect, References } from "effect"
import { StoreCorrupted, VaultError } from "../events/errors.js"
import { identitySealer, type PayloadSealer } from "../events/sealer.js"
import { VAULT_KEY } from "../infra/leveldb/keys.js"
import { openLevelDbEventStore } from "../infra/leveldb-store.js"
import { unlockVaultEffect } from "../infra/vault.js"
import { type AuditResult, auditLog, payloadDecoder } from "../projections/audit.js"

const usage = "usage: corecashu audit --data-dir DIR [--passphrase-file FILE] [--json]\n"

interface Args {
  readonly dataDir: string
  readonly passphraseFile: string | undefined
  readonly json: boolean
}

const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  let dataDir: string | undefined
  let passphraseFile: string | undefined
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--json") json = true
    else if (a === "--data-dir" || a === "--passphrase-file") {
      const v = argv[++i]
      if (v === undefined || v.startsWith("--")) return `${a} needs a value`
      if (a === "--data-dir") dataDir = v
      else passphraseFile = v
    } else return `unknown argument: ${a}`
  }
  if (dataDir === undefined) return "--data-dir is required"
  return { dataDir, passphraseFile, json }
}

/** Why the audit could not run (exit code 2). */
class CannotAudit {
  constructor(readonly message: string) {}
}

/** The vault record of the directory: `none`, `external`, or the material JSON (read before the store opens). */
const readVaultRecord = async (dataDir: string): Promise<string | undefined> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, {
    keyEncoding: "view",
    valueEncoding: "view",
    createIfMissing: false,
  })
  try {
    await db.open()
  } catch (e) {
    const codes = [(e as { code?: string }).code, (e as { cause?: { code?: string } }).cause?.code]
    throw new CannotAudit(
      codes.includes("LEVEL_LOCKED")
        ? "the data directory is open in another process"
        : "the data directory cannot be opened",
    )
  }
  try {
    const v = await db.get(VAULT_KEY)
    return v === undefined ? undefined : Buffer.from(v).toString("utf8")
  } finally {
    await db.close()
  }
}

/** The sealer that opens this directory's payloads, or undefined when they cannot be opened. */
const sealerFor = async (
  record: string | undefined,
  passphrase: string | undefined,
): Promise<{ sealer: PayloadSealer | undefined; note?: string; destroy?: () => void }> => {
  if (record === undefined) return { sealer: undefined, note: "the log has no vault record yet" }
  if (record === "none") return { sealer: identitySealer, note: "the log is not encrypted" }
  if (record === "external")
    return {
      sealer: undefined,
      note: "payloads are sealed by the host application; only the chain was checked",
    }
  if (passphrase === undefined)
    return {
      sealer: undefined,
      note: "no --passphrase-file: only the chain was checked, not the payload invariants",
    }
  let material: unknown
  try {
    material = JSON.parse(record)
  } catch {
    throw new CannotAudit("the vault material in the data directory is unreadable")
  }
  const vault = await Effect.runPromise(
    unlockVaultEffect(material, { passphrase }).pipe(
      Effect.mapError((e) =>
        e.reason === "wrong-key"
          ? new CannotAudit("wrong passphrase")
          : new CannotAudit(`vault: ${e.message}`),
      ),
    ),
  ).catch((e: unknown) => {
    throw e instanceof CannotAudit ? e : new CannotAudit("the vault cannot be unlocked")
  })
  return { sealer: vault, destroy: () => vault.destroy() }
}

/** Runs the audit; returns the result, plus what open recovered when it removed a torn tail. */
const run = async (
  args: Args,
): Promise<{ result: AuditResult; note: string | undefined; recovered: unknown }> => {
  if (!existsSync(join(args.dataDir, "CURRENT"))) throw new CannotAudit(`no event log in ${args.dataDir}`)
  let passphrase: string | undefined
  if (args.passphraseFile !== undefined) {
    try {
      passphrase = readFileSync(args.passphraseFile, "utf8").replace(/\r?\n$/, "")
    } catch {
      throw new CannotAudit("the passphrase file cannot be read")
    }
    if (passphrase.length === 0) throw new CannotAudit("the passphrase file is empty")
  }
  const { sealer, note, destroy } = await sealerFor(await readVaultRecord(args.dataDir), passphrase)
  try {
    const program = Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({ dataDir: args.dataDir, chainOnly: true, tailCheck: 0 })
        const result = yield* auditLog(store, sealer === undefined ? undefined : payloadDecoder(sealer))
        return { result, recovered: store.opened.recovered }
      }),
    ).pipe(
      // Open found the log damaged before the audit could start: that is the audit's finding.
      Effect.catchIf(
        (e): e is StoreCorrupted => e instanceof StoreCorrupted,
        (e) =>
          Effect.succeed({
            result: {
              ok: false,
              scope: sealer === undefined ? "chain" : "full",
              events: 0,
              head: 0,
              violation: { sequence: e.firstBadSequence, kind: "chain", message: e.message },
            } satisfies AuditResult,
            recovered: undefined,
          }),
      ),
      Effect.mapError((e) =>
        e instanceof VaultError ? new CannotAudit(`vault: ${e.message}`) : new CannotAudit(e.message),
      ),
      // Warnings (a torn tail removed at open) are reported below, not logged over the output.
      Effect.provideService(References.MinimumLogLevel, "None"),
    )
    const out = await Effect.runPromise(program)
    return { ...out, note }
  } finally {
    destroy?.()
  }
}

const describeResult = (r: AuditResult, note: string | undefined): string => {
  const what = r.scope === "full" ? "chain, payloads and invariants" : "chain only"
  const lines = r.ok
    ? [`audit: OK — ${r.events} events checked (${what}), head ${r.head}`]
    : [
        `audit: FAILED at sequence ${r.violation.sequence} [${r.violation.kind}]: ${r.violation.message}`,
        `(${r.events} events checked before it, ${what})`,
      ]
  if (note !== undefined) lines.push(`note: ${note}`)
  return `${lines.join("\n")}\n`
}

/** The `audit` command; resolves to the process exit code. */
export const auditCommand = async (argv: ReadonlyArray<string>): Promise<number> => {
  const args = parseArgs(argv)
  if (typeof args === "string") {
    process.stderr.write(`${args}\n${usage}`)
    return 2
  }
  try {
    const { result, note, recovered } = await run(args)
    if (args.json)
      process.stdout.write(
        `${JSON.stringify({ ...result, ...(note === undefined ? {} : { note }), ...(recovered === undefined ? {} : { recovered }) })}\n`,
      )
    else {
      process.stdout.write(describeResult(result, note))
      if (recovered !== undefined)
        process.stdout.write(`note: open removed a torn tail (${JSON.stringify(recovered)})\n`)
    }
    return result.ok ? 0 : 1
  } catch (e) {
    const message = e instanceof CannotAudit ? e.message : "unexpected failure"
    if (args.json) process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`)
    else process.stderr.write(`audit: cannot run: ${message}\n`)
    if (!(e instanceof CannotAudit)) process.stderr.write(`${e instanceof Error ? e.name : "error"}\n`)
    return 2
  }
}
