/**
 * Per-mint rate limiting: a token bucket (so one busy wallet does not hammer a mint) plus the mint's own
 * back-pressure — after an HTTP 429 every call to that mint waits until the `Retry-After` instant. A call that
 * would have to wait longer than `maxWaitMs` is not sent at all and fails with `MintNotSent("rate-limited")`,
 * which is definitive: nothing reached the mint.
 *
 * A 429 means the mint did not process the request. The transport reports it as {@link MintSaidWait}; the
 * retry policy re-sends read-only calls after the wait, and every other call surfaces it as `MintNotSent`.
 *
 * @module
 */
import { Clock, Data, Effect } from "effect"
import { type MintEndpoint, MintNotSent } from "../../model/index.js"
import { recordRateLimitWait } from "./telemetry.js"

/** Token-bucket and back-pressure settings. */
export interface RateLimitOptions {
  /** Sustained requests per second per mint (default 20). */
  readonly ratePerSecond: number
  /** Requests that may go at once after a quiet period (default 40). */
  readonly burst: number
  /** Longest a call waits for a token or a `Retry-After` before giving up unsent (default 10 s). */
  readonly maxWaitMs: number
  /** Wait assumed after a 429 without a usable `Retry-After` (default 1 s). */
  readonly defaultRetryAfterMs: number
}

/** The defaults of {@link RateLimitOptions}. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  ratePerSecond: 20,
  burst: 40,
  maxWaitMs: 10_000,
  defaultRetryAfterMs: 1_000,
}

/**
 * Internal: the mint answered 429 — the request was not processed; calls may resume at `retryAt` (epoch ms).
 * Never leaves the client (the client turns it into `MintNotSent("rate-limited")`).
 */
export class MintSaidWait extends Data.TaggedError("MintSaidWait")<{
  readonly mintUrl: string
  readonly endpoint: MintEndpoint
  readonly retryAt: number
}> {}

/**
 * Reads a `Retry-After` header value: delay-seconds (`120`) or an HTTP date. Returns the epoch ms at which the
 * mint accepts calls again; a missing or unreadable value gives `nowMs + defaultMs`, a date in the past `nowMs`.
 */
export const parseRetryAfter = (value: string | undefined, nowMs: number, defaultMs: number): number => {
  const v = value?.trim()
  if (v === undefined || v === "") return nowMs + defaultMs
  if (/^\d{1,10}$/.test(v)) return nowMs + Number(v) * 1000
  // HTTP dates (IMF-fixdate, RFC 850, asctime) all start with a weekday; `Date.parse` alone would take "-3".
  const at = /^[A-Za-z]{3,9},?\s/.test(v) ? Date.parse(v) : Number.NaN
  return Number.isFinite(at) ? Math.max(nowMs, at) : nowMs + defaultMs
}

interface Bucket {
  tokens: number
  updatedAt: number
  blockedUntil: number
}

/** A rate limiter shared by every call of one client. */
export interface RateLimiter {
  /**
   * Waits for a token of `mintUrl` and for any `Retry-After` of that mint to pass, or fails at once with
   * `MintNotSent("rate-limited", retryAt)` when that would take longer than `maxWaitMs`.
   */
  readonly acquire: (mintUrl: string, endpoint: MintEndpoint) => Effect.Effect<void, MintNotSent>
  /** Records a 429: no call to `mintUrl` leaves before `retryAt` (epoch ms). */
  readonly blockUntil: (mintUrl: string, retryAt: number) => Effect.Effect<void>
}

/** Builds a {@link RateLimiter}; time comes from the Effect `Clock` (a TestClock makes it deterministic). */
export const makeRateLimiter = (options: Partial<RateLimitOptions> = {}): RateLimiter => {
  const o = { ...DEFAULT_RATE_LIMIT, ...options }
  const perMs = o.ratePerSecond / 1000
  const buckets = new Map<string, Bucket>()
  const bucket = (mintUrl: string, now: number): Bucket => {
    let b = buckets.get(mintUrl)
    if (b === undefined) {
      b = { tokens: o.burst, updatedAt: now, blockedUntil: 0 }
      buckets.set(mintUrl, b)
    }
    // Refill for the time elapsed; tokens may be negative (reserved by callers already waiting).
    b.tokens = Math.min(o.burst, b.tokens + (now - b.updatedAt) * perMs)
    b.updatedAt = Math.max(b.updatedAt, now)
    return b
  }
  return {
    acquire: (mintUrl, endpoint) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const b = bucket(mintUrl, now)
        const after = b.tokens - 1
        const waitForToken = after >= 0 ? 0 : Math.ceil(-after / perMs)
        const wait = Math.max(waitForToken, b.blockedUntil - now, 0)
        if (wait > o.maxWaitMs) {
          return Effect.andThen(
            recordRateLimitWait(mintUrl, wait, "refused"),
            Effect.fail(
              new MintNotSent({
                mintUrl,
                endpoint,
                reason: "rate-limited",
                retryAt: now + wait,
                message: `${endpoint}: not sent, the mint's rate limit would need a wait of ${wait} ms`,
              }),
            ),
          )
        }
        // Reserve the token now so concurrent callers queue behind each other instead of all waking at once.
        b.tokens = after
        return wait > 0
          ? Effect.andThen(recordRateLimitWait(mintUrl, wait, "waited"), Effect.sleep(wait))
          : Effect.void
      }),
    blockUntil: (mintUrl, retryAt) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const b = bucket(mintUrl, now)
        b.blockedUntil = Math.max(b.blockedUntil, retryAt)
      }),
  }
}
