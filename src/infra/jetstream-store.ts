/**
 * The JetStream event store: the {@link EventStore} contract on one NATS JetStream stream, so that several
 * engine nodes can share one log (issue #12). It passes the same contract suite as the LevelDB and in-memory
 * backends, unchanged.
 *
 * **Layout.** One JetStream stream (`CORECASHU` by default; file storage; R1 or R3) captures
 * `<prefix>.>`; each event stream (one per wallet, `wallet/<id>`, and `engine`) is one subject
 * (`cc.wallet.<id>`, see `jetstream/message.ts`). **One append is one message**: its events' records (the
 * chain-hash input and the hash, byte for byte the LevelDB backend's records) framed as one LevelDB chunk. A
 * message is stored whole or not at all, also across a server crash, so an append is atomic without
 * JetStream's atomic batches. The stream never loses a message: no limits (age, count, bytes, per subject),
 * `discard: old` (never reached), `deny_delete` and `deny_purge`; so JetStream sequence `m` is the m-th
 * append, without gaps, and an open that finds a gap or a foreign message fails with `StoreCorrupted`.
 *
 * **The design decision: one global order, decided at write time by a compare-and-set on the stream's
 * tail.** The contract wants one gapless global sequence across streams, a hash chain in that order, and
 * payloads sealed with their global place (sequence, stream version, time in the AAD) — all known when the
 * append is written; JetStream assigns message sequences itself, and several nodes may write. So every
 * append is published with two server-checked expectations:
 * - `Nats-Expected-Last-Sequence` = the last message this store has indexed. The server accepts the message
 *   only if nothing was appended since, so the writer knew the true global head, the previous hash and every
 *   stored event id when it sealed and chained: sequences, chain and seals are right by construction, and
 *   the id checks (idempotency, an id in another stream) are exact. When another node got there first the
 *   server refuses (10071); the store reads the new tail (verifying it), re-checks ids and version, re-seals
 *   and re-chains on the new head, and publishes again (bounded retries; each refusal means another writer
 *   made progress, so it cannot livelock).
 * - `Nats-Expected-Last-Subject-Sequence` = the JetStream sequence of the wallet stream's last message (0 for
 *   a new stream), unless `expectedVersion` is `"any"`: the expected version is enforced by the server, not
 *   only by a client-side check. A stale writer (another node's append moved the wallet on, or this node lost
 *   the wallet and its view is old) is refused by the server, catches up, and then fails with
 *   `WrongExpectedVersion` naming the actual version. This is the fence the ownership epochs of issue #12
 *   rely on: a node that lost its lease can never append on top of the new owner's events.
 * The price, accepted: appends to one log are serialised across all nodes, which costs throughput under
 * contention. The alternative — per-wallet chains and positions with the global order derived at read —
 * would drop the gapless global sequence and the global chain the contract, the projections' checkpoints
 * and the audit are built on.
 *
 * **Group commit.** Within one node the serialisation costs no round trip per append: one append (or one
 * batch) is in flight at a time, and the appends made meanwhile (other wallets' fibers) leave together as
 * one JetStream atomic batch (ADR-50, server ≥ 2.12, `allow_atomic` on the stream): each append still one
 * message, sealed and chained on its predecessor in the batch, with its own msg id and its wallet's
 * `Nats-Expected-Last-Subject-Sequence`; the first also carries `Nats-Expected-Last-Sequence`. The server
 * stores the whole batch contiguously or none of it, so the chain inside it cannot be cut (a pipeline of
 * separate publishes, each expecting its predecessor's sequence, could be: if another node's message took
 * that sequence the next one would be accepted on a chain it does not continue). A batch holds at most one
 * append per wallet (so a wallet's appends stay in call order, and the server checks one expectation per
 * subject), only appends whose ids are new and whose expected version matches the index, at most
 * `MAX_BATCH` messages and `BATCH_BYTES`. A refused batch (another node appended, a stale version, a
 * duplicate msg id) stored nothing: the store catches up and runs its appends one by one as above, so each
 * gets exactly the answer it would have had alone; a batch without an answer is in doubt for each of its
 * appends. Every append resolves only once the message holding it is acknowledged. A single server syncs a
 * committed batch once (`sync_interval: always` coalesced), so a batch costs about what one message costs.
 *
 * **Idempotency.** `Nats-Msg-Id` is a digest of the append's stream and event ids, so an append retried after a
 * lost acknowledgement is stored once within the stream's duplicate window (≥ 2 min; the server answers
 * `duplicate` with the original sequence); beyond it the compare-and-set refuses the retry (the tail moved)
 * and the store's own id index, rebuilt from the stream on open and kept by the tail, answers with the
 * original positions like the other backends. A publish whose acknowledgement never came is in doubt: the
 * store catches up and publishes again, and the compare-and-set lets at most one of the two land; when the
 * store gives up it fails with `StoreUnavailable("io")`, and a retry of the same ids answers `deduplicated`
 * if the message did land. An acknowledgement that cannot come any more is not waited for: a publish still
 * waiting when the connection drops, or when the stream elects a new leader (its advisory), is taken as
 * unacknowledged at once, and the catch-up after it asks the stream's state in 1 s tries within the usual
 * timeout, so it answers as soon as a new leader is elected. Killing a 3-node cluster's stream leader used
 * to stall appends two 5 s timeouts (the publish to the dead leader, then the catch-up's request while no
 * leader was elected); now about the election itself (≈ 5–6 s on our runs).
 *
 * **Indexes and reads.** Open reads every message once (an ordered consumer from sequence 1), verifies each
 * record (hash, link, sequence, stream version, subject) and builds in memory: per message its first global
 * sequence, stream, first version and last hash; per stream its messages; every event id. The same consumer
 * then tails the stream, so events appended by other nodes reach the indexes and live subscribers here.
 * Reads fetch whole messages by sequence with JetStream's direct get (batched; a replica that lags is
 * completed from the stream leader), verify them against the index, and keep recent ones in a bounded
 * cache (the live tail reads from it). `head`, `streamVersion` and `readAll`'s end are this node's view: exact
 * for what this node appended, at most the tail's delay behind other nodes' appends (the compare-and-set
 * keeps appends exact regardless).
 *
 * **Limits.** An append larger than the server's `max_payload` (1 MiB by default) or the stream's
 * `max_msg_size` fails whole with `StoreUnavailable("io")` before anything is sent (engine appends are a
 * few KB; a restore of tens of thousands of proofs would have to be split by the engine). Durability: an
 * acknowledged append is on the server's disk only if the server runs with `jetstream { sync_interval:
 * always }` (a single server), or replicated to a quorum (R3); JetStream's default syncs every 2 minutes.
 *
 * @module
 */
