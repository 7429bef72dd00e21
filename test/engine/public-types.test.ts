/**
 * Every type a public method of `Engine` or `Wallet` takes or returns can be named from the package's entry
 * point (`src/index.ts`, what `import … from "corecashu"` reaches): a user can annotate what they pass and
 * what they get back. The assertions are types (`expectTypeOf`), checked by `tsc --noEmit` over the tests: a
 * method that starts returning a type the entry does not export fails the typecheck. The runtime part checks
 * that every tagged error class is exported and recognised by `isCorecashuError`.
 */
import { Effect, type Stream } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import type * as Api from "../../src/index.js"
import * as Entry from "../../src/index.js"

type Resolved<F extends (...args: never) => unknown> = Awaited<ReturnType<F>>
type EffectOf<F extends (...args: never) => unknown> = Effect.Success<ReturnType<F>>
type ErrorOf<F extends (...args: never) => unknown> = Effect.Error<ReturnType<F>>

describe("Engine's methods take and return types the entry exports", () => {
  it("open, attestHead, createWallet, wallet, walletIds, audit, close", () => {
    expectTypeOf(Entry.Engine.open).parameter(0).toEqualTypeOf<Api.EngineOpenOptions>()
    expectTypeOf<Resolved<typeof Entry.Engine.open>>().toEqualTypeOf<Api.Engine>()
    expectTypeOf<EffectOf<typeof Entry.Engine.openEffect>>().toEqualTypeOf<Api.Engine>()
    expectTypeOf<ErrorOf<typeof Entry.Engine.openEffect>>().toEqualTypeOf<Api.WalletError | Api.StoreError>()
    expectTypeOf<Resolved<Api.Engine["attestHead"]>>().toEqualTypeOf<Api.HeadAttestation>()
    expectTypeOf<EffectOf<Api.Engine["attestHeadEffect"]>>().toEqualTypeOf<Api.HeadAttestation>()
    expectTypeOf<ErrorOf<Api.Engine["attestHeadEffect"]>>().toEqualTypeOf<Api.StoreError>()
    expectTypeOf<Api.Engine["createWallet"]>()
      .parameter(0)
      .toEqualTypeOf<Api.CreateWalletOptions | undefined>()
    expectTypeOf<Resolved<Api.Engine["createWallet"]>>().toEqualTypeOf<Api.Wallet>()
    expectTypeOf<EffectOf<Api.Engine["createWalletEffect"]>>().toEqualTypeOf<Api.Wallet>()
    expectTypeOf<ErrorOf<Api.Engine["createWalletEffect"]>>().toEqualTypeOf<Api.WalletError>()
    expectTypeOf<ReturnType<Api.Engine["wallet"]>>().toEqualTypeOf<Api.Wallet>()
    expectTypeOf<ReturnType<Api.Engine["walletIds"]>>().toEqualTypeOf<string[]>()
    expectTypeOf<Resolved<Api.Engine["audit"]>>().toEqualTypeOf<Api.AuditResult>()
    expectTypeOf<EffectOf<Api.Engine["auditEffect"]>>().toEqualTypeOf<Api.AuditResult>()
    expectTypeOf<Resolved<Api.Engine["close"]>>().toEqualTypeOf<void>()
  })

  it("the option and result types' parts are exported too", () => {
    expectTypeOf<Api.EngineOpenOptions["options"]>().toEqualTypeOf<Partial<Api.EngineOptions> | undefined>()
    expectTypeOf<Api.EngineOpenOptions["vault"]>().toEqualTypeOf<Api.VaultOptions | undefined>()
    expectTypeOf<Api.EngineOpenOptions["mintClient"]>().toEqualTypeOf<Api.MintClientChoice | undefined>()
    expectTypeOf<Api.MintClientChoice>().toEqualTypeOf<Api.MintClientShape | Api.MintClientHttpOptions>()
    expectTypeOf<Api.VaultOptions["scrypt"]>().toEqualTypeOf<Api.ScryptParams | undefined>()
    expectTypeOf<Api.MintClientHttpOptions>().toExtend<Api.MintClientOptions>()
    expectTypeOf<Api.MintClientOptions["retry"]>().toEqualTypeOf<Partial<Api.RetryOptions> | undefined>()
    expectTypeOf<Api.MintClientOptions["circuitBreaker"]>().toEqualTypeOf<
      Partial<Api.CircuitBreakerOptions> | undefined
    >()
    expectTypeOf<Api.MintClientOptions["rateLimit"]>().toEqualTypeOf<
      Partial<Api.RateLimitOptions> | undefined
    >()
    expectTypeOf<Api.MintClientOptions["timeouts"]>().toEqualTypeOf<Api.TimeoutOverrides | undefined>()
    expectTypeOf<Api.MintClientOptions["idleTimeouts"]>().toEqualTypeOf<
      Api.IdleTimeoutOverrides | undefined
    >()
    expectTypeOf<Api.EngineOpenOptions>().toExtend<Api.LevelDbAccess>()
    expectTypeOf<{ sealer: Api.PayloadSealer }>().toExtend<Api.LevelDbAccess>()
    expectTypeOf<Extract<Api.AuditResult, { ok: false }>["violation"]>().toEqualTypeOf<Api.Violation>()
    expectTypeOf<Api.Violation["kind"]>().toEqualTypeOf<Api.ViolationKind>()
    expectTypeOf<Api.AuditResult["scope"]>().toEqualTypeOf<Api.AuditScope>()
    expectTypeOf<Api.OperationView["kind"]>().toEqualTypeOf<Api.OperationKind>()
    expectTypeOf<Api.OperationView["status"]>().toEqualTypeOf<Api.OperationStatus>()
    expectTypeOf<Api.OperationView["compensation"]>().toEqualTypeOf<Api.CompensationReason | undefined>()
    expectTypeOf<Api.SendRequest["lock"]>().toEqualTypeOf<
      ({ readonly pubkey: string } & Api.LockOptions) | undefined
    >()
  })

  it("no internals: the options have no hooks, the engine no store, the wallet no runtime", () => {
    expectTypeOf<Api.EngineOpenOptions>().not.toHaveProperty("hooks")
    expectTypeOf<Api.Engine>().not.toHaveProperty("store")
    expectTypeOf<Api.Wallet>().not.toHaveProperty("runtime")
    expectTypeOf<typeof Entry>().not.toHaveProperty("withHooks")
    expectTypeOf<typeof Entry>().not.toHaveProperty("engineStore")
    expectTypeOf<typeof Entry>().not.toHaveProperty("walletRuntime")
  })
})

