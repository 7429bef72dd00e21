/**
 * The bottom layer: the data model and every error class the project raises. It imports no other layer of
 * the project, so every layer can use it and none of them forms a cycle through it (`test/architecture.test.ts`
 * holds the layer rules).
 *
 * @module
 */
import type { EngineError } from "./errors/engine.js"
import type { MintCallError } from "./errors/mint.js"
import type { PureError } from "./errors/pure.js"
import type { RemoteError } from "./errors/remote.js"
import type { ProjectionStateError, StoreError, WrongExpectedVersion } from "./errors/store.js"

export * from "./errors/engine.js"
export * from "./errors/mint.js"
export * from "./errors/pure.js"
export * from "./errors/remote.js"
export * from "./errors/store.js"
export * from "./models.js"
export * from "./operations.js"

/** Every tagged error the package's public API can fail with. */
export type CorecashuError =
  | PureError
  | MintCallError
  | StoreError
  | WrongExpectedVersion
  | ProjectionStateError
  | EngineError
  | RemoteError

/** The `_tag` of every {@link CorecashuError}; `test/model/errors.test.ts` checks it against every class. */
export const CORECASHU_ERROR_TAGS: ReadonlySet<CorecashuError["_tag"]> = new Set<CorecashuError["_tag"]>([
  "DecodeError",
  "CryptoError",
  "VerificationError",
  "KeysetError",
  "AmountError",
  "MintProtocolError",
  "MintRejected",
  "MintAmbiguous",
  "MintUnreachable",
  "MintTimeout",
  "MintNotSent",
  "StoreLocked",
  "StoreCorrupted",
  "StoreUnavailable",
  "EventCodecError",
  "VaultError",
  "WrongExpectedVersion",
  "ProjectionStateError",
  "UnknownWallet",
  "WalletNotOwned",
  "WalletExists",
  "UnknownMint",
  "InsufficientFunds",
  "OperationFailed",
  "OperationInDoubt",
  "QuoteNotClaimable",
  "TokenRejected",
  "QuoteRejected",
  "EngineClosed",
  "EngineInvariant",
  "InvalidArgument",
  "SignatureMismatch",
  "RemoteInDoubt",
  "RemoteUnavailable",
])

/** True when `u` is one of the project's tagged errors (any layer's). */
export const isCorecashuError = (u: unknown): u is CorecashuError =>
  typeof u === "object" && u !== null && CORECASHU_ERROR_TAGS.has((u as { _tag?: unknown })._tag as never)
