/**
 * The single writer of a LevelDB event log: validates appends, sequences and hashes them, and commits them
 * in group batches — one `sync: true` LevelDB write for every append that arrived while the previous write
 * was on its way to disk.
 *
 * How an append flows:
 * 1. Idempotency: each event id is looked up in memory: ids of queued batches, then the {@link IdIndex} of
 *    committed ids; only an id the index places at some sequence (a retry) costs a LevelDB read, of the
 *    candidate records, to compare their event ids.
 * 2. Validation against the *tail* state (committed + queued): the expected version, and whether the ids are
 *    new, a complete retry (answered with the original positions) or a conflict. A rejected append touches
 *    nothing, so it never fails the others.
 * 3. Encoding and sealing of the payloads, then sequence numbers, stream versions and the hash chain in
 *    arrival order; the records and stream-run entries go straight into the native batch being filled, and
 *    the batch's event-id block (`keys.ts`) is added when it is cut.
 * 4. When no write is in flight, the batch being filled gets the commit marker (`m/head`) and is written
 *    with `sync: true`; appends arriving meanwhile fill the next one. An append's callback runs only after
 *    its batch is on disk.
 *
 * Why validate on arrival instead of when the batch is cut: the result is the same (arrival order is batch
 * order, and the tail state already includes everything queued before), but the CPU work — encoding,
 * AES-GCM, SHA-256, native batch inserts — then overlaps the previous batch's fsync instead of following it.
 * Writes are strictly one at a time: two LevelDB writes in flight could land in either order.
 *
 * If a write fails, its appends and every append queued behind it (whose sequences and hashes build on it)
 * fail with `StoreUnavailable("io")`, and the tail state falls back to the last committed batch; retrying
 * with the same event ids is safe.
 *
 * @module
 */
import type { ChainedBatch } from "classic-level"
import { encodeEvent } from "../../events/codec.js"
import {
  EventCodecError,
  StoreCorrupted,
  StoreUnavailable,
  VaultError,
  WrongExpectedVersion,
} from "../../events/errors.js"
import {
  type AadFields,
  groupAadText,
  identitySealer,
  type PayloadSealer,
  payloadAadText,
} from "../../events/sealer.js"
import type { AppendResult, ExpectedVersion, NewEvent } from "../../events/store.js"
import { type Probe, probeOf } from "./id-filter.js"
import type { IdIndex } from "./id-index.js"
import {
  HEAD_KEY,
  headValue,
  idBlockKey,
  idBlockValue,
  recordKey,
  streamPrefix,
  streamRunKey,
  streamRunValue,
} from "./keys.js"
import type { Db } from "./open-db.js"
import { describe } from "./open-db.js"
import { decodeRecord, encodeRecord, type RecordFields } from "./record.js"

/** Every way an append can fail. */
export type AppendError =
  | WrongExpectedVersion
  | EventCodecError
  | VaultError
  | StoreCorrupted
  | StoreUnavailable

/** Receives the outcome of an append: an error, or its result. A non-tagged `error` is a defect. */
export type AppendCallback = (
  error: AppendError | { readonly defect: unknown } | undefined,
  result?: AppendResult,
) => void

/** An event as committed, kept in the shape it was written so subscribers can be served without a read. */
export interface CommittedEvent {
  readonly fields: RecordFields
  readonly record: Buffer
  readonly payloadAt: number
  /** The encoded payload before sealing: live subscribers decode it without opening the sealed one. */
  readonly plain: Uint8Array
}

/** The committed state the writer starts from (read and checked at open). */
export interface WriterStart {
  readonly head: number
  readonly headHash: Buffer
  readonly versions: Map<string, number>
}

interface Position {
  readonly sequence: number
  readonly streamId: string
  readonly version: number
}

interface PendingPosition extends Position {
  readonly batch: Batch
}