describe("Wallet's methods take and return types the entry exports", () => {
  it("the Promise methods", () => {
    type W = Api.Wallet
    expectTypeOf<Resolved<W["audit"]>>().toEqualTypeOf<Api.AuditResult>()
    expectTypeOf<W["id"]>().toEqualTypeOf<string>()
    expectTypeOf<ReturnType<W["publicKey"]>>().toEqualTypeOf<string>()
    expectTypeOf<Resolved<W["addMint"]>>().toEqualTypeOf<Api.MintSync>()
    expectTypeOf<W["mintQuote"]>().parameter(0).toEqualTypeOf<Api.MintQuoteRequest>()
    expectTypeOf<Resolved<W["mintQuote"]>>().toEqualTypeOf<Api.MintQuoteResult>()
    expectTypeOf<W["mint"]>().parameter(1).toEqualTypeOf<Api.MintOptions | undefined>()
    expectTypeOf<Resolved<W["mint"]>>().toEqualTypeOf<Api.MintResult>()
    expectTypeOf<W["swap"]>().parameter(0).toEqualTypeOf<Api.SwapArgs>()
    expectTypeOf<Api.SwapArgs>().toEqualTypeOf<Omit<Api.SplitRequest, "unit"> & { readonly unit?: string }>()
    expectTypeOf<Resolved<W["swap"]>>().toEqualTypeOf<Api.SplitResult>()
    expectTypeOf<W["send"]>().parameter(0).toEqualTypeOf<Api.SendArgs>()
    expectTypeOf<Api.SendArgs>().toEqualTypeOf<Omit<Api.SendRequest, "unit"> & { readonly unit?: string }>()
    expectTypeOf<Resolved<W["send"]>>().toEqualTypeOf<Api.SendResult>()
    expectTypeOf<W["receive"]>().parameter(1).toEqualTypeOf<Api.ReceiveOptions | undefined>()
    expectTypeOf<Resolved<W["receive"]>>().toEqualTypeOf<Api.ReceiveResult>()
    expectTypeOf<W["meltQuote"]>().parameter(0).toEqualTypeOf<Api.MeltQuoteRequest>()
    expectTypeOf<Resolved<W["meltQuote"]>>().toEqualTypeOf<Api.MeltQuoteResult>()
    expectTypeOf<Resolved<W["melt"]>>().toEqualTypeOf<Api.MeltResult>()
    expectTypeOf<Resolved<W["checkPending"]>>().toEqualTypeOf<Api.CheckPendingResult>()
    expectTypeOf<Resolved<W["prepareSend"]>>().toEqualTypeOf<Api.SendPreview>()
    expectTypeOf<Resolved<W["prepareReceive"]>>().toEqualTypeOf<Api.ReceivePreview>()
    expectTypeOf<Resolved<W["prepareMelt"]>>().toEqualTypeOf<Api.MeltPreview>()
    expectTypeOf<Api.SendPreview["proofs"]>().toEqualTypeOf<ReadonlyArray<Api.PreviewProof>>()
    expectTypeOf<W["checkToken"]>().parameter(0).toEqualTypeOf<string>()
    expectTypeOf<Resolved<W["checkToken"]>>().toEqualTypeOf<Api.TokenState>()
    expectTypeOf<Api.TokenState["mints"]>().toEqualTypeOf<ReadonlyArray<Api.TokenMintState>>()
    expectTypeOf<Api.TokenMintState["proofs"]>().toEqualTypeOf<ReadonlyArray<Api.TokenProofState>>()
    expectTypeOf<Api.TokenProofState["state"]>().toEqualTypeOf<Api.ProofState>()
    expectTypeOf<Resolved<W["reclaim"]>>().toEqualTypeOf<Api.ReclaimResult>()
    expectTypeOf<W["restore"]>().parameter(0).toEqualTypeOf<Api.RestoreRequest>()
    expectTypeOf<Resolved<W["restore"]>>().toEqualTypeOf<Api.RestoreResult>()
    expectTypeOf<Resolved<W["recover"]>>().toEqualTypeOf<Api.RecoveryReport>()
    expectTypeOf<ReturnType<W["balances"]>>().toEqualTypeOf<Api.Balance[]>()
    expectTypeOf<ReturnType<W["balance"]>>().toEqualTypeOf<bigint>()
    expectTypeOf<ReturnType<W["history"]>>().toEqualTypeOf<Api.OperationView[]>()
    expectTypeOf<ReturnType<W["pending"]>>().toEqualTypeOf<Api.PendingEntry[]>()
    expectTypeOf<ReturnType<W["mnemonic"]>>().toEqualTypeOf<string>()
    expectTypeOf<W["effect"]>().toEqualTypeOf<Api.WalletEffects>()
  })

  it("the Effect twins: same values, failing with WalletError", () => {
    type E = Api.WalletEffects
    expectTypeOf<EffectOf<E["addMint"]>>().toEqualTypeOf<Api.MintSync>()
    expectTypeOf<EffectOf<E["mintQuote"]>>().toEqualTypeOf<Api.MintQuoteResult>()
    expectTypeOf<EffectOf<E["mint"]>>().toEqualTypeOf<Api.MintResult>()
    expectTypeOf<EffectOf<E["swap"]>>().toEqualTypeOf<Api.SplitResult>()
    expectTypeOf<EffectOf<E["send"]>>().toEqualTypeOf<Api.SendResult>()
    expectTypeOf<EffectOf<E["receive"]>>().toEqualTypeOf<Api.ReceiveResult>()
    expectTypeOf<EffectOf<E["meltQuote"]>>().toEqualTypeOf<Api.MeltQuoteResult>()
    expectTypeOf<EffectOf<E["melt"]>>().toEqualTypeOf<Api.MeltResult>()
    expectTypeOf<EffectOf<E["checkPending"]>>().toEqualTypeOf<Api.CheckPendingResult>()
    expectTypeOf<EffectOf<E["prepareSend"]>>().toEqualTypeOf<Api.SendPreview>()
    expectTypeOf<EffectOf<E["prepareReceive"]>>().toEqualTypeOf<Api.ReceivePreview>()
    expectTypeOf<EffectOf<E["prepareMelt"]>>().toEqualTypeOf<Api.MeltPreview>()
    expectTypeOf<EffectOf<E["checkToken"]>>().toEqualTypeOf<Api.TokenState>()
    expectTypeOf<EffectOf<E["reclaim"]>>().toEqualTypeOf<Api.ReclaimResult>()
    expectTypeOf<EffectOf<E["restore"]>>().toEqualTypeOf<Api.RestoreResult>()
    expectTypeOf<EffectOf<E["recover"]>>().toEqualTypeOf<Api.RecoveryReport>()
    expectTypeOf<ErrorOf<E["send"]>>().toEqualTypeOf<Api.WalletError>()
    expectTypeOf<Api.InvalidArgument>().toExtend<Api.WalletError>()
    expectTypeOf<Api.WalletError>().toExtend<Api.CorecashuError>()
    expectTypeOf<Api.StoreError>().toExtend<Api.CorecashuError>()
  })
})

