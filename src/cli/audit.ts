/**
 * `corecashu audit --data-dir DIR [--passphrase-file F] [--witness W] [--json]`, or
 * `corecashu audit --nats URL[,URL…] [--stream S] [--subject-prefix P] [--passphrase-file F] [--json]` for a
 * log on NATS JetStream (issue #12; read only: no stream, bucket or message is created): replays the event
 * log of a data directory and checks its hash chain and, when the payloads can be opened, every invariant (see
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
import { openJetStreamEventStore } from "../infra/jetstream-store.js"
import { readJetStreamVaultMaterial } from "../infra/jetstream-vault.js"
import { VAULT_KEY } from "../infra/leveldb/keys.js"
import { closeDb, type DataDirState, inspectDataDir, openDb, readFailure } from "../infra/leveldb/open-db.js"
import { snapshotDataDir } from "../infra/leveldb/snapshot.js"
import { checkWriteAheadLogs } from "../infra/leveldb/wal-check.js"
import { openLevelDbEventStore } from "../infra/leveldb-store.js"
import { unlockVaultEffect, type VaultOptions } from "../infra/vault.js"
import { checkWitness, readWitness } from "../infra/witness.js"
import { StoreCorrupted, VaultError } from "../model/index.js"
import { type AuditResult, auditLog, payloadDecoder } from "../projections/audit.js"

const usage =
  "usage: corecashu audit --data-dir DIR [--passphrase-file FILE] [--witness FILE] [--json]\n" +
  "       corecashu audit --nats URL[,URL...] [--stream NAME] [--subject-prefix P] [--passphrase-file FILE] [--json]\n"

/** A log on JetStream: its servers, stream and subject prefix. */
interface JetStreamTarget {
  readonly servers: ReadonlyArray<string>
  readonly stream: string | undefined
  readonly subjectPrefix: string | undefined
}

interface Args {
  /** The data directory, or the JetStream log. */
  readonly target: { readonly dataDir: string } | { readonly jetstream: JetStreamTarget }
  readonly passphraseFile: string | undefined
  /** Head attestations kept outside the directory (`infra/witness.ts`): the log must still hold each. */
  readonly witness: string | undefined
  readonly json: boolean
}

const VALUED = ["--data-dir", "--passphrase-file", "--witness", "--nats", "--stream", "--subject-prefix"]

const parseArgs = (argv: ReadonlyArray<string>): Args | string => {
  const values = new Map<string, string>()
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === "--json") json = true
    else if (VALUED.includes(a)) {
      const v = argv[++i]
      if (v === undefined || v.startsWith("--")) return `${a} needs a value`
      values.set(a, v)
    } else return `unknown argument: ${a}`
  }
  const dataDir = values.get("--data-dir")
  const nats = values.get("--nats")
  const passphraseFile = values.get("--passphrase-file")
  const witness = values.get("--witness")
  if ((dataDir === undefined) === (nats === undefined)) return "give exactly one of --data-dir and --nats"
  if (nats !== undefined) {
    if (witness !== undefined) return "--witness is for a data directory"
    const servers = nats.split(",").filter((u) => u !== "")
    if (servers.length === 0 || servers.some((u) => !/^(nats|tls):\/\/[^\s/?#]+$/.test(u)))
      return "--nats takes nats://host:port URLs, comma separated"
    return {
      target: {
        jetstream: { servers, stream: values.get("--stream"), subjectPrefix: values.get("--subject-prefix") },
      },
      passphraseFile,
      witness: undefined,
      json,
    }
  }
  if (values.has("--stream") || values.has("--subject-prefix"))
    return "--stream and --subject-prefix go with --nats"
  return { target: { dataDir: dataDir! }, passphraseFile, witness, json }
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
    // Not mint input: the vault material record of the audited log, checked field by field below.
    // nosemgrep: json-parse-outside-protocol
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

/** What {@link auditJetStream} audits. */
export interface JetStreamAuditOptions {
  readonly servers: ReadonlyArray<string>
  readonly stream?: string
  readonly subjectPrefix?: string
  /** Opens the payloads: the full audit (chain, payloads, invariants). */
  readonly passphrase?: string
  readonly vault?: VaultOptions
}

/**
 * Audits a log on JetStream; rejects only with {@link CannotAudit}. Read only: the stream is opened without
 * creating it or following it, the vault material is read from its bucket without creating the bucket.
 */
export const auditJetStream = async (
  opts: JetStreamAuditOptions,
): Promise<{ result: AuditResult; note: string | undefined }> => {
  const where = {
    servers: opts.servers,
    ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
  }
  const material = await Effect.runPromise(
    readJetStreamVaultMaterial(where).pipe(Effect.mapError((e) => new CannotAudit(e.message))),
  ).catch((e: unknown) => {
    throw e instanceof CannotAudit ? e : new CannotAudit("the vault bucket cannot be read")
  })
  const { sealer, note, destroy } = await sealerFor(
    material === undefined ? undefined : JSON.stringify(material),
    opts.passphrase,
    opts.vault,
  )
  try {
    const program = Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openJetStreamEventStore({
          ...where,
          ...(opts.subjectPrefix !== undefined ? { subjectPrefix: opts.subjectPrefix } : {}),
          chainOnly: true,
          create: false,
          follow: false,
        })
        return yield* auditLog(store, sealer === undefined ? undefined : payloadDecoder(sealer))
      }),
    ).pipe(
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
    return { result: await Effect.runPromise(program), note }
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

/**
 * The `audit` command; resolves to the process exit code. `fallbackPassphrase` (the CLI passes
 * `CORECASHU_PASSPHRASE`) opens the payloads when no `--passphrase-file` is given.
 */
export const auditCommand = async (
  argv: ReadonlyArray<string>,
  fallbackPassphrase?: string,
): Promise<number> => {
  const args = parseArgs(argv)
  if (typeof args === "string") {
    process.stderr.write(`${args}\n${usage}`)
    return 2
  }
  try {
    let passphrase: string | undefined = fallbackPassphrase
    if (args.passphraseFile !== undefined) {
      try {
        passphrase = readFileSync(args.passphraseFile, "utf8").replace(/\r?\n$/, "")
      } catch {
        throw new CannotAudit("the passphrase file cannot be read")
      }
      if (passphrase.length === 0) throw new CannotAudit("the passphrase file is empty")
    }
    const { target } = args
    const { result, note } =
      "jetstream" in target
        ? await auditJetStream({
            servers: target.jetstream.servers,
            ...(target.jetstream.stream !== undefined ? { stream: target.jetstream.stream } : {}),
            ...(target.jetstream.subjectPrefix !== undefined
              ? { subjectPrefix: target.jetstream.subjectPrefix }
              : {}),
            ...(passphrase !== undefined ? { passphrase } : {}),
          })
        : await auditDataDir({
            dataDir: target.dataDir,
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
