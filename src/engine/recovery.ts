/**
 * Recovery of a wallet's in-flight operations (on open, and on demand). STUB: being implemented; for now it
 * settles swap-like and mint operations.
 *
 * @module
 */
import { Effect } from "effect"
import { operationsOf, operationsProjection } from "../projections/operations.js"
import type { EngineInvariant } from "./errors.js"
import { loadOpContext } from "./ops/context.js"
import { recoverMint } from "./ops/mint.js"
import { recoverSwapLike } from "./ops/recover-swap.js"
import type { Settled } from "./ops/swap.js"
import type { WalletRuntime } from "./runtime.js"

/** Outcomes of one recovery pass, counted like CDK's. */
export interface RecoveryReport {
  readonly recovered: number
  readonly compensated: number
  /** Still in doubt or pending (mint unreachable, payment in flight): tried again next pass. */
  readonly pending: number
}

/** One recovery pass over every in-flight operation of the wallet. */
export const recoverWallet = (rt: WalletRuntime): Effect.Effect<RecoveryReport, EngineInvariant> =>
  Effect.gen(function* () {
    const ops = operationsOf(rt.services.runner.state(operationsProjection), rt.stream, { inFlight: true })
    let recovered = 0
    let compensated = 0
    let pending = 0
    for (const op of ops) {
      const ctx = yield* loadOpContext(rt, op.operationId)
      let settled: Settled
      switch (ctx.started.kind) {
        case "swap":
        case "send":
        case "receive":
          settled = yield* recoverSwapLike(rt, ctx)
          break
        case "mint":
          if (ctx.prepared === undefined) continue // a quote waiting for payment: nothing to recover
          settled = yield* recoverMint(rt, ctx)
          break
        default:
          pending++
          continue
      }
      if (settled._tag === "Completed") recovered++
      else if (settled._tag === "Compensated") compensated++
      else pending++
    }
    return { recovered, compensated, pending }
  })
