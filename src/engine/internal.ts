/**
 * The engine's internals, for the project's own tests, benchmarks, simulations and tools. NOT part of the
 * package's API: nothing re-exports this module (`src/index.ts`, `src/engine/index.ts`), and the package's
 * `exports` map has no path to it, so a user of the package cannot import it.
 *
 * The public {@link Engine} and {@link Wallet} objects keep what they are built from in ES private fields
 * (`#…`), which no property access, enumeration or reflection reaches: a caller holding an engine cannot get
 * to its event store (whose `WalletCreated` events hold mnemonics) or a wallet's runtime (its seed). They
 * register those parts here, in WeakMaps only this module reads; the accessors below hand them to the code
 * that imports this module by its path.
 *
 * Engine hooks (crash points for the crash tests) are passed the same way: {@link withHooks} returns a copy
 * of `Engine.open`'s options carrying the hooks under a symbol only this module holds, so the public options
 * type has no `hooks` key (a `hooks` key is refused as unknown). A symbol, not a WeakMap: a test helper that
 * spreads the options into its own object (`{ ...defaults, ...opts }`) keeps them.
 *
 * @module
 */
import type { EventStoreShape } from "../ports/event-store.js"
import type { EngineHooks, EngineServices, WalletRuntime } from "./runtime.js"

/** What an `Engine` registers: the services every wallet of it shares. */
const engines = new WeakMap<object, EngineServices>()
/** What a `Wallet` registers: its runtime (single writer, seed, services). */
const runtimes = new WeakMap<object, WalletRuntime>()
/** The key of the hooks on `Engine.open` options made by {@link withHooks}; never exported. */
const HOOKS: unique symbol = Symbol("corecashu.engine-hooks")

/** How the engine builds a wallet: set once by the `Wallet` class, whose constructor is private. */
let walletFactory: ((rt: WalletRuntime, privateKey: PrivateKey, audit: WalletAudit) => object) | undefined

/** The wallet's P2PK private key (hex), or how to derive it on first use (from the runtime's lazy seed). */
export type PrivateKey = string | (() => string)

/** The engine's replay audit, as a wallet calls it. */
export type WalletAudit = () => import("effect").Effect.Effect<
  import("../projections/audit.js").AuditResult,
  import("../model/errors/store.js").StoreError
>

/** @internal Called by `Engine` for every engine it opens. */
export const registerEngine = (engine: object, services: EngineServices): void => {
  engines.set(engine, services)
}

/** @internal Called by the `Wallet` class once, at definition. */
export const registerWalletFactory = (
  make: (rt: WalletRuntime, privateKey: PrivateKey, audit: WalletAudit) => object,
): void => {
  walletFactory ??= make
}

/** @internal Called by `Engine` to build a wallet; `W` is the `Wallet` class's instance type. */
export const newWallet = <W extends object>(
  rt: WalletRuntime,
  privateKey: PrivateKey,
  audit: WalletAudit,
): W => {
  if (walletFactory === undefined) throw new Error("the Wallet class is not loaded")
  const wallet = walletFactory(rt, privateKey, audit) as W
  runtimes.set(wallet, rt)
  return wallet
}

/** The services of an engine (store, mint client, projections, clock, options, hooks). */
export const engineServices = (engine: object): EngineServices => {
  const s = engines.get(engine)
  if (s === undefined) throw new Error("not an engine")
  return s
}

/** The event store of an engine: the raw log, secrets included (audits, tests, tools). */
export const engineStore = (engine: object): EventStoreShape => engineServices(engine).store

/** The runtime of a wallet: its single writer, seed, projections' view and services. */
export const walletRuntime = (wallet: object): WalletRuntime => {
  const rt = runtimes.get(wallet)
  if (rt === undefined) throw new Error("not a wallet")
  return rt
}

/** A copy of `Engine.open`'s options that opens the engine with test `hooks` (crash points). */
export const withHooks = <O extends object>(opts: O, hooks: EngineHooks): O => ({ ...opts, [HOOKS]: hooks })

/** @internal The hooks {@link withHooks} attached to `opts`, if any. */
export const hooksOf = (opts: unknown): EngineHooks | undefined =>
  typeof opts === "object" && opts !== null ? (opts as { [HOOKS]?: EngineHooks })[HOOKS] : undefined

export type { EngineHooks, EngineServices, WalletRuntime }
