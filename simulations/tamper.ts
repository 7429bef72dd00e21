/**
 * The tamper campaign: someone with write access to a data directory but without its passphrase changes
 * it, every way we know, and we count what the engine and the audit make of it.
 *
 * A realistic directory is written once (two wallets minting, sending and receiving through the engine
 * against the in-process mint, over two sessions, so LevelDB holds table files, a write-ahead log, a
 * manifest and sealed checkpoints), with a witness file of head attestations kept outside it. Each trial
 * copies it, applies one tampering, then:
 * - audits it in full (`auditDataDir`: passphrase and witness) and
 * - opens the engine on it (with the witness, recovery off: no mint) and reads every wallet's balances,
 *   proofs by state and history.
 *
 * A trial is **detected** when the audit does not pass or the engine refuses to open (with a typed error);
 * **harmless** when both pass and the engine shows exactly the state of the untouched directory; **missed**
 * when both pass and the state differs — the one outcome the product promises never happens. An untyped
 * throw anywhere is counted as **untyped** (a bug of its own).
 *
 * Kinds: byte flips, truncations and deletions of every kind of file (tables, log, manifest, CURRENT, the
 * info logs, checkpoints), record-level edits (a flipped record, a deleted record), forgeries re-chained
 * consistently without the key (drop, swap, re-time or cut batches, see `test/support/log-forgery.ts`),
 * a rewound commit marker, and index-block edits.
 *
 * Run: `npm run sim -- tamper --trials 2000 --seed 1`.
 *
 * @module
 */
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ClassicLevel } from "classic-level"
import { Cause, Effect, Exit } from "effect"
import { auditDataDir, CannotAudit } from "../src/cli/audit.js"
import type { Engine } from "../src/engine/engine.js"
import { HEAD_KEY, headValue, INDEX_END, INDEX_START } from "../src/infra/leveldb/keys.js"
import { decodeRecord } from "../src/infra/leveldb/record.js"
import { isCorecashuError } from "../src/model/index.js"
import { deleteRecord, getRecord, putRecord } from "../test/infra/fixtures/chunks.js"
import { fund, openTestEngine, testMint } from "../test/support/engine.js"
import { type ForgedLog, forgeLog } from "../test/support/log-forgery.js"
import type { TestMint } from "../test/support/mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../test/support/vault.js"
import { type Dice, dice } from "./support/prng.js"

const PASSPHRASE = "test passphrase"

/** How one trial ended. */
export type TamperOutcome = "detected" | "harmless" | "missed" | "untyped"

/** Counts per kind of tampering. */
export type TamperTally = Record<string, Record<TamperOutcome, number>>

/** What a campaign found; `missed` and `untyped` must be 0. */
export interface TamperReport {
  readonly trials: number
  readonly seed: number
  readonly byKind: TamperTally
  readonly missed: number
  readonly untyped: number
  /** The first few missed or untyped trials, to reproduce. */
  readonly examples: ReadonlyArray<{ readonly kind: string; readonly trial: number; readonly what: string }>
}

type RawDb = ClassicLevel<Uint8Array, Uint8Array>

const withRaw = async <A>(dir: string, f: (db: RawDb) => Promise<A>): Promise<A> => {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" })
  await db.open()
  try {
    return await f(db)
  } finally {
    await db.close()
  }
}

/** Every file of a directory, recursively, relative paths. */
const filesOf = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((n) => statSync(join(dir, n)).isFile())

/** The kind of a LevelDB (or engine) file, for the tally. */
const fileKind = (name: string): string => {
  if (name.startsWith("checkpoints")) return "checkpoint"
  if (name.endsWith(".ldb") || name.endsWith(".sst")) return "table"
  if (/^\d+\.log$/.test(name)) return "wal"
  if (name.startsWith("MANIFEST")) return "manifest"
  if (name === "CURRENT") return "current"
  if (name === "LOG" || name === "LOG.old") return "info-log"
  return "other"
}

