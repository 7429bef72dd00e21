/**
 * Which node owns each wallet, as the log says: the last `WalletOwnerChanged` of each wallet's stream (issue
 * #12). A node acquiring a wallet appends the next epoch (this fold's epoch + 1) at the stream version it
 * read; `engine.wallet(id)` on a node that does not own it names the owner from here. Wallets of a log
 * without owners (the LevelDB engine, JetStream without a node id) never appear.
 *
 * An epoch that does not follow the last one (the audit flags it) is ignored, deterministically.
 *
 * @module
 */
import type { RecordedEvent } from "../ports/event-store.js"
import { fields, LineWriter, readLines } from "./canonical.js"
import { PMap } from "./pmap.js"
import type { Projection } from "./projection.js"

/** A wallet's owner: the node and the epoch of its tenure. */
export interface WalletOwner {
  readonly nodeId: string
  readonly epoch: number
}

/** The projection's state: owners by wallet stream id. */
export interface OwnersState {
  readonly wallets: PMap<string, WalletOwner>
}

const evolve = (state: OwnersState, rec: RecordedEvent): OwnersState => {
  const e = rec.event
  if (e._tag !== "WalletOwnerChanged") return state
  const stream = rec.envelope.streamId
  const last = state.wallets.get(stream)?.epoch ?? 0
  if (e.epoch !== last + 1) return state
  return { wallets: state.wallets.set(stream, { nodeId: e.nodeId, epoch: e.epoch }) }
}

const NAME = "owners"
const VERSION = 1

const serialize = (state: OwnersState): Uint8Array => {
  const w = new LineWriter(NAME, VERSION)
  for (const [stream, o] of state.wallets.sorted()) w.line([stream, o.nodeId, o.epoch])
  return w.finish()
}

const deserialize = (bytes: Uint8Array): OwnersState => {
  const f = fields(NAME)
  const wallets: Array<readonly [string, WalletOwner]> = []
  readLines(bytes, NAME, VERSION, (line) => {
    const r = f.arr(line, "record")
    wallets.push([f.str(r[0], "stream"), { nodeId: f.str(r[1], "node"), epoch: f.int(r[2], "epoch") }])
  })
  return { wallets: PMap.from(wallets) }
}

/** The owners projection. */
export const ownersProjection: Projection<OwnersState> = {
  name: NAME,
  version: VERSION,
  initial: { wallets: PMap.empty() },
  evolve,
  serialize,
  deserialize,
}

/** The owner of the wallet stream `stream` as the log says, or undefined when none was ever recorded. */
export const ownerOf = (state: OwnersState, stream: string): WalletOwner | undefined =>
  state.wallets.get(stream)
