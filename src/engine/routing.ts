/**
 * Routed wallet calls (issue #12, "Routing"): any engine node — or a thin client with no wallets
 * ({@link connectCluster}) — calls any wallet's operations; the call travels over NATS request/reply
 * (`../infra/nats-rpc.ts`, wire format `../protocol/rpc.ts`) to the one node that owns the wallet, and comes
 * back with the same typed result or error as the embedded API (an `OperationInDoubt` on the owner is an
 * `OperationInDoubt` here, an instance of the class; amounts stay `bigint`).
 *
 * **Who answers**: the owner subscribes to the wallet's subject while it hosts the wallet, and unsubscribes
 * when it loses it (lease lost, append fenced). A request is handled by looking the wallet up again
 * (`engine.wallet(id)`), so one that reaches a node that has just lost the wallet is answered
 * `WalletNotOwned` and never acted on; and a node that has not noticed its loss yet is stopped by the log's
 * fence (its append refused: `WalletNotOwned` too). A request nobody subscribes to is refused by the NATS
 * server at once ("no responders"): `WalletNotOwned` — nothing ran.
 *
 * **Retries — money safety**: a call that changes the wallet (send, receive, mintQuote, mint, meltQuote, melt,
 * swap, checkPending, reclaim, restore, recover, addMint) is sent ONCE. When its reply is lost (timeout, a
 * reply that does not decode, a broken connection) the router cannot know whether the owner ran it, and a
 * second try could send or melt twice: the caller gets {@link RemoteInDoubt} and looks at `history()` /
 * `pending()` (the owner's recovery settles whatever it left in doubt). Reads (balance, balances, history,
 * pending, publicKey) are retried (`readRetries`, default 2, with a short backoff) on a timeout, a broken
 * connection, no responders or `WalletNotOwned` — the window of a takeover — and fail with
 * {@link RemoteUnavailable} (or the last `WalletNotOwned`) when every try failed.
 *
 * @module
 */
import { Effect, Exit, Scope } from "effect"
import type { RpcTransport } from "../infra/nats-rpc.js"
import {
  type CorecashuError,
  EngineClosed,
  EngineInvariant,
  InvalidArgument,
  isCorecashuError,
  type RemoteError,
  RemoteInDoubt,
  RemoteUnavailable,
  type WalletError,
  WalletNotOwned,
} from "../model/index.js"
import type { Balance } from "../projections/balances.js"
import type { OperationView } from "../projections/operations.js"
import {
  decodeRpcReply,
  decodeRpcRequest,
  encodeRpcReply,
  encodeRpcRequest,
  RPC_METHODS,
  type RpcMethod,
  type RpcReply,
} from "../protocol/rpc.js"
import { checked, connectClusterArgs, type RemoteArgs, remoteArgs } from "./arguments.js"
import type { MintSync } from "./mints.js"
import type { CheckPendingResult, ReclaimResult } from "./ops/checkstate.js"
import type { MeltQuoteRequest, MeltQuoteResult, MeltResult } from "./ops/melt.js"
import type { MintOptions, MintQuoteRequest, MintQuoteResult, MintResult } from "./ops/mint.js"
import type { ReceiveOptions, ReceiveResult } from "./ops/receive.js"
import type { RestoreRequest, RestoreResult } from "./ops/restore.js"
import type { SendResult } from "./ops/send.js"
import type { SplitResult } from "./ops/split.js"
import type { RecoveryReport } from "./recovery.js"
import type { PendingEntry, SendArgs, SwapArgs, Wallet } from "./wallet.js"

/** What a routed call can fail with: the wallet call's own errors, and the way's. */
export type RemoteWalletError = WalletError | RemoteError

/** Options of a routed wallet ({@link Engine.remote}, {@link Cluster.wallet}). */
export interface RemoteOptions {
  /** How long a call waits for the owner's reply, ms (default 30 000; 50 … 3 600 000). */
  readonly timeoutMs?: number
  /** How many times a read is tried again after a failed try (default 2; 0 … 10). Writes: never. */
  readonly readRetries?: number
}

/** The default of {@link RemoteOptions.timeoutMs}. */
export const DEFAULT_RPC_TIMEOUT_MS = 30_000
const DEFAULT_READ_RETRIES = 2

type Fx<A> = Effect.Effect<A, RemoteWalletError>

