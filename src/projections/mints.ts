/**
 * Mints and keysets per wallet: the mints it trusts (and for which units), and every keyset it learned with
 * its keys, fee and state, bound to its mint for ever.
 *
 * - `MintTrusted` states the mint's current trust: the latest statement's units and name replace the
 *   previous ones (trust is declared, not accumulated).
 * - The first `KeysetLearned` of an id binds it to its mint and unit. Learning it again from the same mint
 *   refreshes its state and fee; from another mint it is ignored (NUT-02 collision: the audit flags it).
 * - `KeysetChanged` updates state and fee of a keyset bound to the same mint, and is ignored otherwise.
 *
 * @module
 */
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap } from "./pmap.js"
import type { Projection } from "./projection.js"

/** A trusted mint. */
export interface MintView {
  readonly mintUrl: string
  readonly units: ReadonlyArray<string>
  readonly name: string | undefined
  readonly trustedAt: number
}

/** A learned keyset. */
export interface KeysetView {
  readonly id: string
  readonly mintUrl: string
  readonly unit: string
  readonly active: boolean
  readonly inputFeePpk: bigint
  readonly finalExpiry: bigint | undefined
  /** `[amount, public key]`, ascending by amount. */
  readonly keys: ReadonlyArray<readonly [bigint, string]>
  readonly learnedAt: number
}

/** One wallet's mints and keysets. */
export interface WalletMints {
  readonly mints: PMap<string, MintView>
  readonly keysets: PMap<string, KeysetView>
}

/** The projection's state: wallets by stream id. */
export interface MintsState {
  readonly wallets: PMap<string, WalletMints>
}

const emptyWallet: WalletMints = { mints: PMap.empty(), keysets: PMap.empty() }

const evolve = (state: MintsState, rec: RecordedEvent): MintsState => {
  const e = rec.event
  if (e._tag !== "MintTrusted" && e._tag !== "KeysetLearned" && e._tag !== "KeysetChanged") return state
  const stream = rec.envelope.streamId
  const w = state.wallets.get(stream) ?? emptyWallet
  let next: WalletMints = w
  if (e._tag === "MintTrusted") {
    next = {
      ...w,
      mints: w.mints.set(e.mintUrl, {
        mintUrl: e.mintUrl,
        units: [...e.units],
        name: e.name,
        trustedAt: w.mints.get(e.mintUrl)?.trustedAt ?? rec.envelope.time,
      }),
    }
  } else {
    const known = w.keysets.get(e.id)
    if (known !== undefined && known.mintUrl !== e.mintUrl) return state
    if (e._tag === "KeysetLearned") {
      if (known !== undefined && known.unit !== e.unit) return state
      next = {
        ...w,
        keysets: w.keysets.set(e.id, {
          id: e.id,
          mintUrl: e.mintUrl,
          unit: e.unit,
          active: e.active,
          inputFeePpk: e.inputFeePpk,
          finalExpiry: e.finalExpiry,
          keys: known?.keys ?? e.keys.map(([a, k]) => [a, k] as const),
          learnedAt: known?.learnedAt ?? rec.envelope.time,
        }),
      }
    } else {
      if (known === undefined) return state
      next = {
        ...w,
        keysets: w.keysets.set(e.id, { ...known, active: e.active, inputFeePpk: e.inputFeePpk }),
      }
    }
  }
  return { wallets: state.wallets.set(stream, next) }
}

const NAME = "mints"
const VERSION = 1

const serialize = (state: MintsState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, wallet] of state.wallets.sorted()) {
    for (const [, m] of wallet.mints.sorted()) w.line(["m", stream, { ...m }])
    for (const [, k] of wallet.keysets.sorted()) w.line(["k", stream, { ...k }])
  }
  return w.finish()
}

const deserialize = (bytes: Uint8Array): MintsState => {
  const f = fields(NAME)
  const wallets = new Map<string, { mints: Map<string, MintView>; keysets: Map<string, KeysetView> }>()
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const stream = f.str(r[1], "stream")
    const o = f.obj(r[2], "entry")
    let w = wallets.get(stream)
    if (w === undefined) {
      w = { mints: new Map(), keysets: new Map() }
      wallets.set(stream, w)
    }
    if (r[0] === "m") {
      const mintUrl = f.str(o.mintUrl, "mintUrl")
      w.mints.set(mintUrl, {
        mintUrl,
        units: f.arr(o.units, "units").map((u) => f.str(u, "unit")),
        name: f.optStr(o.name, "name"),
        trustedAt: f.int(o.trustedAt, "trustedAt"),
      })
    } else if (r[0] === "k") {
      const id = f.str(o.id, "id")
      w.keysets.set(id, {
        id,
        mintUrl: f.str(o.mintUrl, "mintUrl"),
        unit: f.str(o.unit, "unit"),
        active: f.bool(o.active, "active"),
        inputFeePpk: f.big(o.inputFeePpk, "inputFeePpk"),
        finalExpiry: f.optBig(o.finalExpiry, "finalExpiry"),
        keys: f.arr(o.keys, "keys").map((k) => {
          const pair = f.arr(k, "key")
          return [f.big(pair[0], "key amount"), f.str(pair[1], "key")] as const
        }),
        learnedAt: f.int(o.learnedAt, "learnedAt"),
      })
    } else f.fail("record kind")
  })
  return {
    wallets: PMap.from(
      [...wallets].map(
        ([s, w]) => [s, { mints: PMap.from(w.mints), keysets: PMap.from(w.keysets) }] as const,
      ),
    ),
  }
}

/** The mints-and-keysets projection. */
export const mintsProjection: Projection<MintsState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  serialize,
  deserialize,
}

/** The keyset `id` of a wallet, with its mint binding. */
export const keysetOf = (state: MintsState, stream: string, id: string): KeysetView | undefined =>
  state.wallets.get(stream)?.keysets.get(id)

/** A wallet's trusted mints, sorted by URL. */
export const mintsOf = (state: MintsState, stream: string): MintView[] =>
  (state.wallets.get(stream)?.mints.sorted() ?? []).map(([, m]) => m)

/** A wallet's keysets at one mint, sorted by id. */
export const keysetsOf = (state: MintsState, stream: string, mintUrl?: string): KeysetView[] =>
  (state.wallets.get(stream)?.keysets.sorted() ?? [])
    .map(([, k]) => k)
    .filter((k) => mintUrl === undefined || k.mintUrl === mintUrl)
