/**
 * NUT-13 counters per wallet and keyset: the next counter no derivation has used yet.
 *
 * Counters only move forward (a counter used twice derives the same secrets twice): a reservation
 * `[start, start + count)` moves the mark to `start + count` when that is further, and a restore's
 * `OperationCompleted` moves it to what the restore found. A reservation that would move it
 * back (which the audit flags) leaves it where it is.
 *
 * @module
 */
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap } from "./pmap.js"
import type { Projection } from "./projection.js"

/** The projection's state: wallets by stream id, each keyset's next unused counter. */
export interface CountersState {
  readonly wallets: PMap<string, PMap<string, number>>
}

const forward = (marks: PMap<string, number>, keysetId: string, next: number): PMap<string, number> => {
  const cur = marks.get(keysetId)
  return cur !== undefined && cur >= next ? marks : marks.set(keysetId, next)
}

const evolve = (state: CountersState, rec: RecordedEvent): CountersState => {
  const e = rec.event
  const stream = rec.envelope.streamId
  let marks: PMap<string, number>
  let next: PMap<string, number>
  if (e._tag === "CountersReserved") {
    marks = state.wallets.get(stream) ?? PMap.empty()
    next = forward(marks, e.keysetId, e.start + e.count)
  } else if (e._tag === "OperationCompleted" && e.kind === "restore") {
    marks = state.wallets.get(stream) ?? PMap.empty()
    next = marks
    for (const c of e.counters) next = forward(next, c.keysetId, c.next)
  } else return state
  return next === marks ? state : { wallets: state.wallets.set(stream, next) }
}

const NAME = "counters"
const VERSION = 1

const serialize = (state: CountersState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, marks] of state.wallets.sorted())
    for (const [keysetId, next] of marks.sorted()) w.line([stream, keysetId, next])
  return w.finish()
}

const deserialize = (bytes: Uint8Array): CountersState => {
  const f = fields(NAME)
  const wallets = new Map<string, Map<string, number>>()
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    const stream = f.str(r[0], "stream")
    let marks = wallets.get(stream)
    if (marks === undefined) {
      marks = new Map()
      wallets.set(stream, marks)
    }
    marks.set(f.str(r[1], "keyset"), f.int(r[2], "counter"))
  })
  return { wallets: PMap.from([...wallets].map(([s, m]) => [s, PMap.from(m)] as const)) }
}

/** The counters projection. */
export const countersProjection: Projection<CountersState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  serialize,
  deserialize,
}

/** The next unused counter of a keyset in a wallet (0 when none was ever reserved). */
export const nextCounter = (state: CountersState, stream: string, keysetId: string): number =>
  state.wallets.get(stream)?.get(keysetId) ?? 0
