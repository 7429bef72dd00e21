/**
 * The `MintClient` service: one method per mint endpoint the engine uses, with typed failures. The engine
 * never sees HTTP; it sees decoded, schema-checked answers or one of the {@link MintCallError}s below, each
 * already classified as *definitive* (the mint refused, or the request never left: safe to release inputs)
 * or *ambiguous* (the mint may have processed it: recover, never release blindly). The code
 * table: `src/protocol/mint-errors.ts`.
 *
 * POSTs that move money (`swap`, `mint`, `melt`) take the request body as *text*: the engine stores the exact
 * bytes in `OperationPrepared` before the call, and a replay (NUT-19) must send those bytes verbatim.
 *
 * Policies (retry, timeouts, circuit breaker, rate limit, spans and metrics) live in the layer that builds
 * the service (`./http.ts`), not in callers. What a caller may rely on:
 * - GETs and `checkstate`/`restore` (read-only POSTs) are retried with backoff on ambiguous failures.
 * - `swap`/`mint`/`melt` are sent once. A NUT-19 replay is the engine's decision (it records the attempt in
 *   the log before the bytes leave), never the client's.
 * - `melt` has no overall timeout (NUT-05: a synchronous melt may take as long as the payment), but like every
 *   call it has an idle bound (120 s by default) and a body size cap, so a stalling or dripping mint fails it
 *   as an ambiguous `MintTimeout` (recovery settles it) instead of holding the caller for ever.
 * - Quote creation is retried once after no answer; any call is sent once more on a fresh connection when its
 *   connection was refused, and non-money calls also when it broke before any answer (`./http.ts`).
 *
 * @module
 */
import { Context, type Effect } from "effect"
import type { MintCallError } from "../model/index.js"
import type {
  CheckStateResponse,
  InfoResponse,
  KeysetsResponse,
  KeysResponse,
  MeltQuoteBolt11Request,
  MeltQuoteBolt11Response,
  MintQuoteBolt11Request,
  MintQuoteBolt11Response,
  RestoreRequest,
  RestoreResponse,
  SignaturesResponseSchema,
} from "../protocol/schemas/index.js"

/** `{signatures}` as decoded (swap, mint). */
export type SignaturesResponse = typeof SignaturesResponseSchema.Type

/** The mint client contract. `mintUrl` is normalised (no trailing slash). */
export interface MintClientShape {
  /** `GET /v1/info`. */
  readonly info: (mintUrl: string) => Effect.Effect<InfoResponse, MintCallError>
  /** `GET /v1/keysets`. */
  readonly keysets: (mintUrl: string) => Effect.Effect<KeysetsResponse, MintCallError>
  /** `GET /v1/keys` (active keysets) or `GET /v1/keys/{keysetId}`. */
  readonly keys: (mintUrl: string, keysetId?: string) => Effect.Effect<KeysResponse, MintCallError>
  /** `POST /v1/mint/quote/{method}`. */
  readonly mintQuote: (
    mintUrl: string,
    method: string,
    request: MintQuoteBolt11Request,
  ) => Effect.Effect<MintQuoteBolt11Response, MintCallError>
  /** `GET /v1/mint/quote/{method}/{quoteId}`. */
  readonly mintQuoteState: (
    mintUrl: string,
    method: string,
    quoteId: string,
  ) => Effect.Effect<MintQuoteBolt11Response, MintCallError>
  /** `POST /v1/mint/{method}` with the prepared body text, sent once. */
  readonly mint: (
    mintUrl: string,
    method: string,
    body: string,
  ) => Effect.Effect<SignaturesResponse, MintCallError>
  /** `POST /v1/melt/quote/{method}`. */
  readonly meltQuote: (
    mintUrl: string,
    method: string,
    request: MeltQuoteBolt11Request,
  ) => Effect.Effect<MeltQuoteBolt11Response, MintCallError>
  /** `GET /v1/melt/quote/{method}/{quoteId}`. */
  readonly meltQuoteState: (
    mintUrl: string,
    method: string,
    quoteId: string,
  ) => Effect.Effect<MeltQuoteBolt11Response, MintCallError>
  /** `POST /v1/melt/{method}` with the prepared body text. No timeout, never replayed. */
  readonly melt: (
    mintUrl: string,
    method: string,
    body: string,
  ) => Effect.Effect<MeltQuoteBolt11Response, MintCallError>
  /** `POST /v1/swap` with the prepared body text, sent once. */
  readonly swap: (mintUrl: string, body: string) => Effect.Effect<SignaturesResponse, MintCallError>
  /** `POST /v1/checkstate` (read-only: retried like a GET). */
  readonly checkState: (
    mintUrl: string,
    ys: ReadonlyArray<string>,
  ) => Effect.Effect<CheckStateResponse, MintCallError>
  /** `POST /v1/restore` (read-only: retried like a GET). */
  readonly restore: (
    mintUrl: string,
    request: RestoreRequest,
  ) => Effect.Effect<RestoreResponse, MintCallError>
}

/** The `MintClient` service key. */
export class MintClient extends Context.Service<MintClient, MintClientShape>()("corecashu/MintClient") {}
