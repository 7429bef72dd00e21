/**
 * The HTTP implementation of {@link MintClient} over `effect/http`'s `HttpClient` (in production the
 * `FetchHttpClient`). Each call runs, outside in: span and metrics (`telemetry.ts`) → retry policy (`retry.ts`;
 * a money POST — swap, mint, melt — is sent once: a NUT-19 replay is the engine's, which records every attempt
 * in the log before it leaves) → per attempt: rate limiter (`rate-limit.ts`) → circuit breaker (`circuit-breaker.ts`) →
 * timeout (`timeouts.ts`) → the exchange itself.
 *
 * The exchange reads the body as text with a hard size cap, parses it with the bounded `parseJson` and decodes it
 * with the protocol schemas. Every endpoint (melt too) has an idle bound: the answer's headers, then each
 * piece of its body, must come within it, or the call fails as an ambiguous `MintTimeout` (`timeouts.ts`).
 * A request whose connection failed before anything was answered is sent once more on a fresh connection when
 * that cannot apply anything twice: always when the connection was refused (nothing left this process), and
 * for every endpoint but swap/mint/melt when it was reset or closed (a mint such as nutshell closes idle
 * keep-alive connections after 5 s, and Node may reuse one just then). Quote creation is also retried once
 * after any no-answer failure: no money moves, an extra quote costs nothing. Failures are classified as
 * `src/protocol/mint-errors.ts` splits them: a refusal is `MintRejected`, an
 * answer that does not settle the outcome is `MintAmbiguous`, no answer is `MintUnreachable`/`MintTimeout`, and
 * a request that never left is `MintNotSent`. Paths may carry quote ids, so no path, URL, body or response
 * text ever reaches an error, a span or a metric — only the mint's origin, the endpoint name and the mint's
 * scrubbed `detail`.
 *
 * @module
 */
import { Clock, Data, Effect, Exit, Layer, Stream } from "effect"
import {
  FetchHttpClient,
  HttpClient,
  type HttpClientError,
  HttpClientRequest,
  type HttpClientResponse,
} from "effect/http"
import {
  DecodeError,
  MintAmbiguous,
  type MintCallError,
  type MintEndpoint,
  MintNotSent,
  MintRejected,
  MintTimeout,
  MintUnreachable,
} from "../../model/index.js"
import { MintClient, type MintClientShape } from "../../ports/mint-client.js"
import { decodeMintResponse, encodeMintRequest, type PureCodec } from "../../protocol/decode.js"
import { parseJson } from "../../protocol/json.js"
import { DEFAULT_LIMITS, type InputLimits } from "../../protocol/limits.js"
import { classifyHttpStatus, mintErrorFromResponse } from "../../protocol/mint-errors.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
  type InfoResponse,
  InfoResponseSchema,
  KeysetsResponseSchema,
  KeysResponseSchema,
  MeltQuoteBolt11RequestSchema,
  MeltQuoteBolt11ResponseSchema,
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  RestoreRequestSchema,
  RestoreResponseSchema,
  SignaturesResponseSchema,
} from "../../protocol/schemas/index.js"
import { type CallVerdict, type CircuitBreakerOptions, makeCircuitBreaker } from "./circuit-breaker.js"
import { MintSaidWait, makeRateLimiter, parseRetryAfter, type RateLimitOptions } from "./rate-limit.js"
import { type AttemptError, backoff, DEFAULT_RETRY, type RetryOptions, retryRead } from "./retry.js"
import { instrument, mintOrigin, recordBreakerState } from "./telemetry.js"
import {
  type IdleTimeoutOverrides,
  resolveIdleTimeouts,
  resolveTimeouts,
  type TimeoutOverrides,
  timeoutOf,
  withIdleBound,
  withTimeout,
} from "./timeouts.js"

/** Largest response body read (8 MiB); a longer success is `MintAmbiguous("malformed")`. */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024

