/**
 * The errors of a wallet call routed to the node that owns the wallet (issue #12, `src/engine/routing.ts`):
 * what can go wrong on the way, beside every error the owner's call itself can fail with (which arrive as
 * themselves, reconstructed from the wire).
 *
 * @module
 */
import { Data } from "effect"

/**
 * A routed call that changes the wallet (send, receive, mint, melt, …) got no usable answer: the request may
 * have reached the owner and run there — or not. The router never retries it (a retry could send twice);
 * the wallet's `history()` and `pending()` tell what happened, and the owner's recovery settles an operation
 * it left in doubt. `reason`: `timeout` (no reply in time), `malformed-reply` (a reply that does not decode),
 * `connection` (the connection failed after the request may have left).
 */
export class RemoteInDoubt extends Data.TaggedError("RemoteInDoubt")<{
  readonly walletId: string
  readonly method: string
  readonly reason: "timeout" | "malformed-reply" | "connection"
  readonly message: string
}> {}

/**
 * A routed call could not be made, and nothing ran: a read that got no answer after its retries, a request
 * too large to send, or a router that is closed. `reason` says which.
 */
export class RemoteUnavailable extends Data.TaggedError("RemoteUnavailable")<{
  readonly walletId: string
  readonly method: string
  readonly reason: "timeout" | "too-large" | "connection" | "closed"
  readonly message: string
}> {}

/** The errors of the way to a wallet's owner (not of the call). */
export type RemoteError = RemoteInDoubt | RemoteUnavailable
