/**
 * One hosted wallet's public API: Promise methods for everyone, and the same calls as Effects under
 * `wallet.effect` for Effect users. Every method fails with a {@link WalletError} (tagged); none throws
 * anything else. Every argument is checked first (`./arguments.ts`): a wrong one fails the call with
 * `InvalidArgument` naming it, before any operation starts or anything is appended. Concurrent calls are safe: the wallet's single writer (`./runtime.ts`) serialises every
 * decision, so two calls never reserve the same proof.
 *
 * @module
 */
import { Effect, Exit, type Stream } from "effect"
import type { LockOptions } from "../crypto/p2pk.js"
import type { StoreError, WalletError } from "../model/index.js"
import type { AppEvent } from "../projections/app-events.js"
import type { AuditResult } from "../projections/audit.js"
import { backupOf, backupProjection } from "../projections/backup.js"
import { type Balance, balancesOf, balancesProjection } from "../projections/balances.js"
import { type OperationView, operationsOf, operationsProjection } from "../projections/operations.js"
import {
  type AppEventsError,
  type AppEventsOptions,
  appEventIterable,
  appEventStreamOf,
} from "./app-events.js"
import {
  addMintArgs,
  balanceArgs,
  checked,
  checkTokenArgs,
  meltQuoteArgs,
  mintArgs,
  mintQuoteArgs,
  operationIdArg,
  optionalMintUrl,
  receiveArgs,
  restoreArgs,
  sendArgs,
  swapArgs,
} from "./arguments.js"
import { type PrivateKey, registerWalletFactory } from "./internal.js"
import { walletPublicKey } from "./keys.js"
import { type MintSync, normaliseMintUrl, syncMint } from "./mints.js"
import { checkToken, type TokenState } from "./ops/check-token.js"
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
import {
  type MeltPreview,
  prepareMelt,
  prepareReceive,
  prepareSend,
  type ReceivePreview,
  type SendPreview,
} from "./ops/preview.js"
import { type ReceiveOptions, type ReceiveResult, receive } from "./ops/receive.js"
import { type RestoreRequest, type RestoreResult, restore } from "./ops/restore.js"
import { type SendRequest, type SendResult, send } from "./ops/send.js"
import { type SplitRequest, type SplitResult, split } from "./ops/split.js"
import { liftTagged } from "./pure.js"
import { type RecoveryReport, recoverWallet } from "./recovery.js"
import type { WalletRuntime } from "./runtime.js"
import { settlePending } from "./startup.js"

/** Proofs in flight under one operation (a sent token not yet claimed, a melt whose payment is pending). */
export interface PendingEntry {
  readonly operationId: string
  readonly mintUrl: string
  readonly unit: string
  readonly amount: bigint
  readonly proofs: number
}

/** A mint a wallet trusts ({@link Wallet.mints}). */
export interface TrustedMint {
  readonly mintUrl: string
  readonly units: ReadonlyArray<string>
}

/** A swap request as the API takes it (unit defaulting to `sat`). */
export type SwapArgs = Omit<SplitRequest, "unit"> & { readonly unit?: string }

/** A send request as the API takes it (mint URL normalised, unit defaulting to `sat`). */
export type SendArgs = Omit<SendRequest, "unit"> & { readonly unit?: string }

/** The engine's replay audit of the log a wallet lives in. */
type AuditLog = () => Effect.Effect<AuditResult, StoreError>

/**
 * A hosted wallet. Built by its {@link Engine} only (`engine.createWallet`, `engine.wallet`). What it is made
 * of (its runtime, with the seed) lives in ES private fields: no property of a wallet leads to it, and the
 * only secret a wallet hands out is its mnemonic, through {@link Wallet.mnemonic}.
 */
export class Wallet {
  /** The same API as Effects. */
  readonly effect: WalletEffects
  readonly #rt: WalletRuntime
  /** The engine's replay audit (the whole log this wallet lives in: chain and every invariant). */
  readonly #auditLog: AuditLog

  static {
    registerWalletFactory((rt, privateKey, auditLog) => new Wallet(rt, privateKey, auditLog))
  }