/** Settings of the HTTP mint client; every field has a default. */
export interface MintClientOptions {
  /** Per-endpoint timeouts in ms (`melt` has none and takes none). */
  readonly timeouts?: TimeoutOverrides
  /** Backoff of read retries. */
  readonly retry?: Partial<RetryOptions>
  readonly circuitBreaker?: Partial<CircuitBreakerOptions>
  readonly rateLimit?: Partial<RateLimitOptions>
  /** Response body size cap in bytes, every endpoint (default 8 MiB). */
  readonly maxBodyBytes?: number
  /**
   * Per-endpoint idle bounds in ms: the longest wait for the headers, then between two pieces of the body
   * (default 120 s for `melt`, 30 s elsewhere; `timeouts.ts`).
   */
  readonly idleTimeouts?: IdleTimeoutOverrides
}

/** {@link MintClientOptions} plus the `fetch` the `FetchHttpClient` uses (default `globalThis.fetch`). */
export interface MintClientHttpOptions extends MintClientOptions {
  /** The `fetch` the client calls (default `globalThis.fetch`). */
  readonly fetch?: typeof globalThis.fetch
}

/** One request as the client sees it. `path` is already encoded; it never leaves this module. */
interface Call<T, E> {
  readonly endpoint: MintEndpoint
  readonly mintUrl: string
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: string
  readonly schema: PureCodec<T, E>
  /** Identifiers (quote ids) to mask in a mint's error text, computed only when an error is built. */
  readonly secrets?: () => ReadonlyArray<string>
}

class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{}> {}

const ERROR_TEXT_LIMITS: InputLimits = {
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxItems: 2_000,
  maxIntegerDigits: 20,
  maxStringLength: 16 * 1024,
}

/** Masks what may be secret in a mint's text: the call's quote ids, UUIDs, long hex (as `mint-errors.ts`). */
const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const s of secrets) if (s.length > 0) out = out.split(s).join("<redacted>")
  return out
    .slice(0, 300)
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, "<redacted>")
    .replace(/[0-9a-fA-F]{32,}/g, "<redacted>")
}

/** The `detail` string of a non-Cashu error body (`{"detail": "..."}`), or "". */
const plainDetail = (text: string): string => {
  try {
    const v = parseJson(text, ERROR_TEXT_LIMITS)
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof v.detail === "string"
      ? v.detail
      : ""
  } catch {
    return ""
  }
}

/** The `quote` of a mint/melt request body, to mask it in error text. */
const quoteOfBody = (body: string): ReadonlyArray<string> => {
  try {
    const v = parseJson(body)
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof v.quote === "string"
      ? [v.quote]
      : []
  } catch {
    return []
  }
}

/** The `code`s along an error's `cause` chain (Node: `ECONNRESET`; undici: `UND_ERR_SOCKET`), a few deep. */
const causeCodes = (e: unknown): string[] => {
  const out: string[] = []
  let at: unknown = e
  for (let depth = 0; depth < 5 && typeof at === "object" && at !== null; depth++) {
    const code = (at as { code?: unknown }).code
    if (typeof code === "string") out.push(code)
    at = (at as { cause?: unknown }).cause
  }
  return out
}

/** The connection was never made: nothing of the request reached the mint. */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"])
/** The connection broke before any answer: for an endpoint that moves no money, safe to send again. */
const CONNECTION_BROKE = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"])
/** Endpoints whose request may move money: never sent again here once it may have reached the mint. */
const MONEY_POSTS: ReadonlySet<MintEndpoint> = new Set(["swap", "mint", "melt"])

/**
 * Whether a transport failure before any answer may be sent again at once on a fresh connection (see the
 * module notes). The check is on the error's cause codes only, never its text.
 */
const resendable = (endpoint: MintEndpoint, e: HttpClientError.HttpClientError): boolean => {
  if (e.reason._tag !== "TransportError") return false
  const codes = causeCodes(e.reason.cause)
  if (codes.some((c) => NEVER_CONNECTED.has(c))) return true
  return !MONEY_POSTS.has(endpoint) && codes.some((c) => CONNECTION_BROKE.has(c))
}

const normalise = (mintUrl: string): string => mintUrl.replace(/\/+$/, "")
const seg = (s: string): string => encodeURIComponent(s)