interface Batch {
  readonly chained: ChainedBatch<Db, Uint8Array, Uint8Array>
  readonly waiters: Array<{ readonly done: AppendCallback; readonly result: AppendResult }>
  /** Callbacks of retried appends that wait for this batch. */
  readonly settled: Array<(error: StoreUnavailable | undefined) => void>
  readonly ids: string[]
  /** Probes of `ids`, for the batch's id block and the index once committed. */
  readonly probes: Probe[]
  readonly firstSequence: number
  readonly streams: Map<string, number>
  readonly events: CommittedEvent[]
  lastSequence: number
  lastHash: Buffer
}

/**
 * A batch this large is written at once when the disk is idle, instead of at the end of the current turn of
 * the event loop: its fsync then overlaps the encoding of the appends still arriving in this turn.
 */
const EAGER_EVENTS = 48

const isTagged = (e: unknown): e is AppendError =>
  e instanceof WrongExpectedVersion ||
  e instanceof EventCodecError ||
  e instanceof VaultError ||
  e instanceof StoreCorrupted ||
  e instanceof StoreUnavailable

/** The group-commit writer. Not thread-safe by design: JavaScript's single thread is its mutex. */
export class GroupCommitWriter {
  /** Last committed (durable) sequence and hash, and stream versions: what readers may see. */
  head: number
  headHash: Buffer
  readonly versions: Map<string, number>

  /** Committed plus queued: what the next append is validated against. */
  private tailSequence: number
  private tailHash: Buffer
  private tailVersions: Map<string, number>

  /** Each stream's key prefix, built once (the batch copies keys, so one buffer serves every append). */
  private readonly prefixes = new Map<string, Uint8Array>()
  /** Ids of queued and in-flight batches (committed ids are found through the filter and the index). */
  private readonly pendingIds = new Map<string, PendingPosition>()
  private filling: Batch | undefined
  private inFlight: Batch | undefined
  private flushScheduled = false
  private closing = false
  private drained: (() => void) | undefined

  /** Number of batches written, and events in them (for benchmarks and tests). */
  batches = 0
  eventsWritten = 0

  constructor(
    private readonly db: Db,
    private readonly sealer: PayloadSealer | undefined,
    private readonly ids: IdIndex,
    start: WriterStart,
    private readonly onCommit: (events: ReadonlyArray<CommittedEvent>) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.head = this.tailSequence = start.head
    this.headHash = this.tailHash = start.headHash
    this.versions = start.versions
    this.tailVersions = new Map(start.versions)
  }

  /** Last sequence assigned, committed or queued. */
  get tail(): number {
    return this.tailSequence
  }

  /** Appends `events` to `streamId`; `done` runs once, after the batch is durable or on rejection. */
  append(
    streamId: string,
    expected: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
    done: AppendCallback,
  ): void {
    this.attempt(streamId, expected, events, undefined, done)
  }