describe("app events (issue #15) are typed from the entry", () => {
  it("engine.events / eventsEffect, wallet.events / effect.events", () => {
    expectTypeOf<Api.Engine["events"]>().parameter(0).toEqualTypeOf<Api.AppEventsOptions | undefined>()
    expectTypeOf<ReturnType<Api.Engine["events"]>>().toEqualTypeOf<AsyncIterable<Api.AppEvent>>()
    expectTypeOf<ReturnType<Api.Engine["eventsEffect"]>>().toEqualTypeOf<
      Stream.Stream<Api.AppEvent, Api.AppEventsError>
    >()
    expectTypeOf<ReturnType<Api.Wallet["events"]>>().toEqualTypeOf<AsyncIterable<Api.AppEvent>>()
    expectTypeOf<ReturnType<Api.WalletEffects["events"]>>().toEqualTypeOf<
      Stream.Stream<Api.AppEvent, Api.AppEventsError>
    >()
    expectTypeOf<Api.AppEventsError>().toExtend<Api.CorecashuError>()
    expectTypeOf<Api.AppEvent["_tag"]>().toEqualTypeOf<Api.AppEventTag>()
    expectTypeOf<Extract<Api.AppEvent, { _tag: "BalanceChanged" }>>().toEqualTypeOf<Api.BalanceChangedEvent>()
    expectTypeOf<Api.BalanceChangedEvent["balance"]>().toEqualTypeOf<Api.BalanceAmounts>()
    expectTypeOf<Api.AppEvent>().toExtend<Api.AppEventBase>()
    expectTypeOf<Api.AppEvent["version"]>().toEqualTypeOf<typeof Entry.APP_EVENT_VERSION>()
    expect(Entry.APP_EVENT_TAGS.length).toBe(8)
    for (const tag of Entry.APP_EVENT_TAGS) expect(Entry.CORECASHU_ERROR_TAGS.has(tag as never)).toBe(false)
  })
})