/** How a finished attempt counts for the breaker: only no answer, a timeout or a 5xx is a failure. */
const verdictOf = <A>(exit: Exit.Exit<A, AttemptError>): CallVerdict => {
  if (Exit.isSuccess(exit)) return "success"
  const e = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
  if (e === undefined || e._tag === "MintSaidWait") return "neutral"
  if (e._tag === "MintUnreachable" || e._tag === "MintTimeout") return "failure"
  if (e._tag === "MintAmbiguous" && e.status >= 500) return "failure"
  return "success"
}

/** The public error for an attempt error: a 429 becomes `MintNotSent("rate-limited")`. */
const finalError = (e: AttemptError): MintCallError =>
  e._tag === "MintSaidWait"
    ? new MintNotSent({
        mintUrl: e.mintUrl,
        endpoint: e.endpoint,
        reason: "rate-limited",
        retryAt: e.retryAt,
        message: `${e.endpoint}: not processed, the mint answered 429 (rate limited)`,
      })
    : e

/**
 * Builds the HTTP mint client on the `HttpClient` in context. Policies keep per-mint state (breaker, rate
 * limiter, info cache) for the client's lifetime.
 */
export const makeHttpMintClient = (
  options: MintClientOptions = {},
): Effect.Effect<MintClientShape, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const timeouts = resolveTimeouts(options.timeouts)
    const idle = resolveIdleTimeouts(options.idleTimeouts)
    const retry: RetryOptions = { ...DEFAULT_RETRY, ...options.retry }
    const breaker = makeCircuitBreaker(options.circuitBreaker, recordBreakerState)
    const limiter = makeRateLimiter(options.rateLimit)
    const rateDefaults = { defaultRetryAfterMs: 1_000, ...options.rateLimit }
    const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
    const limits: InputLimits = { ...DEFAULT_LIMITS, maxBytes: maxBody, maxItems: 1_000_000 }

    const where = (c: Call<unknown, unknown>): string => `${c.endpoint} at ${mintOrigin(c.mintUrl)}`

    /**
     * Reads the body, at most `maxBody` bytes; `undefined` when it is longer (an endless body stops there).
     * `touch` is run on every piece received (the idle bound).
     */
    const readBody = (
      c: Call<unknown, unknown>,
      res: HttpClientResponse.HttpClientResponse,
      touch: Effect.Effect<void>,
    ): Effect.Effect<string | undefined, MintUnreachable> => {
      const declared = Number(res.headers["content-length"])
      if (Number.isFinite(declared) && declared > maxBody) return Effect.succeed(undefined)
      const chunks: Uint8Array[] = []
      let size = 0
      return res.stream.pipe(
        Stream.runForEach((chunk) => {
          size += chunk.length
          if (size > maxBody) return Effect.fail(new BodyTooLarge())
          chunks.push(chunk)
          return touch
        }),
        Effect.map(() => {
          const all = new Uint8Array(size)
          let at = 0
          for (const ch of chunks) {
            all.set(ch, at)
            at += ch.length
          }
          return new TextDecoder().decode(all)
        }),
        Effect.catchTag("BodyTooLarge", () => Effect.succeed(undefined)),
        Effect.mapError(
          () =>
            new MintUnreachable({
              mintUrl: c.mintUrl,
              endpoint: c.endpoint,
              message: `${where(c)}: the answer was cut off`,
            }),
        ),
      )
    }

    const errorAnswer = (c: Call<unknown, unknown>, status: number, text: string): MintCallError => {
      const secrets = (): ReadonlyArray<string> => c.secrets?.() ?? []
      const cashu = mintErrorFromResponse(status, text)
      if (cashu !== undefined) {
        const detail = scrub(cashu.detail, secrets())
        const base = { mintUrl: c.mintUrl, endpoint: c.endpoint, status, code: cashu.code, detail }
        const message = `${where(c)}: ${cashu.message}`
        return cashu.kind === "definitive"
          ? new MintRejected({ ...base, message })
          : new MintAmbiguous({ ...base, reason: status >= 500 ? "status" : "code", message })
      }
      const base = {
        mintUrl: c.mintUrl,
        endpoint: c.endpoint,
        status,
        code: undefined,
        detail: scrub(plainDetail(text), secrets()),
      }
      return classifyHttpStatus(status) === "definitive"
        ? new MintRejected({ ...base, message: `${where(c)}: refused with HTTP ${status}` })
        : new MintAmbiguous({ ...base, reason: "status", message: `${where(c)}: HTTP ${status}` })
    }

    const answer = <T, E>(
      c: Call<T, E>,
      res: HttpClientResponse.HttpClientResponse,
      touch: Effect.Effect<void>,
    ): Effect.Effect<T, AttemptError> => {
      const status = res.status
      if (status === 429) {
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const retryAt = parseRetryAfter(res.headers["retry-after"], now, rateDefaults.defaultRetryAfterMs)
          // Drain the (small) body so the connection is released; its content does not matter.
          return Effect.andThen(
            Effect.andThen(Effect.ignore(readBody(c, res, touch)), limiter.blockUntil(c.mintUrl, retryAt)),
            Effect.fail(new MintSaidWait({ mintUrl: c.mintUrl, endpoint: c.endpoint, retryAt })),
          )
        })
      }
      return Effect.flatMap(readBody(c, res, touch), (text): Effect.Effect<T, AttemptError> => {
        const malformed = (why: string) =>
          new MintAmbiguous({
            mintUrl: c.mintUrl,
            endpoint: c.endpoint,
            status,
            code: undefined,
            reason: "malformed",
            detail: "",
            message: `${where(c)}: HTTP ${status} with ${why}`,
          })
        // An oversized error body could hide an ambiguous Cashu code: it settles nothing either.
        if (text === undefined) return Effect.fail(malformed(`a body over ${maxBody} bytes`))
        if (status < 200 || status > 299) return Effect.fail(errorAnswer(c, status, text))
        try {
          return Effect.succeed(decodeMintResponse(c.schema, text, limits))
        } catch (e) {
          // The DecodeError message names the field and what was expected, never the value.
          return Effect.fail(
            malformed(e instanceof DecodeError ? `an unreadable body (${e.message})` : "an unreadable body"),
          )
        }
      })
    }

    const transportFailure = (
      c: Call<unknown, unknown>,
      e: HttpClientError.HttpClientError,
    ): AttemptError => {
      const tag = e.reason._tag
      if (tag === "InvalidUrlError" || tag === "EncodeError") {
        return new MintNotSent({
          mintUrl: c.mintUrl,
          endpoint: c.endpoint,
          reason: "invalid-request",
          retryAt: undefined,
          message: `${where(c)}: the request could not be built`,
        })
      }
      return new MintUnreachable({
        mintUrl: c.mintUrl,
        endpoint: c.endpoint,
        message: `${where(c)}: no answer (connection failed or dropped)`,
      })
    }

    /** One attempt: rate limiter → breaker → timeout → exchange. */
    const attempt = <T, E>(c: Call<T, E>): Effect.Effect<T, AttemptError> => {
      let request: HttpClientRequest.HttpClientRequest
      try {
        request = HttpClientRequest.make(c.method)(new URL(`${normalise(c.mintUrl)}${c.path}`), {
          headers: { accept: "application/json" },
        })
      } catch {
        return Effect.fail(invalid(c))
      }
      if (c.body !== undefined) request = HttpClientRequest.bodyText(request, c.body, "application/json")
      // One more send on a fresh connection when the first provably did not apply (see the module notes).
      const send = http
        .execute(request)
        .pipe(Effect.retry({ times: 1, while: (e) => resendable(c.endpoint, e) }))
      const idleMs = idle[c.endpoint]
      const onIdle = (ms: number) =>
        new MintTimeout({
          mintUrl: c.mintUrl,
          endpoint: c.endpoint,
          afterMs: ms,
          message: `${where(c)}: the answer stalled (nothing received for ${ms} ms)`,
        })
      const exchange = withIdleBound(idleMs, onIdle, (touch) =>
        send.pipe(
          Effect.mapError((e) => transportFailure(c, e)),
          Effect.tap(() => touch),
          Effect.flatMap((res) => answer(c, res, touch)),
        ),
      ).pipe(
        withTimeout(
          timeoutOf(timeouts, c.endpoint),
          (ms) =>
            new MintTimeout({
              mintUrl: c.mintUrl,
              endpoint: c.endpoint,
              afterMs: ms,
              message: `${where(c)}: no answer within ${ms} ms`,
            }),
        ),
        // The client's own span would record the full URL (quote ids) and propagate trace headers to the mint.
        Effect.provideService(HttpClient.TracerDisabledWhen, () => true),
      )
      return Effect.andThen(
        limiter.acquire(c.mintUrl, c.endpoint),
        breaker.protect(c.mintUrl, c.endpoint, verdictOf, exchange),
      )
    }

    const invalid = (c: { readonly mintUrl: string; readonly endpoint: MintEndpoint }): MintNotSent =>
      new MintNotSent({
        mintUrl: c.mintUrl,
        endpoint: c.endpoint,
        reason: "invalid-request",
        retryAt: undefined,
        message: `${c.endpoint}: the request could not be built`,
      })

    /** Encodes a request body, or fails unsent (a caller bug). */
    const encode = <T, E>(
      endpoint: MintEndpoint,
      mintUrl: string,
      schema: PureCodec<T, E>,
      value: T,
    ): Effect.Effect<string, MintNotSent> =>
      Effect.try({ try: () => encodeMintRequest(schema, value), catch: () => invalid({ mintUrl, endpoint }) })

    const read = <T, E>(c: Call<T, E>): Effect.Effect<T, MintCallError> =>
      retryRead(c.endpoint, retry)(attempt(c)).pipe(Effect.mapError(finalError))
    const once = <T, E>(c: Call<T, E>): Effect.Effect<T, MintCallError> =>
      attempt(c).pipe(Effect.mapError(finalError))
    /** Quote creation: one retry (with backoff) after no answer; a second quote costs nothing. */
    const quote = <T, E>(c: Call<T, E>): Effect.Effect<T, MintCallError> =>
      attempt(c).pipe(
        Effect.retry({ schedule: backoff(retry, 1), while: (e) => e._tag === "MintUnreachable" }),
        Effect.mapError(finalError),
      )

    const info = (mintUrl: string): Effect.Effect<InfoResponse, MintCallError> =>
      read({ endpoint: "info", mintUrl, method: "GET", path: "/v1/info", schema: InfoResponseSchema })

    const shape: MintClientShape = {
      info: (mintUrl) => instrument("info", mintUrl)(info(mintUrl)),
      keysets: (mintUrl) =>
        instrument(
          "keysets",
          mintUrl,
        )(
          read({
            endpoint: "keysets",
            mintUrl,
            method: "GET",
            path: "/v1/keysets",
            schema: KeysetsResponseSchema,
          }),
        ),
      keys: (mintUrl, keysetId) =>
        instrument(
          "keys",
          mintUrl,
        )(
          read({
            endpoint: "keys",
            mintUrl,
            method: "GET",
            path: keysetId === undefined ? "/v1/keys" : `/v1/keys/${seg(keysetId)}`,
            schema: KeysResponseSchema,
          }),
        ),
      mintQuote: (mintUrl, method, request) =>
        instrument(
          "mint-quote",
          mintUrl,
        )(
          Effect.flatMap(encode("mint-quote", mintUrl, MintQuoteBolt11RequestSchema, request), (body) =>
            quote({
              endpoint: "mint-quote",
              mintUrl,
              method: "POST",
              path: `/v1/mint/quote/${seg(method)}`,
              body,
              schema: MintQuoteBolt11ResponseSchema,
            }),
          ),
        ),
      mintQuoteState: (mintUrl, method, quoteId) =>
        instrument(
          "mint-quote-state",
          mintUrl,
        )(
          read({
            endpoint: "mint-quote-state",
            mintUrl,
            method: "GET",
            path: `/v1/mint/quote/${seg(method)}/${seg(quoteId)}`,
            schema: MintQuoteBolt11ResponseSchema,
            secrets: () => [quoteId, seg(quoteId)],
          }),
        ),
      mint: (mintUrl, method, body) =>
        instrument(
          "mint",
          mintUrl,
        )(
          once({
            endpoint: "mint",
            mintUrl,
            method: "POST",
            path: `/v1/mint/${seg(method)}`,
            body,
            schema: SignaturesResponseSchema,
            secrets: () => quoteOfBody(body),
          }),
        ),
      meltQuote: (mintUrl, method, request) =>
        instrument(
          "melt-quote",
          mintUrl,
        )(
          Effect.flatMap(encode("melt-quote", mintUrl, MeltQuoteBolt11RequestSchema, request), (body) =>
            quote({
              endpoint: "melt-quote",
              mintUrl,
              method: "POST",
              path: `/v1/melt/quote/${seg(method)}`,
              body,
              schema: MeltQuoteBolt11ResponseSchema,
            }),
          ),
        ),
      meltQuoteState: (mintUrl, method, quoteId) =>
        instrument(
          "melt-quote-state",
          mintUrl,
        )(
          read({
            endpoint: "melt-quote-state",
            mintUrl,
            method: "GET",
            path: `/v1/melt/quote/${seg(method)}/${seg(quoteId)}`,
            schema: MeltQuoteBolt11ResponseSchema,
            secrets: () => [quoteId, seg(quoteId)],
          }),
        ),
      melt: (mintUrl, method, body) =>
        instrument(
          "melt",
          mintUrl,
        )(
          once({
            endpoint: "melt",
            mintUrl,
            method: "POST",
            path: `/v1/melt/${seg(method)}`,
            body,
            schema: MeltQuoteBolt11ResponseSchema,
            secrets: () => quoteOfBody(body),
          }),
        ),
      swap: (mintUrl, body) =>
        instrument(
          "swap",
          mintUrl,
        )(
          once({
            endpoint: "swap",
            mintUrl,
            method: "POST",
            path: "/v1/swap",
            body,
            schema: SignaturesResponseSchema,
          }),
        ),
      checkState: (mintUrl, ys) =>
        instrument(
          "checkstate",
          mintUrl,
        )(
          Effect.flatMap(encode("checkstate", mintUrl, CheckStateRequestSchema, { Ys: ys }), (body) =>
            read({
              endpoint: "checkstate",
              mintUrl,
              method: "POST",
              path: "/v1/checkstate",
              body,
              schema: CheckStateResponseSchema,
            }),
          ),
        ),
      restore: (mintUrl, request) =>
        instrument(
          "restore",
          mintUrl,
        )(
          Effect.flatMap(encode("restore", mintUrl, RestoreRequestSchema, request), (body) =>
            read({
              endpoint: "restore",
              mintUrl,
              method: "POST",
              path: "/v1/restore",
              body,
              schema: RestoreResponseSchema,
            }),
          ),
        ),
    }
    return shape
  })