/** One way to tamper: its kind and what it does to a copy (`dir`; the store is closed). */
interface Tampering {
  readonly kind: string
  readonly what: string
  readonly apply: (dir: string) => Promise<void>
}

/** Draws one tampering. */
const drawTampering = async (d: Dice, pristine: string, head: number): Promise<Tampering> => {
  const files = filesOf(pristine).filter((f) => f !== "LOCK")
  const family = d.pick(["flip", "flip", "truncate", "delete", "record", "forge", "forge", "marker", "index"])
  switch (family) {
    case "flip": {
      const file = d.pick(files)
      const size = statSync(join(pristine, file)).size
      const at = size === 0 ? 0 : d.int(0, size - 1)
      const bit = 1 << d.int(0, 7)
      return {
        kind: `flip:${fileKind(file)}`,
        what: `flip bit ${bit} at byte ${at} of ${file}`,
        apply: async (dir) => {
          const p = join(dir, file)
          const b = readFileSync(p)
          if (b.length === 0) return
          b[at]! ^= bit
          writeFileSync(p, b)
        },
      }
    }
    case "truncate": {
      const file = d.pick(files)
      const size = statSync(join(pristine, file)).size
      const to = size === 0 ? 0 : d.int(0, size - 1)
      return {
        kind: `truncate:${fileKind(file)}`,
        what: `truncate ${file} to ${to} of ${size} bytes`,
        apply: async (dir) => {
          const p = join(dir, file)
          writeFileSync(p, readFileSync(p).subarray(0, to))
        },
      }
    }
    case "delete": {
      const file = d.pick(files)
      return {
        kind: `delete:${fileKind(file)}`,
        what: `delete ${file}`,
        apply: async (dir) => unlinkSync(join(dir, file)),
      }
    }
    case "record": {
      const seq = d.int(1, head)
      if (d.random() < 0.5)
        return {
          kind: "record:delete",
          what: `delete record ${seq}`,
          apply: (dir) => withRaw(dir, (db) => deleteRecord(db, seq)),
        }
      const offset = d.int(0, 400)
      return {
        kind: "record:flip",
        what: `flip a byte of record ${seq} at ${offset} from its end`,
        apply: (dir) =>
          withRaw(dir, async (db) => {
            const v = await getRecord(db, seq)
            v[Math.max(0, v.length - 1 - offset)]! ^= 0x10
            await putRecord(db, seq, v)
          }),
      }
    }
    case "forge": {
      const edit = d.pick(["drop", "swap", "retime", "cut", "reorder-within"] as const)
      const a = d.random()
      const b = d.random()
      const pickIndex = (log: ForgedLog, r: number) => Math.min(log.length - 1, Math.floor(r * log.length))
      const edits: Record<typeof edit, (log: ForgedLog) => ForgedLog> = {
        drop: (log) => log.filter((_, i) => i !== pickIndex(log, a)),
        swap: (log) => {
          const i = pickIndex(log, a)
          const j = pickIndex(log, b)
          const out = [...log]
          out[i] = log[j]!
          out[j] = log[i]!
          return out
        },
        retime: (log) =>
          log.map((chunk, i) =>
            i === pickIndex(log, a)
              ? chunk.map((r) => ({
                  ...r,
                  fields: { ...r.fields, time: r.fields.time + 1 + Math.floor(b * 1e9) },
                }))
              : chunk,
          ),
        cut: (log) => log.slice(0, Math.max(1, pickIndex(log, a))),
        "reorder-within": (log) =>
          log.map((chunk, i) => (i === pickIndex(log, a) && chunk.length > 1 ? [...chunk].reverse() : chunk)),
      }
      return {
        kind: `forge:${edit}`,
        what: `consistent re-chained forgery: ${edit} (${a.toFixed(3)}, ${b.toFixed(3)})`,
        apply: (dir) => withRaw(dir, (db) => forgeLog(db, edits[edit])),
      }
    }
    case "marker": {
      const to = d.int(0, head - 1)
      return {
        kind: "marker:rewind",
        what: `rewind the commit marker to ${to}`,
        apply: (dir) =>
          withRaw(dir, async (db) => {
            if (to === 0) await db.del(HEAD_KEY)
            else await db.put(HEAD_KEY, headValue(to, decodeRecord(await getRecord(db, to))!.hash))
          }),
      }
    }
    default: {
      const pickBlock = d.random()
      const offset = d.int(0, 64)
      return {
        kind: "index:flip",
        what: `flip a byte of an index block (${pickBlock.toFixed(3)}, offset ${offset})`,
        apply: (dir) =>
          withRaw(dir, async (db) => {
            const blocks = await db.iterator({ gte: INDEX_START, lt: INDEX_END }).all()
            const [key, value] = blocks[Math.min(blocks.length - 1, Math.floor(pickBlock * blocks.length))]!
            const v = Buffer.from(value)
            v[offset % v.length]! ^= 0x01
            await db.put(key, v)
          }),
      }
    }
  }
}

