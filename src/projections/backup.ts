/**
 * Backup material per wallet: what a restore from seed needs — the mnemonic, the trusted mints with their
 * units, and every keyset with its mint, unit and next counter (so a restore knows where to scan up to).
 *
 * This state holds the mnemonic: it must only ever leave memory sealed (checkpoints are sealed by the
 * vault; see `./checkpoint.ts`).
 *
 * Counters follow the same forward-only rule as `./counters.ts`; keysets bind to the first mint that
 * taught them, as in `./mints.ts`. A second `WalletCreated` in a stream is ignored: a wallet's seed never
 * changes.
 *
 * @module
 */
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap } from "./pmap.js"
import type { Projection } from "./projection.js"

/** One wallet's backup material. */
export interface WalletBackup {
  readonly walletId: string | undefined
  readonly mnemonic: string | undefined
  readonly label: string | undefined
  /** Trusted mints and their units. */
  readonly mints: PMap<string, ReadonlyArray<string>>
  /** Keyset id → its mint and unit. */
  readonly keysets: PMap<string, { readonly mintUrl: string; readonly unit: string }>
  /** Keyset id → next unused counter. */
  readonly counters: PMap<string, number>
}

/** The projection's state: wallets by stream id. */
export interface BackupState {
  readonly wallets: PMap<string, WalletBackup>
}

/** A keyset as a restore needs it. */
export interface BackupKeyset {
  readonly id: string
  readonly mintUrl: string | undefined
  readonly unit: string | undefined
  readonly nextCounter: number
}

const emptyWallet: WalletBackup = {
  walletId: undefined,
  mnemonic: undefined,
  label: undefined,
  mints: PMap.empty(),
  keysets: PMap.empty(),
  counters: PMap.empty(),
}

const forward = (counters: PMap<string, number>, keysetId: string, next: number): PMap<string, number> => {
  const cur = counters.get(keysetId)
  return cur !== undefined && cur >= next ? counters : counters.set(keysetId, next)
}

const evolve = (state: BackupState, rec: RecordedEvent): BackupState => {
  const e = rec.event
  const stream = rec.envelope.streamId
  let w: WalletBackup | undefined
  let next: WalletBackup
  switch (e._tag) {
    case "WalletCreated":
      w = state.wallets.get(stream) ?? emptyWallet
      if (w.mnemonic !== undefined) return state
      next = { ...w, walletId: e.walletId, mnemonic: e.mnemonic, label: e.label }
      break
    case "MintTrusted":
      w = state.wallets.get(stream) ?? emptyWallet
      next = { ...w, mints: w.mints.set(e.mintUrl, [...e.units]) }
      break
    case "KeysetLearned":
      w = state.wallets.get(stream) ?? emptyWallet
      if (w.keysets.has(e.id)) return state
      next = { ...w, keysets: w.keysets.set(e.id, { mintUrl: e.mintUrl, unit: e.unit }) }
      break
    case "CountersReserved":
      w = state.wallets.get(stream) ?? emptyWallet
      next = { ...w, counters: forward(w.counters, e.keysetId, e.start + e.count) }
      break
    case "OperationCompleted": {
      if (e.kind !== "restore") return state
      w = state.wallets.get(stream) ?? emptyWallet
      let counters = w.counters
      for (const c of e.counters) counters = forward(counters, c.keysetId, c.next)
      next = { ...w, counters }
      break
    }
    default:
      return state
  }
  if (
    next.counters === w.counters &&
    next.mints === w.mints &&
    next.keysets === w.keysets &&
    next.mnemonic === w.mnemonic
  )
    return state
  return { wallets: state.wallets.set(stream, next) }
}

const NAME = "backup"
const VERSION = 1

const serialize = (state: BackupState): Uint8Array => {
  const out = new LineWriter(NAME, VERSION)
  for (const [stream, w] of state.wallets.sorted()) {
    out.line(["w", stream, { walletId: w.walletId, mnemonic: w.mnemonic, label: w.label }])
    for (const [mintUrl, units] of w.mints.sorted()) out.line(["m", stream, mintUrl, units])
    for (const [id, k] of w.keysets.sorted()) out.line(["k", stream, id, k.mintUrl, k.unit])
    for (const [id, next] of w.counters.sorted()) out.line(["c", stream, id, next])
  }
  return out.finish()
}

const deserialize = (bytes: Uint8Array): BackupState => {
  const f = fields(NAME)
  const wallets = new Map<
    string,
    {
      head: Pick<WalletBackup, "walletId" | "mnemonic" | "label">
      mints: Map<string, ReadonlyArray<string>>
      keysets: Map<string, { mintUrl: string; unit: string }>
      counters: Map<string, number>
    }
  >()
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const stream = f.str(r[1], "stream")
    let w = wallets.get(stream)
    if (w === undefined) {
      w = {
        head: { walletId: undefined, mnemonic: undefined, label: undefined },
        mints: new Map(),
        keysets: new Map(),
        counters: new Map(),
      }
      wallets.set(stream, w)
    }
    if (r[0] === "w") {
      const o = f.obj(r[2], "wallet")
      w.head = {
        walletId: f.optStr(o.walletId, "walletId"),
        mnemonic: f.optStr(o.mnemonic, "mnemonic"),
        label: f.optStr(o.label, "label"),
      }
    } else if (r[0] === "m")
      w.mints.set(
        f.str(r[2], "mint"),
        f.arr(r[3], "units").map((u) => f.str(u, "unit")),
      )
    else if (r[0] === "k")
      w.keysets.set(f.str(r[2], "keyset"), { mintUrl: f.str(r[3], "mint"), unit: f.str(r[4], "unit") })
    else if (r[0] === "c") w.counters.set(f.str(r[2], "keyset"), f.int(r[3], "counter"))
    else f.fail("record kind")
  })
  return {
    wallets: PMap.from(
      [...wallets].map(
        ([s, w]) =>
          [
            s,
            {
              ...w.head,
              mints: PMap.from(w.mints),
              keysets: PMap.from(w.keysets),
              counters: PMap.from(w.counters),
            },
          ] as const,
      ),
    ),
  }
}

/** The backup-material projection. */
export const backupProjection: Projection<BackupState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  serialize,
  deserialize,
}

/** What a restore of one wallet needs: its mnemonic, mints and keysets with their next counters. */
export const backupOf = (
  state: BackupState,
  stream: string,
):
  | {
      readonly walletId: string | undefined
      readonly mnemonic: string | undefined
      readonly mints: ReadonlyArray<{ readonly mintUrl: string; readonly units: ReadonlyArray<string> }>
      readonly keysets: ReadonlyArray<BackupKeyset>
    }
  | undefined => {
  const w = state.wallets.get(stream)
  if (w === undefined) return undefined
  const ids = new Set([...w.keysets.entries().map(([id]) => id), ...w.counters.entries().map(([id]) => id)])
  return {
    walletId: w.walletId,
    mnemonic: w.mnemonic,
    mints: w.mints.sorted().map(([mintUrl, units]) => ({ mintUrl, units })),
    keysets: [...ids].sort().map((id) => {
      const k = w.keysets.get(id)
      return { id, mintUrl: k?.mintUrl, unit: k?.unit, nextCounter: w.counters.get(id) ?? 0 }
    }),
  }
}
