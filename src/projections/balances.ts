/**
 * Balances per wallet, mint and unit: the value of the proofs in each state (unspendable incoming value,
 * spendable unspent value, value reserved by or pending in an operation, and value spent so far).
 *
 * A proof counts toward the mint and unit its issuing (or receiving) event names. Later proof events carry
 * only Ys, so the projection keeps a compact index `Y → (bucket, amount, state, owner)` and applies the
 * lifecycle of `./lifecycle.ts` exactly as the proofs projection does. It deliberately does not look at
 * keysets: the audit compares these balances with the sum of unspent proofs grouped by their keyset's
 * binding, which catches an event that attributes proofs to the wrong mint or unit.
 *
 * @module
 */
import { isProofEvent, type ProofEvent } from "../events/catalogue.js"
import {
  checkTransition,
  ownerAfter,
  PROOF_STATES,
  type ProofState,
  targetState,
} from "../machines/lifecycle.js"
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap, type PMapTransaction } from "./pmap.js"
import type { Projection } from "./projection.js"

/** The value per state of one (wallet, mint, unit). */
export interface Balance {
  readonly mintUrl: string
  readonly unit: string
  readonly incoming: bigint
  readonly unspent: bigint
  readonly reserved: bigint
  readonly pending: bigint
  readonly spent: bigint
}

/** Where a proof counts and in which state. */
export interface BalanceSlot {
  /** The bucket key (`mintUrl \0 unit`). */
  readonly bucket: string
  readonly amount: bigint
  readonly state: ProofState
  readonly owner: string | undefined
}

/** One wallet's balances and proof index. */
export interface WalletBalances {
  readonly buckets: PMap<string, Balance>
  readonly index: PMap<string, BalanceSlot>
}

/** The projection's state: wallets by stream id. */
export interface BalancesState {
  readonly wallets: PMap<string, WalletBalances>
}

/** The bucket key of a mint and unit. */
export const bucketKey = (mintUrl: string, unit: string): string => `${mintUrl}\u0000${unit}`

const zeroBalance = (key: string): Balance => {
  const [mintUrl = "", unit = ""] = key.split("\u0000")
  return { mintUrl, unit, incoming: 0n, unspent: 0n, reserved: 0n, pending: 0n, spent: 0n }
}

const emptyWallet: WalletBalances = { buckets: PMap.empty(), index: PMap.empty() }

/** A bucket's balance being accumulated during a batch fold (never handed out before the batch ends). */
type Tally = { -readonly [K in keyof Balance]: Balance[K] }

/** Adds `amount` to the total of `state` in place. */
const tally = (t: Tally, state: ProofState, amount: bigint): void => {
  switch (state) {
    case "incoming":
      t.incoming += amount
      return
    case "unspent":
      t.unspent += amount
      return
    case "reserved":
      t.reserved += amount
      return
    case "pending":
      t.pending += amount
      return
    case "spent":
      t.spent += amount
      return
  }
}

/** One wallet's open work during a batch fold. */
interface WalletWork {
  readonly before: WalletBalances
  readonly index: PMapTransaction<string, BalanceSlot>
  /** The buckets changed so far, as mutable copies. */
  readonly touched: Map<string, Tally>
}

/** The mutable copy of bucket `key` in `w`, made on first use. */
const tallyOf = (w: WalletWork, key: string): Tally => {
  let t = w.touched.get(key)
  if (t === undefined) {
    t = { ...(w.before.buckets.get(key) ?? zeroBalance(key)) }
    w.touched.set(key, t)
  }
  return t
}

/** Applies one proof event to a wallet's open work. */
const applyEvent = (w: WalletWork, e: ProofEvent): void => {
  const index = w.index
  if (e._tag === "ProofsIssued" || e._tag === "ProofsReceived") {
    const to: ProofState = e._tag === "ProofsIssued" ? "unspent" : "incoming"
    const key = bucketKey(e.mintUrl, e.unit)
    let t: Tally | undefined
    for (const p of e.proofs) {
      const slot = index.get(p.Y)
      if (checkTransition(slot?.state, slot?.owner, e._tag, e.operationId) !== undefined) continue
      index.set(p.Y, { bucket: key, amount: p.amount, state: to, owner: undefined })
      if (t === undefined) t = tallyOf(w, key)
      tally(t, to, p.amount)
    }
    return
  }
  const to = targetState(e._tag)
  const owner = ownerAfter(e._tag, e.operationId)
  for (const y of e.ys) {
    const slot = index.get(y)
    if (slot === undefined || checkTransition(slot.state, slot.owner, e._tag, e.operationId) !== undefined)
      continue
    const t = tallyOf(w, slot.bucket)
    tally(t, slot.state, -slot.amount)
    if (to === undefined) {
      // Dropped: the wallet no longer holds the proof (it was never its value).
      index.delete(y)
      continue
    }
    index.set(y, { bucket: slot.bucket, amount: slot.amount, state: to, owner })
    tally(t, to, slot.amount)
  }
}

