/**
 * The wallet engine: `Engine.open(...)`, hosted {@link Wallet}s, and the engine's tagged errors.
 *
 * @module
 */
export * from "./engine.js"
export * from "./errors.js"
export type { CheckPendingResult, ReclaimResult } from "./ops/checkstate.js"
export type { MeltQuoteRequest, MeltQuoteResult, MeltResult } from "./ops/melt.js"
export type { MintOptions, MintQuoteRequest, MintQuoteResult, MintResult } from "./ops/mint.js"
export type { ReceiveOptions, ReceiveResult } from "./ops/receive.js"
export type { RestoreRequest, RestoreResult } from "./ops/restore.js"
export type { SendRequest, SendResult } from "./ops/send.js"
export type { SplitRequest, SplitResult } from "./ops/split.js"
export type { RecoveryReport } from "./recovery.js"
export { DEFAULT_ENGINE_OPTIONS, type EngineHooks, type EngineOptions } from "./runtime.js"
export * from "./wallet.js"
