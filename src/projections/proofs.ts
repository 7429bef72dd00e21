/**
 * Proofs by state and keyset: every proof a wallet holds or held, with its lifecycle state (see
 * `./lifecycle.ts`), the operation holding its reservation, and count/amount totals per keyset and state.
 *
 * Live proofs (incoming, unspent, reserved, pending) keep the full stored proof — coin selection and the
 * requests of an operation need secrets, signatures and DLEQs. Spent proofs are terminal and only kept as a
 * compact record (amount, keyset, who spent it): enough to refuse a resurrection or a double spend, while a
 * long history does not keep a million secrets in memory. The stored proof object is the decoded event's own
 * (no copy), which keeps a million live proofs well inside 1 GiB.
 *
 * @module
 */
import { isProofEvent, type ProofEvent, type StoredProof } from "../events/catalogue.js"
import { checkTransition, ownerAfter, PROOF_STATES, type ProofState } from "../machines/lifecycle.js"
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap, type PMapEditor, type PMapTransaction } from "./pmap.js"
import type { Projection } from "./projection.js"

/** A state a proof can be in before it is spent. */
export type LiveState = Exclude<ProofState, "spent">

/** A proof the wallet can still use (or is about to). */
export interface LiveProof {
  readonly proof: StoredProof
  readonly mintUrl: string
  readonly unit: string
  readonly state: LiveState
  /** The operation holding the reservation (reserved and pending proofs). */
  readonly operationId: string | undefined
  /** Sequence of the event that put the proof in this state. */
  readonly sequence: number
}

/** What remains of a spent proof. */
export interface SpentProof {
  readonly amount: bigint
  readonly keysetId: string
  readonly mintUrl: string
  readonly unit: string
  /** The operation that reported the spend, when one did. */
  readonly operationId: string | undefined
  readonly sequence: number
}

/** Counts and amounts per proof state (indexed like `PROOF_STATES`). */
export interface KeysetTotals {
  readonly counts: ReadonlyArray<number>
  readonly amounts: ReadonlyArray<bigint>
}

/** One wallet's proofs, keyed by Y. */
export interface WalletProofs {
  readonly live: PMap<string, LiveProof>
  readonly spent: PMap<string, SpentProof>
  readonly totals: PMap<string, KeysetTotals>
}

/** The projection's state: wallets by stream id. */
export interface ProofsState {
  readonly wallets: PMap<string, WalletProofs>
}

const STATE_INDEX: Readonly<Record<ProofState, number>> = {
  incoming: 0,
  unspent: 1,
  reserved: 2,
  pending: 3,
  spent: 4,
}

const emptyWallet: WalletProofs = { live: PMap.empty(), spent: PMap.empty(), totals: PMap.empty() }
const ZERO_TOTALS: KeysetTotals = { counts: [0, 0, 0, 0, 0], amounts: [0n, 0n, 0n, 0n, 0n] }

/** Per-event accumulator of total changes, applied once per keyset. */
class TotalsDelta {
  private readonly byKeyset = new Map<string, { counts: number[]; amounts: bigint[] }>()
  move(keysetId: string, amount: bigint, from: ProofState | undefined, to: ProofState | undefined): void {
    let d = this.byKeyset.get(keysetId)
    if (d === undefined) {
      d = { counts: [0, 0, 0, 0, 0], amounts: [0n, 0n, 0n, 0n, 0n] }
      this.byKeyset.set(keysetId, d)
    }
    if (from !== undefined) {
      const i = STATE_INDEX[from]
      d.counts[i]! -= 1
      d.amounts[i]! -= amount
    }
    if (to === undefined) return
    const j = STATE_INDEX[to]
    d.counts[j]! += 1
    d.amounts[j]! += amount
  }
  apply(totals: PMap<string, KeysetTotals>): PMap<string, KeysetTotals> {
    let t = totals
    for (const [keysetId, d] of this.byKeyset) {
      const cur = t.get(keysetId) ?? ZERO_TOTALS
      const counts = new Array<number>(5)
      const amounts = new Array<bigint>(5)
      for (let i = 0; i < 5; i++) {
        counts[i] = cur.counts[i]! + d.counts[i]!
        amounts[i] = cur.amounts[i]! + d.amounts[i]!
      }
      t = t.set(keysetId, { counts, amounts })
    }
    return t
  }
}

