/**
 * The demos as their own processes, for `demo.test.ts` and `cluster-demo.test.ts`: run one the way its npm
 * script does (minus setup), and read what it printed.
 *
 * @module
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { wordlist } from "@scure/bip39/wordlists/english.js"

const root = fileURLToPath(new URL("../../", import.meta.url))

export interface DemoRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `node --import tsx <script> …args` from the repository with `env` added to the environment. After
 * `timeoutMs` it is sent `signal` (a demo stops what it started on SIGINT).
 */
export const runDemo = (
  script: string,
  args: ReadonlyArray<string> = [],
  env: Record<string, string> = {},
  { timeoutMs = 300_000, signal = "SIGKILL" }: { timeoutMs?: number; signal?: NodeJS.Signals } = {},
): Promise<DemoRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c
    })
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c
    })
    const timer = setTimeout(() => child.kill(signal), timeoutMs)
    child.once("error", reject)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

const words = new Set(wordlist)

/** True when `text` holds 12 consecutive BIP-39 words (a mnemonic), whatever separates them. */
export const holdsMnemonic = (text: string): boolean => {
  const tokens = text.toLowerCase().split(/[^a-z]+/)
  let run = 0
  for (const t of tokens) {
    run = words.has(t) ? run + 1 : 0
    if (run >= 12) return true
  }
  return false
}

/** A number the demo printed, as a bigint. */
export const num = (s: string | undefined): bigint => {
  if (s === undefined) throw new Error("the demo output lacks an expected number")
  return BigInt(s)
}
