/**
 * When a mint call is sent again.
 *
 * - **Reads** (GETs, `checkstate`, `restore`): retried with jittered exponential backoff, a bounded number of
 *   times, after a failure that another attempt may cure — no answer, a timeout, a 5xx, a garbled 2xx, or a 429
 *   (sent again once the mint's `Retry-After` has passed). A well-formed Cashu error answer is not retried:
 *   asking again gets the same answer.
 * - **Quote creation** (`mint-quote`, `melt-quote`): sent once more, after a backoff, when no answer came
 *   (`MintUnreachable`) — no money moves; at worst the mint holds an unused quote.
 * - **melt**: never sent twice here; it may pay an invoice.
 * - Below these, `http.ts` sends any request once more on a fresh connection when its connection was refused
 *   (it never left), and non-money requests also when the connection broke before any answer (a reused
 *   keep-alive connection the mint had just closed).
 * - **swap / mint**: *replayed* — the identical bytes sent again so the mint's NUT-19 cache answers — only
 *   after no answer at all (connection failure or timeout; never after an HTTP status), only when the mint's
 *   info lists the endpoint in `cached_endpoints`, and only while `now < firstSentAt + ttl` (ttl `null` → 300 s,
 *   as CDK). Once the first attempt may have been applied, nothing later may read as definitive: a replay that
 *   is refused by the mint becomes `MintAmbiguous`, a replay that is not sent (circuit open, rate limited)
 *   returns the first attempt's failure.
 *
 * @module
 */
import { Clock, Duration, Effect, Schedule } from "effect"
import type { MintSaidWait } from "./rate-limit.js"
import {
  MintAmbiguous,
  type MintCallError,
  type MintEndpoint,
  type MintTimeout,
  type MintUnreachable,
} from "./service.js"
import { countRetry } from "./telemetry.js"

/** A failure of one attempt: a call error, or a 429 still to be turned into one. */
export type AttemptError = MintCallError | MintSaidWait

/** Backoff of read retries. */
export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  readonly times: number
  /** First delay (default 200 ms), multiplied by `factor` (default 2) each time, capped at `maxDelayMs`. */
  readonly baseDelayMs: number
  readonly factor: number
  readonly maxDelayMs: number
}

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: RetryOptions = { times: 3, baseDelayMs: 200, factor: 2, maxDelayMs: 5_000 }

/** NUT-19 replay of swap/mint. */
export interface ReplayOptions {
  /** Replays after the first attempt (default 2). Delays follow {@link RetryOptions}. */
  readonly times: number
  /** Cache lifetime assumed when the mint says `ttl: null` (default 300 s, as CDK). */
  readonly nullTtlSeconds: number
  /** How long a fetched `/v1/info` is trusted before it is fetched again (default 5 min). */
  readonly infoMaxAgeMs: number
}

/** The defaults of {@link ReplayOptions}. */
export const DEFAULT_REPLAY: ReplayOptions = { times: 2, nullTtlSeconds: 300, infoMaxAgeMs: 5 * 60_000 }

/** Jittered exponential backoff (`Schedule.exponential` + `Schedule.jittered`), capped, `times` recurrences. */
export const backoff = (
  options: RetryOptions,
  times: number = options.times,
): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(Duration.millis(options.baseDelayMs), options.factor).pipe(
    Schedule.modifyDelay(({ duration }) =>
      Effect.succeed(Duration.min(duration, Duration.millis(options.maxDelayMs))),
    ),
    Schedule.jittered,
    Schedule.upTo({ times }),
  )

/** True for a read failure another attempt may cure (see the module notes). */
export const isRetryableRead = (e: AttemptError): boolean => {
  switch (e._tag) {
    case "MintUnreachable":
    case "MintTimeout":
    case "MintSaidWait":
      return true
    case "MintAmbiguous":
      return e.reason !== "code" || e.status >= 500
    default:
      return false
  }
}