describe("every error class is exported and recognised", () => {
  it("one exported class per tag, each an Error that isCorecashuError knows", () => {
    const exported = Entry as unknown as Record<string, unknown>
    expect(Entry.CORECASHU_ERROR_TAGS.size).toBeGreaterThanOrEqual(30)
    for (const tag of Entry.CORECASHU_ERROR_TAGS) {
      const Class = exported[tag]
      expect(typeof Class, tag).toBe("function")
      const e = new (Class as new (args: object) => { _tag: string })({ message: "m" })
      expect(e._tag).toBe(tag)
      expect(e).toBeInstanceOf(Error)
      expect(Entry.isCorecashuError(e)).toBe(true)
    }
    expect(Entry.isCorecashuError(new Error("x"))).toBe(false)
  })

  it("the errors the issue names", () => {
    for (const name of ["MintRejected", "MintUnreachable", "MintAmbiguous", "MintTimeout", "InvalidArgument"])
      expect(typeof (Entry as unknown as Record<string, unknown>)[name]).toBe("function")
    const e = new Entry.InvalidArgument({ argument: "amount", reason: "r", message: "m" })
    expect(Entry.isCorecashuError(e)).toBe(true)
    expect(Effect.runSync(Effect.flip(Effect.fail(e)))._tag).toBe("InvalidArgument")
  })
})

describe("metrics and health (issue #15) are typed from the entry", () => {
  it("metrics, health, telemetryAddress and the telemetry option", () => {
    expectTypeOf<Resolved<Api.Engine["metrics"]>>().toEqualTypeOf<string>()
    expectTypeOf<EffectOf<Api.Engine["metricsEffect"]>>().toEqualTypeOf<string>()
    expectTypeOf<Api.Engine["health"]>().parameter(0).toEqualTypeOf<Api.HealthOptions | undefined>()
    expectTypeOf<Resolved<Api.Engine["health"]>>().toEqualTypeOf<Api.HealthReport>()
    expectTypeOf<EffectOf<Api.Engine["healthEffect"]>>().toEqualTypeOf<Api.HealthReport>()
    expectTypeOf<ErrorOf<Api.Engine["healthEffect"]>>().toEqualTypeOf<Api.InvalidArgument>()
    expectTypeOf<Api.Engine["telemetryAddress"]>().toEqualTypeOf<Api.TelemetryAddress | undefined>()
    expectTypeOf<Api.EngineOpenOptions["telemetry"]>().toEqualTypeOf<Api.EngineTelemetryOptions | undefined>()
    expectTypeOf<Api.EngineTelemetryOptions["http"]>().toEqualTypeOf<Api.TelemetryHttpOptions | undefined>()
    expectTypeOf<Api.HealthReport["status"]>().toEqualTypeOf<Api.HealthStatus>()
    expectTypeOf<Api.HealthReport["store"]>().toEqualTypeOf<Api.StoreHealth>()
    expectTypeOf<Api.HealthReport["mints"]>().toEqualTypeOf<ReadonlyArray<Api.MintHealth>>()
    expectTypeOf<Api.HealthReport["operations"]>().toEqualTypeOf<Api.OperationsHealth>()
    expectTypeOf<Api.OperationsHealth["oldest"]>().toEqualTypeOf<ReadonlyArray<Api.InDoubtOperation>>()
    expectTypeOf<Api.HealthReport["checkpoints"]>().toEqualTypeOf<Api.CheckpointHealth>()
  })
})
