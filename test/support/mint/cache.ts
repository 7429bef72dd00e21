/**
 * NUT-19 response cache: a successful response of a cached endpoint is stored under the exact request
 * (method, path and body bytes) for `ttl` seconds; a byte-identical replay gets the stored response back
 * without touching the books — so a wallet that lost a response can fetch it again.
 *
 * @module
 */

/** A stored response. */
export interface CachedResponse {
  readonly status: number
  readonly body: string
}

/** The endpoints the test mint caches (NUT-19 `cached_endpoints`). */
export const CACHED_ENDPOINTS: ReadonlyArray<{ readonly method: string; readonly path: string }> = [
  { method: "POST", path: "/v1/mint/bolt11" },
  { method: "POST", path: "/v1/melt/bolt11" },
  { method: "POST", path: "/v1/swap" },
]

/** True when `method path` is a cached endpoint. */
export const isCachedEndpoint = (method: string, path: string): boolean =>
  CACHED_ENDPOINTS.some((e) => e.method === method && e.path === path)

/** Cache entries with their insertion time; expired entries are dropped when read. */
export class ResponseCache {
  private readonly entries = new Map<string, { readonly response: CachedResponse; readonly at: number }>()

  constructor(
    private readonly ttlSeconds: number,
    private readonly nowMs: () => number,
  ) {}

  private static key(method: string, path: string, body: string): string {
    return `${method} ${path}\n${body}`
  }

  /** The stored response for this exact request, if still within ttl. */
  get(method: string, path: string, body: string): CachedResponse | undefined {
    const key = ResponseCache.key(method, path, body)
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (this.nowMs() - entry.at > this.ttlSeconds * 1000) {
      this.entries.delete(key)
      return undefined
    }
    return entry.response
  }

  /** Stores a successful response. */
  put(method: string, path: string, body: string, response: CachedResponse): void {
    this.entries.set(ResponseCache.key(method, path, body), { response, at: this.nowMs() })
  }

  clear(): void {
    this.entries.clear()
  }

  get size(): number {
    return this.entries.size
  }
}
