/**
 * Fault injection for crash and recovery tests. A fault is queued for the next request(s) matching a method and
 * path and fires once per match, `times` times:
 *
 * - `drop-response`: the request IS applied (inputs spent, outputs signed, response cached), then the call fails
 *   like a dropped connection — the ambiguous case recovery exists for.
 * - `drop-request`: the call fails like a refused connection; nothing is applied.
 * - `error-500`: HTTP 500; applied only with `apply: true` (a crash after the commit).
 * - `delay`: waits `ms` before processing (a client timeout during it leaves the request applied).
 * - `malformed-200`: applied, answered 200 with a truncated body.
 * - `wrong-count`: applied, one signature (or change signature) left out of the response.
 * - `wrong-amount`: applied, the first signature's amount doubled in the response.
 *
 * @module
 */

/** What a fault does; see the module comment. */
export type FaultKind =
  | "drop-response"
  | "drop-request"
  | "error-500"
  | "delay"
  | "malformed-200"
  | "wrong-count"
  | "wrong-amount"

/** A queued fault. `path` is the exact request path (e.g. `/v1/swap`); `method` defaults to any. */
export interface FaultSpec {
  readonly path: string
  readonly kind: FaultKind
  readonly method?: string
  /** Delay in milliseconds (`delay`). */
  readonly ms?: number
  /** How many matching requests it hits (default 1). */
  readonly times?: number
  /** `error-500` only: apply the request before answering 500 (default false). */
  readonly apply?: boolean
}

/** The queue of pending faults. */
export class Faults {
  private queue: Array<{ spec: FaultSpec; left: number }> = []
  /** How many faults have fired. */
  fired = 0

  /** Queues `spec` for the next matching request(s). */
  next(spec: FaultSpec): void {
    this.queue.push({ spec, left: spec.times ?? 1 })
  }

  /** Removes every queued fault. */
  clear(): void {
    this.queue = []
  }

  /** Faults still queued. */
  pending(): number {
    return this.queue.length
  }

  /** Takes the first fault matching `method path`, if any (consuming one of its `times`). */
  take(method: string, path: string): FaultSpec | undefined {
    const i = this.queue.findIndex((f) => f.spec.path === path && (f.spec.method ?? method) === method)
    if (i < 0) return undefined
    const entry = this.queue[i]!
    if (--entry.left <= 0) this.queue.splice(i, 1)
    this.fired++
    return entry.spec
  }
}

/** The error a dropped connection produces: what Node's (undici) `fetch` rejects with. */
export const networkError = (what: string): TypeError =>
  new TypeError("fetch failed", { cause: new Error(`test mint: ${what}`) })