/**
 * The batch fold: one index transaction and one mutable tally per touched bucket for the whole batch, turned
 * into new versions at the end. `evolve` is the batch of one event, so both compute the very same thing.
 */
const evolveMany = (state: BalancesState, events: ReadonlyArray<RecordedEvent>): BalancesState => {
  let work: Map<string, WalletWork> | undefined
  for (let i = 0; i < events.length; i++) {
    const rec = events[i]!
    const e = rec.event
    if (!isProofEvent(e)) continue
    const stream = rec.envelope.streamId
    let w = work?.get(stream)
    if (w === undefined) {
      const before = state.wallets.get(stream) ?? emptyWallet
      w = { before, index: before.index.begin(), touched: new Map() }
      if (work === undefined) work = new Map()
      work.set(stream, w)
    }
    applyEvent(w, e)
  }
  if (work === undefined) return state
  const open = work
  const wallets = state.wallets.edit((ws) => {
    for (const [stream, w] of open) {
      const index = w.index.commit()
      if (index === w.before.index) continue
      const touched = w.touched
      const buckets = w.before.buckets.edit((bs) => {
        for (const [key, t] of touched) bs.set(key, t)
      })
      ws.set(stream, { buckets, index })
    }
  })
  return wallets === state.wallets ? state : { wallets }
}

const evolve = (state: BalancesState, rec: RecordedEvent): BalancesState =>
  isProofEvent(rec.event) ? evolveMany(state, [rec]) : state

const NAME = "balances"
const VERSION = 1

const serialize = (state: BalancesState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, wallet] of state.wallets.sorted()) {
    for (const [, b] of wallet.buckets.sorted())
      w.line(["b", stream, b.mintUrl, b.unit, b.incoming, b.unspent, b.reserved, b.pending, b.spent])
    for (const [y, s] of wallet.index.sorted()) {
      const [mintUrl, unit] = s.bucket.split("\u0000")
      w.line(["y", stream, y, mintUrl, unit, s.amount, s.state, s.owner ?? null])
    }
  }
  return w.finish()
}

const deserialize = (bytes: Uint8Array): BalancesState => {
  const f = fields(NAME)
  const wallets = new Map<string, { buckets: Map<string, Balance>; index: Map<string, BalanceSlot> }>()
  const walletOf = (stream: string) => {
    let w = wallets.get(stream)
    if (w === undefined) {
      w = { buckets: new Map(), index: new Map() }
      wallets.set(stream, w)
    }
    return w
  }
  const keys = new Map<string, string>()
  const intern = (mintUrl: string, unit: string): string => {
    const k = bucketKey(mintUrl, unit)
    const known = keys.get(k)
    if (known !== undefined) return known
    keys.set(k, k)
    return k
  }
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const stream = f.str(r[1], "stream")
    const mintUrl = f.str(r[r[0] === "b" ? 2 : 3], "mint")
    const unit = f.str(r[r[0] === "b" ? 3 : 4], "unit")
    if (r[0] === "b") {
      walletOf(stream).buckets.set(intern(mintUrl, unit), {
        mintUrl,
        unit,
        incoming: f.big(r[4], "incoming"),
        unspent: f.big(r[5], "unspent"),
        reserved: f.big(r[6], "reserved"),
        pending: f.big(r[7], "pending"),
        spent: f.big(r[8], "spent"),
      })
    } else if (r[0] === "y") {
      walletOf(stream).index.set(f.str(r[2], "Y"), {
        bucket: intern(mintUrl, unit),
        amount: f.big(r[5], "amount"),
        state: f.oneOf(r[6], PROOF_STATES, "state"),
        owner: r[7] === null ? undefined : f.str(r[7], "owner"),
      })
    } else f.fail("record kind")
  })
  const out: Array<[string, WalletBalances]> = []
  for (const [stream, w] of wallets)
    out.push([stream, { buckets: PMap.from(w.buckets), index: PMap.from(w.index) }])
  return { wallets: PMap.from(out) }
}

/** The balances projection. */
export const balancesProjection: Projection<BalancesState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  evolveMany,
  serialize,
  deserialize,
}

/** The balance of one wallet at one mint in one unit (zero everywhere when it never held a proof there). */
export const balanceOf = (state: BalancesState, stream: string, mintUrl: string, unit: string): Balance =>
  state.wallets.get(stream)?.buckets.get(bucketKey(mintUrl, unit)) ?? zeroBalance(bucketKey(mintUrl, unit))

/** Every balance of a wallet, sorted by mint then unit. */
export const balancesOf = (state: BalancesState, stream: string): Balance[] =>
  (state.wallets.get(stream)?.buckets.sorted() ?? []).map(([, b]) => b)
