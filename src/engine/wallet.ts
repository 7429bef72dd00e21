/**
 * One hosted wallet's public API: Promise methods for everyone, and the same calls as Effects under
 * `wallet.effect` for Effect users. Every method fails with a {@link WalletError} (tagged); none throws
 * anything else. Concurrent calls are safe: the wallet's single writer (`./runtime.ts`) serialises every
 * decision, so two calls never reserve the same proof.
 *
 * @module
 */
import { Effect } from "effect"
import type { LockOptions } from "../crypto/p2pk.js"
import type { StoreError } from "../events/errors.js"
import type { AuditResult } from "../projections/audit.js"
import { backupOf, backupProjection } from "../projections/backup.js"
import { type Balance, balancesOf, balancesProjection } from "../projections/balances.js"
import { type OperationView, operationsOf, operationsProjection } from "../projections/operations.js"
import type { WalletError } from "./errors.js"
import { walletPublicKey } from "./keys.js"
import { type MintSync, normaliseMintUrl, syncMint } from "./mints.js"
import { type CheckPendingResult, checkPending, type ReclaimResult, reclaim } from "./ops/checkstate.js"
import { type MeltQuoteRequest, type MeltQuoteResult, type MeltResult, melt, meltQuote } from "./ops/melt.js"
import {
  type MintOptions,
  type MintQuoteRequest,
  type MintQuoteResult,
  type MintResult,
  mintProofs,
  mintQuote,
} from "./ops/mint.js"
import { type ReceiveOptions, type ReceiveResult, receive } from "./ops/receive.js"
import { type RestoreRequest, type RestoreResult, restore } from "./ops/restore.js"
import { type SendRequest, type SendResult, send } from "./ops/send.js"
import { type SplitRequest, type SplitResult, split } from "./ops/split.js"
import { liftTagged } from "./pure.js"
import { type RecoveryReport, recoverWallet } from "./recovery.js"
import type { WalletRuntime } from "./runtime.js"

/** Proofs in flight under one operation (a sent token not yet claimed, a melt whose payment is pending). */
export interface PendingEntry {
  readonly operationId: string
  readonly mintUrl: string
  readonly unit: string
  readonly amount: bigint
  readonly proofs: number
}

/** A swap request as the API takes it (unit defaulting to `sat`). */
export type SwapArgs = Omit<SplitRequest, "unit"> & { readonly unit?: string }

/** A send request as the API takes it (mint URL normalised, unit defaulting to `sat`). */
export type SendArgs = Omit<SendRequest, "unit"> & { readonly unit?: string }

/** A hosted wallet. */
export class Wallet {
  /** The same API as Effects. */
  readonly effect: WalletEffects

  constructor(
    /** Internal: the runtime (single writer, seed, services). */
    readonly runtime: WalletRuntime,
    privateKey: string,
    /** The engine's replay audit (the whole log this wallet lives in: chain and every invariant). */
    private readonly auditLog: () => Effect.Effect<AuditResult, StoreError>,
  ) {
    this.effect = makeEffects(runtime, privateKey)
  }

  /** Replays the log this wallet lives in: the hash chain and every invariant; reports the first violation. */
  audit(): Promise<AuditResult> {
    return Effect.runPromise(this.auditLog())
  }

  get id(): string {
    return this.runtime.walletId
  }

  /** The wallet's P2PK public key: tokens locked to it can be received by this wallet (and its restores). */
  publicKey(): string {
    return walletPublicKey(this.runtime.seed)
  }

