/**
 * `corecashu audit --data-dir DIR [--passphrase-file F] [--witness W] [--json]`: replays the event log of a
 * data directory and checks its hash chain and, when the payloads can be opened, every invariant (see
 * `../projections/audit.ts`); with a witness file of head attestations (`../infra/witness.ts`), also that the
 * log still holds every attested event (a cut of the newest events is otherwise undetectable).
 *
 * The audit never writes to DIR: LevelDB's write-ahead logs are checked in place, read only, and the log is
 * opened from a private snapshot (`../infra/leveldb/snapshot.ts`), because opening LevelDB rewrites files.
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
import { readFileSync } from "node:fs"
import { Cause, Data, Effect, References } from "effect"
import type { Attester } from "../events/attestation.js"
import { identitySealer, type PayloadSealer } from "../events/sealer.js"
import { VAULT_KEY } from "../infra/leveldb/keys.js"
import { closeDb, type DataDirState, inspectDataDir, openDb, readFailure } from "../infra/leveldb/open-db.js"
import { snapshotDataDir } from "../infra/leveldb/snapshot.js"
import { checkWriteAheadLogs } from "../infra/leveldb/wal-check.js"
import { openLevelDbEventStore } from "../infra/leveldb-store.js"
import { unlockVaultEffect, type VaultOptions } from "../infra/vault.js"
import { checkWitness, readWitness } from "../infra/witness.js"
import { StoreCorrupted, VaultError } from "../model/index.js"
import { type AuditResult, auditLog, payloadDecoder } from "../projections/audit.js"

const usage = "usage: corecashu audit --data-dir DIR [--passphrase-file FILE] [--witness FILE] [--json]\n"

interface Args {
  readonly dataDir: string
  readonly passphraseFile: string | undefined
  /** Head attestations kept outside the directory (`infra/witness.ts`): the log must still hold each. */
  readonly witness: string | undefined
  readonly json: boolean
}

const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  let dataDir: string | undefined
  let passphraseFile: string | undefined
  let witness: string | undefined
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--json") json = true
    else if (a === "--data-dir" || a === "--passphrase-file" || a === "--witness") {
      const v = argv[++i]
      if (v === undefined || v.startsWith("--")) return `${a} needs a value`
      if (a === "--data-dir") dataDir = v
      else if (a === "--witness") witness = v
      else passphraseFile = v
    } else return `unknown argument: ${a}`
  }
  if (dataDir === undefined) return "--data-dir is required"
  return { dataDir, passphraseFile, witness, json }
}

/** Why the audit could not run (exit code 2): no log, a wrong passphrase, unreadable files. */
export class CannotAudit extends Data.TaggedError("CannotAudit")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

/** The vault record of the (snapshot) directory: `none`, `external`, or the material JSON. */
const readVaultRecord = async (dir: string): Promise<string | undefined> => {
  const exit = await Effect.runPromiseExit(openDb(dir, { create: false }))
  if (exit._tag === "Failure") {
    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "Some" && error.value instanceof StoreCorrupted) throw error.value
    throw new CannotAudit("the data directory cannot be opened")
  }
  const db = exit.value
  try {
    const v = await db.get(VAULT_KEY).catch((e: unknown) => {
      throw readFailure("reading the store header")(e)
    })
    return v === undefined ? undefined : Buffer.from(v).toString("utf8")
  } catch (e) {
    if (e instanceof StoreCorrupted) throw e
    throw new CannotAudit("the data directory cannot be read")
  } finally {
    await closeDb(db)
  }
}

/** The sealer that opens this directory's payloads, or undefined when they cannot be opened. */
const sealerFor = async (
  record: string | undefined,
  passphrase: string | undefined,
  options?: VaultOptions,
): Promise<{
  sealer: PayloadSealer | undefined
  attester?: Attester
  note?: string
  destroy?: () => void
}> => {
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
    unlockVaultEffect(material, { passphrase }, options).pipe(
      Effect.mapError((e) =>
        e.reason === "wrong-key"
          ? new CannotAudit("wrong passphrase")
          : new CannotAudit(`vault: ${e.message}`),
      ),
    ),
  ).catch((e: unknown) => {
    throw e instanceof CannotAudit ? e : new CannotAudit("the vault cannot be unlocked")
  })
  return {
    sealer: vault,
    attester: { keyId: vault.keyId, authenticate: vault.authenticate },
    destroy: () => vault.destroy(),
  }
}

/** A finding made before the log could be replayed (the directory or LevelDB's own files are damaged). */
const damaged = (sequence: number, message: string, scope: AuditResult["scope"]): AuditResult => ({
  ok: false,
  scope,
  events: 0,
  head: 0,
  violation: { sequence, kind: "chain", message },
})

/** A finding as the user knows the files: LevelDB names the snapshot's copies, the user audited `dataDir`. */
const inPlaceOf = (r: AuditResult, snapshotDir: string, dataDir: string): AuditResult =>
  r.ok
    ? r
    : { ...r, violation: { ...r.violation, message: r.violation.message.split(snapshotDir).join(dataDir) } }