import { randomBytes } from "node:crypto"
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
  type StreamConfig,
} from "@nats-io/jetstream"
import { connect, headers } from "@nats-io/transport-node"
import { Effect, Layer, Option, type Scope, Stream } from "effect"
import { decodeEvent, encodeEvent } from "../events/codec.js"
import { GENESIS_HASH, type StoredEvent } from "../events/envelope.js"
import { groupAad, identitySealer, type PayloadSealer, payloadAad } from "../events/sealer.js"
import {
  EventCodecError,
  StoreCorrupted,
  type StoreError,
  StoreUnavailable,
  VaultError,
  WrongExpectedVersion,
} from "../model/index.js"
import {
  type AppendResult,
  EventStore,
  type EventStoreShape,
  type ExpectedVersion,
  type NewEvent,
  type RecordedEvent,
} from "../ports/event-store.js"
import {
  type BadMessage,
  buildMessage,
  type MessageExpectation,
  messageIdOf,
  readMessage,
  streamIdOf,
  subjectOf,
} from "./jetstream/message.js"
import { whenSettled } from "./jetstream/settling.js"
import type { RecordFields } from "./leveldb/record.js"

/** How payloads are protected; exactly one must be given. */
export type JetStreamAccess =
  /** A sealer (e.g. a vault unlocked by the host): payloads are sealed with it. */
  | { readonly sealer: PayloadSealer }
  /** No encryption. For tests and benchmarks only. */
  | { readonly unencrypted: true }
  /** No key: appends and payload reads fail with `VaultError("missing-key")`; raw reads and the chain work. */
  | { readonly chainOnly: true }

/** Options of {@link openJetStreamEventStore}. */
export type JetStreamStoreOptions = JetStreamAccess & {
  /** NATS server URLs (`nats://127.0.0.1:4222`), one or several of the cluster. */
  readonly servers: string | ReadonlyArray<string>
  /** The JetStream stream holding the log (default `CORECASHU`). */
  readonly stream?: string
  /** The subject prefix of the event streams (default `cc`; the stream captures `<prefix>.>`). */
  readonly subjectPrefix?: string
  /** Replicas of the stream when this open creates it: 1 (one server) or 3 (a cluster). Default 1. */
  readonly replicas?: number
  /** Create the stream when it is missing (default true; false: fail with `StoreUnavailable`). */
  readonly create?: boolean
  /** The stream's duplicate window when this open creates it, ms (default and minimum 120 000). */
  readonly duplicateWindowMs?: number
  /** The stream's `max_msg_size` when this open creates it (default -1: the server's `max_payload`). */
  readonly maxMsgSize?: number
  /** How long to wait for a publish acknowledgement or a read, ms (default 5000). */
  readonly timeoutMs?: number
  /** Bytes of recently appended or read messages kept in memory for reads (default 16 MiB). */
  readonly cacheBytes?: number
  /** Epoch milliseconds for envelopes; `Date.now` by default. */
  readonly clock?: () => number
  /** The NATS connection's name (shows in the server's monitoring). */
  readonly name?: string
  /**
   * Follow the stream live (default true): other nodes' appends reach the indexes and `subscribe` as they
   * land. Without it this node's view moves only with its own appends, `sync`, and the catch-up after a
   * refused append (a writer that never reads others' events).
   */
  readonly follow?: boolean
  /**
   * @internal Tests only: called with each publish acknowledgement before the store uses it; throwing
   * makes the store treat the acknowledgement as lost.
   */
  readonly onAcknowledged?: (seq: number) => void
}

/** The JetStream store: the {@link EventStoreShape} plus what only this backend offers. */
export interface JetStreamEventStore extends EventStoreShape {
  readonly stream: string
  readonly subjectPrefix: string
  /** Catches this node's view up with the server's tail (other nodes' appends); resolves to the head. */
  readonly sync: Effect.Effect<number, StoreError>
  /**
   * Reads every message from the server again (bypassing the cache) and checks it against the indexes:
   * well-formed, hashed, linked, gapless, one stream per message and subject; and that the stream has
   * exactly one message per append (none deleted, none foreign).
   */
  readonly verifyChain: Effect.Effect<{ readonly head: number; readonly verified: number }, StoreError>
  /** The sealer protecting payloads (absent for a chain-only opener). */
  readonly sealer: PayloadSealer | undefined
  /**
   * Publish counters since open: appends sent, refused by the server's sequence checks (another writer
   * got there first, or a stale expected version), answered `duplicate` by its msg-id window, sent without
   * an acknowledgement; and the messages indexed.
   */
  readonly stats: () => {
    readonly published: number
    readonly refused: number
    readonly duplicates: number
    readonly inDoubt: number
    /** Atomic batches committed (each several appends, one message each). */
    readonly batches: number
    readonly messages: number
  }
}

const STREAM = "CORECASHU"
const PREFIX = "cc"
const MIN_DUPLICATE_WINDOW_MS = 120_000
/** Events per chunk emitted by `readAll`, `readRaw` and `subscribe`. */
const PAGE = 512
/** Messages asked for per direct batch get. */
const FETCH_BATCH = 256
/** Publish attempts of one append (compare-and-set refusals and lost acknowledgements). */
const MAX_ATTEMPTS = 64
/**
 * The catch-up after a publish without acknowledgement asks the stream's state in tries of this long (ms,
 * at most the store's `timeoutMs`), within the same total as one request: the stream may be electing a
 * leader, and nothing answers until one is elected.
 */
const CATCH_UP_TRY_MS = 1000
/** Room left in a message for its headers (msg id, expectations) below `max_payload`. */
const HEADER_ROOM = 512
/** Appends per atomic batch at most (the server takes up to 1000 messages). */
const MAX_BATCH = 64
/** Message bytes per atomic batch at most (one append alone may be larger, up to `max_payload`). */
const BATCH_BYTES = 1024 * 1024

const nanos = (ms: number): number => ms * 1_000_000

const closedError = (): StoreUnavailable =>
  new StoreUnavailable({ reason: "closed", message: "the event store is closed" })

const ioError = (message: string): StoreUnavailable => new StoreUnavailable({ reason: "io", message })

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const missingKey = (): VaultError =>
  new VaultError({ reason: "missing-key", message: "the store was opened without its key" })

const brokenGroup = (): VaultError =>
  new VaultError({ reason: "tampered", message: "a sealed group of payloads is incomplete or out of order" })

const conflict = (
  streamId: string,
  expected: ExpectedVersion,
  actual: number,
  message: string,
): WrongExpectedVersion =>
  new WrongExpectedVersion({ streamId, expected: expected === "any" ? -1 : expected, actual, message })

const isTyped = (e: unknown): e is StoreError | WrongExpectedVersion =>
  e instanceof WrongExpectedVersion ||
  e instanceof StoreUnavailable ||
  e instanceof StoreCorrupted ||
  e instanceof EventCodecError ||
  e instanceof VaultError

/** A promise as an Effect: our typed errors fail it, anything else is a defect. */
const fromPromise = <A>(f: () => Promise<A>): Effect.Effect<A, StoreError | WrongExpectedVersion> =>
  Effect.flatMap(
    Effect.promise(() =>
      f().then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
    ),
    (r) => (r.ok ? Effect.succeed(r.value) : isTyped(r.error) ? Effect.fail(r.error) : Effect.die(r.error)),
  )

/** The server refused a publish because the stream's (or the subject's) last sequence was not the expected one. */
const isSequenceConflict = (e: unknown): boolean =>
  e instanceof JetStreamApiError && (e.code === 10071 || e.code === 10164)

/** A message the store has read, verified against the index, and may keep in its cache. */
interface CachedMessage {
  readonly events: StoredEvent[]
  readonly bytes: number
}

