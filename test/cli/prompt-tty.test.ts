/**
 * The passphrase prompt on a real terminal: the built binary runs in a tmux pseudo-terminal (its own tmux
 * server on a private socket), the test types through `send-keys` and reads the screen with `capture-pane`.
 * The passphrase must never appear on the screen (no echo, no asterisks), creating a data directory asks for
 * it twice, a wrong one fails with exit 3, and an invoice on a terminal is drawn as a QR code.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createTestMint, type ServedMint, serve } from "../support/mint/index.js"
import { buildCli } from "./built-cli.js"

const PASSPHRASE = "tty-secret-passphrase-42"
const socket = `corecashu-cli-test-${process.pid}`
let main: string
let base: string
let served: ServedMint

const tmux = (...args: string[]): string =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls the pane until `pattern` shows (the binary's start-up takes a moment); returns the screen. */
const waitFor = async (session: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  let screen = ""
  while (Date.now() < deadline) {
    screen = tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", session)
    if (pattern.test(screen)) return screen
    await sleep(200)
  }
  throw new Error(`the pane never showed ${pattern}:\n${screen}`)
}

/** Starts `args` of the binary in a new detached session; the shell prints EXIT=<code> when it ends. */
const start = (session: string, args: string[], env: string[] = []) => {
  const cmd = [
    "env",
    "-u",
    "CORECASHU_PASSPHRASE",
    "-u",
    "CORECASHU_PASSPHRASE_FILE",
    ...env,
    process.execPath,
    main,
    ...args,
  ]
  const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")
  tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "60", `${quoted}; echo EXIT=$?; sleep 600`)
}

beforeAll(async () => {
  main = buildCli("prompt-tty")
  base = mkdtempSync(join(tmpdir(), "corecashu-cli-tty-"))
  served = await serve(createTestMint({ baseUrl: "http://127.0.0.1" }))
}, 120_000)
afterAll(async () => {
  try {
    tmux("kill-server")
  } catch {
    // no server left
  }
  await served?.close()
  rmSync(base, { recursive: true, force: true })
})

describe("corecashu on a terminal (tmux)", () => {
  it("asks for the passphrase without echo, twice when it creates the data dir; refuses a wrong one", async () => {
    const dir = join(base, "data")
    start("create", ["--data-dir", dir, "wallets", "create"])
    await waitFor("create", /New passphrase for the data directory:/)
    tmux("send-keys", "-t", "create", "-l", PASSPHRASE)
    tmux("send-keys", "-t", "create", "Enter")
    await waitFor("create", /Repeat the passphrase:/)
    tmux("send-keys", "-t", "create", "-l", PASSPHRASE)
    tmux("send-keys", "-t", "create", "Enter")
    const created = await waitFor("create", /EXIT=\d+/)
    expect(created).toContain("created the wallet default")
    expect(created).toContain("EXIT=0")
    expect(created).not.toContain(PASSPHRASE)
    expect(created).not.toContain("*****")

    start("wrong", ["--data-dir", dir, "balance"])
    await waitFor("wrong", /Passphrase:/)
    tmux("send-keys", "-t", "wrong", "-l", "not-the-passphrase")
    tmux("send-keys", "-t", "wrong", "Enter")
    const wrong = await waitFor("wrong", /EXIT=\d+/)
    expect(wrong).toContain("EXIT=3")
    expect(wrong).toContain("wrong passphrase")
    expect(wrong).not.toContain("not-the-passphrase")

    start("right", ["--data-dir", dir, "balance"])
    await waitFor("right", /Passphrase:/)
    tmux("send-keys", "-t", "right", "-l", PASSPHRASE)
    tmux("send-keys", "-t", "right", "Enter")
    const right = await waitFor("right", /EXIT=\d+/)
    expect(right).toContain("EXIT=0")
    expect(right).toMatch(/^0 sat$/m)
    expect(right).not.toContain(PASSPHRASE)
  })

  it("draws an invoice as a QR code on a terminal, and none with --json", async () => {
    const dir = join(base, "qr")
    const env = [`CORECASHU_DATA_DIR=${dir}`, `CORECASHU_MINT=${served.url}`]
    start("qr", ["invoice", "21", "--no-wait"], [...env.map((e) => e), `CORECASHU_PASSPHRASE=${PASSPHRASE}`])
    const screen = await waitFor("qr", /EXIT=\d+/)
    expect(screen).toContain("EXIT=0")
    expect(screen).toMatch(/lnbcrt\w+/)
    expect(screen).toMatch(/[▀▄█]{5,}/)
    start("json", ["--json", "invoice", "21", "--no-wait"], [...env, `CORECASHU_PASSPHRASE=${PASSPHRASE}`])
    const json = await waitFor("json", /EXIT=\d+/)
    expect(json).toContain("EXIT=0")
    expect(json).not.toMatch(/[▀▄█]{5,}/)
  })
})
