/**
 * The wallet engine: `Engine.open(...)`, hosted {@link Wallet}s, the engine's tagged errors, and every type a
 * public method of `Engine` or `Wallet` takes or returns (`test/engine/public-types.test.ts` names each of
 * them through the package's entry point). The engine's internals (`./internal.ts`, test hooks, the raw log)
 * are not exported.
 *
 * @module
 */

export type { HeadAttestation } from "../events/attestation.js"
export type { GroupPosition, GroupSealing, PayloadSealer } from "../events/sealer.js"
export type { LevelDbAccess } from "../infra/leveldb-store.js"
export type { LoggingOptions } from "../infra/logging/logger.js"
export { LOG_FIELDS, type LogFieldName, type LogFieldValue, type LogRecord } from "../infra/logging/record.js"
export type { CircuitBreakerOptions } from "../infra/mint-client/circuit-breaker.js"
export type { MintClientHttpOptions, MintClientOptions } from "../infra/mint-client/http.js"
export type { RateLimitOptions } from "../infra/mint-client/rate-limit.js"
export type { RetryOptions } from "../infra/mint-client/retry.js"
export type { IdleTimeoutOverrides, TimedEndpoint, TimeoutOverrides } from "../infra/mint-client/timeouts.js"
/** Where `Engine.open({ telemetry: { http } })` listens, and where `engine.telemetryAddress` says it does. */
export type { TelemetryAddress, TelemetryHttpOptions } from "../infra/telemetry/http.js"
export type { OtlpOptions } from "../infra/tracing.js"
export type { ScryptParams, VaultOptions } from "../infra/vault.js"
export type { RefusalKind } from "../machines/lifecycle.js"
export type { SagaState } from "../machines/saga.js"
export * from "../model/index.js"
export type { MintClientShape } from "../ports/mint-client.js"
export {
  APP_EVENT_TAGS,
  APP_EVENT_VERSION,
  type AppEvent,
  type AppEventBase,
  type AppEventTag,
  type BalanceAmounts,
  type BalanceChangedEvent,
  type MeltPaidEvent,
  type MintQuotePaidEvent,
  type OperationPendingEvent,
  type OperationRevertedEvent,
  type OperationSettledEvent,
  type OperationStartedEvent,
  type TokenReceivedEvent,
} from "../projections/app-events.js"
export type { AuditResult, AuditScope, Violation, ViolationKind } from "../projections/audit.js"
export type { Balance } from "../projections/balances.js"
export type { OperationStatus, OperationView } from "../projections/operations.js"
export type { AppEventsError, AppEventsOptions } from "./app-events.js"
export * from "./engine.js"
/** `engine.health()`'s report and options, and the `telemetry` option of `Engine.open` (`./health.ts`). */
export type {
  CheckpointHealth,
  EngineTelemetryOptions,
  HealthOptions,
  HealthReport,
  HealthStatus,
  InDoubtOperation,
  MintHealth,
  OperationsHealth,
  StoreHealth,
} from "./health.js"
export type { MintSync } from "./mints.js"
/** `wallet.checkToken(token)`'s answer: the state of a token's proofs per mint, nothing received (`./ops/check-token.ts`). */
export type { TokenMintState, TokenProofState, TokenState } from "./ops/check-token.js"
export type { CheckPendingResult, ReclaimResult } from "./ops/checkstate.js"
export type { MeltQuoteRequest, MeltQuoteResult, MeltResult } from "./ops/melt.js"
export type { MintOptions, MintQuoteRequest, MintQuoteResult, MintResult } from "./ops/mint.js"
/**
 * Fee previews (`wallet.prepareSend`, `prepareReceive`, `prepareMelt`): the proofs an operation would spend
 * (amount and keyset, never secrets) and its exact fees, computed by the operation's own selection and fee
 * code on the wallet's current state, with nothing reserved, recorded or sent (`./ops/preview.ts`).
 */
export type { MeltPreview, PreviewProof, ReceivePreview, SendPreview } from "./ops/preview.js"
export type { ReceiveOptions, ReceiveResult } from "./ops/receive.js"
export type { RestoreRequest, RestoreResult } from "./ops/restore.js"
export type { SendRequest, SendResult } from "./ops/send.js"
export type { SplitRequest, SplitResult } from "./ops/split.js"
export type { RecoveryReport } from "./recovery.js"
export {
  Cluster,
  type ConnectClusterOptions,
  connectCluster,
  connectClusterEffect,
  type RemoteOptions,
  RemoteWallet,
  type RemoteWalletEffects,
  type RemoteWalletError,
} from "./routing.js"
export { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from "./runtime.js"
export * from "./wallet.js"
