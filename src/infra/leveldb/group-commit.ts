/**
 * The single writer of a LevelDB event log: validates appends, sequences them, seals their payloads, chains
 * and commits them in group batches — one `sync: true` LevelDB write for every append that was ready while
 * the previous write was on its way to disk.
 *
 * How an append flows:
 * 1. Idempotency: each event id is looked up in memory: ids not yet committed, then the {@link IdIndex} of
 *    committed ids; only an id the index places at some sequence (a retry) costs a LevelDB read, of the
 *    candidate records, to compare their event ids.
 * 2. Validation against the *tail* state (committed + pending): the expected version, and whether the ids
 *    are new, a complete retry (answered with the original positions) or a conflict. A rejected append
 *    touches nothing, so it never fails the others.
 * 3. Encoding (and with it the catalogue's validation), then sequence numbers and stream versions, in
 *    arrival order. The append joins the open **chunk**: every append sequenced in one turn of the event
 *    loop.
 * 4. At the end of the turn (or at once when the chunk is large) the chunk is cut and ALL its payloads are
 *    sealed as one group, whatever their streams: node:crypto's fixed cost per AES-GCM operation (~10 µs,
 *    more than the AES work on a few hundred bytes) was the largest single cost of an append.
 * 5. Sealed chunks are taken strictly in order: their records are built and hashed onto the chain and put
 *    into the write batch being filled, each chunk as ONE value (`chunk.ts`). When no write is in flight,
 *    that batch gets its index block (the event-id probes, chunk sizes and stream runs of its appends,
 *    `keys.ts`) and the commit marker (`m/head`) and is written with `sync: true`. An append's callback
 *    runs only after its batch is on disk.
 *
 * Why this split: validation and sequencing decide the append's answer (a conflict is reported at once) and
 * need only the tail state, so they run on arrival; the hash chain needs the sealed bytes, so it follows the
 * seal, in order; and all of it overlaps the previous batch's fsync. Writes are strictly one at a time: two
 * LevelDB writes in flight could land in either order. (Sealing and chaining on a worker thread was tried:
 * on a 2-core host the message passing and the longer path to the disk cost more than they saved.)
 *
 * If a write (or a seal) fails, its appends and every append after it (whose sequences and hashes build on
 * it) fail with `StoreUnavailable("io")` (or the sealer's `VaultError`), and the tail state falls back to
 * what is still on its way; retrying with the same event ids is safe.
 *
 * @module
 */
import type { ChainedBatch } from "classic-level"
import { encodeEvent } from "../../events/codec.js"
import { identitySealer, type PayloadSealer, payloadAadText } from "../../events/sealer.js"
import {
  EventCodecError,
  StoreCorrupted,
  StoreUnavailable,
  VaultError,
  WrongExpectedVersion,
} from "../../model/index.js"
import type { AppendResult, ExpectedVersion, NewEvent } from "../../ports/event-store.js"
import { encodeChunk, splitChunk } from "./chunk.js"
import type { ChunkIndex } from "./chunk-index.js"
import { type Probe, probeOf } from "./id-filter.js"
import type { IdIndex } from "./id-index.js"
import { chunkKey, HEAD_KEY, headValue, indexBlockKey, indexBlockValue, type StreamRun } from "./keys.js"
import { type Db, describe } from "./open-db.js"
import { decodeRecord, type RecordFields } from "./record.js"
import type { StreamIndex } from "./stream-index.js"

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
  /** The chunk value holding the record, and where the record and its payload sit in it. */
  readonly chunk: Buffer
  readonly start: number
  readonly payloadAt: number
  readonly end: number
  /** The encoded payload before sealing: live subscribers decode it without opening the sealed one. */
  readonly plain: Uint8Array
}

/** The committed state the writer starts from (read and checked at open). */
export interface WriterStart {
  readonly head: number
  readonly headHash: Buffer
  /** The committed streams; the writer adds each batch's runs once it is durable. */
  readonly streams: StreamIndex
  /** The committed chunks; the writer adds each batch's chunks once it is durable. */
  readonly chunks: ChunkIndex
}

/** Options of the writer. */
export interface WriterOptions {
  readonly now?: () => number
}

