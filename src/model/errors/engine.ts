/**
 * The engine's tagged errors: what a wallet call can fail with, besides the pure layers' errors
 * (`./pure.ts`), the store's (`./store.ts`) and the mint client's (`./mint.ts`).
 *
 * The split that matters to a caller holding money:
 * - {@link OperationFailed}: the operation ended without effect (definitive); its inputs were released.
 * - {@link OperationInDoubt}: the outcome is not known yet (an ambiguous mint failure, or a step the wallet's
 *   log did not confirm); the inputs stay held by the operation and recovery settles it (`wallet.recover()`,
 *   or the next open). Nothing is lost.
 *
 * No error carries secret material: no secrets, quote ids, tokens or mnemonics; amounts and ids are fine.
 *
 * @module
 */
import { Data } from "effect"
import type { CompensationReason, OperationKind } from "../operations.js"
import type { MintCallError } from "./mint.js"
import type { PureError } from "./pure.js"
import type { StoreUnavailable } from "./store.js"

/** The wallet id is not hosted by this engine. */
export class UnknownWallet extends Data.TaggedError("UnknownWallet")<{
  readonly walletId: string
  readonly message: string
}> {}

/**
 * The wallet exists, but this engine node does not own it (JetStream scale-out, issue #12): another node
 * holds its lease, or this node lost it (a lease it could not renew, or an append the server refused because
 * a new owner's ownership event moved the wallet on). `owner` is the last owner the log or the lease names,
 * when known. A call that was in flight when the wallet was lost ends with this error; its operation, if one
 * started, stays in the log as it was and the new owner's recovery settles it (never released blindly).
 */
export class WalletNotOwned extends Data.TaggedError("WalletNotOwned")<{
  readonly walletId: string
  readonly owner: string | undefined
  readonly message: string
}> {}

/** A wallet with this id already exists. */
export class WalletExists extends Data.TaggedError("WalletExists")<{
  readonly walletId: string
  readonly message: string
}> {}

/** The wallet does not trust this mint (call `addMint` first), or the mint has no active keyset for the unit. */
export class UnknownMint extends Data.TaggedError("UnknownMint")<{
  readonly mintUrl: string
  readonly unit: string | undefined
  readonly message: string
}> {}

/** Not enough spendable value at the mint and unit (fees included). */
export class InsufficientFunds extends Data.TaggedError("InsufficientFunds")<{
  readonly mintUrl: string
  readonly unit: string
  readonly needed: bigint
  readonly available: bigint
  readonly message: string
}> {}

/** The operation ended without effect: nothing was spent, its inputs are spendable again. */
export class OperationFailed extends Data.TaggedError("OperationFailed")<{
  readonly operationId: string
  readonly kind: OperationKind
  readonly reason: CompensationReason
  /** The mint's error code, when the mint refused. */
  readonly code: number | undefined
  readonly message: string
}> {}

/**
 * The outcome is not known yet: the mint may have processed the request. The operation keeps its inputs and
 * recovery will settle it (never by releasing blindly). For a melt this includes a payment still in flight.
 *
 * `reason`: `ambiguous` (the mint's answer did not settle it), `payment-pending` (a melt's payment in
 * flight), or `append-in-doubt`: the wallet's log did not confirm a step of the operation (its
 * acknowledgement was lost, a write failed, the call was interrupted), so the step **may have been
 * recorded or not**. The engine re-reads the wallet's stream before its next append, and recovery settles
 * the operation from whatever the log holds; if the step that did not get confirmed was the operation's
 * start, the operation may not exist at all (`history()` does not list it, and nothing of it happened).
 */
export class OperationInDoubt extends Data.TaggedError("OperationInDoubt")<{
  readonly operationId: string
  readonly kind: OperationKind
  readonly reason: "ambiguous" | "payment-pending" | "append-in-doubt"
  readonly code: number | undefined
  readonly message: string
}> {}

/** A mint quote cannot be claimed (yet): not paid, already issued, or expired. */
export class QuoteNotClaimable extends Data.TaggedError("QuoteNotClaimable")<{
  readonly operationId: string
  readonly state: "UNPAID" | "PENDING" | "ISSUED" | "EXPIRED"
  readonly message: string
}> {}

/** A token cannot be received: wrong mint or unit, failed DLEQ, foreign lock, already spent. */
export class TokenRejected extends Data.TaggedError("TokenRejected")<{
  readonly reason:
    | "unknown-mint"
    | "multi-mint"
    | "unit"
    | "dleq"
    | "keyset"
    | "locked"
    | "already-spent"
    | "empty"
    | "fees-exceed-value"
  readonly message: string
}> {}

/** A melt quote asks for more than the caller allowed (fee reserve cap), or its amount does not match. */
export class QuoteRejected extends Data.TaggedError("QuoteRejected")<{
  readonly reason: "fee-reserve-too-high" | "amount-mismatch" | "unit-mismatch" | "expired"
  readonly message: string
}> {}

/** The engine (or the wallet) was closed. */
export class EngineClosed extends Data.TaggedError("EngineClosed")<{ readonly message: string }> {}

/**
 * An engine invariant did not hold (a bug, or a log that another writer changed underneath): the engine
 * refuses to go on with this operation rather than guess. The log is unchanged by the failed step.
 */
export class EngineInvariant extends Data.TaggedError("EngineInvariant")<{
  readonly message: string
}> {}

/**
 * An argument of a public method is wrong: a `number` where an amount (`bigint`) belongs, an unknown option
 * key, a malformed URL or id. `argument` names it (`amount`, `opts.mintUrl`), `reason` says what is wrong;
 * neither carries the value (it may be a token or a mnemonic passed in the wrong place). Nothing ran.
 */
export class InvalidArgument extends Data.TaggedError("InvalidArgument")<{
  readonly argument: string
  readonly reason: string
  readonly message: string
}> {}

/**
 * The mint's signatures do not answer the outputs asked for (count, keyset or amount): a lying or broken
 * mint. Where it can leave the API (a restore scan), nothing was recorded.
 */
export class SignatureMismatch extends Data.TaggedError("SignatureMismatch")<{ readonly message: string }> {}

/** Every error the engine itself raises. */
export type EngineError =
  | UnknownWallet
  | WalletNotOwned
  | WalletExists
  | UnknownMint
  | InsufficientFunds
  | OperationFailed
  | OperationInDoubt
  | QuoteNotClaimable
  | TokenRejected
  | QuoteRejected
  | EngineClosed
  | EngineInvariant
  | InvalidArgument
  | SignatureMismatch
  /** Only as `in-doubt`: an append the log did not confirm, outside any operation (`addMint`). */
  | StoreUnavailable

/**
 * Everything a wallet call can fail with: the engine's own errors, the pure layers' (a bad token, a bad
 * amount, a keyset that does not check out) and the mint client's (a mint that could not be asked).
 */
export type WalletError = EngineError | PureError | MintCallError