/** A routed wallet's calls as Effects. */
export interface RemoteWalletEffects {
  /** {@link RemoteWallet.balance} as an Effect. */
  readonly balance: (mintUrl?: string, unit?: string) => Fx<bigint>
  /** {@link RemoteWallet.balances} as an Effect. */
  readonly balances: () => Fx<Balance[]>
  /** {@link RemoteWallet.history} as an Effect. */
  readonly history: () => Fx<OperationView[]>
  /** {@link RemoteWallet.pending} as an Effect. */
  readonly pending: () => Fx<PendingEntry[]>
  /** {@link RemoteWallet.publicKey} as an Effect. */
  readonly publicKey: () => Fx<string>
  /** {@link RemoteWallet.addMint} as an Effect. */
  readonly addMint: (mintUrl: string, units?: ReadonlyArray<string>) => Fx<MintSync>
  /** {@link RemoteWallet.mintQuote} as an Effect. */
  readonly mintQuote: (req: MintQuoteRequest) => Fx<MintQuoteResult>
  /** {@link RemoteWallet.mint} as an Effect. */
  readonly mint: (operationId: string, options?: MintOptions) => Fx<MintResult>
  /** {@link RemoteWallet.swap} as an Effect. */
  readonly swap: (req: SwapArgs) => Fx<SplitResult>
  /** {@link RemoteWallet.send} as an Effect. */
  readonly send: (req: SendArgs) => Fx<SendResult>
  /** {@link RemoteWallet.receive} as an Effect. */
  readonly receive: (token: string, options?: ReceiveOptions) => Fx<ReceiveResult>
  /** {@link RemoteWallet.meltQuote} as an Effect. */
  readonly meltQuote: (req: MeltQuoteRequest) => Fx<MeltQuoteResult>
  /** {@link RemoteWallet.melt} as an Effect. */
  readonly melt: (operationId: string) => Fx<MeltResult>
  /** {@link RemoteWallet.checkPending} as an Effect. */
  readonly checkPending: (mintUrl?: string) => Fx<CheckPendingResult>
  /** {@link RemoteWallet.reclaim} as an Effect. */
  readonly reclaim: (sendOperationId: string) => Fx<ReclaimResult>
  /** {@link RemoteWallet.restore} as an Effect. */
  readonly restore: (req: RestoreRequest) => Fx<RestoreResult>
  /** {@link RemoteWallet.recover} as an Effect. */
  readonly recover: () => Fx<RecoveryReport>
}

/** How a routed wallet makes one call (locally, or over NATS). */
type Caller = (method: RpcMethod, args: ReadonlyArray<unknown>) => Effect.Effect<unknown, RemoteWalletError>

/**
 * A wallet reached wherever its owner runs: the {@link Wallet} API (every method returns a Promise, reads
 * too), each call made on the node that owns the wallet at the time of the call. Secrets never travel: no
 * `mnemonic()`. See the module comment for what is retried.
 */
export class RemoteWallet {
  /** The same calls as Effects. */
  readonly effect: RemoteWalletEffects
  readonly #id: string

  /** @internal Built by `engine.remote` and `cluster.wallet`. */
  constructor(walletId: string, call: Caller) {
    this.#id = walletId
    const c =
      <A>(method: RpcMethod) =>
      (...args: ReadonlyArray<unknown>): Fx<A> =>
        call(method, args) as Fx<A>
    this.effect = Object.freeze({
      balance: c("balance"),
      balances: c("balances"),
      history: c("history"),
      pending: c("pending"),
      publicKey: c("publicKey"),
      addMint: c("addMint"),
      mintQuote: c("mintQuote"),
      mint: c("mint"),
      swap: c("swap"),
      send: c("send"),
      receive: c("receive"),
      meltQuote: c("meltQuote"),
      melt: c("melt"),
      checkPending: c("checkPending"),
      reclaim: c("reclaim"),
      restore: c("restore"),
      recover: c("recover"),
    } satisfies RemoteWalletEffects)
  }

