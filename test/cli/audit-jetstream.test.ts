/**
 * `corecashu audit --nats …` on a log kept on NATS JetStream (issue #12), run as the user would, against a
 * real nats-server: the full audit with the passphrase, the chain alone without it, a wrong passphrase and
 * a missing stream refused (exit 2), and the audit writes nothing (the stream's messages and the server's
 * streams are the same after it).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { beforeAll, describe, expect, it } from "vitest"
import { Engine } from "../../src/engine/engine.js"
import { MIN_SCRYPT } from "../../src/infra/vault.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { freshDir, fund, testMint } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"

const root = fileURLToPath(new URL("../../", import.meta.url))
const PASSPHRASE = "correct horse battery staple"
const nats = natsClosedAfterAll()
let servers: string[] = []
let passFile = ""
let wrongFile = ""

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "audit", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const json = (out: string) => JSON.parse(out.trim().split("\n").at(-1)!)

/** The server's streams and their message counts (what an audit must leave as it found it). */
const serverState = async () => {
  const nc = await connect({ servers })
  try {
    const jsm = await jetstreamManager(nc)
    const out: Record<string, number> = {}
    for await (const s of jsm.streams.list()) out[s.config.name] = s.state.messages
    return out
  } finally {
    await nc.close()
  }
}

beforeAll(async () => {
  servers = [...(await nats()).servers]
  const dir = mkdtempSync(join(tmpdir(), "corecashu-audit-js-"))
  passFile = join(dir, "pass")
  wrongFile = join(dir, "wrong")
  writeFileSync(passFile, `${PASSPHRASE}\n`)
  writeFileSync(wrongFile, "not it\n")
  const mint = testMint("audit-js")
  const engine = await Engine.open({
    dataDir: freshDir(),
    passphrase: PASSPHRASE,
    vault: { scrypt: MIN_SCRYPT },
    mintClient: directMintClient(mint),
    options: { quotePollMs: 5 },
    store: { kind: "jetstream", servers, stream: "AUDITED", subjectPrefix: "audited" },
  })
  const a = await engine.createWallet({ walletId: "a" })
  const b = await engine.createWallet({ walletId: "b" })
  await a.addMint(mint.baseUrl)
  await b.addMint(mint.baseUrl)
  await fund(a, mint, 50n)
  const { token } = await a.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 7n })
  await b.receive(token)
  await engine.close()
}, 120_000)

describe("corecashu audit --nats", () => {
  const target = () => ["--nats", servers.join(","), "--stream", "AUDITED", "--subject-prefix", "audited"]

  it("audits the whole log with the passphrase, and writes nothing", async () => {
    const before = await serverState()
    const full = cli(...target(), "--passphrase-file", passFile, "--json")
    expect(full.code, full.stderr).toBe(0)
    expect(json(full.stdout)).toMatchObject({ ok: true, scope: "full" })
    expect(json(full.stdout).events).toBeGreaterThan(10)
    expect(await serverState()).toEqual(before)
  })

  it("checks the chain alone without it, and says so", () => {
    const chain = cli(...target(), "--json")
    expect(chain.code, chain.stderr).toBe(0)
    expect(json(chain.stdout)).toMatchObject({ ok: true, scope: "chain" })
    expect(json(chain.stdout).note).toContain("passphrase")
  })

  it("refuses a wrong passphrase, a missing stream and bad arguments (exit 2), with no secret in the output", () => {
    const wrong = cli(...target(), "--passphrase-file", wrongFile)
    expect(wrong.code).toBe(2)
    expect(wrong.stderr).toContain("wrong passphrase")
    const missing = cli("--nats", servers.join(","), "--stream", "NOPE", "--subject-prefix", "nope")
    expect(missing.code).toBe(2)
    expect(cli("--nats", "http://x:1").code).toBe(2)
    expect(cli("--nats", servers[0]!, "--data-dir", "/tmp").code).toBe(2)
    for (const r of [wrong, missing]) expect(`${r.stdout}${r.stderr}`).not.toContain(PASSPHRASE)
  })
})