/** What {@link auditDataDir} audits. */
export interface AuditOptions {
  readonly dataDir: string
  /** Opens the payloads: the full audit (chain, payloads, invariants, attestation tags). */
  readonly passphrase?: string
  /** A witness file of head attestations the log must still hold. */
  readonly witness?: string
  /** Vault options (tests: the weak KDF their logs were written with). */
  readonly vault?: VaultOptions
}

/**
 * Audits a data directory; rejects only with {@link CannotAudit}. It never writes to the data directory: LevelDB's write-ahead logs are checked in place
 * (read only), and the log is opened from a private snapshot (`snapshot.ts`), because opening LevelDB writes.
 */
export const auditDataDir = async (
  opts: AuditOptions,
): Promise<{ result: AuditResult; note: string | undefined }> => {
  const { passphrase } = opts
  const scope = passphrase === undefined ? "chain" : "full"
  let state: DataDirState
  try {
    state = await inspectDataDir(opts.dataDir)
  } catch {
    throw new CannotAudit("the data directory cannot be read")
  }
  if (state === "missing" || state === "empty") throw new CannotAudit(`no event log in ${opts.dataDir}`)
  if (state === "foreign")
    return {
      result: damaged(
        0,
        "the directory holds LevelDB files but no CURRENT file: the log cannot be found",
        scope,
      ),
      note: undefined,
    }
  const wal = await checkWriteAheadLogs(opts.dataDir).catch(() => {
    throw new CannotAudit("LevelDB's write-ahead log cannot be read")
  })
  if (wal !== undefined)
    return {
      result: damaged(
        0,
        `LevelDB's write-ahead log ${wal.file} is damaged at byte ${wal.offset} (${wal.what}); ` +
          "acknowledged batches may be lost",
        scope,
      ),
      note: undefined,
    }
  const snapshot = await snapshotDataDir(opts.dataDir).catch(() => {
    throw new CannotAudit("the data directory cannot be copied for the audit")
  })
  try {
    let record: string | undefined
    try {
      record = await readVaultRecord(snapshot.dir)
    } catch (e) {
      if (e instanceof StoreCorrupted)
        return {
          result: inPlaceOf(damaged(e.firstBadSequence, e.message, scope), snapshot.dir, opts.dataDir),
          note: undefined,
        }
      throw e
    }
    const { sealer, attester, note, destroy } = await sealerFor(record, passphrase, opts.vault)
    try {
      const program = Effect.scoped(
        Effect.gen(function* () {
          const store = yield* openLevelDbEventStore({
            dataDir: snapshot.dir,
            chainOnly: true,
            tailCheck: 0,
            create: false,
          })
          const result = yield* auditLog(store, sealer === undefined ? undefined : payloadDecoder(sealer))
          if (!result.ok || opts.witness === undefined) return result
          // Every attestation must still hold: the sequence and hash in any case, the tag with the key.
          yield* checkWitness(store, yield* readWitness(opts.witness), attester, "all")
          return result
        }),
      ).pipe(
        // Open found the log damaged before the audit could start: that is the audit's finding.
        Effect.catchIf(
          (e): e is StoreCorrupted => e instanceof StoreCorrupted,
          (e) =>
            Effect.succeed(damaged(e.firstBadSequence, e.message, sealer === undefined ? "chain" : "full")),
        ),
        Effect.mapError((e) =>
          e instanceof VaultError ? new CannotAudit(`vault: ${e.message}`) : new CannotAudit(e.message),
        ),
        Effect.provideService(References.MinimumLogLevel, "None"),
      )
      const result = await Effect.runPromise(program)
      return { result: inPlaceOf(result, snapshot.dir, opts.dataDir), note }
    } finally {
      destroy?.()
    }
  } finally {
    await snapshot.remove()
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
    let passphrase: string | undefined
    if (args.passphraseFile !== undefined) {
      try {
        passphrase = readFileSync(args.passphraseFile, "utf8").replace(/\r?\n$/, "")
      } catch {
        throw new CannotAudit("the passphrase file cannot be read")
      }
      if (passphrase.length === 0) throw new CannotAudit("the passphrase file is empty")
    }
    const { result, note } = await auditDataDir({
      dataDir: args.dataDir,
      ...(passphrase !== undefined ? { passphrase } : {}),
      ...(args.witness !== undefined ? { witness: args.witness } : {}),
    })
    if (args.json)
      process.stdout.write(`${JSON.stringify({ ...result, ...(note === undefined ? {} : { note }) })}\n`)
    else process.stdout.write(describeResult(result, note))
    return result.ok ? 0 : 1
  } catch (e) {
    const message = e instanceof CannotAudit ? e.message : "unexpected failure"
    if (args.json) process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`)
    else process.stderr.write(`audit: cannot run: ${message}\n`)
    if (!(e instanceof CannotAudit)) process.stderr.write(`${e instanceof Error ? e.name : "error"}\n`)
    return 2
  }
}