/** The in-memory indexes: what every message holds, per stream, per event id. Built on open, kept by the tail. */
class LogIndex {
  /** Per message (index = JetStream sequence − 1): its first global sequence, stream, first version, last hash. */
  readonly first: number[] = []
  readonly stream: string[] = []
  readonly version: number[] = []
  readonly lastHash: string[] = []
  /** Stream → the JetStream sequences of its messages, in order. */
  readonly streams = new Map<string, number[]>()
  /** Stream → its version. */
  readonly versions = new Map<string, number>()
  /** Event id → its global sequence. */
  readonly ids = new Map<string, number>()
  head = 0
  headHash = GENESIS_HASH

  get messages(): number {
    return this.first.length
  }

  /** The JetStream sequence of the message holding global sequence `sequence` (1 ≤ sequence ≤ head). */
  messageOf(sequence: number): number {
    let lo = 0
    let hi = this.first.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.first[mid]! <= sequence) lo = mid
      else hi = mid - 1
    }
    return lo + 1
  }

  /** Events in message `m`. */
  countOf(m: number): number {
    return (m < this.first.length ? this.first[m]! : this.head + 1) - this.first[m - 1]!
  }

  /** What message `m` (already indexed) must be. */
  expectationOf(m: number): MessageExpectation {
    return {
      firstSequence: this.first[m - 1]!,
      prevHash: m === 1 ? GENESIS_HASH : this.lastHash[m - 2]!,
      streamId: this.stream[m - 1]!,
      firstVersion: this.version[m - 1]!,
      count: this.countOf(m),
      lastHash: this.lastHash[m - 1]!,
    }
  }

  /** What the next message must be, given the stream its subject names. */
  nextExpectation(streamId: string): MessageExpectation {
    return {
      firstSequence: this.head + 1,
      prevHash: this.headHash,
      streamId,
      firstVersion: (this.versions.get(streamId) ?? 0) + 1,
    }
  }

  /** Adds the next message (verified); undefined, or the first id already stored (a corrupt log). */
  add(events: ReadonlyArray<StoredEvent>): StoredEvent | undefined {
    for (const e of events) if (this.ids.has(e.envelope.eventId)) return e
    const first = events[0]!.envelope
    const last = events[events.length - 1]!.envelope
    const m = this.first.length + 1
    this.first.push(first.sequence)
    this.stream.push(first.streamId)
    this.version.push(first.streamVersion)
    this.lastHash.push(last.hash)
    let seqs = this.streams.get(first.streamId)
    if (seqs === undefined) {
      seqs = []
      this.streams.set(first.streamId, seqs)
    }
    seqs.push(m)
    this.versions.set(first.streamId, last.streamVersion)
    for (const e of events) this.ids.set(e.envelope.eventId, e.envelope.sequence)
    this.head = last.sequence
    this.headHash = last.hash
    return undefined
  }

  /** The stream version of the event at global sequence `sequence`, and its stream. */
  placeOf(sequence: number): { readonly streamId: string; readonly streamVersion: number } {
    const m = this.messageOf(sequence)
    return {
      streamId: this.stream[m - 1]!,
      streamVersion: this.version[m - 1]! + (sequence - this.first[m - 1]!),
    }
  }
}

/** Resolves how payloads are sealed from the options. */
const sealerOf = (opts: JetStreamAccess): PayloadSealer | undefined =>
  "sealer" in opts ? opts.sealer : "unencrypted" in opts ? identitySealer : undefined

/**
 * The stream configuration: everything JetStream could drop a message for is off, and nobody may delete or
 * purge (a money log is never trimmed).
 */
const streamConfig = (
  opts: JetStreamStoreOptions,
  name: string,
  prefix: string,
): Partial<StreamConfig> & { name: string } => ({
  name,
  subjects: [`${prefix}.>`],
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  num_replicas: opts.replicas ?? 1,
  discard: DiscardPolicy.Old,
  max_msgs: -1,
  max_bytes: -1,
  max_age: 0,
  max_msgs_per_subject: -1,
  max_msg_size: opts.maxMsgSize ?? -1,
  duplicate_window: nanos(
    Math.max(MIN_DUPLICATE_WINDOW_MS, opts.duplicateWindowMs ?? MIN_DUPLICATE_WINDOW_MS),
  ),
  deny_delete: true,
  deny_purge: true,
  allow_direct: true,
  allow_rollup_hdrs: false,
  allow_atomic: true,
  description: "corecashu event log (one message per append; never trimmed)",
})

/** Why an existing stream cannot hold the log, or undefined when it can. */
const unfitStream = (c: StreamConfig, prefix: string): string | undefined => {
  if (!c.subjects?.includes(`${prefix}.>`)) return `it does not capture ${prefix}.>`
  if (c.retention !== RetentionPolicy.Limits) return "its retention is not limits"
  if (c.max_msgs !== -1 || c.max_bytes !== -1 || c.max_age !== 0 || c.max_msgs_per_subject !== -1)
    return "it has limits that would drop messages"
  if (!c.deny_delete || !c.deny_purge) return "it allows deleting or purging messages"
  if (!c.allow_direct) return "it does not allow direct gets"
  if (c.duplicate_window < nanos(MIN_DUPLICATE_WINDOW_MS)) return "its duplicate window is under 2 minutes"
  if (c.sealed) return "it is sealed"
  return undefined
}

/** Connects, finds or creates the stream. */
const connectLog = async (
  opts: JetStreamStoreOptions,
  name: string,
  prefix: string,
  timeout: number,
): Promise<{
  nc: Awaited<ReturnType<typeof connect>>
  js: JetStreamClient
  jsm: JetStreamManager
  atomic: boolean
}> => {
  let nc: Awaited<ReturnType<typeof connect>>
  try {
    nc = await connect({
      servers: typeof opts.servers === "string" ? opts.servers : [...opts.servers],
      name: opts.name ?? "corecashu",
      maxReconnectAttempts: -1,
      timeout,
    })
  } catch (e) {
    throw ioError(`connecting to NATS failed: ${describe(e)}`)
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout })
    const js = jetstream(nc, { timeout })
    let config: StreamConfig | undefined
    try {
      // Several nodes may open a fresh cluster at once: "not now" answers are retried (`./jetstream/settling.ts`).
      config = (await whenSettled(() => jsm.streams.info(name))).config
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === 10059)) throw e
    }
    if (config === undefined) {
      if (opts.create === false) throw ioError(`the JetStream stream ${name} does not exist`)
      try {
        config = (await whenSettled(() => jsm.streams.add(streamConfig(opts, name, prefix)))).config
      } catch (e) {
        // Another node created it first (with another config: 10058): use what is there, if it fits. When
        // there is none, the creation's own refusal says why (e.g. subjects overlapping another stream's).
        config = await whenSettled(() => jsm.streams.info(name)).then(
          (info) => info.config,
          () => {
            throw e
          },
        )
      }
    }
    const unfit = unfitStream(config, prefix)
    if (unfit !== undefined) throw ioError(`the JetStream stream ${name} cannot hold the log: ${unfit}`)
    // A stream made without atomic batches (by an earlier version, or by hand) is given them; a server
    // that refuses (older than 2.12) leaves the store publishing one append at a time.
    let atomic = config.allow_atomic === true
    if (!atomic)
      atomic = await jsm.streams.update(name, { ...config, allow_atomic: true }).then(
        (info) => info.config.allow_atomic === true,
        () => false,
      )
    return { nc, js, jsm, atomic }
  } catch (e) {
    await nc.close().catch(() => undefined)
    throw isTyped(e) ? e : ioError(`opening the JetStream stream ${name} failed: ${describe(e)}`)
  }
}

