import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { WalletEvent } from "../../src/events/catalogue.js"
import { HEAD_KEY, headValue } from "../../src/infra/leveldb/keys.js"
import { decodeRecord } from "../../src/infra/leveldb/record.js"
import { openLevelDbEventStore } from "../../src/infra/leveldb-store.js"
import { MIN_SCRYPT } from "../../src/infra/vault.js"
import { appendWitness, attestHead } from "../../src/infra/witness.js"
import { deleteRecord, getRecord, putRecord } from "../infra/fixtures/chunks.js"
import { withRaw } from "../infra/fixtures/leveldb-harness.js"
import { buildHistory } from "../projections/history.js"
import { forgeLog } from "../support/log-forgery.js"

const root = fileURLToPath(new URL("../../", import.meta.url))
const PASSPHRASE = "correct horse battery staple"
/** The cheapest scrypt cost the CLI accepts without a test-only flag (keeps each CLI run short). */
const CHEAPEST_SAFE = { scrypt: MIN_SCRYPT }
let base: string
let good: string
let passFile: string
let wrongFile: string
let head = 0

/** Runs `corecashu audit …` as the user would; returns its exit code and output. */
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "audit", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const json = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!)

/** A copy of the good log to damage. */
const copy = (name: string) => {
  const dir = join(base, name)
  cpSync(good, dir, { recursive: true })
  rmSync(join(dir, "LOCK"), { force: true })
  return dir
}