/** New proofs: absent → unspent (issued) or incoming (received). */
const addProofs = (
  live: PMapEditor<string, LiveProof>,
  spent: { has(key: string): boolean },
  e: Extract<ProofEvent, { readonly _tag: "ProofsIssued" | "ProofsReceived" }>,
  sequence: number,
  delta: TotalsDelta,
): void => {
  const to: LiveState = e._tag === "ProofsIssued" ? "unspent" : "incoming"
  for (const proof of e.proofs) {
    const current = live.get(proof.Y)
    const now = current?.state ?? (spent.has(proof.Y) ? "spent" : undefined)
    if (checkTransition(now, current?.operationId, e._tag, e.operationId) !== undefined) continue
    live.set(proof.Y, {
      proof,
      mintUrl: e.mintUrl,
      unit: e.unit,
      state: to,
      operationId: undefined,
      sequence,
    })
    delta.move(proof.id, proof.amount, undefined, to)
  }
}

/** Reservations, releases and pendings: a live proof changes state. */
const moveProofs = (
  live: PMapEditor<string, LiveProof>,
  e: Extract<ProofEvent, { readonly _tag: "ProofsReserved" | "ProofsReleased" | "ProofsPending" }>,
  sequence: number,
  delta: TotalsDelta,
): void => {
  const to: LiveState =
    e._tag === "ProofsReleased" ? "unspent" : e._tag === "ProofsReserved" ? "reserved" : "pending"
  const owner = ownerAfter(e._tag, e.operationId)
  for (const y of e.ys) {
    const current = live.get(y)
    if (
      current === undefined ||
      checkTransition(current.state, current.operationId, e._tag, e.operationId) !== undefined
    )
      continue
    live.set(y, {
      proof: current.proof,
      mintUrl: current.mintUrl,
      unit: current.unit,
      state: to,
      operationId: owner,
      sequence,
    })
    delta.move(current.proof.id, current.proof.amount, current.state, to)
  }
}

/** Drops: an incoming proof of a receive that ended without effect leaves the wallet altogether. */
const dropProofs = (
  live: PMapEditor<string, LiveProof>,
  e: Extract<ProofEvent, { readonly _tag: "ProofsDropped" }>,
  delta: TotalsDelta,
): void => {
  for (const y of e.ys) {
    const current = live.get(y)
    if (
      current === undefined ||
      checkTransition(current.state, current.operationId, e._tag, e.operationId) !== undefined
    )
      continue
    live.delete(y)
    delta.move(current.proof.id, current.proof.amount, current.state, undefined)
  }
}

/** Spends: a live proof leaves the live map for the compact spent map. */
const spendProofs = (
  live: PMapEditor<string, LiveProof>,
  spent: PMapEditor<string, SpentProof>,
  e: Extract<ProofEvent, { readonly _tag: "ProofsSpent" }>,
  sequence: number,
  delta: TotalsDelta,
): void => {
  for (const y of e.ys) {
    const current = live.get(y)
    // A proof absent from `live` is unknown or already spent: both refused.
    if (current === undefined) continue
    live.delete(y)
    spent.set(y, {
      amount: current.proof.amount,
      keysetId: current.proof.id,
      mintUrl: current.mintUrl,
      unit: current.unit,
      operationId: e.operationId,
      sequence,
    })
    delta.move(current.proof.id, current.proof.amount, current.state, "spent")
  }
}

/** One wallet's open transactions during a batch fold. */
interface WalletWork {
  readonly before: WalletProofs
  readonly live: PMapTransaction<string, LiveProof>
  readonly spent: PMapTransaction<string, SpentProof>
  readonly delta: TotalsDelta
}

/** Applies one proof event to a wallet's open transactions. */
const applyEvent = (w: WalletWork, e: ProofEvent, sequence: number): void => {
  if (e._tag === "ProofsIssued" || e._tag === "ProofsReceived")
    addProofs(w.live, w.spent, e, sequence, w.delta)
  else if (e._tag === "ProofsSpent") spendProofs(w.live, w.spent, e, sequence, w.delta)
  else if (e._tag === "ProofsDropped") dropProofs(w.live, e, w.delta)
  else moveProofs(w.live, e, sequence, w.delta)
}