/** What the engine shows of every wallet: the state a tampering must not change unseen. */
const stateOf = (engine: Engine): string =>
  JSON.stringify(
    engine.walletIds().map((id) => {
      const w = engine.wallet(id)
      return { id, balances: w.balances(), pending: w.pending(), history: w.history() }
    }),
    (_, v) => (typeof v === "bigint" ? `${v}n` : v),
  )

const typed = (e: unknown): boolean =>
  isCorecashuError(e) || e instanceof CannotAudit || isTaggedStoreError(e)

const isTaggedStoreError = (e: unknown): boolean =>
  typeof e === "object" &&
  e !== null &&
  ["StoreCorrupted", "StoreUnavailable", "StoreLocked", "VaultError", "EventCodecError"].includes(
    (e as { _tag?: string })._tag ?? "",
  )

/** Opens the engine on `dir`; its state, or the failure. */
const openState = async (
  dir: string,
  witness: string,
  mint: TestMint,
): Promise<{ state: string } | { failure: unknown }> => {
  const exit = await Effect.runPromiseExit(
    Effect.tryPromise({
      try: () => openTestEngine([mint], { dataDir: dir, witness, recover: false, create: false }),
      catch: (e) => e,
    }),
  )
  if (Exit.isFailure(exit)) {
    const e = Cause.findErrorOption(exit.cause)
    return { failure: e._tag === "Some" ? e.value : Cause.squash(exit.cause) }
  }
  const engine = exit.value
  try {
    return { state: stateOf(engine) }
  } finally {
    await engine.close()
  }
}

/** Writes the untouched directory: two sessions of real engine work. */
const writePristine = async (dir: string, witness: string, mint: TestMint): Promise<void> => {
  const one = await openTestEngine([mint], { dataDir: dir, witness })
  const alice = await one.createWallet({ walletId: "alice" })
  const bob = await one.createWallet({ walletId: "bob" })
  for (const w of [alice, bob]) await w.addMint(mint.baseUrl)
  await fund(alice, mint, 256n)
  await fund(bob, mint, 128n)
  const t1 = await alice.send({ mintUrl: mint.baseUrl, amount: 40n })
  await bob.receive(t1.token, { trustMint: true })
  await one.close()
  const two = await openTestEngine([mint], { dataDir: dir, witness })
  const a2 = two.wallet("alice")
  const b2 = two.wallet("bob")
  const t2 = await b2.send({ mintUrl: mint.baseUrl, amount: 10n })
  await a2.receive(t2.token, { trustMint: true })
  await fund(a2, mint, 64n)
  await a2.checkPending()
  await two.close()
}

