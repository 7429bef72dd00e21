/**
 * Spans and metrics of mint calls. One span per call (`mint.<endpoint>`) carrying only the mint's origin and
 * the endpoint name: never a path (quote ids live in paths), a body or a response. Metrics:
 *
 * - `corecashu_mint_calls_total{endpoint, outcome}`: finished calls; `outcome` is `ok` or the error tag.
 * - `corecashu_mint_call_duration_seconds{endpoint}`: call latency (a histogram in seconds, as Prometheus
 *   names durations), retries and waits included.
 * - `corecashu_mint_retries_total{endpoint, kind}`: re-sends of reads, `kind` = `retry` (money POSTs are never re-sent by the client).
 * - `corecashu_mint_breaker_state{mint}`: 0 closed, 1 half-open, 2 open.
 * - `corecashu_mint_rate_limit_waits_total{mint, outcome}`: calls the rate limiter held back, `outcome` =
 *   `waited` (sent after a wait) or `refused` (the wait would pass `maxWaitMs`: not sent).
 * - `corecashu_mint_rate_limit_wait_seconds{mint}`: how long the calls that waited waited.
 *
 * Effect keeps metric state in the `Metric.MetricRegistry` of the context; the engine runs its effects in the
 * default context, whose registry is one per process: these series sum over every client of the process.
 *
 * @module
 */
import { Duration, Effect, Exit, Metric } from "effect"
import type { MintCallError, MintEndpoint } from "../../model/index.js"
import type { CircuitState } from "./circuit-breaker.js"

/** Finished calls by endpoint and outcome. */
export const mintCallsTotal = Metric.counter("corecashu_mint_calls_total", {
  description: "Mint calls by endpoint and outcome (ok or the error tag)",
  incremental: true,
})

/** Call latency by endpoint, retries and waits included. */
export const mintCallDuration = Metric.histogram("corecashu_mint_call_duration_seconds", {
  description: "Mint call latency by endpoint, in seconds",
  boundaries: Metric.exponentialBoundaries({ start: 0.001, factor: 2, count: 18 }),
})

/**
 * Re-sends by endpoint and kind: `retry`, a read sent again by the client; `replay`, a money request's same
 * bytes sent again under NUT-19 by the engine's recovery (recorded as the next attempt first).
 */
export const mintRetriesTotal = Metric.counter("corecashu_mint_retries_total", {
  description: "Mint requests sent again (retry of a read, NUT-19 replay of a money request)",
  incremental: true,
})

/** Circuit state per mint origin: 0 closed, 1 half-open, 2 open. */
export const mintBreakerState = Metric.gauge("corecashu_mint_breaker_state", {
  description: "Mint circuit breaker state (0 closed, 1 half-open, 2 open)",
})

/** Calls held back by the rate limiter, by mint origin and outcome. */
export const mintRateLimitWaits = Metric.counter("corecashu_mint_rate_limit_waits_total", {
  description: "Mint calls held back by the rate limiter (waited, or refused unsent)",
  incremental: true,
})

/** How long calls waited for the rate limiter, by mint origin. */
export const mintRateLimitWaitSeconds = Metric.histogram("corecashu_mint_rate_limit_wait_seconds", {
  description: "Time mint calls waited for the rate limiter, seconds",
  boundaries: Metric.exponentialBoundaries({ start: 0.01, factor: 2, count: 14 }),
})

/**
 * The origin of a mint URL (`https://mint.example`), the only form of it put on spans and metrics. A URL that
 * does not parse gives `invalid`.
 */
export const mintOrigin = (mintUrl: string): string => {
  try {
    return new URL(mintUrl).origin
  } catch {
    return "invalid"
  }
}

/** Counts one re-send of `endpoint`. */
export const countRetry = (endpoint: MintEndpoint, kind: "retry" | "replay"): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(mintRetriesTotal, { endpoint, kind }), 1)

const STATE_VALUE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 }

/** Records a breaker state change of `mintUrl`. */
export const recordBreakerState = (mintUrl: string, state: CircuitState): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(mintBreakerState, { mint: mintOrigin(mintUrl) }), STATE_VALUE[state])

/** Records a call the rate limiter held back: it waited `waitMs` and went, or was refused unsent. */
export const recordRateLimitWait = (
  mintUrl: string,
  waitMs: number,
  outcome: "waited" | "refused",
): Effect.Effect<void> => {
  const mint = mintOrigin(mintUrl)
  const count = Metric.update(Metric.withAttributes(mintRateLimitWaits, { mint, outcome }), 1)
  return outcome === "refused"
    ? count
    : Effect.andThen(
        count,
        Metric.update(Metric.withAttributes(mintRateLimitWaitSeconds, { mint }), waitMs / 1000),
      )
}

/** Wraps one whole call (all attempts) of `endpoint` in its span, outcome counter and latency timer. */
export const instrument =
  (endpoint: MintEndpoint, mintUrl: string) =>
  <A, R>(self: Effect.Effect<A, MintCallError, R>): Effect.Effect<A, MintCallError, R> =>
    Effect.timed(Effect.exit(self)).pipe(
      Effect.flatMap(([duration, exit]) => {
        const outcome = Exit.isSuccess(exit)
          ? "ok"
          : Exit.hasInterrupts(exit)
            ? "interrupted"
            : ((exit.cause.reasons.find((r) => r._tag === "Fail")?.error as MintCallError | undefined)
                ?._tag ?? "defect")
        return Effect.all([
          Metric.update(Metric.withAttributes(mintCallsTotal, { endpoint, outcome }), 1),
          Metric.update(Metric.withAttributes(mintCallDuration, { endpoint }), Duration.toSeconds(duration)),
          Effect.annotateCurrentSpan("outcome", outcome),
        ]).pipe(Effect.andThen(exit))
      }),
      Effect.withSpan(`mint.${endpoint}`, {
        attributes: { mint: mintOrigin(mintUrl), endpoint },
        kind: "client",
      }),
    )
