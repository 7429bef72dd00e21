/**
 * A per-mint circuit breaker. After `failureThreshold` consecutive transport failures (no answer, a timeout, a
 * 5xx) the mint is treated as down: calls fail at once with `MintNotSent("circuit-open")` — definitive, since
 * nothing is sent — instead of each waiting for its own timeout. After `cooldownMs` one probe call is let
 * through (half-open); its success closes the circuit, its failure opens it for another cool-down.
 *
 * Any answer from the mint that is not a 5xx (a refusal, an ambiguous code, even a garbled 2xx) proves the mint
 * is up and counts as a success. Time comes from the Effect `Clock`, so a TestClock drives the cool-down.
 *
 * @module
 */
import { Clock, Effect, Exit } from "effect"
import { type MintEndpoint, MintNotSent } from "../../model/index.js"

/** Breaker settings. */
export interface CircuitBreakerOptions {
  /** Consecutive transport failures that open the circuit (default 5). */
  readonly failureThreshold: number
  /** How long the circuit stays open before a probe is let through (default 30 s). */
  readonly cooldownMs: number
}

/** The defaults of {@link CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 }

/** The state of one mint's circuit. */
export type CircuitState = "closed" | "open" | "half-open"

/** How a finished call counts: `failure` only for transport failures; `neutral` leaves the state alone. */
export type CallVerdict = "success" | "failure" | "neutral"

interface Circuit {
  state: CircuitState
  failures: number
  openedAt: number
  probing: boolean
}

/** A breaker shared by every call of one client. */
export interface CircuitBreaker {
  /**
   * Runs `self` if the circuit of `mintUrl` admits it, then records its outcome as `verdict(exit)` says
   * (an interrupted call is always neutral).
   */
  readonly protect: <A, E, R>(
    mintUrl: string,
    endpoint: MintEndpoint,
    verdict: (exit: Exit.Exit<A, E>) => CallVerdict,
    self: Effect.Effect<A, E, R>,
  ) => Effect.Effect<A, E | MintNotSent, R>
  /** The current state of `mintUrl`'s circuit (an open circuit past its cool-down reads `half-open`). */
  readonly state: (mintUrl: string) => Effect.Effect<CircuitState>
}

/**
 * Builds a {@link CircuitBreaker}. `onChange` is told every state change (telemetry); it must not fail.
 */
export const makeCircuitBreaker = (
  options: Partial<CircuitBreakerOptions> = {},
  onChange: (mintUrl: string, state: CircuitState) => Effect.Effect<void> = () => Effect.void,
): CircuitBreaker => {
  const o = { ...DEFAULT_CIRCUIT_BREAKER, ...options }
  const circuits = new Map<string, Circuit>()
  const circuit = (mintUrl: string): Circuit => {
    let c = circuits.get(mintUrl)
    if (c === undefined) {
      c = { state: "closed", failures: 0, openedAt: 0, probing: false }
      circuits.set(mintUrl, c)
    }
    return c
  }
  const move = (mintUrl: string, c: Circuit, to: CircuitState): Effect.Effect<void> => {
    if (c.state === to) return Effect.void
    c.state = to
    return onChange(mintUrl, to)
  }

  /** Decides admission: `closed` runs freely, `probe` is the single half-open trial, else refused. */
  const admit = (mintUrl: string, now: number): Effect.Effect<"closed" | "probe" | "refused"> => {
    const c = circuit(mintUrl)
    if (c.state === "closed") return Effect.succeed("closed")
    if (c.state === "open" && now >= c.openedAt + o.cooldownMs) {
      c.probing = true
      return Effect.as(move(mintUrl, c, "half-open"), "probe")
    }
    if (c.state === "half-open" && !c.probing) {
      c.probing = true
      return Effect.succeed("probe")
    }
    return Effect.succeed("refused")
  }

  const record = (
    mintUrl: string,
    probe: boolean,
    verdict: CallVerdict,
    now: number,
  ): Effect.Effect<void> => {
    const c = circuit(mintUrl)
    if (probe) c.probing = false
    switch (verdict) {
      case "neutral":
        return Effect.void
      case "success":
        c.failures = 0
        return move(mintUrl, c, "closed")
      case "failure":
        c.failures++
        // A failed probe re-opens at once; a closed circuit opens at the threshold.
        if (probe || c.state === "half-open" || c.failures >= o.failureThreshold) {
          c.openedAt = now
          return move(mintUrl, c, "open")
        }
        return Effect.void
    }
  }

  return {
    protect: <A, E, R>(
      mintUrl: string,
      endpoint: MintEndpoint,
      verdict: (exit: Exit.Exit<A, E>) => CallVerdict,
      self: Effect.Effect<A, E, R>,
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(admit(mintUrl, now), (admission): Effect.Effect<A, E | MintNotSent, R> => {
          if (admission === "refused") {
            return Effect.fail(
              new MintNotSent({
                mintUrl,
                endpoint,
                reason: "circuit-open",
                retryAt: undefined,
                message: `${endpoint}: not sent, the mint's circuit is open after repeated transport failures`,
              }),
            )
          }
          const probe = admission === "probe"
          return Effect.onExit(self, (exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (end) =>
              record(mintUrl, probe, Exit.hasInterrupts(exit) ? "neutral" : verdict(exit), end),
            ),
          )
        }),
      ),
    state: (mintUrl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const c = circuit(mintUrl)
        return c.state === "open" && now >= c.openedAt + o.cooldownMs ? "half-open" : c.state
      }),
  }
}