/** Runs `trials` tamperings; `onTrial` sees each outcome as it happens. */
export const runTamperCampaign = async (opts: {
  readonly trials: number
  readonly seed: number
  readonly onTrial?: (i: number, kind: string, outcome: TamperOutcome, what: string) => void
}): Promise<TamperReport> => {
  const root = mkdtempSync(join(tmpdir(), "corecashu-tamper-"))
  try {
    const mint = testMint("tamper")
    const pristine = join(root, "pristine")
    const pristineWitness = join(root, "pristine.witness")
    await writePristine(pristine, pristineWitness, mint)
    // The reference state, read the same way every trial reads it (through a copy: opening attests anew).
    const refDir = join(root, "reference")
    cpSync(pristine, refDir, { recursive: true })
    cpSync(pristineWitness, join(root, "reference.witness"))
    const reference = await openState(refDir, join(root, "reference.witness"), mint)
    if (!("state" in reference)) throw new Error("the untouched directory does not open")
    // Read from the reference copy: opening LevelDB on the pristine directory would fold its write-ahead log
    // into a table and leave the campaign no log to tamper with.
    const head = await withRaw(refDir, async (db) => {
      const v = await db.get(HEAD_KEY)
      return v === undefined ? 0 : Number(Buffer.from(v).readBigUInt64BE(0))
    })

    const d = dice(opts.seed)
    const byKind: TamperTally = {}
    const examples: Array<{ kind: string; trial: number; what: string }> = []
    let missed = 0
    let untyped = 0
    for (let i = 0; i < opts.trials; i++) {
      const t = await drawTampering(d, pristine, head)
      const dir = join(root, `t${i}`)
      const witness = join(root, `t${i}.witness`)
      cpSync(pristine, dir, { recursive: true })
      cpSync(pristineWitness, witness)
      let outcome: TamperOutcome
      try {
        await t.apply(dir)
        const audited = await auditDataDir({
          dataDir: dir,
          passphrase: PASSPHRASE,
          witness,
          vault: INSECURE_TEST_VAULT_OPTIONS,
        }).then(
          (r) => ({ ok: r.result.ok }),
          (e: unknown) => ({ ok: false, error: e }),
        )
        const opened = await openState(dir, witness, mint)
        const auditUntyped = "error" in audited && !(audited.error instanceof CannotAudit)
        const openUntyped = "failure" in opened && !typed(opened.failure)
        if (auditUntyped || openUntyped) outcome = "untyped"
        else if (!audited.ok || "failure" in opened) outcome = "detected"
        else outcome = opened.state === reference.state ? "harmless" : "missed"
      } catch {
        outcome = "untyped"
      } finally {
        rmSync(dir, { recursive: true, force: true })
        rmSync(witness, { force: true })
      }
      if (byKind[t.kind] === undefined) byKind[t.kind] = { detected: 0, harmless: 0, missed: 0, untyped: 0 }
      const row = byKind[t.kind]!
      row[outcome]++
      if (outcome === "missed") missed++
      if (outcome === "untyped") untyped++
      if ((outcome === "missed" || outcome === "untyped") && examples.length < 10)
        examples.push({ kind: t.kind, trial: i, what: t.what })
      opts.onTrial?.(i, t.kind, outcome, t.what)
    }
    return { trials: opts.trials, seed: opts.seed, byKind, missed, untyped, examples }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

/** `npm run sim -- tamper [--trials N] [--seed S] [--verbose]`: exit 0 when nothing was missed. */
export const tamperMain = async (args: ReadonlyArray<string>): Promise<number> => {
  let trials = 200
  let seed = 1
  let verbose = false
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === "--trials") trials = Number(args[++i])
    else if (a === "--seed") seed = Number(args[++i])
    else if (a === "--verbose") verbose = true
    else {
      console.error(`unknown argument: ${a}`)
      return 2
    }
  }
  const report = await runTamperCampaign({
    trials,
    seed,
    ...(verbose
      ? { onTrial: (i, kind, outcome, what) => console.log(`${i} ${kind} ${outcome}: ${what}`) }
      : {}),
  })
  console.log(JSON.stringify(report))
  return report.missed === 0 && report.untyped === 0 ? 0 : 1
}
