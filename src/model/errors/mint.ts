/**
 * Tagged errors of mint I/O: what the mint said (a Cashu error body), and every way a call to it can fail,
 * each classified as *definitive* (the mint refused, or the request never left: safe to release inputs) or
 * *ambiguous* (the mint may have processed it: recover, never release blindly). The table of
 * codes: `src/protocol/mint-errors.ts`.
 *
 * @module
 */
import { Data } from "effect"

/** Whether a failed request may have been applied by the mint. */
export type FailureKind = "definitive" | "ambiguous"

/** A mint answered with a Cashu error body `{detail, code}`. */
export class MintProtocolError extends Data.TaggedError("MintProtocolError")<{
  /** The Cashu error code as sent (nutshell aliases are not rewritten here). */
  readonly code: number
  /** The table name of the code, or `Unknown`. */
  readonly codeName: string
  /** The mint's human-readable text, truncated, quote ids and long hex masked; untrusted, for display and logs. */
  readonly detail: string
  /** The HTTP status of the response. */
  readonly status: number
  readonly kind: FailureKind
  readonly message: string
}> {}

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
