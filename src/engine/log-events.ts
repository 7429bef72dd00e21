/**
 * What the engine logs about a wallet, and at which level, derived from what it just appended: one line per
 * operation step that matters to an operator (started, requested again, pending, completed, compensated,
 * recovering), per wallet creation, mint trusted and ownership change, and a trace line per append. Every
 * line is a constant event name with whitelisted annotations (`../infra/logging/record.ts`): ids, kinds,
 * reasons, outcomes, counts and mint origins — never a proof, a token, a quote id, a preimage or a mnemonic,
 * whatever the event holds.
 *
 * @module
 */
import { Effect } from "effect"
import { mintOrigin } from "../infra/mint-client/telemetry.js"
import type { NewEvent } from "../ports/event-store.js"

type Annotations = Record<string, string | number | bigint>

const line = (level: "trace" | "debug" | "info" | "warn", message: string, fields: Annotations) => {
  const log =
    level === "trace"
      ? Effect.logTrace(message)
      : level === "debug"
        ? Effect.logDebug(message)
        : level === "info"
          ? Effect.logInfo(message)
          : Effect.logWarning(message)
  return Effect.annotateLogs(log, fields)
}

/** The log lines of one acknowledged append to `walletId`'s stream. */
export const logAppended = (walletId: string, events: ReadonlyArray<NewEvent>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const lines: Effect.Effect<void>[] = [
      line("trace", "wallet.appended", { walletId, count: events.length }),
    ]
    for (const { event: e } of events) {
      switch (e._tag) {
        case "WalletCreated":
          lines.push(line("info", "wallet.created", { walletId }))
          break
        case "MintTrusted":
          lines.push(line("info", "mint.trusted", { walletId, mint: mintOrigin(e.mintUrl) }))
          break
        case "WalletOwnerChanged":
          lines.push(line("info", "wallet.owner", { walletId, nodeId: e.nodeId, epoch: e.epoch }))
          break
        case "OperationStarted":
          lines.push(
            line("info", "operation.started", { walletId, operationId: e.operationId, kind: e.kind }),
          )
          break
        case "OperationRequested":
          if (e.attempt > 1)
            lines.push(
              line("info", "operation.requested-again", {
                walletId,
                operationId: e.operationId,
                kind: e.kind,
                attempt: e.attempt,
              }),
            )
          break
        case "OperationPending":
          lines.push(
            line("warn", "operation.pending", {
              walletId,
              operationId: e.operationId,
              kind: e.kind,
              reason: e.reason,
            }),
          )
          break
        case "OperationCompleted":
          lines.push(
            line("info", "operation.completed", { walletId, operationId: e.operationId, kind: e.kind }),
          )
          break
        case "OperationCompensated":
          lines.push(
            line("info", "operation.compensated", {
              walletId,
              operationId: e.operationId,
              kind: e.kind,
              reason: e.reason,
            }),
          )
          break
        case "OperationRecovering":
          lines.push(
            line(e.outcome === "failed" ? "warn" : "info", "operation.recovering", {
              walletId,
              operationId: e.operationId,
              kind: e.kind,
              state: e.step,
              outcome: e.outcome,
              attempt: e.attempt,
            }),
          )
          break
        default:
          break
      }
    }
    return Effect.all(lines, { discard: true })
  })

/** An append whose outcome the log did not confirm: the operation is left for recovery. */
export const logAppendInDoubt = (walletId: string, error: string): Effect.Effect<void> =>
  Effect.annotateLogs(Effect.logError("wallet.append-in-doubt"), { walletId, error })

/** This node lost the wallet (its lease, another node's epoch, a hand-off). */
export const logWalletLost = (walletId: string, reason: string): Effect.Effect<void> =>
  Effect.annotateLogs(Effect.logWarning("wallet.lost"), { walletId, reason })