  /** The wallet's id. */
  get id(): string {
    return this.#id
  }
  /** Spendable value at a mint (or everywhere) in a unit (default `sat`). */
  balance(mintUrl?: string, unit?: string): Promise<bigint> {
    return Effect.runPromise(this.effect.balance(mintUrl, unit))
  }
  /** Balances per mint and unit, by proof state. */
  balances(): Promise<Balance[]> {
    return Effect.runPromise(this.effect.balances())
  }
  /** Every operation in the order it started. */
  history(): Promise<OperationView[]> {
    return Effect.runPromise(this.effect.history())
  }
  /** Proofs in flight, by operation. */
  pending(): Promise<PendingEntry[]> {
    return Effect.runPromise(this.effect.pending())
  }
  /** The wallet's P2PK public key. */
  publicKey(): Promise<string> {
    return Effect.runPromise(this.effect.publicKey())
  }
  /** {@link Wallet.addMint}, on the owner. */
  addMint(mintUrl: string, units?: ReadonlyArray<string>): Promise<MintSync> {
    return Effect.runPromise(this.effect.addMint(mintUrl, units))
  }
  /** {@link Wallet.mintQuote}, on the owner. */
  mintQuote(req: MintQuoteRequest): Promise<MintQuoteResult> {
    return Effect.runPromise(this.effect.mintQuote(req))
  }
  /**
   * {@link Wallet.mint}, on the owner. Waiting for the payment can outlast the call's timeout (then
   * `RemoteInDoubt`): pass `{ wait: false }` or a longer `timeoutMs`.
   */
  mint(operationId: string, options?: MintOptions): Promise<MintResult> {
    return Effect.runPromise(this.effect.mint(operationId, options))
  }
  /** {@link Wallet.swap}, on the owner. */
  swap(req: SwapArgs): Promise<SplitResult> {
    return Effect.runPromise(this.effect.swap(req))
  }
  /** {@link Wallet.send}, on the owner. */
  send(req: SendArgs): Promise<SendResult> {
    return Effect.runPromise(this.effect.send(req))
  }
  /** {@link Wallet.receive}, on the owner. */
  receive(token: string, options?: ReceiveOptions): Promise<ReceiveResult> {
    return Effect.runPromise(this.effect.receive(token, options))
  }
  /** {@link Wallet.meltQuote}, on the owner. */
  meltQuote(req: MeltQuoteRequest): Promise<MeltQuoteResult> {
    return Effect.runPromise(this.effect.meltQuote(req))
  }
  /** {@link Wallet.melt}, on the owner. */
  melt(operationId: string): Promise<MeltResult> {
    return Effect.runPromise(this.effect.melt(operationId))
  }
  /** {@link Wallet.checkPending}, on the owner. */
  checkPending(mintUrl?: string): Promise<CheckPendingResult> {
    return Effect.runPromise(this.effect.checkPending(mintUrl))
  }
  /** {@link Wallet.reclaim}, on the owner. */
  reclaim(sendOperationId: string): Promise<ReclaimResult> {
    return Effect.runPromise(this.effect.reclaim(sendOperationId))
  }
  /** {@link Wallet.restore}, on the owner. */
  restore(req: RestoreRequest): Promise<RestoreResult> {
    return Effect.runPromise(this.effect.restore(req))
  }
  /** {@link Wallet.recover}, on the owner. */
  recover(): Promise<RecoveryReport> {
    return Effect.runPromise(this.effect.recover())
  }
}

/** A throw of a wallet's synchronous API as its tagged error. */
const syncCall = <A>(f: () => A): Effect.Effect<A, WalletError> =>
  Effect.try({
    try: f,
    catch: (e) =>
      isCorecashuError(e)
        ? (e as WalletError)
        : new EngineInvariant({ message: `the call failed unexpectedly (${describe(e)})` }),
  })

const describe = (e: unknown): string => (e instanceof Error ? e.message.slice(0, 200) : "unknown error")

/** @internal One call on a wallet this node hosts: what the owner runs for a routed request. */
export const callLocal = (
  w: Wallet,
  method: RpcMethod,
  args: ReadonlyArray<unknown>,
): Effect.Effect<unknown, WalletError> => {
  const a = args as ReadonlyArray<never>
  switch (method) {
    case "balance":
      return syncCall(() => w.balance(a[0], a[1]))
    case "balances":
      return syncCall(() => w.balances())
    case "history":
      return syncCall(() => w.history())
    case "pending":
      return syncCall(() => w.pending())
    case "publicKey":
      return syncCall(() => w.publicKey())
    default: {
      const f = w.effect[method] as (...x: ReadonlyArray<unknown>) => Effect.Effect<unknown, WalletError>
      return Effect.suspend(() => f(...args))
    }
  }
}