/**
 * The batch fold: one transaction per touched wallet map for the whole batch, committed at the end, so a
 * page costs one new version per map instead of one per event. `evolve` is the batch of one event, so both
 * compute the very same thing.
 */
const evolveMany = (state: ProofsState, events: ReadonlyArray<RecordedEvent>): ProofsState => {
  let work: Map<string, WalletWork> | undefined
  for (let i = 0; i < events.length; i++) {
    const rec = events[i]!
    const e = rec.event
    if (!isProofEvent(e)) continue
    const stream = rec.envelope.streamId
    let w = work?.get(stream)
    if (w === undefined) {
      const before = state.wallets.get(stream) ?? emptyWallet
      w = { before, live: before.live.begin(), spent: before.spent.begin(), delta: new TotalsDelta() }
      if (work === undefined) work = new Map()
      work.set(stream, w)
    }
    applyEvent(w, e, rec.envelope.sequence)
  }
  if (work === undefined) return state
  const open = work
  const wallets = state.wallets.edit((ws) => {
    for (const [stream, w] of open) {
      const live = w.live.commit()
      const spent = w.spent.commit()
      if (live === w.before.live && spent === w.before.spent) continue
      ws.set(stream, { live, spent, totals: w.delta.apply(w.before.totals) })
    }
  })
  return wallets === state.wallets ? state : { wallets }
}

const evolve = (state: ProofsState, rec: RecordedEvent): ProofsState =>
  isProofEvent(rec.event) ? evolveMany(state, [rec]) : state

const NAME = "proofs"
const VERSION = 1

/** Only the catalogue's fields: a proof handed over in memory may carry more, a decoded one never does. */
const proofJson = (p: StoredProof): unknown => ({
  amount: p.amount,
  id: p.id,
  secret: p.secret,
  C: p.C,
  Y: p.Y,
  dleq: p.dleq === undefined ? undefined : { e: p.dleq.e, s: p.dleq.s, r: p.dleq.r },
  witness: p.witness,
  p2pk_e: p.p2pk_e,
  counter: p.counter,
})

const serialize = (state: ProofsState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, wallet] of state.wallets.sorted()) {
    for (const [y, p] of wallet.live.sorted())
      w.line([
        "p",
        stream,
        y,
        p.state,
        p.mintUrl,
        p.unit,
        p.operationId ?? null,
        p.sequence,
        proofJson(p.proof),
      ])
    for (const [y, s] of wallet.spent.sorted())
      w.line(["s", stream, y, s.amount, s.keysetId, s.mintUrl, s.unit, s.operationId ?? null, s.sequence])
    for (const [keysetId, t] of wallet.totals.sorted()) w.line(["t", stream, keysetId, t.counts, t.amounts])
  }
  return w.finish()
}

const LIVE_STATES: ReadonlyArray<LiveState> = ["incoming", "unspent", "reserved", "pending"]

const deserialize = (bytes: Uint8Array): ProofsState => {
  const f = fields(NAME)
  const wallets = new Map<
    string,
    { live: Map<string, LiveProof>; spent: Map<string, SpentProof>; totals: Map<string, KeysetTotals> }
  >()
  const walletOf = (stream: string) => {
    let w = wallets.get(stream)
    if (w === undefined) {
      w = { live: new Map(), spent: new Map(), totals: new Map() }
      wallets.set(stream, w)
    }
    return w
  }
  const opt = (v: unknown) => (v === null ? undefined : f.str(v, "operation id"))
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const kind = r[0]
    const stream = f.str(r[1], "stream")
    if (kind === "p") {
      walletOf(stream).live.set(f.str(r[2], "Y"), {
        state: f.oneOf(r[3], LIVE_STATES, "state"),
        mintUrl: f.str(r[4], "mint"),
        unit: f.str(r[5], "unit"),
        operationId: opt(r[6]),
        sequence: f.int(r[7], "sequence"),
        proof: readProof(f, r[8]),
      })
    } else if (kind === "s") {
      walletOf(stream).spent.set(f.str(r[2], "Y"), {
        amount: f.big(r[3], "amount"),
        keysetId: f.str(r[4], "keyset"),
        mintUrl: f.str(r[5], "mint"),
        unit: f.str(r[6], "unit"),
        operationId: opt(r[7]),
        sequence: f.int(r[8], "sequence"),
      })
    } else if (kind === "t") {
      const counts = f.arr(r[3], "counts").map((c) => f.int(c, "count"))
      const amounts = f.arr(r[4], "amounts").map((a) => f.big(a, "amount"))
      if (counts.length !== 5 || amounts.length !== 5) f.fail("totals")
      walletOf(stream).totals.set(f.str(r[2], "keyset"), { counts, amounts })
    } else f.fail("record kind")
  })
  const out: Array<[string, WalletProofs]> = []
  for (const [stream, w] of wallets)
    out.push([stream, { live: PMap.from(w.live), spent: PMap.from(w.spent), totals: PMap.from(w.totals) }])
  return { wallets: PMap.from(out) }
}