/** The {@link MintClient} layer over any `HttpClient` in context (tests and custom transports). */
export const makeMintClientLayer = (
  options: MintClientOptions = {},
): Layer.Layer<MintClient, never, HttpClient.HttpClient> =>
  Layer.effect(MintClient)(makeHttpMintClient(options))

/**
 * The production {@link MintClient} layer: {@link makeMintClientLayer} over `FetchHttpClient`, with
 * `options.fetch` (e.g. a test mint's `fetch`) in place of `globalThis.fetch` when given.
 */
export const MintClientHttpLive = (options: MintClientHttpOptions = {}): Layer.Layer<MintClient> => {
  const { fetch, ...rest } = options
  // Never follow redirects: fetch would re-send a swap's body to wherever a 307/308 points. A 3xx is an
  // answer that settles nothing (ambiguous), like any other non-2xx without a Cashu error.
  const noRedirects = Layer.succeed(FetchHttpClient.RequestInit, { redirect: "manual" })
  const transport =
    fetch === undefined
      ? FetchHttpClient.layer.pipe(Layer.provide(noRedirects))
      : FetchHttpClient.layer.pipe(
          Layer.provide(Layer.mergeAll(Layer.succeed(FetchHttpClient.Fetch, fetch), noRedirects)),
        )
  return makeMintClientLayer(rest).pipe(Layer.provide(transport))
}
