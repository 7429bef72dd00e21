/**
 * The parent side of the crash tests. One in-process test mint per operation type lives in the test process and
 * is served on loopback (`serve`), so it survives the child's death. For every crash point k = 1, 2, … a fresh
 * wallet is prepared (in-process client), a child (`test/support/crash-child.ts`, real HTTP client) runs the
 * operation and dies at point k, then the SAME data directory is reopened here (real HTTP client too), recovery
 * runs, and the test checks the wallet against the mint. The enumeration ends with the first run that completes
 * without reaching its point.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process"
import { rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"
import { Engine } from "../../../src/engine/engine.js"
import { walletRuntime } from "../../../src/engine/internal.js"
import type { Wallet } from "../../../src/engine/wallet.js"
import { childBundle } from "../../support/child-bundle.js"
import type { ChildMessage, CrashOp, CrashSpec } from "../../support/crash-points.js"
import { directMintClient } from "../../support/direct-mint-client.js"
import { freshDir } from "../../support/engine.js"
import {
  createTestMint,
  type ServedMint,
  serve,
  type TestMint,
  type TestMintOptions,
} from "../../support/mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../../support/vault.js"

const CHILD_SOURCE = fileURLToPath(new URL("../../support/crash-child.ts", import.meta.url))
const PASSPHRASE = "test passphrase"

/** The crash child as one ESM bundle (`test/support/child-bundle.ts`: it starts ~8× faster than through tsx). */
export const crashChildBundle = (): Promise<string> => childBundle("crash-child", CHILD_SOURCE)

/** A served test mint shared by every crash point of one operation type. */
export interface CrashMint {
  readonly mint: TestMint
  readonly served: ServedMint
  readonly url: string
}

/** Starts a test mint on loopback. */
export const startCrashMint = async (options: TestMintOptions = {}): Promise<CrashMint> => {
  const mint = createTestMint({ baseUrl: "http://127.0.0.1", ...options })
  const served = await serve(mint)
  return { mint, served, url: served.url }
}

/** Opens an engine on `dataDir`: in-process client (setup, fast) or the real HTTP client (recovery). */
export const openAt = (dataDir: string, cm: CrashMint, client: "direct" | "http"): Promise<Engine> =>
  Engine.open({
    dataDir,
    passphrase: PASSPHRASE,
    vault: INSECURE_TEST_VAULT_OPTIONS,
    ...(client === "direct"
      ? { mintClient: directMintClient((u) => (u === cm.url ? cm.mint : undefined)) }
      : {}),
    options: { quotePollMs: 5 },
  })

/** Data directories made by {@link freshWallet}, removed when a suite ends. */
const madeDirs: string[] = []

/** A fresh data directory holding one wallet that trusts the mint. The engine is left open. */
export const freshWallet = async (
  cm: CrashMint,
  opts: { readonly mnemonic?: string } = {},
): Promise<{ dataDir: string; engine: Engine; wallet: Wallet }> => {
  const dataDir = freshDir("corecashu-crash-")
  madeDirs.push(dataDir)
  const engine = await openAt(dataDir, cm, "direct")
  const wallet = await engine.createWallet({
    walletId: "w",
    ...(opts.mnemonic !== undefined ? { mnemonic: opts.mnemonic } : {}),
  })
  await wallet.addMint(cm.url)
  return { dataDir, engine, wallet }
}

/** Mints `amount` into the wallet (quote auto-paid by the test mint). */
export const fund = async (cm: CrashMint, wallet: Wallet, amount: bigint): Promise<void> => {
  const q = await wallet.mintQuote({ mintUrl: cm.url, amount })
  const r = await wallet.mint(q.operationId)
  expect(r.amount).toBe(amount)
}

/** How a child run ended. */
export interface ChildRun {
  readonly crashed: boolean
  /** The child's report when it ran to the end. */
  readonly report: Extract<ChildMessage, { t: "done" | "failed" }> | undefined
  /** How many `request-lost` faults the child asked for. */
  readonly drops: number
}

/** Runs the crash child for `spec`, serving its fault requests on `cm.mint`. */
export const runChild = async (cm: CrashMint, spec: CrashSpec): Promise<ChildRun> => {
  const bundle = await crashChildBundle()
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [bundle], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, CRASH_SPEC: JSON.stringify(spec) },
    })
    let report: ChildRun["report"]
    let drops = 0
    let stderr = ""
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8")
    })
    child.on("message", (m: ChildMessage) => {
      if (m.t === "drop") {
        drops++
        cm.mint.faults.next({ path: m.path, method: m.method, kind: "drop-response" })
        child.send({ t: "ok" })
      } else report = m
    })
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve({ crashed: true, report, drops })
      else if (code === 0 && report !== undefined) resolve({ crashed: false, report, drops })
      else reject(new Error(`crash child exited with ${code ?? signal}: ${stderr.slice(-2000)}`))
    })
  })
}

/** Σ unspent + reserved + pending of the wallet at the mint: the value it holds or has in flight. */
export const held = (wallet: Wallet, mintUrl: string): bigint => {
  let sum = 0n
  for (const b of wallet.balances())
    if (b.mintUrl === mintUrl && b.unit === "sat") sum += b.unspent + b.reserved + b.pending
  return sum
}

/** Operations not yet completed or compensated. */
export const inFlight = (wallet: Wallet) =>
  wallet.history().filter((op) => op.status !== "completed" && op.status !== "compensated")

/**
 * Brings every operation of a recovered wallet to an end: recovery passes, and the claim of a mint quote or
 * the payment of a melt quote that was recorded before the crash (the caller asked for them).
 */
