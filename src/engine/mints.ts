/**
 * Trusting a mint and keeping its keysets current: fetch `/v1/keysets`, fetch the keys of every keyset the
 * wallet has not seen, verify each id against its keys (NUT-02), bind each keyset id to this mint for ever
 * (an id the wallet already knows from another mint is refused: the two would share NUT-13 counters),
 * and record what changed as `MintTrusted`, `KeysetLearned` and `KeysetChanged` events in one append.
 *
 * @module
 */
import { Effect } from "effect"
import type { KeysetChanged, KeysetLearned, MintTrusted, WalletEvent } from "../events/catalogue.js"
import { newOperationId, walletEventId } from "../events/ids.js"
import { type Keyset, KeysetError, type MintCallError, type StoreUnavailable } from "../model/index.js"
import type { NewEvent } from "../ports/event-store.js"
import type { KeysetView } from "../projections/mints.js"
import { keysetFromWire } from "../protocol/keysets.js"
import type { KeysetsResponse } from "../protocol/schemas/index.js"
import type { StepError, WalletRuntime, WalletView } from "./runtime.js"

/** NUT-00: mint URLs are compared and stored without trailing slashes. */
export const normaliseMintUrl = (url: string): string => url.trim().replace(/\/+$/, "")

/** What a sync found. */
export interface MintSync {
  readonly learned: number
  readonly changed: number
}

/** One keyset the mint lists, as `GET /v1/keysets` gives it (unit, activity, fee rate). */
type ListedKeyset = KeysetsResponse["keysets"][number]

/** What {@link fetchKeysets} read from a mint. */
export interface FetchedKeysets {
  /** The mint's keysets of the wanted units, as listed. */
  readonly listed: ReadonlyArray<ListedKeyset>
  /** Those the wallet had not seen, with their keys, each id verified against its keys (NUT-02). */
  readonly fresh: ReadonlyArray<Keyset>
}

/**
 * Reads the mint's keysets of `units` and the keys of those the wallet has not seen: read-only (nothing is
 * recorded; {@link syncMint} records what it found, a receive preview only looks).
 */
export const fetchKeysets = (
  rt: WalletRuntime,
  mintUrl: string,
  units: ReadonlyArray<string>,
): Effect.Effect<FetchedKeysets, MintCallError | KeysetError> =>
  Effect.gen(function* () {
    const { mint } = rt.services
    const listed = yield* mint.keysets(mintUrl)
    const wanted = new Set(units)
    const relevant = listed.keysets.filter((k) => wanted.has(k.unit))
    const view0 = rt.view()
    const unseen = relevant.filter((k) => view0.keyset(k.id.toLowerCase()) === undefined)
    // Keys are immutable per id: another wallet of the engine may have fetched (and verified) them already.
    const cache = rt.services.mintCache
    const fetched = yield* Effect.forEach(
      unseen,
      (k) =>
        cache === undefined ? mint.keys(mintUrl, k.id) : cache.keys(mintUrl, k, mint.keys(mintUrl, k.id)),
      { concurrency: 4 },
    )
    const fresh: Keyset[] = []
    for (const [i, k] of unseen.entries()) {
      const id = k.id.toLowerCase()
      const wire = fetched[i]!.keysets.find((w) => w.id.toLowerCase() === id)
      if (wire === undefined)
        return yield* new KeysetError({
          reason: "unknown-id",
          message: "the mint listed a keyset but did not serve its keys",
          keysetId: id,
        })
      const fee = k.input_fee_ppk ?? wire.input_fee_ppk
      fresh.push(
        yield* Effect.try({
          try: () =>
            keysetFromWire(
              { ...wire, active: k.active, ...(fee !== undefined ? { input_fee_ppk: fee } : {}) },
              { active: k.active },
            ),
          catch: (e) =>
            e instanceof KeysetError
              ? e
              : new KeysetError({
                  reason: "malformed-key",
                  message: "the mint's keys are unusable",
                  keysetId: id,
                }),
        }),
      )
    }
    return { listed: relevant, fresh }
  })

/** A fresh keyset bound to another mint, refused (two mints would share NUT-13 counters). */
const collision = (view: WalletView, mintUrl: string, id: string): KeysetError | undefined => {
  const other = view.keyset(id)
  return other !== undefined && other.mintUrl !== mintUrl
    ? new KeysetError({
        reason: "id-collision",
        message: "a keyset id already bound to another mint was offered again",
        keysetId: id,
      })
    : undefined
}