  addMint(mintUrl: string, units: ReadonlyArray<string> = ["sat"]): Promise<MintSync> {
    return Effect.runPromise(this.effect.addMint(mintUrl, units))
  }
  mintQuote(req: MintQuoteRequest): Promise<MintQuoteResult> {
    return Effect.runPromise(this.effect.mintQuote(req))
  }
  mint(operationId: string, options?: MintOptions): Promise<MintResult> {
    return Effect.runPromise(this.effect.mint(operationId, options))
  }
  /** Re-splits (or consolidates) the wallet's own proofs with a swap. */
  swap(req: SwapArgs): Promise<SplitResult> {
    return Effect.runPromise(this.effect.swap(req))
  }
  send(req: SendArgs): Promise<SendResult> {
    return Effect.runPromise(this.effect.send(req))
  }
  receive(token: string, options?: ReceiveOptions): Promise<ReceiveResult> {
    return Effect.runPromise(this.effect.receive(token, options))
  }
  meltQuote(req: MeltQuoteRequest): Promise<MeltQuoteResult> {
    return Effect.runPromise(this.effect.meltQuote(req))
  }
  melt(operationId: string): Promise<MeltResult> {
    return Effect.runPromise(this.effect.melt(operationId))
  }
  checkPending(mintUrl?: string): Promise<CheckPendingResult> {
    return Effect.runPromise(this.effect.checkPending(mintUrl))
  }
  reclaim(sendOperationId: string): Promise<ReclaimResult> {
    return Effect.runPromise(this.effect.reclaim(sendOperationId))
  }
  restore(req: RestoreRequest): Promise<RestoreResult> {
    return Effect.runPromise(this.effect.restore(req))
  }
  recover(): Promise<RecoveryReport> {
    return Effect.runPromise(this.effect.recover())
  }
  /** Balances per mint and unit, by proof state. */
  balances(): Balance[] {
    return balancesOf(this.runtime.services.runner.state(balancesProjection), this.runtime.stream)
  }
  /** Spendable value at a mint (or everywhere) in a unit. */
  balance(mintUrl?: string, unit = "sat"): bigint {
    const url = mintUrl === undefined ? undefined : normaliseMintUrl(mintUrl)
    let sum = 0n
    for (const b of this.balances())
      if (b.unit === unit && (url === undefined || b.mintUrl === url)) sum += b.unspent
    return sum
  }
  /** Every operation in the order it started (no secrets: no quote ids, no tokens). */
  history(): OperationView[] {
    return operationsOf(this.runtime.services.runner.state(operationsProjection), this.runtime.stream)
  }
  /** Proofs in flight, by operation. */
  pending(): PendingEntry[] {
    const byOp = new Map<string, { mintUrl: string; unit: string; amount: bigint; proofs: number }>()
    for (const p of this.runtime.view().proofs({ state: "pending" })) {
      const key = p.operationId ?? ""
      const e = byOp.get(key) ?? { mintUrl: p.mintUrl, unit: p.unit, amount: 0n, proofs: 0 }
      e.amount += p.proof.amount
      e.proofs++
      byOp.set(key, e)
    }
    return [...byOp].map(([operationId, e]) => ({ operationId, ...e }))
  }
  /** The wallet's mnemonic (the backup). Handle with care: whoever has it owns the wallet's funds. */
  mnemonic(): string {
    return backupOf(this.runtime.services.runner.state(backupProjection), this.runtime.stream)?.mnemonic ?? ""
  }
}

/** The wallet API as Effects. */
export interface WalletEffects {
  readonly addMint: (mintUrl: string, units?: ReadonlyArray<string>) => Effect.Effect<MintSync, WalletError>
  readonly mintQuote: (req: MintQuoteRequest) => Effect.Effect<MintQuoteResult, WalletError>
  readonly mint: (operationId: string, options?: MintOptions) => Effect.Effect<MintResult, WalletError>
  readonly swap: (req: SwapArgs) => Effect.Effect<SplitResult, WalletError>
  readonly send: (req: SendArgs) => Effect.Effect<SendResult, WalletError>
  readonly receive: (token: string, options?: ReceiveOptions) => Effect.Effect<ReceiveResult, WalletError>
  readonly meltQuote: (req: MeltQuoteRequest) => Effect.Effect<MeltQuoteResult, WalletError>
  readonly melt: (operationId: string) => Effect.Effect<MeltResult, WalletError>
  readonly checkPending: (mintUrl?: string) => Effect.Effect<CheckPendingResult, WalletError>
  readonly reclaim: (sendOperationId: string) => Effect.Effect<ReclaimResult, WalletError>
  readonly restore: (req: RestoreRequest) => Effect.Effect<RestoreResult, WalletError>
  readonly recover: () => Effect.Effect<RecoveryReport, WalletError>
}

const makeEffects = (rt: WalletRuntime, privateKey: string): WalletEffects => {
  const api = <A>(e: Effect.Effect<A, WalletError>): Effect.Effect<A, WalletError> => liftTagged(e)
  const url = normaliseMintUrl
  return {
    addMint: (mintUrl, units = ["sat"]) => api(syncMint(rt, url(mintUrl), units)),
    mintQuote: (req) => api(mintQuote(rt, { ...req, mintUrl: url(req.mintUrl) })),
    mint: (operationId, options) => api(mintProofs(rt, operationId, options)),
    swap: (req) => api(split(rt, { ...req, mintUrl: url(req.mintUrl), unit: req.unit ?? "sat" })),
    send: (req) => api(send(rt, { ...req, mintUrl: url(req.mintUrl), unit: req.unit ?? "sat" })),
    receive: (token, options) => api(receive(rt, token, privateKey, options)),
    meltQuote: (req) => api(meltQuote(rt, { ...req, mintUrl: url(req.mintUrl) })),
    melt: (operationId) => api(melt(rt, operationId)),
    checkPending: (mintUrl) => api(checkPending(rt, mintUrl === undefined ? undefined : url(mintUrl))),
    reclaim: (sendOperationId) => api(reclaim(rt, sendOperationId)),
    restore: (req) => api(restore(rt, { ...req, mintUrl: url(req.mintUrl) })),
    recover: () => api(recoverWallet(rt)),
  }
}

export type { LockOptions }
