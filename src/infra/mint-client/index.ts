/**
 * The mint I/O layer: the {@link MintClient} service, its typed errors, and the HTTP implementation with its
 * policies (read retries, timeouts, circuit breaker, rate limiter, telemetry).
 *
 * @module
 */

export * from "../../model/index.js"
export * from "./circuit-breaker.js"
export * from "./http.js"
export {
  DEFAULT_RATE_LIMIT,
  makeRateLimiter,
  parseRetryAfter,
  type RateLimiter,
  type RateLimitOptions,
} from "./rate-limit.js"
export { backoff, DEFAULT_RETRY, type RetryOptions } from "./retry.js"
export * from "./telemetry.js"
export * from "./timeouts.js"
