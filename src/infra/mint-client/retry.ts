/**
 * When a mint call is sent again.
 *
 * - **Reads** (GETs, `checkstate`, `restore`): retried with jittered exponential backoff, a bounded number of
 *   times, after a failure that another attempt may cure — no answer, a timeout, a 5xx, a garbled 2xx, or a 429
 *   (sent again once the mint's `Retry-After` has passed). A well-formed Cashu error answer is not retried:
 *   asking again gets the same answer.
 * - **Quote creation** (`mint-quote`, `melt-quote`): sent once more, after a backoff, when no answer came
 *   (`MintUnreachable`) — no money moves; at worst the mint holds an unused quote.
 * - **swap / mint / melt** (money moves): sent once, never again here. A NUT-19 replay of swap/mint is decided
 *   by the engine (`src/engine/ops/shared.ts`, `replayStep`), which records the attempt in the log before its
 *   bytes leave and never takes a replay's refusal as definitive: one layer decides, and every attempt that
 *   reaches the wire is in the log.
 * - Below these, `http.ts` sends any request once more on a fresh connection when its connection was refused
 *   (it never left), and non-money requests also when the connection broke before any answer (a reused
 *   keep-alive connection the mint had just closed).
 *
 * @module
 */
import { Duration, Effect, Schedule } from "effect"
import type { MintCallError, MintEndpoint } from "../../model/index.js"
import type { MintSaidWait } from "./rate-limit.js"
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

/** Runs `attempt`, counting every run after the first as a re-send. */
const counted = <A, E, R>(
  endpoint: MintEndpoint,
  kind: "retry",
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
