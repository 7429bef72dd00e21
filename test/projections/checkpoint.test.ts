import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { fileCheckpointStore } from "../../src/infra/checkpoint-file-store.js"
import { createVault } from "../../src/infra/vault.js"
import { StoreUnavailable } from "../../src/model/index.js"
import { backupProjection } from "../../src/projections/backup.js"
import { type Checkpoint, memoryCheckpointStore } from "../../src/projections/checkpoint.js"
import { type AnyProjection, foldEvents } from "../../src/projections/projection.js"
import { proofsProjection } from "../../src/projections/proofs.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"
import { buildHistory, mnemonicOf, recordHistory } from "./history.js"

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const vault = createVault({ passphrase: "checkpoints" }, INSECURE_TEST_VAULT_OPTIONS).vault
const dirs: string[] = []
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "corecashu-checkpoints-"))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const history = buildHistory([
  { wallet: 0, action: 1, a: 0, b: 1 },
  { wallet: 0, action: 2, a: 0, b: 0 },
  { wallet: 1, action: 1, a: 0, b: 2 },
])
const events = recordHistory(history)
const last = events.at(-1)!.envelope
const checkpointOf = (projection: AnyProjection): Checkpoint => ({
  projection: projection.name,
  version: projection.version,
  sequence: last.sequence,
  hash: last.hash,
  state: projection.serialize(foldEvents(projection, projection.initial, events)),
})

describe("file checkpoint store", () => {
  it("round-trips a checkpoint, sealed: no secret is readable in the files", async () => {
    const dir = freshDir()
    const store = fileCheckpointStore(dir, vault)
    const backup = checkpointOf(backupProjection)
    const proofs = checkpointOf(proofsProjection)
    await run(store.save(backup))
    await run(store.save(proofs))
    const loaded = await run(store.load("backup"))
    expect(loaded).toMatchObject({
      projection: "backup",
      version: 1,
      sequence: last.sequence,
      hash: last.hash,
    })
    expect(Buffer.from(loaded!.state).equals(Buffer.from(backup.state))).toBe(true)
    // The plaintext does hold the secrets; the files must not.
    const plain = Buffer.from(backup.state).toString() + Buffer.from(proofs.state).toString()
    const secrets = [mnemonicOf(0), mnemonicOf(1), "secret-2-", last.hash]
    for (const s of secrets.slice(0, 3)) expect(plain).toContain(s)
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f))
      for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false)
      expect(bytes.includes(Buffer.from("zebra"))).toBe(false)
    }
  })

  it("replaces the previous checkpoint and forgets on remove", async () => {
    const store = fileCheckpointStore(freshDir(), vault)
    const c = checkpointOf(backupProjection)
    await run(store.save({ ...c, sequence: 1 }))
    await run(store.save(c))
    expect((await run(store.load("backup")))?.sequence).toBe(last.sequence)
    await run(store.remove("backup"))
    expect(await run(store.load("backup"))).toBeUndefined()
    expect(await run(store.load("proofs"))).toBeUndefined()
  })

  it("drops a checkpoint it cannot trust: wrong key, flipped byte, file of another projection", async () => {
    const dir = freshDir()
    await run(fileCheckpointStore(dir, vault).save(checkpointOf(backupProjection)))
    const other = createVault({ passphrase: "another" }, INSECURE_TEST_VAULT_OPTIONS).vault
    expect(await run(fileCheckpointStore(dir, other).load("backup"))).toBeUndefined()

    const path = join(dir, "backup.checkpoint")
    const bytes = readFileSync(path)
    bytes[bytes.length - 5]! ^= 1
    writeFileSync(path, bytes)
    expect(await run(fileCheckpointStore(dir, vault).load("backup"))).toBeUndefined()

    await run(fileCheckpointStore(dir, vault).save(checkpointOf(backupProjection)))
    renameSync(path, join(dir, "counters.checkpoint"))
    expect(await run(fileCheckpointStore(dir, vault).load("counters"))).toBeUndefined()
  })

  it("refuses projection names that are not plain file names", async () => {
    const store = fileCheckpointStore(freshDir(), vault)
    const r = await run(Effect.result(store.load("../escape")))
    expect(r._tag === "Failure" && r.failure instanceof StoreUnavailable).toBe(true)
  })
})

describe("memory checkpoint store", () => {
  it("keeps a copy, not the caller's buffer", async () => {
    const store = memoryCheckpointStore()
    const c = checkpointOf(backupProjection)
    const state = Uint8Array.from(c.state)
    await run(store.save({ ...c, state }))
    state.fill(0)
    expect(Buffer.from((await run(store.load("backup")))!.state).equals(Buffer.from(c.state))).toBe(true)
  })
})