/** Store errors have no place in a wallet call's result: named, as the engine does, never passed on raw. */
const STORE_TAGS: ReadonlySet<string> = new Set([
  "StoreLocked",
  "StoreCorrupted",
  "StoreUnavailable",
  "EventCodecError",
  "VaultError",
  "WrongExpectedVersion",
  "ProjectionStateError",
])
const asWalletError = (e: CorecashuError): RemoteWalletError =>
  STORE_TAGS.has(e._tag)
    ? new EngineInvariant({ message: `the owner's log failed (${e._tag}): ${e.message}` })
    : (e as RemoteWalletError)

/**
 * @internal The owner's side: answers the routed requests of one wallet. `lookup` is the engine's
 * `wallet(id)`, asked again for every request (it throws `WalletNotOwned` once the wallet is lost).
 */
export const serveWallet =
  (walletId: string, lookup: (walletId: string) => Wallet) =>
  async (text: string): Promise<string> => {
    const reply = (r: RpcReply): string => encodeRpcReply(r)
    let method: RpcMethod
    let args: ReadonlyArray<unknown>
    try {
      const req = decodeRpcRequest(text)
      if (req.wallet !== walletId)
        return reply({
          ok: false,
          error: new InvalidArgument({
            argument: "wallet",
            reason: "differs from the subject's wallet",
            message: "the request names another wallet than its subject",
          }),
        })
      method = req.method
      args = req.args
    } catch (e) {
      return reply({
        ok: false,
        error: isCorecashuError(e) ? e : new EngineInvariant({ message: describe(e) }),
      })
    }
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(
        syncCall(() => lookup(walletId)),
        (w) => callLocal(w, method, args),
      ),
    )
    const outcome: RpcReply = Exit.isSuccess(exit)
      ? { ok: true, value: exit.value }
      : {
          ok: false,
          error:
            exit.cause.reasons.find((r) => r._tag === "Fail")?.error ??
            new EngineInvariant({ message: "the call died on the owner" }),
        }
    try {
      return reply(outcome)
    } catch (e) {
      // The result cannot travel (too large): say so; a write that ran is in doubt for the caller.
      const error =
        RPC_METHODS[method] === "write" && outcome.ok
          ? new RemoteInDoubt({
              walletId,
              method,
              reason: "malformed-reply",
              message: `the call ran on the owner, but its result cannot be sent back (${describe(e)})`,
            })
          : new RemoteUnavailable({
              walletId,
              method,
              reason: "too-large",
              message: `the reply cannot be sent (${describe(e)})`,
            })
      return reply({ ok: false, error })
    }
  }

const sleep = (ms: number) => Effect.sleep(ms)

/** @internal A call routed over `transport` to the wallet's owner (see the module comment for retries). */
export const callRemote = (
  transport: RpcTransport,
  walletId: string,
  method: RpcMethod,
  args: ReadonlyArray<unknown>,
  options: RemoteArgs,
  ownerHint: () => string | undefined = () => undefined,
): Effect.Effect<unknown, RemoteWalletError> =>
  Effect.gen(function* () {
    const write = RPC_METHODS[method] === "write"
    const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS
    const tries = write ? 1 : 1 + (options.readRetries ?? DEFAULT_READ_RETRIES)
    const text = yield* Effect.try({
      try: () => encodeRpcRequest({ wallet: walletId, method, args }),
      catch: (e) =>
        new InvalidArgument({
          argument: "args",
          reason: "cannot be sent to the wallet's owner",
          message: `the call's arguments cannot be sent (${describe(e)})`,
        }),
    })
    const subject = transport.subjectOf(walletId)
    const inDoubt = (reason: RemoteInDoubt["reason"], why: string) =>
      new RemoteInDoubt({
        walletId,
        method,
        reason,
        message: `${method} was sent to the wallet's owner but ${why}: it may have run (not retried; see history() and pending())`,
      })
    let last: RemoteWalletError = new RemoteUnavailable({ walletId, method, reason: "timeout", message: "" })
    for (let attempt = 0; attempt < tries; attempt++) {
      if (attempt > 0) yield* sleep(100 * 3 ** (attempt - 1))
      const outcome = yield* Effect.promise(() => transport.request(subject, text, timeoutMs))
      switch (outcome._tag) {
        case "Reply": {
          const decoded = yield* Effect.try({
            try: () => decodeRpcReply(outcome.text),
            catch: (e) =>
              write
                ? inDoubt("malformed-reply", `its reply does not decode (${describe(e)})`)
                : isCorecashuError(e)
                  ? asWalletError(e)
                  : new EngineInvariant({ message: describe(e) }),
          })
          if (decoded.ok) return decoded.value
          last = asWalletError(decoded.error)
          if (write || last._tag !== "WalletNotOwned") return yield* Effect.fail(last)
          break
        }
        case "NoResponders":
          // The server knows nobody serves the wallet: the request reached no one.
          last = new WalletNotOwned({
            walletId,
            owner: ownerHint(),
            message: "no node serves this wallet now (none owns it, or a takeover is under way)",
          })
          if (write) return yield* Effect.fail(last)
          break
        case "TooLarge":
          return yield* new RemoteUnavailable({
            walletId,
            method,
            reason: "too-large",
            message: "the request exceeds the NATS server's max_payload: not sent",
          })
        case "Timeout":
          if (write) return yield* inDoubt("timeout", `no reply came within ${timeoutMs} ms`)
          last = new RemoteUnavailable({
            walletId,
            method,
            reason: "timeout",
            message: `no reply within ${timeoutMs} ms, ${tries} tries`,
          })
          break
        case "Failed":
          if (write) return yield* inDoubt("connection", `the connection failed (${outcome.message})`)
          last = new RemoteUnavailable({
            walletId,
            method,
            reason: "connection",
            message: `the connection failed (${outcome.message})`,
          })
          break
      }
    }
    return yield* Effect.fail(last)
  })

