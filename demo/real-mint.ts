/**
 * Starts a reference mint for the demo and the integration tests: nutshell (`scripts/mint.sh start`, the default)
 * or CDK's cdk-mintd (`scripts/cdk-mint.sh start`) — a fresh SQLite mint on 127.0.0.1 with a fake Lightning
 * backend, which pays every invoice it creates. The child dies with this process (PR_SET_PDEATHSIG: in
 * `scripts/nutshell_mint.py`, and through `setpriv` in `scripts/cdk-mint.sh`), so a crashed test run leaves no
 * mint behind.
 *
 * Outside `src`, so the published package does not ship it; the tests reach it through
 * `test/support/real-mint.ts`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The mint did not become ready: why, and the tail of its (redacted) stderr. */
export class MintStartFailure extends Error {
  readonly _tag = "MintStartFailure"
  constructor(
    /** E.g. `exited before it was ready (code 1, signal null)`. */
    readonly why: string,
    readonly stderrTail: string,
    /** The harness script that was started, e.g. `scripts/cdk-mint.sh`. */
    readonly script = "scripts/mint.sh",
  ) {
    super(`reference mint (${script} start) ${why}\n--- mint stderr (tail) ---\n${stderrTail}`)
  }
}

/** Which reference mint: nutshell 0.20.3 (Python) or cdk-mintd 0.18.3 (Rust, CDK). */
export type MintKind = "nutshell" | "cdk"

const SCRIPTS: Record<MintKind, string> = { nutshell: "scripts/mint.sh", cdk: "scripts/cdk-mint.sh" }
const scriptPath = (relative: string): string => fileURLToPath(new URL(`../${relative}`, import.meta.url))
const nutshellScript = scriptPath(SCRIPTS.nutshell)

/** First run installs the virtualenv (about a minute here), then the mint itself needs a few seconds. */
const DEFAULT_STARTUP_TIMEOUT_MS = 300_000
const STDERR_TAIL_LINES = 40

/** Options of {@link startRealMint}. */
export interface RealMintOptions {
  /** Which mint (default `nutshell`). `cdk` needs `bash scripts/cdk-mint.sh install` to have built cdk-mintd. */
  readonly kind?: MintKind
  /** `MINT_INPUT_FEE_PPK` (default 0 in both harnesses; nutshell's own default is 100). */
  readonly inputFeePpk?: number
  /** Extra settings passed as environment variables: nutshell's (`MINT_*`, `FAKEWALLET_*`, …) or the CDK
   * harness's (`CDK_MINT_*`, see `scripts/cdk-mint.sh`). */
  readonly env?: Record<string, string>
  /** How long to wait for `MINT_URL=` (default 300 s, which covers a first-time venv install). */
  readonly startupTimeoutMs?: number
}

/** A running reference mint. */
export interface RealMint {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  /** Stops the mint (SIGTERM, then SIGKILL after 10 s) and resolves once the process has exited. */
  stop(): Promise<void>
}

// Nutshell logs the settings it runs with; keep anything that looks like a key or secret out of test output.
const redact = (line: string): string =>
  line.replace(/((?:private_key|seed|secret|mnemonic|password|token)\S*\s*[=:]\s*)\S+/gi, "$1<redacted>")

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill("SIGTERM")
  })

/**
 * Spawns `scripts/mint.sh start` and resolves once it prints `MINT_URL=…` (the harness has by then seen
 * `/v1/info` answer and an active secp256k1 `sat` keyset). Rejects with the mint's stderr tail when it exits or
 * does not become ready in time.
 */
export const startRealMint = (opts: RealMintOptions = {}): Promise<RealMint> => {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env }
  if (opts.inputFeePpk !== undefined) env.MINT_INPUT_FEE_PPK = String(opts.inputFeePpk)
  const relative = SCRIPTS[opts.kind ?? "nutshell"]
  const child = spawn("bash", [scriptPath(relative), "start"], { env, stdio: ["ignore", "pipe", "pipe"] })
  const tail: string[] = []
  let stderrRest = ""
  child.stderr.setEncoding("utf8")
  child.stderr.on("data", (chunk: string) => {
    const lines = (stderrRest + chunk).split("\n")
    stderrRest = lines.pop() ?? ""
    for (const line of lines) {
      tail.push(redact(line))
      if (tail.length > STDERR_TAIL_LINES) tail.shift()
    }
  })
  const stderrTail = (): string => [...tail, redact(stderrRest)].filter((l) => l !== "").join("\n")

  return new Promise<RealMint>((resolve, reject) => {
    let settled = false
    let stdoutRest = ""
    const fail = (why: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void stopChild(child).then(() => reject(new MintStartFailure(why, stderrTail(), relative)))
    }
    const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS
    const timer = setTimeout(() => fail(`was not ready after ${Math.round(timeoutMs / 1000)} s`), timeoutMs)
    child.once("error", (e) => fail(`could not be spawned: ${e.message}`))
    child.once("exit", (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`))
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      const lines = (stdoutRest + chunk).split("\n")
      stdoutRest = lines.pop() ?? ""
      for (const line of lines) {
        const m = /^MINT_URL=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line.trim())
        if (m !== null && !settled) {
          settled = true
          clearTimeout(timer)
          const url = m[1]!
          resolve({ url, stop: () => stopChild(child) })
        }
      }
    })
  })
}

/**
 * A fresh, validly signed bolt11 invoice for `amountSat` from a payee no mint knows (`scripts/mint.sh invoice`).
 * The FakeWallet pays it for 1 sat out of a fee reserve of at least 2 sat, so a melt of it returns NUT-08
 * change. (An invoice of the same mint would be settled internally by nutshell, with no fee reserve.)
 */
export const externalInvoice = (amountSat: bigint): string => {
  const out = execFileSync("bash", [nutshellScript, "invoice", amountSat.toString()], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim()
  if (!/^lnbc[0-9a-z]+$/.test(out)) throw new Error("scripts/mint.sh invoice printed no bolt11 invoice")
  return out
}
