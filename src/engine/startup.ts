/**
 * What `Engine.open` no longer does for every wallet before it returns (issue #15): per-wallet work is
 * deferred to the wallet's first use, or to a background sweep, so an engine hosting 10,000 wallets opens
 * as fast as one hosting ten.
 *
 * - **The seed** ({@link seedFromBackup}): a wallet's NUT-13 seed is derived (BIP-39 PBKDF2, ~1–2 ms) the
 *   first time an operation needs it, from the mnemonic the backup projection already holds in memory — no
 *   copy of the mnemonic is kept anywhere else — and wiped when the wallet closes (`WalletRuntime.close`).
 * - **Recovery of operations in doubt** ({@link deferRecovery}): only wallets whose operations projection
 *   shows operations in flight need a recovery pass (a pass over a wallet with none does nothing). Each of
 *   them gets a **gate**: its first call — whatever it is — first runs (or joins) the wallet's recovery pass
 *   and starts its own operation only after that pass ended, so no call acts on a wallet whose operations
 *   left in doubt by the last run were not yet put through recovery. A background sweep (fiber in the
 *   engine's scope, interrupted when it closes) runs the passes of the wallets nobody calls. A pass that dies
 *   (a defect) fails the call that waited for it, and the gate stays shut: the next call tries again.
 *
 * @module
 */
import { Effect, Fiber, type Scope } from "effect"
import { mnemonicToSeed } from "../crypto/nut13.js"
import { backupOf, backupProjection } from "../projections/backup.js"
import { operationsOf, operationsProjection } from "../projections/operations.js"
import type { ProjectionRunner } from "../projections/runner.js"
import { type RecoveryReport, recoverWallet } from "./recovery.js"
import type { WalletRuntime } from "./runtime.js"

/**
 * The seed of the wallet of `stream`, derived on demand from the mnemonic the backup projection holds (the
 * one place the engine keeps it in memory today). Throws when the projection has no mnemonic for the
 * stream: the engine hosts only wallets whose creation it folded, so this is a bug, never a fallback.
 */
export const seedFromBackup =
  (runner: ProjectionRunner, stream: string): (() => Uint8Array) =>
  () => {
    const mnemonic = backupOf(runner.state(backupProjection), stream)?.mnemonic
    if (mnemonic === undefined) throw new Error("the wallet's creation is not in the projections")
    return mnemonicToSeed(mnemonic)
  }

/** A wallet's pending recovery pass: not started yet, or the fiber running it. */
interface Gate {
  readonly scope: Scope.Scope
  running: Fiber.Fiber<RecoveryReport> | undefined
}

/** The wallets whose recovery pass has not ended yet (a wallet absent here has nothing pending). */
const gates = new WeakMap<WalletRuntime, Gate>()

/**
 * Runs the wallet's pending recovery pass, or joins the one running, and returns its report; `undefined`
 * when none is pending (immediately). The pass runs in its own fiber in the engine's scope: a caller that is
 * interrupted while it waits does not interrupt the pass, other callers keep waiting for it.
 */
export const settlePending = (rt: WalletRuntime): Effect.Effect<RecoveryReport | undefined> =>
  Effect.gen(function* () {
    const gate = gates.get(rt)
    if (gate === undefined) return undefined
    if (gate.running === undefined) {
      const pass = recoverWallet(rt).pipe(
        Effect.withSpan("wallet.recovery", { attributes: { walletId: rt.walletId } }),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            // Ended: the gate opens. Died or interrupted: it stays shut, the next call runs a new pass.
            if (exit._tag === "Success") gates.delete(rt)
            else gate.running = undefined
          }),
        ),
      )
      gate.running = yield* Effect.forkIn(pass, gate.scope)
    }
    return yield* Fiber.join(gate.running)
  })

/** Whether the wallet still has its recovery pass pending (tests, the sweep). */
export const hasPendingRecovery = (rt: WalletRuntime): boolean => gates.has(rt)

/**
 * Gates every wallet of `runtimes` with operations in flight (the operations projection's view now) and
 * forks the background sweep over them in `scope`. Returns at once: nothing is recovered before it returns.
 * Returns how many wallets were gated and the sweep's fiber (undefined when nothing is pending: no sweep).
 */
export const deferRecovery = (
  runner: ProjectionRunner,
  runtimes: ReadonlyArray<WalletRuntime>,
  scope: Scope.Scope,
  concurrency = 4,
): Effect.Effect<{ readonly gated: number; readonly sweep: Fiber.Fiber<void> | undefined }> =>
  Effect.gen(function* () {
    const ops = runner.state(operationsProjection)
    const pending = runtimes.filter((rt) => operationsOf(ops, rt.stream, { inFlight: true }).length > 0)
    for (const rt of pending) gates.set(rt, { scope, running: undefined })
    if (pending.length === 0) return { gated: 0, sweep: undefined }
    // Forked fibers start on the next tick: open returns before the first pass begins.
    const sweep = yield* Effect.forkIn(
      Effect.forEach(pending, (rt) => Effect.ignoreCause(settlePending(rt)), { concurrency, discard: true }),
      scope,
    )
    return { gated: pending.length, sweep }
  })
