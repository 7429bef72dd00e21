import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore } from "../../src/engine/internal.js"
import { decodeAttestation, type HeadAttestation } from "../../src/events/attestation.js"
import { withRaw } from "../infra/fixtures/leveldb-harness.js"
import { freshDir, fund, openTestEngine, testMint } from "../support/engine.js"
import { forgeLog } from "../support/log-forgery.js"

const lines = (file: string): HeadAttestation[] =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => decodeAttestation(l) as HeadAttestation)

const openFailure = async (open: () => Promise<Engine>) => {
  const exit = await Effect.runPromiseExit(Effect.tryPromise({ try: open, catch: (e) => e }))
  if (Exit.isSuccess(exit)) {
    await exit.value.close()
    throw new Error("the engine opened")
  }
  const e = Cause.findErrorOption(exit.cause)
  return e._tag === "Some" ? e.value : undefined
}

describe("Engine: head attestations in a witness file", () => {
  it("attests the head on open and close, tagged by the vault's key", async () => {
    const mint = testMint("witness-a")
    const dir = freshDir()
    const witness = join(freshDir("corecashu-witness-"), "head.witness")
    const engine = await openTestEngine([mint], { dataDir: dir, witness })
    const w = await engine.createWallet({ walletId: "alice" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 64n)
    const manual = await engine.attestHead()
    await engine.close()
    const attested = lines(witness)
    expect(attested.length).toBe(3)
    expect(attested[0]!.sequence).toBe(0)
    expect(attested[1]).toEqual(manual)
    expect(attested[2]!.sequence).toBe(manual.sequence)
    for (const a of attested) expect(a.tag).toMatch(/^[0-9a-f]{64}$/)
  })

  it("detects a cut of the newest events that leaves a whole, shorter log (and nothing else could)", async () => {
    const mint = testMint("witness-b")
    const dir = freshDir()
    const witness = join(freshDir("corecashu-witness-"), "head.witness")
    const engine = await openTestEngine([mint], { dataDir: dir, witness })
    const w = await engine.createWallet({ walletId: "alice" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 64n)
    const before = await Effect.runPromise(engineStore(engine).head)
    await fund(w, mint, 32n)
    await engine.close()
    // The forger drops every batch of the second mint and re-chains (whole chunks: each is a sealed group),
    // and removes the checkpoints (which would tell too).
    await withRaw(dir, (db) =>
      forgeLog(db, (log) => log.filter((chunk) => chunk[chunk.length - 1]!.fields.sequence <= before)),
    )
    rmSync(join(dir, "checkpoints"), { recursive: true, force: true })
    // Without the anchor, the shorter log opens: that is the limit a witness exists for.
    const blind = await openTestEngine([mint], { dataDir: dir })
    expect(blind.wallet("alice").balance()).toBe(64n)
    await blind.close()
    rmSync(join(dir, "checkpoints"), { recursive: true, force: true })
    const failure = await openFailure(() => openTestEngine([mint], { dataDir: dir, witness }))
    expect(failure).toMatchObject({ _tag: "StoreCorrupted" })
    expect(String((failure as { message: string }).message)).toMatch(/witness/)
  })

  it("refuses a witness line this log's key did not make", async () => {
    const mint = testMint("witness-c")
    const dir = freshDir()
    const witness = join(freshDir("corecashu-witness-"), "head.witness")
    await (await openTestEngine([mint], { dataDir: dir, witness })).close()
    const [first] = lines(witness)
    writeFileSync(witness, `${JSON.stringify({ ...first, time: first!.time + 1 })}\n`)
    expect(await openFailure(() => openTestEngine([mint], { dataDir: dir, witness }))).toMatchObject({
      _tag: "StoreCorrupted",
    })
  })
})