/**
 * A chunk this large is cut at once instead of at the end of the turn: its write then overlaps the encoding
 * of the appends still arriving in this turn, and a sealed group (a chunk) stays small enough that reading
 * one stream's event never decrypts much more than that.
 */
const EAGER_EVENTS = 48

interface Position {
  readonly sequence: number
  readonly streamId: string
  readonly version: number
}

interface PendingPosition extends Position {
  readonly chunk: Chunk
}

/** One append, sequenced, waiting for its seal and its write. */
interface Staged {
  readonly streamId: string
  /** The stream id's UTF-8 bytes (as the index block stores it). */
  readonly streamBytes: Uint8Array
  readonly fields: RecordFields[]
  readonly plains: Uint8Array[]
  readonly probes: Probe[]
  /** Each event's AAD text (`payloadAadText`); undefined with the identity sealer. */
  readonly aads: string[] | undefined
  readonly done: AppendCallback
  readonly result: AppendResult
}

/** The appends sequenced in one turn of the event loop (or until the chunk was cut early), sealed together. */
interface Chunk {
  readonly appends: Staged[]
  readonly firstSequence: number
  lastSequence: number
  events: number
  /** The last version of each stream in this chunk (the tail state is rebuilt from them after a failure). */
  readonly streams: Map<string, number>
  /** Each append's stored payloads, once sealed. */
  sealed: Uint8Array[][] | undefined
  /** Callbacks of retried appends waiting for this chunk to be durable. */
  readonly settled: Array<(error: AppendError | undefined) => void>
}

/** One LevelDB write: the records of whole, consecutive chunks. */
interface Batch {
  readonly chained: ChainedBatch<Db, Uint8Array, Uint8Array>
  readonly chunks: Chunk[]
  readonly ids: string[]
  /** Probes of `ids`, for the batch's index block and the id index once committed. */
  readonly probes: Probe[]
  /** One run per append (with its stream id's bytes), for the index block and the stream index. */
  readonly runs: Array<StreamRun & { readonly streamBytes: Uint8Array }>
  readonly firstSequence: number
  readonly events: CommittedEvent[]
  lastSequence: number
  lastHash: Buffer
}

const isTagged = (e: unknown): e is AppendError =>
  e instanceof WrongExpectedVersion ||
  e instanceof EventCodecError ||
  e instanceof VaultError ||
  e instanceof StoreCorrupted ||
  e instanceof StoreUnavailable

/** The group-commit writer. Not thread-safe by design: JavaScript's single thread is its mutex. */
export class GroupCommitWriter {
  /** Last committed (durable) sequence and hash, streams and their versions: what readers may see. */
  head: number
  headHash: Buffer
  readonly streams: StreamIndex
  readonly chunks: ChunkIndex
  readonly versions: ReadonlyMap<string, number>

  /** Committed plus pending: what the next append is validated against. */
  private tailSequence: number
  private tailVersions: Map<string, number>
  /** Hash of the last record built (the chain runs through staged chunks, ahead of the head). */
  private chainHash: Buffer

  /** Each stream id's UTF-8 bytes, built once. */
  private readonly streamBytes = new Map<string, Uint8Array>()
  /** Ids not yet committed (committed ids are found through the filter and the index). */
  private readonly pendingIds = new Map<string, PendingPosition>()
  /** The chunk collecting this turn's appends. */
  private open: Chunk | undefined
  private filling: Batch | undefined
  private inFlight: Batch | undefined
  private cutScheduled = false
  private closing = false
  private drained: (() => void) | undefined
  private readonly now: () => number

  /** Number of batches written and events in them (benchmarks and tests). */
  batches = 0
  eventsWritten = 0

  constructor(
    private readonly db: Db,
    private readonly sealer: PayloadSealer | undefined,
    private readonly ids: IdIndex,
    start: WriterStart,
    private readonly onCommit: (events: ReadonlyArray<CommittedEvent>) => void,
    options: WriterOptions = {},
  ) {
    this.head = this.tailSequence = start.head
    this.headHash = this.chainHash = start.headHash
    this.streams = start.streams
    this.chunks = start.chunks
    this.versions = start.streams.versions
    this.tailVersions = new Map(this.versions)
    this.now = options.now ?? Date.now
  }