  private constructor(rt: WalletRuntime, privateKey: PrivateKey, auditLog: AuditLog) {
    this.#rt = rt
    this.#auditLog = auditLog
    this.effect = Object.freeze(makeEffects(rt, privateKey))
  }

  /** Replays the log this wallet lives in: the hash chain and every invariant; reports the first violation. */
  audit(): Promise<AuditResult> {
    return Effect.runPromise(this.#auditLog())
  }

  /** The wallet's id. */
  get id(): string {
    return this.#rt.walletId
  }

  /** The wallet's P2PK public key: tokens locked to it can be received by this wallet (and its restores). */
  publicKey(): string {
    return walletPublicKey(this.#rt.seed)
  }

  /** Trusts a mint for `units` (default `["sat"]`) and learns its keysets. */
  addMint(mintUrl: string, units?: ReadonlyArray<string>): Promise<MintSync> {
    return Effect.runPromise(this.effect.addMint(mintUrl, units))
  }
  /** Asks a mint for a quote to mint `amount`: pay its `request`, then {@link Wallet.mint}. */
  mintQuote(req: MintQuoteRequest): Promise<MintQuoteResult> {
    return Effect.runPromise(this.effect.mintQuote(req))
  }
  /** Claims the proofs of a paid mint quote (waiting for the payment unless `wait: false`). */
  mint(operationId: string, options?: MintOptions): Promise<MintResult> {
    return Effect.runPromise(this.effect.mint(operationId, options))
  }
  /** Re-splits (or consolidates) the wallet's own proofs with a swap. */
  swap(req: SwapArgs): Promise<SplitResult> {
    return Effect.runPromise(this.effect.swap(req))
  }
  /** Makes a token of `amount` (offline from exact proofs, or with a swap; optionally P2PK-locked). */
  send(req: SendArgs): Promise<SendResult> {
    return Effect.runPromise(this.effect.send(req))
  }
  /** Receives a token: checks it and swaps its proofs for the wallet's own. */
  receive(token: string, options?: ReceiveOptions): Promise<ReceiveResult> {
    return Effect.runPromise(this.effect.receive(token, options))
  }
  /** Asks a mint for a quote to pay `request` (a bolt11 invoice): then {@link Wallet.melt}. */
  meltQuote(req: MeltQuoteRequest): Promise<MeltQuoteResult> {
    return Effect.runPromise(this.effect.meltQuote(req))
  }
  /** Pays a melt quote with the wallet's proofs. */
  melt(operationId: string): Promise<MeltResult> {
    return Effect.runPromise(this.effect.melt(operationId))
  }
  /**
   * What {@link Wallet.send} would spend and charge now (the proofs, offline or swap, the input fee), without
   * reserving, recording or sending anything: exact for the wallet's state when it reads it (a concurrent
   * operation may change the selection). Fails as the send would (`InsufficientFunds`, `UnknownMint`).
   */
  prepareSend(req: SendArgs): Promise<SendPreview> {
    return Effect.runPromise(this.effect.prepareSend(req))
  }
  /**
   * What {@link Wallet.receive} would credit now (the token's value, the swap's input fee), checked as the
   * receive checks it, without recording or swapping anything (keysets the wallet has not learned are
   * fetched from the mint, read-only). Fails as the receive would (`TokenRejected`, …).
   */
  prepareReceive(token: string, options?: ReceiveOptions): Promise<ReceivePreview> {
    return Effect.runPromise(this.effect.prepareReceive(token, options))
  }
  /**
   * What {@link Wallet.melt} of a recorded quote would spend now (the proofs, the input fee, the fee reserve,
   * the most it can take), without reserving or sending anything. Fails as the melt would
   * (`InsufficientFunds`, `QuoteRejected` when expired).
   */
  prepareMelt(operationId: string): Promise<MeltPreview> {
    return Effect.runPromise(this.effect.prepareMelt(operationId))
  }
  /** Asks the mint(s) which pending proofs are spent, and settles what it can. */
  checkPending(mintUrl?: string): Promise<CheckPendingResult> {
    return Effect.runPromise(this.effect.checkPending(mintUrl))
  }
  /**
   * The state of a token's proofs (unspent, pending, spent) per mint, asked of the mint(s) it names, without
   * receiving it: appends nothing, reserves nothing, trusts no mint (the mint learns the proofs' Ys).
   */
  checkToken(token: string): Promise<TokenState> {
    return Effect.runPromise(this.effect.checkToken(token))
  }
  /** Takes back the unclaimed proofs of a send. */
  reclaim(sendOperationId: string): Promise<ReclaimResult> {
    return Effect.runPromise(this.effect.reclaim(sendOperationId))
  }
  /** Restores the wallet's proofs at a mint from its seed (NUT-09/13). */
  restore(req: RestoreRequest): Promise<RestoreResult> {
    return Effect.runPromise(this.effect.restore(req))
  }
  /** Settles the wallet's operations in flight (run by `Engine.open` too). */
  recover(): Promise<RecoveryReport> {
    return Effect.runPromise(this.effect.recover())
  }
  /** Balances per mint and unit, by proof state. */
  balances(): Balance[] {
    return balancesOf(this.#rt.services.runner.state(balancesProjection), this.#rt.stream)
  }
  /** Spendable value at a mint (or everywhere) in a unit (default `sat`). Throws `InvalidArgument` for a wrong argument. */
  balance(mintUrl?: string, unit?: string): bigint {
    const args = balanceArgs(mintUrl, unit)
    const url = args.mintUrl === undefined ? undefined : normaliseMintUrl(args.mintUrl)
    let sum = 0n
    for (const b of this.balances())
      if (b.unit === args.unit && (url === undefined || b.mintUrl === url)) sum += b.unspent
    return sum
  }
  /** The mints this wallet trusts, with the units it trusts each for (`addMint`, or a receive that trusted one). */
  mints(): TrustedMint[] {
    return this.#rt
      .view()
      .mints()
      .map((m) => ({ mintUrl: m.mintUrl, units: [...m.units] }))
  }
  /** Every operation in the order it started (no secrets: no quote ids, no tokens). */
  history(): OperationView[] {
    return operationsOf(this.#rt.services.runner.state(operationsProjection), this.#rt.stream)
  }
  /** Proofs in flight, by operation. */
  pending(): PendingEntry[] {
    const byOp = new Map<string, { mintUrl: string; unit: string; amount: bigint; proofs: number }>()
    for (const p of this.#rt.view().proofs({ state: "pending" })) {
      const key = p.operationId ?? ""
      const e = byOp.get(key) ?? { mintUrl: p.mintUrl, unit: p.unit, amount: 0n, proofs: 0 }
      e.amount += p.proof.amount
      e.proofs++
      byOp.set(key, e)
    }
    return [...byOp].map(([operationId, e]) => ({ operationId, ...e }))
  }
  /**
   * This wallet's app events (typed, versioned, free of secrets; see {@link AppEvent}), live, as an async
   * iterable: from `options.fromPosition` (events of log positions after it), else from what
   * {@link Wallet.balances} and {@link Wallet.history} reflect at this call. `break` (or `return()`) ends the
   * subscription; closing the engine ends the iteration. Throws `InvalidArgument` for a bad option.
   */
  events(options?: AppEventsOptions): AsyncIterable<AppEvent> {
    const { store, runner } = this.#rt.services
    return appEventIterable(store, options, runner.position, () => undefined, this.#rt.walletId)
  }
  /** The wallet's mnemonic (the backup). Handle with care: whoever has it owns the wallet's funds. */
  mnemonic(): string {
    return backupOf(this.#rt.services.runner.state(backupProjection), this.#rt.stream)?.mnemonic ?? ""
  }
}

/** The wallet API as Effects. */
export interface WalletEffects {
  /** {@link Wallet.addMint} as an Effect. */
  readonly addMint: (mintUrl: string, units?: ReadonlyArray<string>) => Effect.Effect<MintSync, WalletError>
  /** {@link Wallet.mintQuote} as an Effect. */
  readonly mintQuote: (req: MintQuoteRequest) => Effect.Effect<MintQuoteResult, WalletError>
  /** {@link Wallet.mint} as an Effect. */
  readonly mint: (operationId: string, options?: MintOptions) => Effect.Effect<MintResult, WalletError>
  /** {@link Wallet.swap} as an Effect. */
  readonly swap: (req: SwapArgs) => Effect.Effect<SplitResult, WalletError>
  /** {@link Wallet.send} as an Effect. */
  readonly send: (req: SendArgs) => Effect.Effect<SendResult, WalletError>
  /** {@link Wallet.receive} as an Effect. */
  readonly receive: (token: string, options?: ReceiveOptions) => Effect.Effect<ReceiveResult, WalletError>
  /** {@link Wallet.meltQuote} as an Effect. */
  readonly meltQuote: (req: MeltQuoteRequest) => Effect.Effect<MeltQuoteResult, WalletError>
  /** {@link Wallet.melt} as an Effect. */
  readonly melt: (operationId: string) => Effect.Effect<MeltResult, WalletError>
  /** {@link Wallet.prepareSend} as an Effect. */
  readonly prepareSend: (req: SendArgs) => Effect.Effect<SendPreview, WalletError>
  /** {@link Wallet.prepareReceive} as an Effect. */
  readonly prepareReceive: (
    token: string,
    options?: ReceiveOptions,
  ) => Effect.Effect<ReceivePreview, WalletError>
  /** {@link Wallet.prepareMelt} as an Effect. */
  readonly prepareMelt: (operationId: string) => Effect.Effect<MeltPreview, WalletError>
  /** {@link Wallet.checkPending} as an Effect. */
  readonly checkPending: (mintUrl?: string) => Effect.Effect<CheckPendingResult, WalletError>
  /** {@link Wallet.checkToken} as an Effect. */
  readonly checkToken: (token: string) => Effect.Effect<TokenState, WalletError>
  /** {@link Wallet.reclaim} as an Effect. */
  readonly reclaim: (sendOperationId: string) => Effect.Effect<ReclaimResult, WalletError>
  /** {@link Wallet.restore} as an Effect. */
  readonly restore: (req: RestoreRequest) => Effect.Effect<RestoreResult, WalletError>
  /** {@link Wallet.recover} as an Effect. */
  readonly recover: () => Effect.Effect<RecoveryReport, WalletError>
  /** {@link Wallet.events} as a `Stream` (options checked, default start read, when it runs). */
  readonly events: (options?: AppEventsOptions) => Stream.Stream<AppEvent, AppEventsError>
}

/**
 * Every call of `effects` (but the `events` feed) under the engine's observability (its logger, level and
 * tracer: `EngineServices.observe`), in a span `wallet.<call>` carrying the wallet id and the call's outcome
 * (`ok` or the error's tag) — never its arguments or results.
 */
const observed = (rt: WalletRuntime, effects: WalletEffects): WalletEffects => {
  const wrap =
    (name: string, f: (...args: unknown[]) => Effect.Effect<unknown, WalletError>) =>
    (...args: unknown[]): Effect.Effect<unknown, WalletError> =>
      rt.services.observe(
        f(...args).pipe(
          Effect.onExit((exit) =>
            Effect.annotateCurrentSpan(
              "outcome",
              Exit.isSuccess(exit)
                ? "ok"
                : ((exit.cause.reasons.find((r) => r._tag === "Fail")?.error as WalletError | undefined)
                    ?._tag ?? "defect"),
            ),
          ),
          Effect.withSpan(`wallet.${name}`, { attributes: { walletId: rt.walletId } }),
        ),
      )
  const out: Record<string, unknown> = { ...effects }
  for (const [name, f] of Object.entries(effects))
    if (name !== "events")
      out[name] = wrap(name, f as (...args: unknown[]) => Effect.Effect<unknown, WalletError>)
  return out as unknown as WalletEffects
}

/**
 * The effects of one wallet: each checks its arguments first ({@link InvalidArgument}, nothing started), then
 * runs the operation with the checked, normalised values.
 */
const makeEffects = (rt: WalletRuntime, privateKey: PrivateKey): WalletEffects => {
  // The P2PK key, derived from the (lazily derived) seed the first time a receive needs it.
  let key: string | undefined
  const keyNow = (): string => (key ??= typeof privateKey === "string" ? privateKey : privateKey())
  // A wallet this node lost (issue #12) answers `WalletNotOwned`: before a call starts, and for a call that
  // was in flight when it was lost (its append refused; the new owner's recovery settles its operation).
  // A wallet opened with operations in flight runs (or joins) its recovery pass first (`./startup.ts`):
  // no call acts on the wallet before the operations the last run left in doubt went through recovery.
  const owned = <A>(
    effect: Effect.Effect<A, WalletError>,
    settleFirst = true,
  ): Effect.Effect<A, WalletError> =>
    Effect.suspend(() => {
      const lost = rt.superseded()
      if (lost !== undefined) return Effect.fail(lost)
      // Lost meanwhile — its lease, a refused append, or a newer epoch the log's feed brought in (a node woken
      // from a pause whose step failed against proofs the new owner moved).
      const run = Effect.mapError(effect, (e) => (e._tag === "EngineInvariant" ? (rt.superseded() ?? e) : e))
      return settleFirst ? Effect.andThen(settlePending(rt), run) : run
    })
  const api = <C, A>(
    check: () => C,
    run: (args: C) => Effect.Effect<A, WalletError>,
  ): Effect.Effect<A, WalletError> => liftTagged(Effect.flatMap(checked(check), (c) => owned(run(c))))
  const preview = <C, A>(
    check: () => C,
    run: (args: C) => Effect.Effect<A, WalletError>,
  ): Effect.Effect<A, WalletError> => liftTagged(Effect.flatMap(checked(check), (c) => owned(run(c), false)))
  const url = normaliseMintUrl
  return observed(rt, {
    addMint: (mintUrl, units) =>
      api(
        () => addMintArgs(mintUrl, units),
        (a) => syncMint(rt, url(a.mintUrl), a.units),
      ),
    mintQuote: (req) =>
      api(
        () => mintQuoteArgs(req),
        (r) => mintQuote(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    mint: (operationId, options) =>
      api(
        () => mintArgs(operationId, options),
        (a) => mintProofs(rt, a.operationId, a.options),
      ),
    swap: (req) =>
      api(
        () => swapArgs(req),
        (r) => split(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    send: (req) =>
      api(
        () => sendArgs(req),
        (r) => send(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    receive: (token, options) =>
      api(
        () => receiveArgs(token, options),
        (a) => receive(rt, a.token, keyNow(), a.options),
      ),
    meltQuote: (req) =>
      api(
        () => meltQuoteArgs(req),
        (r) => meltQuote(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    melt: (operationId) =>
      api(
        () => operationIdArg(operationId),
        (op) => melt(rt, op),
      ),
    // Previews only read (`./ops/preview.ts`): they wait for no recovery pass, which may send and append.
    prepareSend: (req) =>
      preview(
        () => sendArgs(req),
        (r) => prepareSend(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    prepareReceive: (token, options) =>
      preview(
        () => receiveArgs(token, options),
        (a) => prepareReceive(rt, a.token, keyNow(), a.options),
      ),
    prepareMelt: (operationId) =>
      preview(
        () => operationIdArg(operationId),
        (op) => prepareMelt(rt, op),
      ),
    checkPending: (mintUrl) =>
      api(
        () => optionalMintUrl(mintUrl),
        (u) => checkPending(rt, u === undefined ? undefined : url(u)),
      ),
    // A read of the mints only: it waits for no recovery pass (it touches none of the wallet's state).
    checkToken: (token) =>
      liftTagged(
        Effect.flatMap(
          checked(() => checkTokenArgs(token)),
          (t) => owned(checkToken(rt, t), false),
        ),
      ),
    reclaim: (sendOperationId) =>
      api(
        () => operationIdArg(sendOperationId, "sendOperationId"),
        (op) => reclaim(rt, op),
      ),
    restore: (req) =>
      api(
        () => restoreArgs(req),
        (r) => restore(rt, { ...r, mintUrl: url(r.mintUrl) }),
      ),
    // The pending pass, when one is (its report), else a new pass: never two passes for one call.
    recover: () =>
      liftTagged(
        owned(
          Effect.flatMap(settlePending(rt), (r) => (r === undefined ? recoverWallet(rt) : Effect.succeed(r))),
          false,
        ),
      ),
    events: (options) =>
      appEventStreamOf(rt.services.store, options, rt.services.runner.position, () => undefined, rt.walletId),
  })
}

export type { LockOptions }
