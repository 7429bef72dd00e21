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
import { KeysetError, type MintCallError, type StoreUnavailable } from "../model/index.js"
import type { NewEvent } from "../ports/event-store.js"
import { keysetFromWire } from "../protocol/keysets.js"
import type { StepError, WalletRuntime } from "./runtime.js"

/** NUT-00: mint URLs are compared and stored without trailing slashes. */
export const normaliseMintUrl = (url: string): string => url.trim().replace(/\/+$/, "")

/** What a sync found. */
export interface MintSync {
  readonly learned: number
  readonly changed: number
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
    const { mint } = rt.services
    const listed = yield* mint.keysets(mintUrl)
    const wanted = new Set(units)
    const relevant = listed.keysets.filter((k) => wanted.has(k.unit))
    // Keys for the keysets we do not know yet, fetched before taking the writer (network outside the lock).
    const view0 = rt.view()
    const fresh = relevant.filter((k) => view0.keyset(k.id.toLowerCase()) === undefined)
    // Keys are immutable per id: another wallet of the engine may have fetched (and verified) them already.
    const cache = rt.services.mintCache
    const fetched = yield* Effect.forEach(
      fresh,
      (k) =>
        cache === undefined ? mint.keys(mintUrl, k.id) : cache.keys(mintUrl, k, mint.keys(mintUrl, k.id)),
      { concurrency: 4 },
    )
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
        for (const [i, k] of fresh.entries()) {
          const id = k.id.toLowerCase()
          const wire = fetched[i]!.keysets.find((w) => w.id.toLowerCase() === id)
          if (wire === undefined)
            return yield* new KeysetError({
              reason: "unknown-id",
              message: "the mint listed a keyset but did not serve its keys",
              keysetId: id,
            })
          const fee = k.input_fee_ppk ?? wire.input_fee_ppk
          const keyset = yield* Effect.try({
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
          })
          const other = view.keyset(id)
          if (other !== undefined && other.mintUrl !== mintUrl)
            return yield* new KeysetError({
              reason: "id-collision",
              message: "a keyset id already bound to another mint was offered again",
              keysetId: id,
            })
          if (other !== undefined) continue
          const keys = [...keyset.keys.entries()]
            .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
            .map(([amount, key]) => [amount, key.toLowerCase()] as const)
          const event: KeysetLearned = {
            _tag: "KeysetLearned",
            mintUrl,
            id,
            unit: keyset.unit,
            active: keyset.active,
            inputFeePpk: keyset.inputFeePpk,
            ...(keyset.finalExpiry !== undefined ? { finalExpiry: keyset.finalExpiry } : {}),
            keys: keys as unknown as KeysetLearned["keys"],
          }
          events.push(event)
          learned++
        }
        for (const k of relevant) {
          const have = view.keyset(k.id.toLowerCase())
          if (have === undefined || have.mintUrl !== mintUrl) continue
          const fee = k.input_fee_ppk ?? 0n
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
