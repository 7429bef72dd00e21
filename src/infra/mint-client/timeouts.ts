/**
 * Per-endpoint timeouts of mint calls. A timeout is an *ambiguous* failure (the mint may have processed the
 * request), so it is kept generous for money-moving POSTs; `melt` has none at all, because a synchronous NUT-05
 * melt lasts as long as the Lightning payment and cutting it short only manufactures an ambiguous outcome.
 *
 * @module
 */
import { Effect } from "effect"
import type { MintEndpoint } from "./service.js"

/** Endpoints a timeout may be set for: every one but `melt`. */
export type TimedEndpoint = Exclude<MintEndpoint, "melt">

/** Milliseconds per endpoint; `null` means no timeout (only `melt`). */
export type EndpointTimeouts = { readonly [K in TimedEndpoint]: number } & { readonly melt: null }

/** Caller overrides (ms); `melt` cannot be given one on purpose. */
export type TimeoutOverrides = Partial<Record<TimedEndpoint, number>>

/** 10 s for GETs, 15 s for quote creation and checkstate, 30 s for swap, mint and restore, none for melt. */
export const DEFAULT_TIMEOUTS: EndpointTimeouts = {
  info: 10_000,
  keysets: 10_000,
  keys: 10_000,
  "mint-quote-state": 10_000,
  "melt-quote-state": 10_000,
  "mint-quote": 15_000,
  "melt-quote": 15_000,
  checkstate: 15_000,
  restore: 30_000,
  swap: 30_000,
  mint: 30_000,
  melt: null,
}

/** The defaults with `overrides` applied (a non-positive or non-finite override is ignored). */
export const resolveTimeouts = (overrides: TimeoutOverrides = {}): EndpointTimeouts => {
  const out: Record<string, number | null> = { ...DEFAULT_TIMEOUTS }
  for (const [endpoint, ms] of Object.entries(overrides)) {
    if (endpoint !== "melt" && typeof ms === "number" && Number.isFinite(ms) && ms > 0) out[endpoint] = ms
  }
  return out as EndpointTimeouts
}

/** The timeout of `endpoint` in ms, or `null` when it has none. */
export const timeoutOf = (timeouts: EndpointTimeouts, endpoint: MintEndpoint): number | null =>
  endpoint === "melt" ? null : timeouts[endpoint]

/**
 * Bounds `self` by `ms` (measured on the Effect `Clock`, so tests can use a TestClock); on expiry the call is
 * interrupted (aborting the request) and fails with `onTimeout(ms)`. `ms === null` leaves `self` unbounded.
 */
export const withTimeout =
  <E2>(ms: number | null, onTimeout: (ms: number) => E2) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
    ms === null
      ? self
      : self.pipe(Effect.timeoutOrElse({ duration: ms, orElse: () => Effect.fail(onTimeout(ms)) }))