/**
 * Opens the event log held by a JetStream stream (creating the stream when missing); the store closes with
 * the scope (or earlier with `close`). Reads and verifies the whole log on open.
 */
export const openJetStreamEventStore = (
  opts: JetStreamStoreOptions,
): Effect.Effect<JetStreamEventStore, StoreUnavailable | StoreCorrupted, Scope.Scope> =>
  Effect.acquireRelease(
    fromPromise(() => openStore(opts)) as Effect.Effect<
      JetStreamEventStore,
      StoreUnavailable | StoreCorrupted
    >,
    (store) => store.close,
  )

/** A layer providing {@link EventStore} from a JetStream stream. */
export const JetStreamEventStoreLive = (
  opts: JetStreamStoreOptions,
): Layer.Layer<EventStore, StoreUnavailable | StoreCorrupted> =>
  Layer.effect(EventStore, openJetStreamEventStore(opts))

const openStore = async (opts: JetStreamStoreOptions): Promise<JetStreamEventStore> => {
  const name = opts.stream ?? STREAM
  const prefix = opts.subjectPrefix ?? PREFIX
  const timeout = opts.timeoutMs ?? 5000
  const cacheLimit = opts.cacheBytes ?? 16 * 1024 * 1024
  const clock = opts.clock ?? Date.now
  const sealer = sealerOf(opts)
  const log = await connectLog(opts, name, prefix, timeout)
  const { nc, js, jsm } = log
  const tryMs = Math.min(timeout, CATCH_UP_TRY_MS)
  const jsmTry = tryMs < timeout ? await jetstreamManager(nc, { timeout: tryMs, checkAPI: false }) : jsm

  const index = new LogIndex()
  const cache = new Map<number, CachedMessage>()
  let cachedBytes = 0
  let closed = false
  /** Set when the log proved damaged (or the connection was lost for good): every use fails with it. */
  let broken: StoreError | undefined
  const waiters = new Set<() => void>()
  const wakeAll = (): void => {
    for (const wake of [...waiters]) wake()
  }
  const usable = (): void => {
    if (closed) throw closedError()
    if (broken !== undefined) throw broken
  }

  /** A NATS call whose failure is `StoreUnavailable` ("closed" once the store is). */
  const nats = async <A>(f: () => Promise<A>): Promise<A> => {
    try {
      return await f()
    } catch (e) {
      if (closed) throw closedError()
      throw isTyped(e) ? e : ioError(`a JetStream request failed: ${describe(e)}`)
    }
  }

  /**
   * Publishes waiting for their acknowledgement. One that has not come when the connection drops, or when
   * the stream elects a new leader, never will: it was for the lost connection, or for a leader that is
   * gone or no longer leads — waiting out its timeout only stalled every append behind it (5 s per lost
   * publish when a 3-node cluster's stream leader was killed). Such a publish is ended at once as
   * unacknowledged, into the path every publish without an acknowledgement takes: catch up, then publish
   * again under the compare-and-set and the same msg id, which keep the retry safe whatever became of the
   * first one (stored, stored later, or never).
   */
  const awaiting = new Set<(why: string) => void>()
  const abandonAll = (why: string): void => {
    for (const abandon of [...awaiting]) abandon(why)
  }
  const unlessAbandoned = <A>(request: Promise<A>): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      const abandon = (why: string): void => {
        awaiting.delete(abandon)
        reject(new Error(`no acknowledgement: ${why}`))
      }
      awaiting.add(abandon)
      request.then(
        (value) => {
          awaiting.delete(abandon)
          resolve(value)
        },
        (error: unknown) => {
          awaiting.delete(abandon)
          reject(error)
        },
      )
    })
  const statuses = nc.status()
  void (async () => {
    // Ends with the connection (`close`).
    for await (const s of statuses) if (s.type === "disconnect") abandonAll("the connection dropped")
  })()
  const elections = nc.subscribe(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${name}`, {
    callback: (error) => {
      if (error === null) abandonAll("the stream elected a new leader")
    },
  })

  const counters = { published: 0, refused: 0, duplicates: 0, inDoubt: 0, batches: 0 }
  /** Atomic batch ids: this store's random prefix and a counter. */
  const batchPrefix = `cc-${randomBytes(8).toString("hex")}-`
  let batchCount = 0

  const remember = (m: number, events: StoredEvent[]): void => {
    if (cache.has(m)) return
    let bytes = 64
    for (const e of events) bytes += e.payload.length + 256
    cache.set(m, { events, bytes })
    cachedBytes += bytes
    for (const [key, value] of cache) {
      if (cachedBytes <= cacheLimit) break
      cache.delete(key)
      cachedBytes -= value.bytes
    }
  }

  const corrupted = (bad: BadMessage | { bad: number; reason: string }): StoreCorrupted =>
    new StoreCorrupted({ firstBadSequence: bad.bad, message: `the JetStream log is damaged: ${bad.reason}` })

  /**
   * Adds JetStream message `seq` to the indexes if it is the next one; skips what is already indexed (the
   * tail and a catch-up may both deliver it). Throws `StoreCorrupted` for a message that is not a valid
   * next append, or a gap.
   */
  const ingest = (seq: number, subject: string, data: Uint8Array): void => {
    if (seq <= index.messages) return
    if (seq !== index.messages + 1)
      throw corrupted({ bad: index.head + 1, reason: `message ${index.messages + 1} is missing` })
    const streamId = streamIdOf(prefix, subject)
    if (streamId === undefined)
      throw corrupted({ bad: index.head + 1, reason: `message ${seq} has a foreign subject` })
    const events = readMessage(data, index.nextExpectation(streamId))
    if (!Array.isArray(events)) throw corrupted(events)
    const dup = index.add(events)
    if (dup !== undefined)
      throw corrupted({ bad: dup.envelope.sequence, reason: "an event id is stored twice" })
    remember(seq, events)
    wakeAll()
  }

  /** Records a failure of the tail (a damaged message): the store stops serving. */
  const fail = (e: unknown): void => {
    if (broken !== undefined || closed) return
    broken = isTyped(e) ? (e as StoreError) : ioError(`the JetStream tail failed: ${describe(e)}`)
    wakeAll()
  }

  // ---- The tail: an ordered consumer from the first message, for ever. Open waits until it has read the
  // ---- log as it was when the store opened.
  let tailStop: (() => void) | undefined
  const startTail = async (): Promise<void> => {
    const consumer = await js.consumers.get(name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: index.messages + 1,
    })
    const messages = await consumer.consume()
    tailStop = () => {
      messages.stop()
    }
    void (async () => {
      try {
        for await (const m of messages) {
          if (closed || broken !== undefined) break
          ingest(m.seq, m.subject, m.data)
        }
      } catch (e) {
        fail(e)
      }
    })()
  }

  /** Waits until `reached()` holds (or fails when the store closes or breaks first). */
  const waitUntil = (reached: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const error = closed ? closedError() : broken
        if (error === undefined && !reached()) return
        waiters.delete(check)
        if (error === undefined) resolve()
        else reject(error)
      }
      waiters.add(check)
      check()
    })

  // ---- Fetching messages from the server.

  /** Direct gets of messages `from..` (at most `count`), optionally only of one subject; `[]` when none. */
  const directBatch = async (from: number, count: number, subject?: string): Promise<StoredMsg[]> => {
    const out: StoredMsg[] = []
    try {
      const it = await jsm.direct.getBatch(name, {
        seq: from,
        batch: count,
        ...(subject !== undefined ? { next_by_subj: subject } : {}),
      })
      for await (const m of it) out.push(m)
    } catch (e) {
      // "No message found" past the end of what this replica holds (it may lag the leader): the caller
      // completes from the leader. Anything else after the first messages: keep what came.
      if (out.length > 0 || (e instanceof Error && "code" in e && e.code === 404)) return out
      throw ioError(`a JetStream read failed: ${describe(e)}`)
    }
    return out
  }

  /**
   * The server's last message sequence, from the stream leader. After a publish without acknowledgement
   * (`afterNoAck`) the stream may be electing a leader, which answers nothing until elected: asked in tries
   * of `tryMs` within one `timeout`, so the answer comes within a try of the election rather than after a
   * whole timeout (the budget is the same).
   */
  const serverLast = async (afterNoAck = false): Promise<number> => {
    if (!afterNoAck || jsmTry === jsm) return (await nats(() => jsm.streams.info(name))).state.last_seq
    const until = Date.now() + timeout
    for (;;) {
      usable()
      const started = Date.now()
      try {
        return (await unlessAbandoned(jsmTry.streams.info(name))).state.last_seq
      } catch (e) {
        if (closed) throw closedError()
        if (isTyped(e) || Date.now() + tryMs > until)
          throw isTyped(e) ? e : ioError(`a JetStream request failed: ${describe(e)}`)
        // A quick refusal (no responders, JetStream not ready yet) is asked again after a pause, not at once.
        const pause = started + tryMs / 10 - Date.now()
        if (pause > 0) await new Promise((r) => setTimeout(r, pause))
      }
    }
  }

  /** A message from the stream leader (null when there is none). */
  const leaderGet = (seq: number): Promise<StoredMsg | null> =>
    nats(() => jsm.streams.getMessage(name, { seq }))

  /**
   * Reads every message past the indexes up to the server's tail (from the leader's view) into them. What
   * the tail already delivered is skipped. `afterNoAck`: see `serverLast`.
   */
  const catchUp = async (afterNoAck = false): Promise<void> => {
    const last = await serverLast(afterNoAck)
    while (index.messages < last) {
      usable()
      const from = index.messages + 1
      const got = await directBatch(from, Math.min(FETCH_BATCH, last - from + 1))
      let progressed = false
      for (const m of got) {
        if (m.seq > last) break
        ingest(m.seq, m.subject, m.data)
        progressed = true
      }
      if (!progressed) {
        const m = await leaderGet(from)
        if (m === null) {
          // Another reader (the tail) may have indexed it meanwhile; otherwise it is gone.
          if (index.messages >= from) continue
          throw corrupted({ bad: index.head + 1, reason: `message ${from} is missing` })
        }
        ingest(m.seq, m.subject, m.data)
      }
    }
  }

  /**
   * Messages `seqs` (indexed, ascending) as verified stored events: from the cache, else fetched (direct
   * batch gets, `subject` restricting them to one stream's messages; a lagging replica is completed from
   * the leader) and checked against the indexes.
   */
  const fetchMessages = async (seqs: ReadonlyArray<number>, subject?: string): Promise<StoredEvent[][]> => {
    const out = new Map<number, StoredEvent[]>()
    const want = new Set<number>()
    for (const m of seqs) {
      const hit = cache.get(m)
      if (hit !== undefined) out.set(m, hit.events)
      else want.add(m)
    }
    const accept = (msg: StoredMsg): void => {
      if (!want.has(msg.seq)) return
      const expect = index.expectationOf(msg.seq)
      if (streamIdOf(prefix, msg.subject) !== expect.streamId)
        throw corrupted({ bad: expect.firstSequence, reason: `message ${msg.seq} moved to another subject` })
      const events = readMessage(msg.data, expect)
      if (!Array.isArray(events)) throw corrupted(events)
      want.delete(msg.seq)
      out.set(msg.seq, events)
      remember(msg.seq, events)
    }
    while (want.size > 0) {
      usable()
      let first = Number.POSITIVE_INFINITY
      let last = 0
      for (const m of want) {
        if (m < first) first = m
        if (m > last) last = m
      }
      const span = subject === undefined ? last - first + 1 : want.size
      const got = await directBatch(first, Math.min(FETCH_BATCH, span), subject)
      for (const msg of got) accept(msg)
      if (want.has(first)) {
        const msg = await leaderGet(first)
        if (msg === null || msg.seq !== first)
          throw corrupted({ bad: index.first[first - 1]!, reason: `message ${first} is missing` })
        accept(msg)
      }
    }
    return seqs.map((m) => out.get(m)!)
  }

  /** Fetches the messages of global sequences `[from, to]` and returns those events. */
  const storedRange = async (from: number, to: number): Promise<StoredEvent[]> => {
    const mFrom = index.messageOf(from)
    const mTo = index.messageOf(to)
    const seqs: number[] = []
    for (let m = mFrom; m <= mTo; m++) seqs.push(m)
    const messages = await fetchMessages(seqs)
    const out: StoredEvent[] = []
    for (const events of messages)
      for (const e of events) if (e.envelope.sequence >= from && e.envelope.sequence <= to) out.push(e)
    return out
  }

  // ---- Payloads.

  /** Opens and decodes one message's events (a sealed group opens whole). Throws the typed error. */
  const openMessage = (events: ReadonlyArray<StoredEvent>): RecordedEvent[] => {
    if (sealer === undefined) throw missingKey()
    if (sealer === identitySealer)
      return events.map((e) => ({
        envelope: e.envelope,
        event: decodeEvent(e.envelope.type, e.envelope.schemaVersion, e.payload),
      }))
    const group = sealer.group
    const pos = group?.positionOf(events[0]!.payload)
    if (pos !== undefined) {
      if (pos.count !== events.length) throw brokenGroup()
      for (let i = 0; i < events.length; i++)
        if (group!.positionOf(events[i]!.payload)?.index !== i) throw brokenGroup()
      const plains = group!.open(
        events.map((e) => e.payload),
        groupAad(events.map((e) => e.envelope)),
      )
      return events.map((e, i) => ({
        envelope: e.envelope,
        event: decodeEvent(e.envelope.type, e.envelope.schemaVersion, plains[i]!),
      }))
    }
    return events.map((e) => {
      if (group?.positionOf(e.payload) !== undefined) throw brokenGroup()
      return {
        envelope: e.envelope,
        event: decodeEvent(
          e.envelope.type,
          e.envelope.schemaVersion,
          sealer.open(e.payload, payloadAad(e.envelope)),
        ),
      }
    })
  }

  /** Decoded events of global sequences `[from, to]` (whole messages are opened). */
  const recordedRange = async (from: number, to: number): Promise<RecordedEvent[]> => {
    const mFrom = index.messageOf(from)
    const mTo = index.messageOf(to)
    const seqs: number[] = []
    for (let m = mFrom; m <= mTo; m++) seqs.push(m)
    const out: RecordedEvent[] = []
    for (const events of await fetchMessages(seqs))
      for (const r of openMessage(events))
        if (r.envelope.sequence >= from && r.envelope.sequence <= to) out.push(r)
    return out
  }

  // ---- Appending.

  /** The original positions of a retried batch, `"new"` when no id is stored, or a conflict message. */
  const checkIds = (streamId: string, events: ReadonlyArray<NewEvent>): AppendResult | "new" | string => {
    const seen = new Set<string>()
    let stored = 0
    for (const e of events) {
      if (seen.has(e.eventId)) return "an event id appears twice in the batch"
      seen.add(e.eventId)
      if (index.ids.has(e.eventId)) stored++
    }
    if (stored === 0) return "new"
    if (stored < events.length) return "the batch mixes stored and new event ids"
    const seqs = events.map((e) => index.ids.get(e.eventId)!)
    const first = index.placeOf(seqs[0]!)
    for (let i = 0; i < seqs.length; i++) {
      const place = index.placeOf(seqs[i]!)
      if (place.streamId !== streamId) return "an event id is already stored in another stream"
      if (seqs[i] !== seqs[0]! + i || place.streamVersion !== first.streamVersion + i)
        return "the stored event ids are not this batch, in order"
    }
    return {
      firstSequence: seqs[0]!,
      lastSequence: seqs[seqs.length - 1]!,
      streamVersion: first.streamVersion + seqs.length - 1,
      deduplicated: true,
    }
  }

  /**
   * Encodes and seals `events` after global sequence `head` (whose hash is `headHash`; the current tail by
   * default) and the stream's indexed version; throws the codec's or the sealer's typed error.
   */
  const seal = (
    streamId: string,
    events: ReadonlyArray<NewEvent>,
    head = index.head,
    headHash = index.headHash,
  ) => {
    if (sealer === undefined) throw missingKey()
    const time = clock()
    const version = index.versions.get(streamId) ?? 0
    const fields: RecordFields[] = []
    const plains: Uint8Array[] = []
    for (let i = 0; i < events.length; i++) {
      const { eventId, event } = events[i]!
      const encoded = encodeEvent(event)
      fields.push({
        sequence: head + 1 + i,
        streamId,
        streamVersion: version + 1 + i,
        eventId,
        type: encoded.type,
        schemaVersion: encoded.schemaVersion,
        time,
      })
      plains.push(encoded.bytes)
    }
    let payloads: Uint8Array[]
    if (sealer === identitySealer) payloads = plains
    else if (sealer.group !== undefined && plains.length >= 2)
      payloads = sealer.group.seal(plains, groupAad(fields))
    else payloads = plains.map((p, i) => sealer.seal(p, payloadAad(fields[i]!)))
    return buildMessage(headHash, fields, payloads)
  }

  /** The largest message body the server and the stream accept. */
  let maxBody = 0
  const refreshMaxBody = async (): Promise<void> => {
    const info = await nats(() => jsm.streams.info(name))
    const server = (nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM
    const stream = info.config.max_msg_size > 0 ? info.config.max_msg_size - HEADER_ROOM : server
    maxBody = Math.min(server, stream)
  }

  /**
   * One append on its own: a compare-and-set publish of one message, retried on the new tail when another
   * writer got there first. `inDoubt`: an earlier publish of this append (an atomic batch holding it) may
   * have landed.
   */
  const appendNow = async (
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
    inDoubtBefore = false,
  ): Promise<AppendResult> => {
    const subject = subjectOf(prefix, streamId)
    const msgID = messageIdOf(
      streamId,
      events.map((e) => e.eventId),
    )
    /** Whether this view is known to be the server's tail (just caught up). */
    let fresh = false
    /** Whether one of our publishes of this batch may have landed (its acknowledgement was lost). */
    let inDoubt = inDoubtBefore
    let lastError: unknown
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      usable()
      const current = index.versions.get(streamId) ?? 0
      const ids = checkIds(streamId, events)
      if (typeof ids === "object") return inDoubt ? { ...ids, deduplicated: false } : ids
      const refusal =
        ids !== "new"
          ? ids
          : expectedVersion !== "any" && expectedVersion !== current
            ? "the stream is not at the expected version"
            : undefined
      if (refusal !== undefined) {
        // A view behind the server may refuse what the server would accept (or call a retry a mix):
        // decide only on the server's tail.
        if (!fresh) {
          await catchUp()
          fresh = true
          continue
        }
        throw conflict(streamId, expectedVersion, current, refusal)
      }
      if (events.length === 0)
        return {
          firstSequence: index.head + 1,
          lastSequence: index.head,
          streamVersion: current,
          deduplicated: false,
        }
      const built = seal(streamId, events)
      if (built.body.length > maxBody)
        throw ioError(
          `the append is ${built.body.length} bytes, over the ${maxBody} a JetStream message may hold here; nothing was written`,
        )
      const lastSequence = index.messages
      const streamSeqs = index.streams.get(streamId)
      const lastSubjectSequence = streamSeqs === undefined ? 0 : streamSeqs[streamSeqs.length - 1]!
      const headBefore = index.head
      fresh = false
      counters.published++
      try {
        const ack = await unlessAbandoned(
          js.publish(subject, built.body, {
            msgID,
            timeout,
            expect: {
              streamName: name,
              lastSequence,
              ...(expectedVersion === "any" ? {} : { lastSubjectSequence }),
            },
          }),
        )
        opts.onAcknowledged?.(ack.seq)
        if (ack.duplicate) {
          // The server stored this batch before (a retry after a lost acknowledgement): index up to it.
          counters.duplicates++
          await catchUp()
          fresh = true
          continue
        }
        if (ack.seq !== lastSequence + 1)
          throw corrupted({
            bad: headBefore + 1,
            reason: `the server stored the append as message ${ack.seq}`,
          })
        // The tail may have indexed it already; else it is the next message, built and checked here.
        if (index.messages < ack.seq) {
          const dup = index.add(built.events)
          if (dup !== undefined)
            throw corrupted({ bad: dup.envelope.sequence, reason: "an event id is stored twice" })
          remember(ack.seq, built.events)
          wakeAll()
        }
        return {
          firstSequence: headBefore + 1,
          lastSequence: headBefore + events.length,
          streamVersion: current + events.length,
          deduplicated: false,
        }
      } catch (e) {
        if (isTyped(e)) throw e
        if (closed) throw closedError()
        lastError = e
        if (isSequenceConflict(e)) {
          counters.refused++
          await catchUp()
          fresh = true
          continue
        }
        // No acknowledgement (timeout, connection lost, no responders): the message may have landed. Catch
        // up and try again; the compare-and-set lets at most one of the two publishes land.
        inDoubt = true
        counters.inDoubt++
        try {
          await catchUp(true)
          fresh = true
        } catch (e2) {
          if (isTyped(e2) && !(e2 instanceof StoreUnavailable)) throw e2
          lastError = e2
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * (attempt + 1))))
        }
      }
    }
    throw ioError(`the append did not get through after ${MAX_ATTEMPTS} attempts: ${describe(lastError)}`)
  }

  // ---- Group commit: appends waiting while one is in flight go out together as one atomic batch.

  /** An append waiting for the writer. */
  interface Pending {
    readonly streamId: string
    readonly expectedVersion: ExpectedVersion
    readonly events: ReadonlyArray<NewEvent>
    readonly resolve: (result: AppendResult) => void
    readonly reject: (error: unknown) => void
  }

  /** An append of a batch, sealed and chained at its place in it. */
  interface BatchItem {
    readonly pending: Pending
    readonly subject: string
    readonly msgID: string
    readonly built: ReturnType<typeof seal>
    readonly lastSubjectSequence: number | undefined
  }

  /** Appends waiting, in call order (so one wallet's appends stay in order). */
  const queue: Pending[] = []
  /** The writer, while it runs: it takes appends from the queue until it is empty. */
  let writing: Promise<void> | undefined
  /** Whether the stream takes atomic batches (from open; cleared if the server says otherwise). */
  let atomic = log.atomic

  /**
   * Takes the next appends from the queue: the first one, and after it every following append that can go
   * in the same atomic batch — new ids (in the index and in the batch), its expected version right on the
   * index, a subject not yet in the batch (the server checks one expectation per subject per batch, and a
   * wallet's appends must stay in order), sealable, and within the batch's bounds. Each is sealed and chained
   * on its predecessor in the batch. Returns the first alone (for `appendNow`) when no batch can be made.
   */
  const takeBatch = (): { readonly alone: Pending } | { readonly items: BatchItem[] } => {
    const first = queue.shift()!
    if (!atomic || queue.length === 0 || closed || broken !== undefined) return { alone: first }
    const items: BatchItem[] = []
    const subjects = new Set<string>()
    const ids = new Set<string>()
    let head = index.head
    let headHash = index.headHash
    let bytes = 0
    const add = (p: Pending): boolean => {
      if (p.events.length === 0 || items.length >= MAX_BATCH) return false
      const subject = subjectOf(prefix, p.streamId)
      if (subjects.has(subject)) return false
      const current = index.versions.get(p.streamId) ?? 0
      if (p.expectedVersion !== "any" && p.expectedVersion !== current) return false
      if (checkIds(p.streamId, p.events) !== "new") return false
      for (const e of p.events) if (ids.has(e.eventId)) return false
      let built: ReturnType<typeof seal>
      try {
        built = seal(p.streamId, p.events, head, headHash)
      } catch {
        return false // appendNow reports it
      }
      if (built.body.length > maxBody || bytes + built.body.length > BATCH_BYTES) return false
      const streamSeqs = index.streams.get(p.streamId)
      items.push({
        pending: p,
        subject,
        msgID: messageIdOf(
          p.streamId,
          p.events.map((e) => e.eventId),
        ),
        built,
        lastSubjectSequence:
          p.expectedVersion === "any"
            ? undefined
            : streamSeqs === undefined
              ? 0
              : streamSeqs[streamSeqs.length - 1]!,
      })
      subjects.add(subject)
      for (const e of p.events) ids.add(e.eventId)
      bytes += built.body.length
      head = built.events[built.events.length - 1]!.envelope.sequence
      headHash = built.lastHash
      return true
    }
    if (!add(first)) return { alone: first }
    while (queue.length > 0 && add(queue[0]!)) queue.shift()
    if (items.length === 1) return { alone: first }
    return { items }
  }

  /**
   * Publishes `items` as one atomic batch (ADR-50): every message with its msg id and its wallet's expected
   * last subject sequence, the first also with the stream's expected last sequence (the compare-and-set on
   * the tail), the last committing. The server stores all of them, contiguously, or none. Resolves to
   * `"done"` (indexed, every append resolved), `"refused"` (none stored) or `"in-doubt"` (no answer).
   */
  const publishBatch = async (items: ReadonlyArray<BatchItem>): Promise<"done" | "refused" | "in-doubt"> => {
    const lastSequence = index.messages
    const id = `${batchPrefix}${++batchCount}`
    let reply: Promise<{ data: Uint8Array }> | undefined
    try {
      for (let k = 0; k < items.length; k++) {
        const item = items[k]!
        const h = headers()
        h.set("Nats-Batch-Id", id)
        h.set("Nats-Batch-Sequence", String(k + 1))
        h.set("Nats-Msg-Id", item.msgID)
        h.set("Nats-Expected-Stream", name)
        if (k === 0) h.set("Nats-Expected-Last-Sequence", String(lastSequence))
        if (item.lastSubjectSequence !== undefined)
          h.set("Nats-Expected-Last-Subject-Sequence", String(item.lastSubjectSequence))
        counters.published++
        if (k < items.length - 1) nc.publish(item.subject, item.built.body, { headers: h })
        else {
          h.set("Nats-Batch-Commit", "1")
          reply = unlessAbandoned(nc.request(item.subject, item.built.body, { headers: h, timeout }))
        }
      }
    } catch {
      if (closed) throw closedError()
      // The commit was not sent (the connection refused a publish): nothing is stored, and the server drops
      // the partial batch.
      return "refused"
    }
    let answer: { seq?: number; count?: number; error?: { err_code?: number; description?: string } }
    try {
      const msg = await reply!
      // Not mint input: the JetStream server's publish acknowledgement.
      // nosemgrep: json-parse-outside-protocol
      answer = JSON.parse(new TextDecoder().decode(msg.data))
      if (answer.error === undefined) opts.onAcknowledged?.(answer.seq ?? 0)
    } catch {
      if (closed) throw closedError()
      counters.inDoubt++
      return "in-doubt"
    }
    if (answer.error !== undefined) {
      const code = answer.error.err_code
      if (code === 10174 || code === 10177) atomic = false // the stream (or server) does not take them
      counters.refused++
      return "refused"
    }
    const n = items.length
    if (answer.seq !== lastSequence + n || answer.count !== n)
      throw corrupted({
        bad: items[0]!.built.events[0]!.envelope.sequence,
        reason: `the server stored a batch of ${n} appends as ${answer.count} messages ending at ${answer.seq}`,
      })
    counters.batches++
    for (let k = 0; k < n; k++) {
      const { built } = items[k]!
      const seq = lastSequence + 1 + k
      // The tail may have indexed it already; else it is the next message, built and checked here.
      if (index.messages < seq) {
        const dup = index.add(built.events)
        if (dup !== undefined)
          throw corrupted({ bad: dup.envelope.sequence, reason: "an event id is stored twice" })
        remember(seq, built.events)
      }
    }
    wakeAll()
    for (const { pending, built } of items) {
      const first = built.events[0]!.envelope
      const last = built.events[built.events.length - 1]!.envelope
      pending.resolve({
        firstSequence: first.sequence,
        lastSequence: last.sequence,
        streamVersion: last.streamVersion,
        deduplicated: false,
      })
    }
    return "done"
  }

  const settle = async (p: Pending, inDoubt = false): Promise<void> => {
    try {
      p.resolve(await appendNow(p.streamId, p.expectedVersion, p.events, inDoubt))
    } catch (e) {
      p.reject(e)
    }
  }

  /** The writer: one append or one batch in flight at a time, until the queue is empty. */
  const drain = async (): Promise<void> => {
    for (;;) {
      if (queue.length === 0) {
        writing = undefined
        return
      }
      const next = takeBatch()
      if ("alone" in next) {
        await settle(next.alone)
        continue
      }
      let outcome: "done" | "refused" | "in-doubt"
      try {
        outcome = await publishBatch(next.items)
      } catch (e) {
        for (const item of next.items) item.pending.reject(e)
        continue
      }
      if (outcome === "done") continue
      // Nothing of the batch was stored (or it is in doubt): catch up, then each append on its own, in order
      // — a stale expected version fails that append alone, and an append that did land is found by its ids.
      try {
        await catchUp(outcome === "in-doubt")
      } catch {
        // appendNow retries and reports
      }
      for (const item of next.items) await settle(item.pending, outcome === "in-doubt")
    }
  }

  const append = (
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
  ): Promise<AppendResult> =>
    new Promise<AppendResult>((resolve, reject) => {
      if (closed) return reject(closedError())
      queue.push({ streamId, expectedVersion, events, resolve, reject })
      // Started on the next turn, so appends made together (concurrent wallets) leave together.
      writing ??= new Promise<void>((r) => setImmediate(r)).then(drain).catch((e: unknown) => {
        writing = undefined
        for (const p of queue.splice(0)) p.reject(e)
      })
    })

  // ---- Reading.

  /**
   * Pages of events `[from, end]`, by a cursor, so concurrent appends are neither skipped nor delivered twice.
   * `end` undefined = follow the head for ever, waiting for the tail when caught up.
   */
  const pages = <A>(
    fromSequence: number,
    follow: boolean,
    get: (from: number, to: number) => Promise<ReadonlyArray<A>>,
  ): Stream.Stream<A, StoreError> =>
    Stream.unwrap(
      Effect.sync(() => {
        const last = follow ? undefined : index.head
        return Stream.paginate(
          Math.max(1, fromSequence),
          (cursor: number) =>
            fromPromise(async (): Promise<readonly [ReadonlyArray<A>, Option.Option<number>]> => {
              usable()
              if (cursor > (last ?? index.head)) {
                if (last !== undefined) return [[], Option.none()] as const
                await waitUntil(() => index.head >= cursor)
                return [[], Option.some(cursor)] as const
              }
              let upTo = Math.min(last ?? index.head, cursor + PAGE - 1)
              // Whole messages: extend to the end of the message holding `upTo`.
              const m = index.messageOf(upTo)
              upTo = Math.min(last ?? index.head, index.first[m - 1]! + index.countOf(m) - 1)
              const out = await get(cursor, upTo)
              const done = last !== undefined && upTo >= last
              return [out, done ? Option.none() : Option.some(upTo + 1)] as const
            }) as Effect.Effect<readonly [ReadonlyArray<A>, Option.Option<number>], StoreError>,
        )
      }),
    )

  const read = async (streamId: string, fromVersion = 1): Promise<ReadonlyArray<RecordedEvent>> => {
    usable()
    const seqs = index.streams.get(streamId)
    if (seqs === undefined) return []
    // The first message holding a version ≥ fromVersion.
    let lo = 0
    let hi = seqs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const m = seqs[mid]!
      if (index.version[m - 1]! + index.countOf(m) - 1 < fromVersion) lo = mid + 1
      else hi = mid
    }
    const wanted = seqs.slice(lo)
    if (wanted.length === 0) return []
    const out: RecordedEvent[] = []
    for (const events of await fetchMessages(wanted, subjectOf(prefix, streamId)))
      for (const r of openMessage(events)) if (r.envelope.streamVersion >= fromVersion) out.push(r)
    return out
  }

  const verifyChain = async (): Promise<{ head: number; verified: number }> => {
    usable()
    await catchUp()
    const info = await nats(() => jsm.streams.info(name))
    const total = index.messages
    if (info.state.first_seq > 1 && total > 0)
      throw corrupted({ bad: 1, reason: `the stream starts at message ${info.state.first_seq}` })
    if (info.state.messages !== info.state.last_seq || info.state.last_seq < total)
      throw corrupted({ bad: index.head + 1, reason: "messages were deleted from the stream" })
    let verified = 0
    for (let from = 1; from <= total; from += FETCH_BATCH) {
      usable()
      const to = Math.min(total, from + FETCH_BATCH - 1)
      const got = new Map<number, StoredMsg>()
      for (const m of await directBatch(from, to - from + 1)) if (m.seq <= to) got.set(m.seq, m)
      for (let m = from; m <= to; m++) {
        const msg = got.get(m) ?? (await leaderGet(m))
        const expect = index.expectationOf(m)
        if (msg === null || msg.seq !== m)
          throw corrupted({ bad: expect.firstSequence, reason: `message ${m} is missing` })
        if (streamIdOf(prefix, msg.subject) !== expect.streamId)
          throw corrupted({ bad: expect.firstSequence, reason: `message ${m} moved to another subject` })
        const events = readMessage(msg.data, expect)
        if (!Array.isArray(events)) throw corrupted(events)
        verified += events.length
      }
    }
    return { head: index.head, verified }
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    wakeAll()
    tailStop?.()
    elections.unsubscribe()
    await nc.close().catch(() => undefined)
    await writing
  }

  // ---- Open: read the log as it is now, then tail it.
  try {
    await refreshMaxBody()
    if (opts.follow === false) await catchUp()
    else {
      const lastAtOpen = await serverLast()
      await startTail()
      await waitUntil(() => index.messages >= lastAtOpen)
    }
  } catch (e) {
    await close()
    throw isTyped(e) && !(e instanceof StoreUnavailable && e.reason === "closed")
      ? e
      : ioError(`reading the JetStream log failed: ${describe(e)}`)
  }
  void nc.closed().then((err) => {
    if (!closed) fail(ioError(`the NATS connection closed${err ? `: ${describe(err)}` : ""}`))
  })

  const guarded = <A>(f: () => A): Effect.Effect<A, StoreError> =>
    Effect.suspend((): Effect.Effect<A, StoreError> => {
      if (closed) return Effect.fail(closedError())
      if (broken !== undefined) return Effect.fail(broken)
      return Effect.succeed(f())
    })

  const typedStore = fromPromise as <A>(f: () => Promise<A>) => Effect.Effect<A, StoreError>

  return {
    stream: name,
    subjectPrefix: prefix,
    sealer,
    append: (streamId, expectedVersion, events) =>
      fromPromise(() => append(streamId, expectedVersion, events)),
    read: (streamId, fromVersion) => typedStore(() => read(streamId, fromVersion)),
    streamVersion: (streamId) => guarded(() => index.versions.get(streamId) ?? 0),
    readAll: (fromSequence = 1) => pages(fromSequence, false, recordedRange),
    readRaw: (fromSequence = 1) => pages(fromSequence, false, storedRange),
    subscribe: (fromSequence = 1) => pages(fromSequence, true, recordedRange),
    head: guarded(() => index.head),
    sync: typedStore(async () => {
      usable()
      await catchUp()
      return index.head
    }),
    verifyChain: typedStore(verifyChain),
    stats: () => ({ ...counters, messages: index.messages }),
    verifyStructure: typedStore(verifyChain),
    close: Effect.promise(close),
  }
}