export const settle = async (wallet: Wallet): Promise<void> => {
  for (let pass = 0; pass < 4; pass++) {
    const open = inFlight(wallet)
    if (open.length === 0) return
    for (const op of open) {
      if (op.kind === "mint" && op.status === "started") await wallet.mint(op.operationId)
      else if (op.kind === "melt" && op.status === "started") await wallet.melt(op.operationId)
    }
    await wallet.recover()
  }
}

/**
 * The invariants every recovered wallet must show: nothing in flight, no proof reserved without an in-flight
 * owner, pending proofs only under a completed send, every unspent proof unspent at the mint too, and a clean
 * audit of the whole log.
 */
export const checkRecovered = async (engine: Engine, wallet: Wallet, mint: TestMint): Promise<void> => {
  expect(inFlight(wallet).map((op) => `${op.kind}:${op.status}:${op.lastRecovery ?? ""}`)).toEqual([])
  const view = walletRuntime(wallet).view()
  for (const p of view.proofs()) {
    // What the wallet calls spendable, the mint must too (a released input the mint consumed would pass the
    // value sums when its outputs are missing: this catches it).
    if (p.state === "unspent")
      expect(
        mint.isSpent(p.proof.Y) || mint.isPending(p.proof.Y),
        "an unspent proof is spent at the mint",
      ).toBe(false)
    if (p.state === "reserved") expect.fail("a proof is reserved after recovery with nothing in flight")
    if (p.state === "pending") {
      const owner = p.operationId === undefined ? undefined : view.operation(p.operationId)
      expect(owner?.kind).toBe("send")
      expect(owner?.status).toBe("completed")
    }
  }
  const audit = await engine.audit()
  expect(
    audit.ok,
    JSON.stringify(audit, (_, v) => (typeof v === "bigint" ? String(v) : v)),
  ).toBe(true)
}

/** One recovered crash point, handed to the operation's checks. */
export interface Recovered {
  readonly k: number
  readonly run: ChildRun
  readonly engine: Engine
  readonly wallet: Wallet
  readonly dataDir: string
}

/** What one operation type's crash suite prepares and checks. */
export interface CrashCase<S> {
  /** Prepares a fresh data directory (engine closed afterwards) and the child's operation. */
  readonly setup: (cm: CrashMint) => Promise<{ dataDir: string; op: CrashOp; state: S }>
  /**
   * Checks the recovered wallet against the mint (`base`: the mint's outstanding value before `setup`), then
   * runs a follow-up operation. The engine is closed by the harness.
   */
  readonly check: (cm: CrashMint, r: Recovered, base: bigint, state: S) => Promise<void>
  /**
   * Settles what recovery alone cannot (e.g. a melt whose payment is still pending at the mint), after the
   * recovery passes and before the checks.
   */
  readonly resolve?: (cm: CrashMint, wallet: Wallet) => Promise<void>
  /** The run without a crash must end like this (default: `done`). */
  readonly expectFinal?: (report: NonNullable<ChildRun["report"]>) => void
}

/** The result of a suite: the crash points the operation passes, in order. */
export interface CrashSuiteResult {
  readonly points: ReadonlyArray<string>
  readonly crashes: number
}

/** Enumerates every crash point of an operation (see the module comment). */
export const enumerateCrashPoints = async <S>(
  cm: CrashMint,
  c: CrashCase<S>,
  options: {
    /**
     * Crash the operation at this point first, then enumerate the crash points of the RECOVERY pass that
     * follows (a second child that opens the log and recovers): recovery itself must survive a crash.
     */
    readonly thenRecoverFrom?: number
    /** Start at this crash point (the earlier ones are covered by another suite). */
    readonly from?: number
    readonly maxPoints?: number
  } = {},
): Promise<CrashSuiteResult> => {
  const maxPoints = options.maxPoints ?? 60
  for (let k = options.from ?? 1; k <= maxPoints + 1; k++) {
    const base = cm.mint.stats().outstanding
    const setup = await c.setup(cm)
    const { dataDir, state } = setup
    let op = setup.op
    if (options.thenRecoverFrom !== undefined) {
      const first = { dataDir, walletId: "w", mintUrl: cm.url, op, crashAt: options.thenRecoverFrom }
      expect((await runChild(cm, first)).crashed).toBe(true)
      expect(cm.mint.faults.pending()).toBe(0)
      op = { kind: "recover" }
    }
    const run = await runChild(cm, { dataDir, walletId: "w", mintUrl: cm.url, op, crashAt: k })
    // A `request-lost` point asked for exactly one dropped response, and the mint dropped it.
    expect(cm.mint.faults.pending()).toBe(0)
    const engine = await openAt(dataDir, cm, "http")
    try {
      const wallet = engine.wallet("w")
      await settle(wallet)
      if (c.resolve !== undefined) await c.resolve(cm, wallet)
      await checkRecovered(engine, wallet, cm.mint)
      await c.check(cm, { k, run, engine, wallet, dataDir }, base, state)
    } catch (e) {
      const where = run.crashed ? `crash point ${k}` : `the run without a crash (${k - 1} points)`
      throw new Error(`${op.kind}: ${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
    } finally {
      await engine.close()
      for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    }
    if (!run.crashed) {
      const report = run.report!
      if (c.expectFinal !== undefined) c.expectFinal(report)
      else expect(report, JSON.stringify(report)).toMatchObject({ t: "done" })
      expect(report.points.length).toBe(k - 1)
      if (process.env.CRASH_VERBOSE !== undefined)
        console.log(`${op.kind}: ${k - 1} crash points: ${report.points.join(", ")}`)
      return { points: report.points, crashes: k - (options.from ?? 1) }
    }
  }
  throw new Error(`${maxPoints} crash points and the operation has not ended`)
}