  /** Stops accepting appends and resolves once every queued append is settled. */
  close(): Promise<void> {
    this.closing = true
    if (this.inFlight === undefined && this.filling === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      this.drained = resolve
    })
  }

  private attempt(
    streamId: string,
    expected: ExpectedVersion,
    events: ReadonlyArray<NewEvent>,
    stored: Map<string, Position | null> | undefined,
    done: AppendCallback,
  ): void {
    if (this.closing) {
      done(new StoreUnavailable({ reason: "closed", message: "the event store is closed" }))
      return
    }
    const n = events.length
    if (n === 0) {
      const current = this.tailVersions.get(streamId) ?? 0
      if (expected !== "any" && expected !== current) {
        done(wrongVersion(streamId, expected, current))
        return
      }
      done(undefined, {
        firstSequence: this.tailSequence + 1,
        lastSequence: this.tailSequence,
        streamVersion: current,
        deduplicated: false,
      })
      return
    }

    if (n > 1 && hasDuplicateId(events)) {
      done(idConflict(streamId, this.tailVersions.get(streamId) ?? 0, "the same event id appears twice"))
      return
    }

    // 1. Idempotency: classify every id as known (with its position), new, or to be looked up.
    const probes: Probe[] = new Array(n)
    const known: Array<Position | PendingPosition> = []
    const lookup: string[] = []
    let fresh = 0
    for (let i = 0; i < n; i++) {
      const id = events[i]!.eventId
      const p = this.pendingIds.get(id) ?? stored?.get(id)
      if (p != null) {
        known.push(p)
        continue
      }
      const probe = probeOf(id)
      probes[i] = probe
      if (p === null || this.ids.candidates(probe).length === 0) fresh++
      else lookup.push(id)
    }
    if (lookup.length > 0) {
      const ids = lookup
      const epoch = this.batches
      this.lookupStored(ids).then(
        (found) => {
          const merged = stored ?? new Map<string, Position | null>()
          // "Not stored" is only reliable if no batch committed while we looked: one may have held the id.
          for (const id of ids) {
            const hit = found.get(id)
            if (hit !== undefined) merged.set(id, hit)
            else if (this.batches === epoch) merged.set(id, null)
          }
          this.attempt(streamId, expected, events, merged, done)
        },
        (error: unknown) =>
          done(
            this.closing
              ? new StoreUnavailable({ reason: "closed", message: "the event store is closed" })
              : isTagged(error)
                ? error
                : { defect: error },
          ),
      )
      return
    }
    if (known.length > 0) {
      this.answerRetry(streamId, known, fresh, done)
      return
    }

    // 2. Optimistic concurrency against the tail (committed + queued) version.
    const current = this.tailVersions.get(streamId) ?? 0
    if (expected !== "any" && expected !== current) {
      done(wrongVersion(streamId, expected, current))
      return
    }

    // 3. Encode and seal before touching any state, so a bad event rejects the append alone. An append of
    // several events is sealed as one group when the sealer can (one cipher operation instead of one per
    // event: see `vault.ts`); the identity sealer needs no aad at all.
    const types: string[] = new Array(n)
    const versions: number[] = new Array(n)
    const plains: Uint8Array[] = new Array(n)
    let payloads: Uint8Array[] = plains
    try {
      const sealer = this.sealer
      if (sealer === undefined)
        throw new VaultError({ reason: "missing-key", message: "the store was opened without its key" })
      for (let i = 0; i < n; i++) {
        const enc = encodeEvent(events[i]!.event)
        types[i] = enc.type
        versions[i] = enc.schemaVersion
        plains[i] = enc.bytes
      }
      if (sealer !== identitySealer) {
        const aadFields: AadFields[] = new Array(n)
        for (let i = 0; i < n; i++)
          aadFields[i] = {
            streamId,
            eventId: events[i]!.eventId,
            type: types[i]!,
            schemaVersion: versions[i]!,
          }
        // The same bytes as `groupAad`/`payloadAad`, from Node's buffer pool instead of a fresh ArrayBuffer.
        if (n >= 2 && sealer.group !== undefined)
          payloads = sealer.group.seal(plains, Buffer.from(groupAadText(aadFields), "utf8"))
        else {
          payloads = new Array(n)
          for (let i = 0; i < n; i++)
            payloads[i] = sealer.seal(plains[i]!, Buffer.from(payloadAadText(aadFields[i]!), "utf8"))
        }
      }
    } catch (error) {
      done(isTagged(error) ? error : { defect: error })
      return
    }

    let prefix = this.prefixes.get(streamId)
    if (prefix === undefined) {
      try {
        prefix = streamPrefix(streamId)
      } catch (error) {
        done({ defect: error })
        return
      }
      this.prefixes.set(streamId, prefix)
    }

    // 4. Sequence, hash and stage into the batch being filled.
    const batch = this.filling ?? this.newBatch()
    const time = this.now()
    const firstSequence = this.tailSequence + 1
    let sequence = this.tailSequence
    let version = current
    let prev = this.tailHash
    for (let i = 0; i < n; i++) {
      const eventId = events[i]!.eventId
      sequence++
      version++
      const fields: RecordFields = {
        sequence,
        streamId,
        streamVersion: version,
        eventId,
        type: types[i]!,
        schemaVersion: versions[i]!,
        time,
      }
      const payload = payloads[i]!
      const { record, hash, payloadAt } = encodeRecord(prev, fields, payload)
      batch.chained.put(recordKey(sequence), record)
      batch.events.push({ fields, record, payloadAt, plain: plains[i]! })
      batch.ids.push(eventId)
      batch.probes.push(probes[i]!)
      this.pendingIds.set(eventId, { sequence, streamId, version, batch })
      prev = hash
    }
    batch.chained.put(streamRunKey(prefix, current + 1), streamRunValue(firstSequence, n))
    batch.streams.set(streamId, version)
    batch.lastSequence = sequence
    batch.lastHash = prev
    batch.waiters.push({
      done,
      result: { firstSequence, lastSequence: sequence, streamVersion: version, deduplicated: false },
    })
    this.tailSequence = sequence
    this.tailHash = prev
    this.tailVersions.set(streamId, version)
    if (this.inFlight === undefined) {
      if (batch.events.length >= EAGER_EVENTS) this.flush()
      else if (!this.flushScheduled) {
        this.flushScheduled = true
        // A microtask lets the appends issued in this turn of the event loop join the batch.
        queueMicrotask(this.flush)
      }
    }
  }

  /** Every id of an append is already known: a complete retry is answered, anything else is a conflict. */
  private answerRetry(
    streamId: string,
    known: ReadonlyArray<Position | PendingPosition>,
    fresh: number,
    done: AppendCallback,
  ): void {
    const first = known[0]!
    const consistent =
      fresh === 0 && known.every((p, i) => p.streamId === streamId && p.version === first.version + i)
    if (!consistent) {
      done(
        idConflict(
          streamId,
          this.tailVersions.get(streamId) ?? 0,
          fresh === 0
            ? "the event ids are stored at other positions or in another stream"
            : "the append mixes stored and new event ids",
        ),
      )
      return
    }
    const last = known[known.length - 1]!
    const result: AppendResult = {
      firstSequence: first.sequence,
      lastSequence: last.sequence,
      streamVersion: last.version,
      deduplicated: true,
    }
    // If the original is still on its way to disk, answer only once it is durable.
    let wait: Batch | undefined
    for (const p of known) {
      if (!("batch" in p)) continue
      if (p.batch === this.filling) wait = p.batch
      else if (p.batch === this.inFlight && wait === undefined) wait = p.batch
    }
    if (wait === undefined) {
      done(undefined, result)
      return
    }
    wait.settled.push((error) => (error ? done(error) : done(undefined, result)))
  }

  /**
   * Positions of stored ids (absent when not stored): the index's candidate sequences, checked against the
   * records (a candidate holding another id is a hash collision, not a hit).
   */
  private async lookupStored(ids: ReadonlyArray<string>): Promise<Map<string, Position>> {
    const out = new Map<string, Position>()
    const hits: Array<{ id: string; sequence: number }> = []
    for (const id of ids) for (const sequence of this.ids.candidates(probeOf(id))) hits.push({ id, sequence })
    if (hits.length === 0) return out
    let records: Array<Uint8Array | undefined>
    try {
      records = await this.db.getMany(hits.map((h) => recordKey(h.sequence)))
    } catch (err) {
      throw new StoreUnavailable({ reason: "io", message: `event lookup failed: ${describe(err)}` })
    }
    records.forEach((bytes, i) => {
      const hit = hits[i]!
      const r = bytes === undefined ? undefined : decodeRecord(bytes)
      if (r === undefined || r.fields.sequence !== hit.sequence)
        throw new StoreCorrupted({
          firstBadSequence: hit.sequence,
          message: "the event-id index points at a missing or misplaced record",
        })
      if (r.fields.eventId !== hit.id) return
      out.set(hit.id, {
        sequence: hit.sequence,
        streamId: r.fields.streamId,
        version: r.fields.streamVersion,
      })
    })
    return out
  }

  private newBatch(): Batch {
    const batch: Batch = {
      chained: this.db.batch(),
      waiters: [],
      settled: [],
      ids: [],
      probes: [],
      firstSequence: this.tailSequence + 1,
      streams: new Map(),
      events: [],
      lastSequence: this.tailSequence,
      lastHash: this.tailHash,
    }
    this.filling = batch
    return batch
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const batch = this.filling
    if (this.inFlight !== undefined || batch === undefined) return
    this.filling = undefined
    this.inFlight = batch
    batch.chained.put(idBlockKey(batch.firstSequence), idBlockValue(batch.probes))
    batch.chained.put(HEAD_KEY, headValue(batch.lastSequence, batch.lastHash))
    batch.chained.write({ sync: true }).then(
      () => this.committed(batch),
      (err: unknown) => this.failed(batch, err),
    )
  }

  private committed(batch: Batch): void {
    this.inFlight = undefined
    this.head = batch.lastSequence
    this.headHash = batch.lastHash
    for (const [s, v] of batch.streams) this.versions.set(s, v)
    for (let i = 0; i < batch.ids.length; i++) {
      const id = batch.ids[i]!
      if (this.pendingIds.get(id)?.batch === batch) this.pendingIds.delete(id)
      this.ids.commit(batch.probes[i]!, batch.firstSequence + i)
    }
    this.batches++
    this.eventsWritten += batch.events.length
    // Start the next write before waking anyone: its fsync then overlaps the callbacks below.
    this.flush()
    this.onCommit(batch.events)
    for (const w of batch.waiters) w.done(undefined, w.result)
    for (const s of batch.settled) s(undefined)
    this.settleIfDrained()
  }

  private failed(batch: Batch, err: unknown): void {
    const error = new StoreUnavailable({
      reason: "io",
      message: `group commit write failed: ${describe(err)}`,
    })
    this.inFlight = undefined
    const queued = this.filling
    this.filling = undefined
    const lost = queued === undefined ? [batch] : [batch, queued]
    if (queued !== undefined) void queued.chained.close().catch(() => undefined)
    for (const b of lost)
      for (const id of b.ids) if (this.pendingIds.get(id)?.batch === b) this.pendingIds.delete(id)
    this.tailSequence = this.head
    this.tailHash = this.headHash
    this.tailVersions = new Map(this.versions)
    for (const b of lost) {
      for (const w of b.waiters) w.done(error)
      for (const s of b.settled) s(error)
    }
    this.settleIfDrained()
  }

  private settleIfDrained(): void {
    if (this.closing && this.inFlight === undefined && this.filling === undefined && this.drained) {
      const d = this.drained
      this.drained = undefined
      d()
    }
  }
}

/** True when two events of one append share an id (appends are small: a quadratic scan beats a Set). */
const hasDuplicateId = (events: ReadonlyArray<NewEvent>): boolean => {
  const n = events.length
  if (n > 16) return new Set(events.map((e) => e.eventId)).size !== n
  for (let i = 1; i < n; i++) {
    const id = events[i]!.eventId
    for (let j = 0; j < i; j++) if (events[j]!.eventId === id) return true
  }
  return false
}

const wrongVersion = (streamId: string, expected: number, actual: number): WrongExpectedVersion =>
  new WrongExpectedVersion({
    streamId,
    expected,
    actual,
    message: `expected stream version ${expected}, but it is at ${actual}`,
  })

const idConflict = (streamId: string, actual: number, why: string): WrongExpectedVersion =>
  new WrongExpectedVersion({ streamId, expected: -1, actual, message: `event id conflict: ${why}` })