/** Options of {@link connectCluster}. */
export interface ConnectClusterOptions extends RemoteOptions {
  /** NATS server URLs of the cluster the engine nodes use. */
  readonly servers: string | ReadonlyArray<string>
  /** The log's subject prefix (the nodes' `store.subjectPrefix`; default `cc`). */
  readonly subjectPrefix?: string
}

/**
 * A thin client of a cluster of engine nodes: no log, no vault, no wallets of its own — it only routes
 * calls to the node that owns each wallet. Built by {@link connectCluster}.
 */
export class Cluster {
  readonly #transport: RpcTransport
  readonly #scope: Scope.Closeable
  readonly #defaults: RemoteArgs
  #closed = false

  private constructor(transport: RpcTransport, scope: Scope.Closeable, defaults: RemoteArgs) {
    this.#transport = transport
    this.#scope = scope
    this.#defaults = defaults
  }

  /** @internal */
  static make(transport: RpcTransport, scope: Scope.Closeable, defaults: RemoteArgs): Cluster {
    return new Cluster(transport, scope, defaults)
  }

  /** A wallet of the cluster, wherever it is owned. Throws `InvalidArgument` for a malformed id or option. */
  wallet(walletId: string, options?: RemoteOptions): RemoteWallet {
    const a = remoteArgs(walletId, options)
    const opts = { ...this.#defaults, ...a.options }
    return new RemoteWallet(a.walletId, (method, args) =>
      this.#closed
        ? Effect.fail(
            new RemoteUnavailable({ walletId, method, reason: "closed", message: "the client is closed" }),
          )
        : callRemote(this.#transport, a.walletId, method, args, opts),
    )
  }

  /** Closes the connection. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    return Effect.runPromise(Scope.close(this.#scope, Exit.void))
  }
}

/**
 * Connects a thin client to a cluster of engine nodes (issue #12): `cluster.wallet(id)` calls any wallet's
 * operations on the node that owns it. Fails with `InvalidArgument` for wrong options, `StoreUnavailable`
 * when NATS cannot be reached.
 */
export const connectCluster = (options: ConnectClusterOptions): Promise<Cluster> =>
  Effect.runPromise(connectClusterEffect(options))

/** {@link connectCluster} as an Effect. */
export const connectClusterEffect = (
  options: ConnectClusterOptions,
): Effect.Effect<Cluster, InvalidArgument | import("../model/index.js").StoreUnavailable> =>
  Effect.gen(function* () {
    const o = yield* checked(() => connectClusterArgs(options))
    const { openNatsRpc } = yield* Effect.promise(() => import("../infra/nats-rpc.js"))
    const scope = yield* Scope.make()
    const transport = yield* openNatsRpc({
      servers: o.servers,
      ...(o.subjectPrefix !== undefined ? { subjectPrefix: o.subjectPrefix } : {}),
      name: "corecashu-client",
    }).pipe(
      Scope.provide(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))),
    )
    return Cluster.make(transport, scope, o.options)
  })

/** @internal A closed engine's routed call. */
export const closedCall = (): Effect.Effect<never, EngineClosed> =>
  Effect.fail(new EngineClosed({ message: "the engine is closed" }))