/** Rebuilds a stored proof from its canonical JSON (keys in the catalogue's declaration order). */
const readProof = (f: ReturnType<typeof fields>, v: unknown): StoredProof => {
  const o = f.obj(v, "proof")
  const dleq =
    o.dleq === undefined
      ? undefined
      : (() => {
          const d = f.obj(o.dleq, "dleq")
          const r = f.optStr(d.r, "dleq.r")
          return r === undefined
            ? { e: f.str(d.e, "dleq.e"), s: f.str(d.s, "dleq.s") }
            : { e: f.str(d.e, "dleq.e"), s: f.str(d.s, "dleq.s"), r }
        })()
  const witness = f.optStr(o.witness, "witness")
  const p2pk_e = f.optStr(o.p2pk_e, "p2pk_e")
  const counter = f.optInt(o.counter, "counter")
  return {
    amount: f.big(o.amount, "amount"),
    id: f.str(o.id, "id"),
    secret: f.str(o.secret, "secret"),
    C: f.str(o.C, "C"),
    Y: f.str(o.Y, "Y"),
    ...(dleq === undefined ? {} : { dleq }),
    ...(witness === undefined ? {} : { witness }),
    ...(p2pk_e === undefined ? {} : { p2pk_e }),
    ...(counter === undefined ? {} : { counter }),
  }
}

/** The proofs projection. */
export const proofsProjection: Projection<ProofsState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  evolveMany,
  serialize,
  deserialize,
}

/** The state of proof `y` in a wallet (undefined when the wallet never held it). */
export const proofStateOf = (state: ProofsState, stream: string, y: string): ProofState | undefined => {
  const w = state.wallets.get(stream)
  if (w === undefined) return undefined
  return w.live.get(y)?.state ?? (w.spent.has(y) ? "spent" : undefined)
}

/** A wallet's live proofs matching the filter, in unspecified order. */
export const liveProofs = (
  state: ProofsState,
  stream: string,
  filter: {
    readonly state?: LiveState
    readonly keysetId?: string
    readonly mintUrl?: string
    readonly unit?: string
  } = {},
): LiveProof[] => {
  const out: LiveProof[] = []
  state.wallets.get(stream)?.live.forEach((p) => {
    if (filter.state !== undefined && p.state !== filter.state) return
    if (filter.keysetId !== undefined && p.proof.id !== filter.keysetId) return
    if (filter.mintUrl !== undefined && p.mintUrl !== filter.mintUrl) return
    if (filter.unit !== undefined && p.unit !== filter.unit) return
    out.push(p)
  })
  return out
}

/** A wallet's totals per keyset, by state. */
export const keysetTotals = (
  state: ProofsState,
  stream: string,
): Map<string, Record<ProofState, { count: number; amount: bigint }>> => {
  const out = new Map<string, Record<ProofState, { count: number; amount: bigint }>>()
  for (const [keysetId, t] of state.wallets.get(stream)?.totals.sorted() ?? []) {
    const byState = {} as Record<ProofState, { count: number; amount: bigint }>
    PROOF_STATES.forEach((s, i) => {
      byState[s] = { count: t.counts[i]!, amount: t.amounts[i]! }
    })
    out.set(keysetId, byState)
  }
  return out
}
