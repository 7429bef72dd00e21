/**
 * The owners projection (issue #12) and the audit's rule for ownership events: each wallet's epochs run
 * 1, 2, 3 … in its stream; the fold keeps the last owner (and ignores an epoch that does not follow, as the
 * audit flags it); the state round-trips through its canonical bytes.
 */
import { describe, expect, it } from "vitest"
import type { WalletEvent } from "../../src/events/catalogue.js"
import { GENESIS_HASH } from "../../src/events/envelope.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import { InvariantChecker } from "../../src/projections/audit.js"
import { ownerOf, ownersProjection } from "../../src/projections/owners.js"
import { foldEvents } from "../../src/projections/projection.js"

const recorded = (events: ReadonlyArray<readonly [string, WalletEvent]>): RecordedEvent[] => {
  const versions = new Map<string, number>()
  return events.map(([streamId, event], i) => {
    const streamVersion = (versions.get(streamId) ?? 0) + 1
    versions.set(streamId, streamVersion)
    return {
      envelope: {
        sequence: i + 1,
        streamId,
        streamVersion,
        eventId: `e${i}`,
        type: event._tag,
        schemaVersion: 1,
        time: 0,
        prevHash: GENESIS_HASH,
        hash: GENESIS_HASH,
      },
      event,
    } as RecordedEvent
  })
}

const owner = (nodeId: string, epoch: number): WalletEvent => ({ _tag: "WalletOwnerChanged", nodeId, epoch })

describe("owners projection", () => {
  it("keeps each wallet's last owner, epoch by epoch, and round-trips its state", () => {
    const recs = recorded([
      ["wallet/a", { _tag: "WalletCreated", walletId: "a", mnemonic: "m" }],
      ["wallet/a", owner("node-1", 1)],
      ["wallet/b", owner("node-2", 1)],
      ["wallet/a", owner("node-2", 2)],
      ["wallet/a", owner("node-3", 2)], // does not follow: ignored
    ])
    const state = foldEvents(ownersProjection, ownersProjection.initial, recs)
    expect(ownerOf(state, "wallet/a")).toEqual({ nodeId: "node-2", epoch: 2 })
    expect(ownerOf(state, "wallet/b")).toEqual({ nodeId: "node-2", epoch: 1 })
    expect(ownerOf(state, "wallet/c")).toBeUndefined()
    const bytes = ownersProjection.serialize(state)
    expect(ownersProjection.serialize(ownersProjection.deserialize(bytes))).toEqual(bytes)
    expect(ownerOf(ownersProjection.deserialize(bytes), "wallet/a")).toEqual({ nodeId: "node-2", epoch: 2 })
  })

  it("the audit accepts epochs in order and flags one that skips or repeats", () => {
    const ok = new InvariantChecker()
    for (const r of recorded([
      ["wallet/a", owner("n1", 1)],
      ["wallet/a", owner("n2", 2)],
      ["wallet/b", owner("n2", 1)],
    ]))
      expect(ok.check(r)).toBeUndefined()
    for (const bad of [
      [owner("n1", 1), owner("n2", 3)],
      [owner("n1", 1), owner("n2", 1)],
      [owner("n1", 2)],
    ]) {
      const checker = new InvariantChecker()
      const recs = recorded(bad.map((e) => ["wallet/a", e] as const))
      const found = recs.map((r) => checker.check(r)).find((v) => v !== undefined)
      expect(found?.kind).toBe("owner-epoch")
    }
  })
})
