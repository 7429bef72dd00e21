/**
 * Node membership in a JetStream KV bucket (issue #12): the {@link NodeMembersShape} port.
 *
 * **The bucket** is `<stream>-nodes`, created with a bucket TTL and `history: 1`, like the leases
 * (`./jetstream-leases.ts`): an entry its node stops renewing is removed by the server once older than the
 * TTL, on the SERVER's clock. Each node `put`s its entry (key: its id) on open and again every TTL / 3; a
 * closing node deletes it. A node's view of the members is the bucket's keys, read on open and every
 * TTL / 3 (a read that fails keeps the last view). An existing bucket's TTL wins.
 *
 * @module
 */
import { Kvm } from "@nats-io/kv"
import { Effect, type Scope } from "effect"
import { StoreUnavailable } from "../model/index.js"
import type { NodeMembersShape } from "../ports/node-members.js"
import { io, scopedConnection } from "./jetstream/io.js"
import { settled } from "./jetstream/settling.js"

/** Options of {@link openJetStreamMembers}. */
export interface JetStreamMembersOptions {
  readonly servers: string | ReadonlyArray<string>
  /** The log's stream (default `CORECASHU`); the members live in the KV bucket `<stream>-nodes`. */
  readonly stream?: string
  /** This node's id (`[A-Za-z0-9._-]`: a valid KV key as it is). */
  readonly nodeId: string
  /** The bucket TTL when this open creates the bucket, ms (default 10 000). */
  readonly ttlMs?: number
  /** Replicas of the bucket when this open creates it (default 1). */
  readonly replicas?: number
}

/** The JetStream members, plus the bucket's name and TTL. */
export interface JetStreamNodeMembers extends NodeMembersShape {
  readonly bucket: string
  readonly ttlMs: number
  /** Reads the members now (and notifies on a change). */
  readonly refresh: () => Promise<ReadonlyArray<string>>
}

/**
 * Announces this node in the log's `<stream>-nodes` bucket (created with the TTL when missing) and keeps
 * its view of the members. Closing the scope stops the heartbeat and removes this node's entry.
 */
export const openJetStreamMembers = (
  opts: JetStreamMembersOptions,
): Effect.Effect<JetStreamNodeMembers, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const bucket = `${opts.stream ?? "CORECASHU"}-nodes`
    const nc = yield* scopedConnection({ servers: opts.servers, name: `corecashu-members-${opts.nodeId}` })
    const kv = yield* io(
      "opening the nodes bucket",
      settled(() =>
        new Kvm(nc).create(bucket, { history: 1, ttl: opts.ttlMs ?? 10_000, replicas: opts.replicas ?? 1 }),
      ),
    )
    const ttlMs = (yield* io(
      "reading the nodes bucket",
      settled(() => kv.status()),
    )).ttl
    if (!(ttlMs > 0))
      return yield* new StoreUnavailable({
        reason: "io",
        message: `the KV bucket ${bucket} has no TTL: a dead node would stay a member forever`,
      })
    const announce = () => kv.put(opts.nodeId, JSON.stringify({ nodeId: opts.nodeId }))
    yield* io("announcing this node", settled(announce))

    let view: ReadonlyArray<string> = []
    const listeners = new Set<(members: ReadonlyArray<string>) => void>()
    let closed = false
    const refresh = async (): Promise<ReadonlyArray<string>> => {
      const keys: string[] = []
      for await (const k of await kv.keys()) keys.push(k)
      keys.sort()
      if (closed) return view
      if (keys.join("\n") !== view.join("\n")) {
        view = keys
        for (const f of listeners) f(view)
      }
      return view
    }
    yield* io("reading the members", refresh)

    const interval = Math.max(50, Math.floor(ttlMs / 3))
    const timer = setInterval(() => {
      if (closed) return
      void announce()
        .catch(() => undefined)
        .then(() => refresh())
        .catch(() => undefined)
    }, interval)
    timer.unref?.()

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        clearInterval(timer)
        listeners.clear()
        return Effect.ignore(io("leaving the members", () => kv.delete(opts.nodeId)))
      }),
    )

    return {
      nodeId: opts.nodeId,
      bucket,
      ttlMs,
      members: () => view,
      refresh,
      onChange: (f) => {
        listeners.add(f)
        return () => {
          listeners.delete(f)
        }
      },
    }
  })
