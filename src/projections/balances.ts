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
import type { RecordedEvent } from "../events/store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { checkTransition, ownerAfter, PROOF_STATES, type ProofState, targetState } from "./lifecycle.js"
import { PMap, type PMapEditor } from "./pmap.js"
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

/** `b` with `amount` added to the total of `state`. */
const adjust = (b: Balance, state: ProofState, amount: bigint): Balance => {
  switch (state) {
    case "incoming":
      return {
        mintUrl: b.mintUrl,
        unit: b.unit,
        incoming: b.incoming + amount,
        unspent: b.unspent,
        reserved: b.reserved,
        pending: b.pending,
        spent: b.spent,
      }
    case "unspent":
      return {
        mintUrl: b.mintUrl,
        unit: b.unit,
        incoming: b.incoming,
        unspent: b.unspent + amount,
        reserved: b.reserved,
        pending: b.pending,
        spent: b.spent,
      }
    case "reserved":
      return {
        mintUrl: b.mintUrl,
        unit: b.unit,
        incoming: b.incoming,
        unspent: b.unspent,
        reserved: b.reserved + amount,
        pending: b.pending,
        spent: b.spent,
      }
    case "pending":
      return {
        mintUrl: b.mintUrl,
        unit: b.unit,
        incoming: b.incoming,
        unspent: b.unspent,
        reserved: b.reserved,
        pending: b.pending + amount,
        spent: b.spent,
      }
    case "spent":
      return {
        mintUrl: b.mintUrl,
        unit: b.unit,
        incoming: b.incoming,
        unspent: b.unspent,
        reserved: b.reserved,
        pending: b.pending,
        spent: b.spent + amount,
      }
  }
}

/** Applies one proof event to a wallet's index, gathering bucket changes in `touched`. */
const applyToIndex = (
  index: PMapEditor<string, BalanceSlot>,
  buckets: PMap<string, Balance>,
  e: ProofEvent,
  touched: Map<string, Balance>,
): void => {
  if (e._tag === "ProofsIssued" || e._tag === "ProofsReceived") {
    const to: ProofState = e._tag === "ProofsIssued" ? "unspent" : "incoming"
    const key = bucketKey(e.mintUrl, e.unit)
    let b = touched.get(key) ?? buckets.get(key) ?? zeroBalance(key)
    let changed = false
    for (const p of e.proofs) {
      const slot = index.get(p.Y)
      if (checkTransition(slot?.state, slot?.owner, e._tag, e.operationId) !== undefined) continue
      index.set(p.Y, { bucket: key, amount: p.amount, state: to, owner: undefined })
      b = adjust(b, to, p.amount)
      changed = true
    }
    if (changed) touched.set(key, b)
    return
  }
  const to = targetState(e._tag)
  const owner = ownerAfter(e._tag, e.operationId)
  for (const y of e.ys) {
    const slot = index.get(y)
    if (slot === undefined || checkTransition(slot.state, slot.owner, e._tag, e.operationId) !== undefined)
      continue
    index.set(y, { bucket: slot.bucket, amount: slot.amount, state: to, owner })
    const b = touched.get(slot.bucket) ?? buckets.get(slot.bucket) ?? zeroBalance(slot.bucket)
    touched.set(slot.bucket, adjust(adjust(b, slot.state, -slot.amount), to, slot.amount))
  }
}

const evolve = (state: BalancesState, rec: RecordedEvent): BalancesState => {
  const e = rec.event
  if (!isProofEvent(e)) return state
  const stream = rec.envelope.streamId
  const wallet = state.wallets.get(stream) ?? emptyWallet
  // Changes are gathered per bucket and applied once per event.
  const touched = new Map<string, Balance>()
  const index = wallet.index.edit((ix) => applyToIndex(ix, wallet.buckets, e, touched))
  if (index === wallet.index) return state
  let buckets = wallet.buckets
  for (const [key, b] of touched) buckets = buckets.set(key, b)
  return { wallets: state.wallets.set(stream, { buckets, index }) }
}

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
  serialize,
  deserialize,
}

/** The balance of one wallet at one mint in one unit (zero everywhere when it never held a proof there). */
export const balanceOf = (state: BalancesState, stream: string, mintUrl: string, unit: string): Balance =>
  state.wallets.get(stream)?.buckets.get(bucketKey(mintUrl, unit)) ?? zeroBalance(bucketKey(mintUrl, unit))

/** Every balance of a wallet, sorted by mint then unit. */
export const balancesOf = (state: BalancesState, stream: string): Balance[] =>
  (state.wallets.get(stream)?.buckets.sorted() ?? []).map(([, b]) => b)
