/**
 * What the wallets of one engine share of their mints (issue #15, the network phase): a mint's `/v1/info`,
 * cached per mint URL for the engine's `infoTtlMs`, and the keys of a keyset by id, which never expire.
 *
 * Without it every wallet keeps its own info cache (N wallets ask a mint for its info N times per TTL) and
 * fetches the keys of every keyset it learns, although another wallet of the engine fetched the same keys a
 * moment ago.
 *
 * What may be shared, and what may not:
 * - The keyset *list* (`/v1/keysets`) is never cached here: it is how a wallet learns of a rotation, a
 *   deactivation or a fee change, so every sync asks the mint.
 * - Keys are cached per (mint URL, keyset id), and only once the id has been recomputed from them (NUT-02,
 *   `keysetFromWire`): the cache never holds keys that do not derive to their id. A hit is re-verified by its
 *   user all the same (`syncMint` runs every entry, cached or fresh, through `keysetFromWire`), so the cache
 *   bypasses no check. An entry is bound to the mint that served it: another mint listing the same id gets its
 *   own fetch (and then the wallet's id-collision refusal).
 * - A cached entry is served only where everything the wallet takes from it is fixed by the id: all of it for
 *   a v2 id (`01…`, which commits to unit, fee and expiry); for a v1 id (`00…`, which commits to the keys
 *   only) only when the fresh listing gives the keyset's fee and the same unit, and the entry has no expiry —
 *   otherwise the keys are fetched again. `active` is never taken from the cache (the listing says it).
 *
 * `setMintCachesEnabled(false)` makes engines opened afterwards run without it (exactly the behaviour before
 * it: per-wallet info cache, keys fetched per wallet) — for the network bench only.
 *
 * @module
 */
import { Effect } from "effect"
import type { InfoResponse, KeysetInfo, KeysResponse, KeysResponseKeyset } from "../protocol/index.js"
import { keysetIdVersion } from "../protocol/keyset-id.js"
import { keysetFromWire } from "../protocol/keysets.js"

/** Hits and misses since the cache was made (for tests and the bench). */
export interface MintCacheStats {
  readonly infoHits: number
  readonly infoMisses: number
  readonly keysHits: number
  readonly keysMisses: number
}

/** The engine-wide cache; see the module notes. */
export interface MintCache {
  /** `fetch` (the mint's `/v1/info`) unless an answer for `mintUrl` younger than the TTL is held. */
  info<E, R>(mintUrl: string, fetch: Effect.Effect<InfoResponse, E, R>): Effect.Effect<InfoResponse, E, R>
  /**
   * The keys of the keyset `listed` (an entry of the mint's fresh `/v1/keysets`): from the cache when allowed
   * (module notes), else `fetch` (the mint's `/v1/keys/{id}`), whose entry is kept once its id verifies.
   */
  keys<E, R>(
    mintUrl: string,
    listed: KeysetInfo,
    fetch: Effect.Effect<KeysResponse, E, R>,
  ): Effect.Effect<KeysResponse, E, R>
  stats(): MintCacheStats
}

/** Options of {@link makeMintCache}. */
export interface MintCacheOptions {
  /** Wall clock, epoch ms. */
  readonly now: () => number
  /** An info answer is used while younger than this (ms). */
  readonly infoTtlMs: number
}

let enabled = true

/** Bench only: whether engines opened from now on share a {@link MintCache} (default true). */
export const setMintCachesEnabled = (on: boolean): void => {
  enabled = on
}

/** Whether engines opened now get a {@link MintCache}. */
export const mintCachesEnabled = (): boolean => enabled

const normalise = (mintUrl: string): string => mintUrl.trim().replace(/\/+$/, "")

/** Whether a verified cached entry may stand for `listed` (module notes). */
const reusable = (cached: KeysResponseKeyset, listed: KeysetInfo): boolean => {
  if (keysetIdVersion(cached.id) === 2) return true
  return (
    listed.unit === cached.unit &&
    listed.input_fee_ppk !== undefined &&
    listed.input_fee_ppk !== null &&
    (cached.final_expiry === undefined || cached.final_expiry === null)
  )
}

/** Whether `entry`'s keys derive to its id (and are valid points); nothing else is cached. */
const verifies = (entry: KeysResponseKeyset): boolean => {
  try {
    keysetFromWire(entry)
    return true
  } catch {
    return false
  }
}

/** A new, empty cache. */
export const makeMintCache = (options: MintCacheOptions): MintCache => {
  const infos = new Map<string, { readonly info: InfoResponse; readonly at: number }>()
  const keys = new Map<string, KeysResponseKeyset>()
  let infoHits = 0
  let infoMisses = 0
  let keysHits = 0
  let keysMisses = 0
  return {
    info: (mintUrl, fetch) =>
      Effect.suspend(() => {
        const url = normalise(mintUrl)
        const now = options.now()
        const held = infos.get(url)
        if (held !== undefined && now - held.at < options.infoTtlMs) {
          infoHits++
          return Effect.succeed(held.info)
        }
        infoMisses++
        return Effect.tap(fetch, (info) =>
          Effect.sync(() => {
            infos.set(url, { info, at: now })
          }),
        )
      }),
    keys: (mintUrl, listed, fetch) =>
      Effect.suspend(() => {
        const id = listed.id.toLowerCase()
        const key = `${normalise(mintUrl)} ${id}`
        const held = keys.get(key)
        if (held !== undefined && reusable(held, listed)) {
          keysHits++
          return Effect.succeed({ keysets: [held] })
        }
        keysMisses++
        return Effect.tap(fetch, (answer) =>
          Effect.sync(() => {
            const wire = answer.keysets.find((w) => w.id.toLowerCase() === id)
            if (wire === undefined) return
            const { active: _active, ...entry } = wire
            if (verifies(entry)) keys.set(key, entry)
          }),
        )
      }),
    stats: () => ({ infoHits, infoMisses, keysHits, keysMisses }),
  }
}