/** True for the failures after which a NUT-19 replay is considered: no answer at all. */
export const isNoAnswer = (e: AttemptError): e is MintUnreachable | MintTimeout =>
  e._tag === "MintUnreachable" || e._tag === "MintTimeout"

/** Runs `attempt`, counting every run after the first as a re-send of `kind`. */
const counted = <A, E, R>(
  endpoint: MintEndpoint,
  kind: "retry" | "replay",
  attempt: (index: number) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E, R> => {
  let n = 0
  return Effect.suspend(() => {
    const i = n++
    return i === 0 ? attempt(0) : Effect.andThen(countRetry(endpoint, kind), attempt(i))
  })
}

/** Retries a read per the module notes. */
export const retryRead =
  (endpoint: MintEndpoint, options: RetryOptions) =>
  <A, R>(attempt: Effect.Effect<A, AttemptError, R>): Effect.Effect<A, AttemptError, R> =>
    counted(endpoint, "retry", () => attempt).pipe(
      Effect.retry({ schedule: backoff(options), while: isRetryableRead }),
    )

/** What {@link replayMoneyPost} needs to know about the call. */
export interface ReplayContext {
  readonly endpoint: MintEndpoint
  readonly mintUrl: string
  /** When these bytes first left (epoch ms); `undefined` = this call's first attempt. */
  readonly firstSentAt: number | undefined
  /** `false` forbids any replay. */
  readonly allowReplay: boolean
  /**
   * The NUT-19 ttl of this endpoint at this mint: `undefined` when it is not a cached endpoint (or the mint's
   * info cannot be had), `null` for "no ttl given".
   */
  readonly cachedTtl: Effect.Effect<number | null | undefined>
}

/** Replays a swap/mint per the module notes. */
export const replayMoneyPost =
  (ctx: ReplayContext, retry: RetryOptions, replay: ReplayOptions) =>
  <A, R>(attempt: Effect.Effect<A, AttemptError, R>): Effect.Effect<A, AttemptError, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (start) => {
      const firstSentAt = ctx.firstSentAt ?? start
      let deadline = Number.NEGATIVE_INFINITY
      let firstFailure: MintUnreachable | MintTimeout | undefined
      const run = counted(ctx.endpoint, "replay", (i) => {
        if (i === 0) return attempt
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now < deadline
            ? attempt.pipe(Effect.mapError((e) => afterReplay(e, firstFailure!)))
            : Effect.fail(firstFailure!),
        )
      })
      const mayReplay = (e: AttemptError): Effect.Effect<boolean> => {
        if (!ctx.allowReplay || !isNoAnswer(e)) return Effect.succeed(false)
        firstFailure ??= e
        return Effect.flatMap(ctx.cachedTtl, (ttl) => {
          if (ttl === undefined) return Effect.succeed(false)
          deadline = firstSentAt + (ttl ?? replay.nullTtlSeconds) * 1000
          return Effect.map(Clock.currentTimeMillis, (now) => now < deadline)
        })
      }
      return run.pipe(Effect.retry({ schedule: backoff(retry, replay.times), while: mayReplay }))
    })

/**
 * The failure reported for a replay: the mint may have applied the first attempt, so a refusal of the replay
 * is not proof it did not (e.g. the quote expired since, or the keyset rotated) and a replay that never left
 * says nothing new.
 */
const afterReplay = (e: AttemptError, first: MintUnreachable | MintTimeout): AttemptError => {
  switch (e._tag) {
    case "MintRejected":
      return new MintAmbiguous({
        mintUrl: e.mintUrl,
        endpoint: e.endpoint,
        status: e.status,
        code: e.code,
        reason: "code",
        detail: e.detail,
        message: `${e.message} (answer to a replay: the first attempt may have been applied)`,
      })
    case "MintNotSent":
    case "MintSaidWait":
      return first
    default:
      return e
  }
}