/** A keyset's keys as the log records them: `[amount, key]`, lowercase, ascending by amount. */
const sortedKeys = (keyset: Keyset) =>
  [...keyset.keys.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([amount, key]) => [amount, key.toLowerCase()] as const)

/** The fee rate a listed keyset carries (NUT-02: none listed ⇒ 0). */
const listedFee = (k: ListedKeyset): bigint => k.input_fee_ppk ?? 0n

/**
 * The wallet's keysets of `mintUrl` as {@link syncMint} would leave them after recording `fetched` — for a
 * preview, which records nothing: the known ones with the activity and fee rate the mint lists now, the
 * fresh ones as learned `now`. Fails as the sync would on a keyset id bound to another mint.
 */
export const keysetsAfterSync = (
  view: WalletView,
  mintUrl: string,
  fetched: FetchedKeysets,
  now: number,
): KeysetView[] | KeysetError => {
  const out = new Map(view.keysets(mintUrl).map((k) => [k.id, k]))
  for (const k of fetched.listed) {
    const have = out.get(k.id.toLowerCase())
    if (have !== undefined) out.set(have.id, { ...have, active: k.active, inputFeePpk: listedFee(k) })
  }
  for (const keyset of fetched.fresh) {
    const id = keyset.id.toLowerCase()
    const refused = collision(view, mintUrl, id)
    if (refused !== undefined) return refused
    out.set(id, {
      id,
      mintUrl,
      unit: keyset.unit,
      active: keyset.active,
      inputFeePpk: keyset.inputFeePpk,
      finalExpiry: keyset.finalExpiry,
      keys: sortedKeys(keyset),
      learnedAt: now,
    })
  }
  return [...out.values()]
}

/**
 * Trusts `mintUrl` for `units` (adding units to an already trusted mint) and learns its keysets of those
 * units. Idempotent: a second call with nothing new appends nothing.
 */
export const syncMint = (
  rt: WalletRuntime,
  mintUrl: string,
  units: ReadonlyArray<string>,
): Effect.Effect<MintSync, MintCallError | KeysetError | StepError | StoreUnavailable> =>
  Effect.gen(function* () {
    // Fetched before taking the writer (network outside the lock).
    const { listed, fresh } = yield* fetchKeysets(rt, mintUrl, units)
    return yield* rt.write((append) =>
      Effect.gen(function* () {
        const view = rt.view()
        const events: WalletEvent[] = []
        const known = view.mints().find((m) => m.mintUrl === mintUrl)
        const allUnits = [...new Set([...(known?.units ?? []), ...units])].sort()
        if (known === undefined || allUnits.length !== known.units.length) {
          const trusted: MintTrusted = {
            _tag: "MintTrusted",
            mintUrl,
            units: allUnits as [string, ...string[]],
          }
          events.push(trusted)
        }
        let learned = 0
        let changed = 0
        for (const keyset of fresh) {
          const id = keyset.id.toLowerCase()
          const refused = collision(view, mintUrl, id)
          if (refused !== undefined) return yield* refused
          if (view.keyset(id) !== undefined) continue
          const event: KeysetLearned = {
            _tag: "KeysetLearned",
            mintUrl,
            id,
            unit: keyset.unit,
            active: keyset.active,
            inputFeePpk: keyset.inputFeePpk,
            ...(keyset.finalExpiry !== undefined ? { finalExpiry: keyset.finalExpiry } : {}),
            keys: sortedKeys(keyset) as unknown as KeysetLearned["keys"],
          }
          events.push(event)
          learned++
        }
        for (const k of listed) {
          const have = view.keyset(k.id.toLowerCase())
          if (have === undefined || have.mintUrl !== mintUrl) continue
          const fee = listedFee(k)
          if (have.active !== k.active || have.inputFeePpk !== fee) {
            const event: KeysetChanged = {
              _tag: "KeysetChanged",
              mintUrl,
              id: have.id,
              active: k.active,
              inputFeePpk: fee,
            }
            events.push(event)
            changed++
          }
        }
        const syncId = newOperationId(rt.services.now())
        const batch: NewEvent[] = events.map((event, i) => ({
          eventId: walletEventId(rt.walletId, "mint-sync", syncId, i),
          event,
        }))
        yield* append(batch)
        return { learned, changed }
      }),
    )
  })