const writeLog = (dir: string, extra: WalletEvent[] = []) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const store = yield* openLevelDbEventStore({
          dataDir: dir,
          passphrase: PASSPHRASE,
          vault: CHEAPEST_SAFE,
        })
        const history = buildHistory([
          { wallet: 0, action: 1, a: 0, b: 1 },
          { wallet: 0, action: 2, a: 0, b: 0 },
          { wallet: 1, action: 1, a: 2, b: 2 },
          { wallet: 0, action: 3, a: 0, b: 1 },
          { wallet: 0, action: 1, a: 4, b: 1 },
        ])
        for (const a of history.appends) yield* store.append(a.streamId, "any", a.events)
        if (extra.length > 0)
          yield* store.append(
            "wallet/w0",
            "any",
            extra.map((event, i) => ({ eventId: `extra:${i}`, event })),
          )
        return { head: yield* store.head, history }
      }),
    ),
  )

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "corecashu-cli-audit-"))
  good = join(base, "good")
  head = (await writeLog(good)).head
  passFile = join(base, "pass")
  writeFileSync(passFile, `${PASSPHRASE}\n`)
  wrongFile = join(base, "wrong")
  writeFileSync(wrongFile, "not the passphrase\n")
}, 120_000)
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe("corecashu audit", () => {
  it("passes a good log, in full with the passphrase and chain-only without", () => {
    const withKey = cli("--data-dir", good, "--passphrase-file", passFile, "--json")
    expect(withKey.code).toBe(0)
    expect(json(withKey.stdout)).toMatchObject({ ok: true, scope: "full", events: head, head })
    const human = cli("--data-dir", good)
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/OK .*chain only/)
    expect(human.stdout).toMatch(/no --passphrase-file/)
  })

  it("detects a tampered stored event without the passphrase, naming its sequence", async () => {
    const dir = copy("tampered")
    const K = 7
    await withRaw(dir, async (db) => {
      const v = await getRecord(db, K)
      v[v.length - 40]! ^= 0x01 // inside the sealed payload, before the 32-byte hash
      await putRecord(db, K, v)
    })
    const noKey = cli("--data-dir", dir, "--json")
    expect(noKey.code).toBe(1)
    expect(json(noKey.stdout)).toMatchObject({
      ok: false,
      scope: "chain",
      violation: { sequence: K, kind: "chain" },
    })
    const withKey = cli("--data-dir", dir, "--passphrase-file", passFile, "--json")
    expect(withKey.code).toBe(1)
    expect(json(withKey.stdout).violation).toMatchObject({ sequence: K, kind: "chain" })
  })

  it("detects a removed event", async () => {
    const dir = copy("removed")
    await withRaw(dir, (db) => deleteRecord(db, 4))
    const r = cli("--data-dir", dir, "--json")
    expect(r.code).toBe(1)
    expect(json(r.stdout).violation).toMatchObject({ sequence: 4, kind: "chain" })
  })

  it("finds an invariant violation only with the passphrase", async () => {
    const dir = join(base, "double-spend")
    const { history } = await writeLog(dir)
    const spent = [...history.wallets.get("wallet/w0")!.proofs].find(([, p]) => p.state === "spent")![0]
    const forged = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const store = yield* openLevelDbEventStore({
            dataDir: dir,
            passphrase: PASSPHRASE,
            vault: CHEAPEST_SAFE,
          })
          const r = yield* store.append("wallet/w0", "any", [
            { eventId: "forged", event: { _tag: "ProofsSpent", ys: [spent] } },
          ])
          return r.firstSequence
        }),
      ),
    )
    const withKey = cli("--data-dir", dir, "--passphrase-file", passFile, "--json")
    expect(withKey.code).toBe(1)
    expect(json(withKey.stdout).violation).toMatchObject({ sequence: forged, kind: "double-spend" })
    const noKey = cli("--data-dir", dir)
    expect(noKey.code).toBe(0)
  })

  it("cannot run with a wrong passphrase, or without a log (exit 2)", () => {
    const wrong = cli("--data-dir", good, "--passphrase-file", wrongFile, "--json")
    expect(wrong.code).toBe(2)
    expect(json(wrong.stdout)).toEqual({ ok: false, error: "wrong passphrase" })
    expect(cli("--data-dir", join(base, "nothing-here")).code).toBe(2)
    expect(cli("--passphrase-file", passFile).code).toBe(2)
  })

  /** Every file of `dir` (recursively) with its bytes' hash: what "the audit never writes" compares. */
  const fingerprint = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {}
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      const path = join(dir, name)
      if (statSync(path).isFile()) out[name] = createHash("sha256").update(readFileSync(path)).digest("hex")
    }
    return out
  }

  it("never writes: a rewound commit marker is a violation on every run, and the directory is unchanged", async () => {
    const dir = copy("rewound")
    await withRaw(dir, async (db) => {
      const r = decodeRecord(await getRecord(db, 5))!
      await db.put(HEAD_KEY, headValue(5, r.hash))
    })
    const before = fingerprint(dir)
    for (let run = 0; run < 2; run++) {
      const r = cli("--data-dir", dir, "--passphrase-file", passFile, "--json")
      expect(r.code).toBe(1)
      expect(json(r.stdout)).toMatchObject({ ok: false, violation: { sequence: 6 } })
    }
    expect(fingerprint(dir)).toEqual(before)
    // The clean log is left as it was too (opening LevelDB in place would have rewritten its files).
    const good0 = fingerprint(good)
    expect(cli("--data-dir", good).code).toBe(0)
    expect(fingerprint(good)).toEqual(good0)
  })

  it("a directory whose CURRENT file is gone is a violation, not an empty log", () => {
    const dir = copy("no-current")
    rmSync(join(dir, "CURRENT"))
    const r = cli("--data-dir", dir, "--json")
    expect(r.code).toBe(1)
    expect(json(r.stdout).violation.message).toMatch(/CURRENT/)
  })

  it("a flipped byte in LevelDB's write-ahead log is a violation (LevelDB alone would drop the batch)", () => {
    const dir = copy("wal-flip")
    const log = readdirSync(dir)
      .filter((n) => /^\d+\.log$/.test(n))
      .sort()
      .at(-1)!
    const bytes = readFileSync(join(dir, log))
    bytes[bytes.length - 60]! ^= 0x04
    writeFileSync(join(dir, log), bytes)
    const r = cli("--data-dir", dir, "--json")
    expect(r.code).toBe(1)
    expect(json(r.stdout).violation.message).toMatch(/write-ahead log/)
  })

  it("a truncated table file is reported as damage, typed, never as an unexpected failure", async () => {
    const dir = copy("truncated-table")
    // Opening once turns LevelDB's log into a table file.
    await withRaw(dir, async () => undefined)
    const table = readdirSync(dir).find((n) => n.endsWith(".ldb"))!
    expect(table).toBeDefined()
    const bytes = readFileSync(join(dir, table))
    writeFileSync(join(dir, table), bytes.subarray(0, Math.floor(bytes.length / 2)))
    const r = cli("--data-dir", dir, "--json")
    expect(r.stdout + r.stderr).not.toMatch(/unexpected/)
    expect(r.code).toBe(1)
    expect(json(r.stdout)).toMatchObject({ ok: false, violation: { kind: "chain" } })
    // Named as the user knows it: the audited directory, not the audit's private snapshot.
    expect(json(r.stdout).violation.message).toContain(join(dir, table))
    expect(r.stdout).not.toMatch(/corecashu-snapshot-/)
  })

  it("--witness: a cut of the newest events passes on its own, and fails against the attested head", async () => {
    const dir = copy("cut")
    const witness = join(base, "cut.witness")
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const store = yield* openLevelDbEventStore({
            dataDir: dir,
            passphrase: PASSPHRASE,
            vault: CHEAPEST_SAFE,
          })
          yield* appendWitness(witness, yield* attestHead(store, 1_700_000_000_000, store.attester))
        }),
      ),
    )
    expect(cli("--data-dir", dir, "--passphrase-file", passFile, "--witness", witness).code).toBe(0)
    await withRaw(dir, (db) => forgeLog(db, (log) => log.slice(0, -1)))
    // Whole in itself: the chain, the payloads and the invariants all hold …
    expect(cli("--data-dir", dir, "--passphrase-file", passFile).code).toBe(0)
    // … but not what the witness saw.
    for (const extra of [[], ["--passphrase-file", passFile]]) {
      const r = cli("--data-dir", dir, "--witness", witness, "--json", ...extra)
      expect(r.code).toBe(1)
      expect(json(r.stdout).violation.message).toMatch(/witness attests/)
    }
  })
})
