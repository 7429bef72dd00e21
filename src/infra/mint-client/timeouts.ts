/**
 * Per-endpoint timeouts of mint calls. A timeout is an *ambiguous* failure (the mint may have processed the
 * request), so it is kept generous for money-moving POSTs; `melt` has none at all, because a synchronous NUT-05
 * melt lasts as long as the Lightning payment and cutting it short only manufactures an ambiguous outcome.
 *
 * Every endpoint, `melt` included, has an *idle* bound instead: the longest wait for the answer's headers and
 * then between two received pieces of its body. A mint that stalls or drips its answer would otherwise hold a
 * melt (and its caller) for ever; when the bound trips the call fails with an ambiguous `MintTimeout` and the
 * engine settles the operation through recovery (the quote's state), in doubt until the mint says. A melt whose
 * payment takes longer than its idle bound before the mint answers ends the same way: raise `melt` for slow
 * payment methods.
 *
 * @module
 */
import { Clock, Effect } from "effect"
import type { MintEndpoint } from "../../model/index.js"

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

/** Idle bounds in ms per endpoint (see the module notes). */
export type IdleTimeouts = { readonly [K in MintEndpoint]: number }

/** Caller overrides of the idle bounds (ms). */
export type IdleTimeoutOverrides = Partial<Record<MintEndpoint, number>>

/**
 * 120 s for `melt` (generous: a synchronous melt may send nothing until its payment settles), 30 s elsewhere
 * (never shorter than an endpoint's whole timeout, so for those the timeout decides).
 */
export const DEFAULT_IDLE_TIMEOUTS: IdleTimeouts = {
  info: 30_000,
  keysets: 30_000,
  keys: 30_000,
  "mint-quote-state": 30_000,
  "melt-quote-state": 30_000,
  "mint-quote": 30_000,
  "melt-quote": 30_000,
  checkstate: 30_000,
  restore: 30_000,
  swap: 30_000,
  mint: 30_000,
  melt: 120_000,
}

/** The default idle bounds with `overrides` applied (a non-positive or non-finite override is ignored). */
export const resolveIdleTimeouts = (overrides: IdleTimeoutOverrides = {}): IdleTimeouts => {
  const out: Record<string, number> = { ...DEFAULT_IDLE_TIMEOUTS }
  for (const [endpoint, ms] of Object.entries(overrides)) {
    if (endpoint in DEFAULT_IDLE_TIMEOUTS && typeof ms === "number" && Number.isFinite(ms) && ms > 0)
      out[endpoint] = ms
  }
  return out as IdleTimeouts
}

/**
 * Runs `work(touch)` and fails with `onIdle(ms)` (interrupting `work`, which aborts its request) once `ms` pass
 * without a call to `touch` — measured on the Effect `Clock`, like {@link withTimeout}. The clock starts when
 * `work` starts.
 */
export const withIdleBound = <A, E, R, E2>(
  ms: number,
  onIdle: (ms: number) => E2,
  work: (touch: Effect.Effect<void>) => Effect.Effect<A, E, R>,
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (start) => {
    let last = start
    const touch = Effect.map(Clock.currentTimeMillis, (now) => {
      last = now
    })
    const watchdog: Effect.Effect<never, E2> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const left = last + ms - now
      return left <= 0 ? Effect.fail(onIdle(ms)) : Effect.andThen(Effect.sleep(left), watchdog)
    })
    return Effect.raceFirst(
      work(touch),
      Effect.suspend(() => watchdog),
    )
  })
