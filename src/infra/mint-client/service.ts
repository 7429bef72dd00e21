/**
 * The `MintClient` service: one method per mint endpoint the engine uses, with typed failures. The engine
 * never sees HTTP; it sees decoded, schema-checked answers or one of the {@link MintCallError}s below, each
 * already classified as *definitive* (the mint refused, or the request never left: safe to release inputs)
 * or *ambiguous* (the mint may have processed it: recover, never release blindly). RELIABILITY §0.2.
 *
 * POSTs that move money (`swap`, `mint`, `melt`) take the request body as *text*: the engine stores the exact
 * bytes in `OperationPrepared` before the call, and a replay (NUT-19) must send those bytes verbatim.
 *
 * Policies (retry, timeouts, circuit breaker, rate limit, spans and metrics) live in the layer that builds
 * the service (`./http.ts`), not in callers. What a caller may rely on:
 * - GETs and `checkstate`/`restore` (read-only POSTs) are retried with backoff on ambiguous failures.
 * - `swap`/`mint` are replayed only when the mint lists the endpoint in NUT-19 `cached_endpoints`, the same
 *   bytes are sent, and `now < firstSentAt + ttl` (`firstSentAt` from {@link PostOptions}; CDK uses 300 s when
 *   the ttl is null). Never after an HTTP status answer: only after a timeout or a connection failure.
 * - `melt` has no overall timeout (NUT-05: a synchronous melt may take as long as the payment), but like every
 *   call it has an idle bound (120 s by default) and a body size cap, so a stalling or dripping mint fails it
 *   as an ambiguous `MintTimeout` (recovery settles it) instead of holding the caller for ever.
 * - Quote creation is retried once after no answer; any call is sent once more on a fresh connection when its
 *   connection was refused, and non-money calls also when it broke before any answer (`./http.ts`).
 *
 * @module
 */
import { Context, Data, type Effect } from "effect"
import type { FailureKind } from "../../protocol/mint-errors.js"
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
} from "../../protocol/schemas/index.js"

/** The mint endpoints, as names for metrics, spans, timeouts and errors. */
export type MintEndpoint =
  | "info"
  | "keysets"
  | "keys"
  | "mint-quote"
  | "mint-quote-state"
  | "mint"
  | "melt-quote"
  | "melt-quote-state"
  | "melt"
  | "swap"
  | "checkstate"
  | "restore"

/**
 * The mint answered with a refusal that is final: a Cashu error code classified definitive (11005, 12001,
 * 20001…) or a 4xx without a code. Releasing the inputs is safe.
 */
export class MintRejected extends Data.TaggedError("MintRejected")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly status: number
  readonly code: number | undefined
  /** The mint's text, truncated and scrubbed of quote ids and long hex (see `mintErrorFromResponse`). */
  readonly detail: string
  readonly message: string
}> {}

/**
 * The mint answered, but the answer does not settle the outcome: a 5xx, an ambiguous code (11001 already
 * spent, 11003 already signed, 20005 pending, unknown codes), or a 2xx whose body failed to decode or to
 * validate (a garbled success is still a possible success, CDK).
 */
export class MintAmbiguous extends Data.TaggedError("MintAmbiguous")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly status: number
  readonly code: number | undefined
  readonly reason: "status" | "code" | "malformed"
  readonly detail: string
  readonly message: string
}> {}

/** No answer: the connection failed or dropped after the request may have been sent. Ambiguous. */
export class MintUnreachable extends Data.TaggedError("MintUnreachable")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly message: string
}> {}

/**
 * No answer within the endpoint's timeout, or the answer stalled past the endpoint's idle bound (nothing for
 * `afterMs`: the headers, or the next piece of the body). `melt` has no timeout, only the idle bound. Ambiguous.
 */
export class MintTimeout extends Data.TaggedError("MintTimeout")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly afterMs: number
  readonly message: string
}> {}

/**
 * The request never left this process: the mint's circuit breaker is open, the rate limiter refused to wait
 * that long, or the request could not be built. Definitive (nothing reached the mint).
 */
export class MintNotSent extends Data.TaggedError("MintNotSent")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly reason: "circuit-open" | "rate-limited" | "invalid-request"
  /** For `rate-limited`: when the mint said it would accept requests again (epoch ms), when known. */
  readonly retryAt: number | undefined
  readonly message: string
}> {}

/** Every way a mint call can fail. */
export type MintCallError = MintRejected | MintAmbiguous | MintUnreachable | MintTimeout | MintNotSent

/** The failure's kind: only a mint refusal and a request that never left are definitive. */
export const failureKindOf = (e: MintCallError): FailureKind =>
  e._tag === "MintRejected" || e._tag === "MintNotSent" ? "definitive" : "ambiguous"

/** True when the failure is definitive (inputs may be released). */
export const isDefinitive = (e: MintCallError): boolean => failureKindOf(e) === "definitive"

/** Options of a money-moving POST. */
export interface PostOptions {
  /**
   * When the first attempt of these exact bytes left (epoch ms): replays are allowed only while
   * `now < firstSentAt + ttl` (NUT-19). Default: now (the call is the first attempt).
   */
  readonly firstSentAt?: number
  /** Set false to forbid any replay of this call (e.g. recovery wants exactly one attempt). Default true. */
  readonly allowReplay?: boolean
}

/** `{signatures}` as decoded (swap, mint). */
export type SignaturesResponse = typeof SignaturesResponseSchema.Type

/** The mint client contract. `mintUrl` is normalised (no trailing slash). */
export interface MintClientShape {
  readonly info: (mintUrl: string) => Effect.Effect<InfoResponse, MintCallError>
  readonly keysets: (mintUrl: string) => Effect.Effect<KeysetsResponse, MintCallError>
  /** `GET /v1/keys` (active keysets) or `GET /v1/keys/{keysetId}`. */
  readonly keys: (mintUrl: string, keysetId?: string) => Effect.Effect<KeysResponse, MintCallError>
  readonly mintQuote: (
    mintUrl: string,
    method: string,
    request: MintQuoteBolt11Request,
  ) => Effect.Effect<MintQuoteBolt11Response, MintCallError>
  readonly mintQuoteState: (
    mintUrl: string,
    method: string,
    quoteId: string,
  ) => Effect.Effect<MintQuoteBolt11Response, MintCallError>
  /** `POST /v1/mint/{method}` with the prepared body text. */
  readonly mint: (
    mintUrl: string,
    method: string,
    body: string,
    options?: PostOptions,
  ) => Effect.Effect<SignaturesResponse, MintCallError>
  readonly meltQuote: (
    mintUrl: string,
    method: string,
    request: MeltQuoteBolt11Request,
  ) => Effect.Effect<MeltQuoteBolt11Response, MintCallError>
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
  /** `POST /v1/swap` with the prepared body text. */
  readonly swap: (
    mintUrl: string,
    body: string,
    options?: PostOptions,
  ) => Effect.Effect<SignaturesResponse, MintCallError>
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