  /** Last sequence assigned, committed or pending. */
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

  /** Stops accepting appends and resolves once every pending append is settled. */
  close(): Promise<void> {
    this.closing = true
    if (this.idle()) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.drained = resolve
    })
  }

  private idle(): boolean {
    return this.inFlight === undefined && this.filling === undefined && this.open === undefined
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

    // 2. Optimistic concurrency against the tail (committed + pending) version.
    const current = this.tailVersions.get(streamId) ?? 0
    if (expected !== "any" && expected !== current) {
      done(wrongVersion(streamId, expected, current))
      return
    }

    // 3. Encode (and validate) before touching any state, so a bad event rejects the append alone. Each
    // event's AAD text (built once it is sequenced) names its envelope; the chunk's group AAD is made of them
    // (the identity sealer needs none).
    const types: string[] = new Array(n)
    const versions: number[] = new Array(n)
    const plains: Uint8Array[] = new Array(n)
    let aads: string[] | undefined
    let streamBytes = this.streamBytes.get(streamId)
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
      if (sealer !== identitySealer) aads = new Array(n)
      if (streamBytes === undefined) {
        streamBytes = Buffer.from(streamId, "utf8")
        if (streamBytes.length > 0xffff) throw new RangeError("stream id longer than 65535 bytes")
        this.streamBytes.set(streamId, streamBytes)
      }
    } catch (error) {
      done(isTagged(error) ? error : { defect: error })
      return
    }

    // 4. Sequence into this turn's chunk.
    const chunk = this.open ?? this.openChunk()
    const time = this.now()
    const firstSequence = this.tailSequence + 1
    const fields: RecordFields[] = new Array(n)
    let sequence = this.tailSequence
    let version = current
    for (let i = 0; i < n; i++) {
      const eventId = events[i]!.eventId
      sequence++
      version++
      fields[i] = {
        sequence,
        streamId,
        streamVersion: version,
        eventId,
        type: types[i]!,
        schemaVersion: versions[i]!,
        time,
      }
      // The AAD binds the payload to its whole envelope, its place in the log included (`sealer.ts`).
      if (aads !== undefined) aads[i] = payloadAadText(fields[i]!)
      this.pendingIds.set(eventId, { sequence, streamId, version, chunk })
    }
    chunk.appends.push({
      streamId,
      streamBytes,
      fields,
      plains,
      probes,
      aads,
      done,
      result: { firstSequence, lastSequence: sequence, streamVersion: version, deduplicated: false },
    })
    chunk.events += n
    chunk.lastSequence = sequence
    chunk.streams.set(streamId, version)
    this.tailSequence = sequence
    this.tailVersions.set(streamId, version)
    if (chunk.events >= EAGER_EVENTS) this.cut()
    else if (!this.cutScheduled) {
      this.cutScheduled = true
      // A microtask lets the appends issued in this turn of the event loop join the chunk.
      queueMicrotask(this.cutTurn)
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
    // If the original is still on its way to disk, answer only once it is durable (chunks commit in order:
    // waiting for the latest one covers the others).
    let wait: Chunk | undefined
    for (const p of known)
      if ("chunk" in p && (wait === undefined || p.chunk.firstSequence > wait.firstSequence)) wait = p.chunk
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
    const starts = hits.map((h) => this.chunks.startOf(h.sequence))
    let chunks: Array<Uint8Array | undefined>
    try {
      chunks = await this.db.getMany(starts.map(chunkKey))
    } catch (err) {
      throw new StoreUnavailable({ reason: "io", message: `event lookup failed: ${describe(err)}` })
    }
    chunks.forEach((value, i) => {
      const hit = hits[i]!
      const bytes = value === undefined ? undefined : splitChunk(value)?.[hit.sequence - starts[i]!]
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

  private openChunk(): Chunk {
    const chunk: Chunk = {
      appends: [],
      firstSequence: this.tailSequence + 1,
      lastSequence: this.tailSequence,
      events: 0,
      streams: new Map(),
      sealed: undefined,
      settled: [],
    }
    this.open = chunk
    return chunk
  }

  private readonly cutTurn = (): void => {
    this.cutScheduled = false
    if (this.open !== undefined) this.cut()
  }

  /** Seals the open chunk and stages it; starts a write when the disk is idle. */
  private cut(): void {
    const chunk = this.open!
    // Sealed while still open: a failure then fails it (and nothing before it) like any pending chunk.
    if (!this.seal(chunk)) return
    this.open = undefined
    this.stage(chunk)
    if (this.inFlight === undefined) this.flush()
  }

  /**
   * Seals a chunk: with a group-capable sealer, ALL its payloads — every append of the chunk, whatever its
   * stream — as one group (one AES-GCM operation: its fixed cost, not the bytes, is what an append paid
   * most; see `vault.ts`), bound to every member's envelope by the group AAD (`groupAadText`). Readers open
   * a member with its whole group, which is consecutive in the log and at most a chunk. False (and the
   * chunk and everything after it failed) when it cannot.
   */
  private seal(chunk: Chunk): boolean {
    const sealer = this.sealer!
    try {
      const first = chunk.appends[0]!
      if (first.aads === undefined) chunk.sealed = chunk.appends.map((a) => a.plains)
      else if (chunk.events === 1)
        chunk.sealed = [[sealer.seal(first.plains[0]!, Buffer.from(first.aads[0]!, "utf8"))]]
      else if (sealer.group !== undefined) {
        const plains: Uint8Array[] = new Array(chunk.events)
        let text = "["
        let k = 0
        for (const a of chunk.appends)
          for (let i = 0; i < a.plains.length; i++) {
            text += (k === 0 ? "" : ",") + a.aads![i]!
            plains[k++] = a.plains[i]!
          }
        // `groupAadText` of the members, built from their texts; Node's pooled `Buffer.from` for the bytes.
        const sealed = sealer.group.seal(plains, Buffer.from(`${text}]`, "utf8"))
        k = 0
        chunk.sealed = chunk.appends.map((a) => a.plains.map(() => sealed[k++]!))
      } else
        chunk.sealed = chunk.appends.map((a) =>
          a.plains.map((p, i) => sealer.seal(p, Buffer.from(a.aads![i]!, "utf8"))),
        )
      return true
    } catch (error) {
      this.failFrom(
        chunk,
        isTagged(error)
          ? error
          : new StoreUnavailable({ reason: "io", message: "sealing the appended payloads failed" }),
      )
      return false
    }
  }

  /** Builds and chains a sealed chunk's records, and puts them as one value into the batch being filled. */
  private stage(chunk: Chunk): void {
    const batch = this.filling ?? this.newBatch()
    const sealed = chunk.sealed!
    const fields: RecordFields[] = new Array(chunk.events)
    const payloads: Uint8Array[] = new Array(chunk.events)
    let k = 0
    for (let j = 0; j < chunk.appends.length; j++) {
      const a = chunk.appends[j]!
      const sealedOfAppend = sealed[j]!
      for (let i = 0; i < a.fields.length; i++, k++) {
        fields[k] = a.fields[i]!
        payloads[k] = sealedOfAppend[i]!
        batch.ids.push(a.fields[i]!.eventId)
        batch.probes.push(a.probes[i]!)
      }
      const first = a.fields[0]!
      batch.runs.push({
        streamId: a.streamId,
        streamBytes: a.streamBytes,
        firstVersion: first.streamVersion,
        firstSequence: first.sequence,
        count: a.fields.length,
      })
    }
    const built = encodeChunk(this.chainHash, fields, payloads)
    k = 0
    for (const a of chunk.appends)
      for (let i = 0; i < a.plains.length; i++, k++)
        batch.events.push({
          fields: fields[k]!,
          chunk: built.value,
          start: built.starts[k]!,
          payloadAt: built.payloadAts[k]!,
          end: built.ends[k]!,
          plain: a.plains[i]!,
        })
    batch.chained.put(chunkKey(chunk.firstSequence), built.value)
    this.chainHash = built.lastHash
    batch.chunks.push(chunk)
    batch.lastSequence = chunk.lastSequence
    batch.lastHash = built.lastHash
  }

  private newBatch(): Batch {
    const batch: Batch = {
      chained: this.db.batch(),
      chunks: [],
      ids: [],
      probes: [],
      runs: [],
      firstSequence: this.chainSequence() + 1,
      events: [],
      lastSequence: this.chainSequence(),
      lastHash: this.chainHash,
    }
    this.filling = batch
    return batch
  }

  /** The last sequence built into a batch (in flight or filling), or the head. */
  private chainSequence(): number {
    return this.filling?.lastSequence ?? this.inFlight?.lastSequence ?? this.head
  }

  private flush(): void {
    const batch = this.filling
    if (this.inFlight !== undefined || batch === undefined) return
    this.filling = undefined
    this.inFlight = batch
    batch.chained.put(
      indexBlockKey(batch.firstSequence),
      indexBlockValue(
        batch.probes,
        batch.chunks.map((c) => c.events),
        batch.runs,
      ),
    )
    batch.chained.put(HEAD_KEY, headValue(batch.lastSequence, batch.lastHash))
    batch.chained.write({ sync: true }).then(
      () => this.committed(batch),
      (err: unknown) =>
        this.failFrom(
          batch.chunks[0]!,
          new StoreUnavailable({ reason: "io", message: `group commit write failed: ${describe(err)}` }),
        ),
    )
  }

  private committed(batch: Batch): void {
    this.inFlight = undefined
    this.head = batch.lastSequence
    this.headHash = batch.lastHash
    for (const run of batch.runs) this.streams.add(run)
    for (const chunk of batch.chunks) this.chunks.add(chunk.firstSequence)
    for (let i = 0; i < batch.ids.length; i++) {
      const id = batch.ids[i]!
      const p = this.pendingIds.get(id)
      if (p !== undefined && p.sequence === batch.firstSequence + i) this.pendingIds.delete(id)
      this.ids.commit(batch.probes[i]!, batch.firstSequence + i)
    }
    this.batches++
    this.eventsWritten += batch.events.length
    // Start the next write before waking anyone: its fsync then overlaps the callbacks below.
    this.flush()
    this.onCommit(batch.events)
    for (const chunk of batch.chunks) {
      for (const a of chunk.appends) a.done(undefined, a.result)
      for (const s of chunk.settled) s(undefined)
    }
    this.settleIfDrained()
  }

  /**
   * Fails `from` and every chunk after it (their sequences and hashes build on it): their appends and the
   * retries waiting for them get `error`, and the tail falls back to what is still on its way.
   */
  private failFrom(from: Chunk, error: AppendError): void {
    const order: Chunk[] = [
      ...(this.inFlight?.chunks ?? []),
      ...(this.filling?.chunks ?? []),
      ...(this.open === undefined ? [] : [this.open]),
    ]
    const at = order.indexOf(from)
    if (at < 0) return
    const lost = order.slice(at)
    const lostSet = new Set(lost)
    // A batch's chunks are consecutive and `from` starts a batch or is the open chunk: batches go whole.
    if (this.inFlight !== undefined && lostSet.has(this.inFlight.chunks[0]!)) this.inFlight = undefined
    if (this.filling !== undefined && lostSet.has(this.filling.chunks[0]!)) {
      void this.filling.chained.close().catch(() => undefined)
      this.filling = undefined
    }
    if (this.open !== undefined && lostSet.has(this.open)) this.open = undefined
    for (const chunk of lost) {
      for (const a of chunk.appends)
        for (const f of a.fields)
          if (this.pendingIds.get(f.eventId)?.chunk === chunk) this.pendingIds.delete(f.eventId)
    }
    this.tailSequence = from.firstSequence - 1
    this.tailVersions = new Map(this.versions)
    for (const chunk of order.slice(0, at)) for (const [s, v] of chunk.streams) this.tailVersions.set(s, v)
    this.chainHash = this.filling?.lastHash ?? this.inFlight?.lastHash ?? this.headHash
    for (const chunk of lost) {
      for (const a of chunk.appends) a.done(error)
      for (const s of chunk.settled) s(error)
    }
    this.settleIfDrained()
  }

  private settleIfDrained(): void {
    if (this.closing && this.idle() && this.drained) {
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
