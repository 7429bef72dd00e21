/**
 * The LevelDB event store: the production {@link EventStore} backend, on classic-level.
 *
 * - One process per data directory: LevelDB's lock makes a second opener fail with `StoreLocked`, and a
 *   registry of the directories this process holds refuses a second opener in the same process before
 *   LevelDB's failing open could release that lock (`leveldb/open-db.ts`). A new log is created only in a
 *   missing or empty directory; LevelDB's write-ahead logs are verified before LevelDB replays them
 *   (`leveldb/wal-check.ts`), because LevelDB silently drops damaged log records.
 * - Appends from every wallet go through one group-commit writer (`leveldb/group-commit.ts`): each append is
 *   validated and sequenced on arrival, sealed and hash-chained with the appends of its turn, and
 *   acknowledged only once the `sync: true` batch carrying it is on disk.
 * - Records are the chain-hash input itself (`leveldb/record.ts`), stored a chunk at a time (`leveldb/chunk.ts`:
 *   the records one turn of the writer committed, one LevelDB value); keys are laid out in `leveldb/keys.ts`.
 * - Opening verifies the end of the log and refuses anything past the commit marker, deleting nothing
 *   (`leveldb/open-check.ts`); `verifyChain` checks the whole log (the audit's entry point) and needs no key.
 * - Payloads are sealed with associated data binding them to their envelope (`events/sealer.ts`); the
 *   envelope stays in clear. With the vault, the appends committed together in one chunk (one turn of
 *   the writer, possibly of many streams) are sealed as ONE group (one AES-GCM operation, see `vault.ts`):
 *   every member keeps its own record and chain hash, but opens only with its whole group, which is
 *   its chunk. Reads fetch whole chunks: `read` the chunks holding the stream's runs (other streams'
 *   members are decoded for their group's sake, not returned); `readAll`, `readRaw` and `subscribe`
 *   start at the first record of the chunk holding `from` and drop what precedes it.
 * - Format 4 (`keys.ts`): one value per chunk, one index block per batch (event-id probes, chunk sizes and
 *   stream runs), in-memory stream and chunk indexes (`leveldb/stream-index.ts`, `leveldb/chunk-index.ts`).
 *   Earlier formats are refused at open with `StoreUnavailable` (no deployed stores exist, so there is no
 *   migration).
 * - `readAll`, `readRaw` and the catch-up of `subscribe` read in pages through iterators, never the whole
 *   log at once, and check every record as they go (hash, link to its predecessor, no gap): damage fails
 *   the read with `StoreCorrupted` instead of handing out altered events. `read` checks each chunk it reads
 *   (hashes, and the links inside the chunk). `subscribe` registers its live listener *before* it reads the
 *   catch-up range, then drops live events it already delivered, so the hand-over has no gap and no
 *   duplicate.
 *
 * @module
 */
import { Effect, Layer, Option, PubSub, type Scope, Stream } from "effect"
import type { Attester } from "../events/attestation.js"
import { decodeEvent } from "../events/codec.js"
import type { Envelope, StoredEvent } from "../events/envelope.js"
import { groupAadText, identitySealer, type PayloadSealer, payloadAadText } from "../events/sealer.js"
import {
  EventCodecError,
  StoreCorrupted,
  type StoreError,
  type StoreLocked,
  StoreUnavailable,
  VaultError,
} from "../model/index.js"
import { EventStore, type EventStoreShape, type RecordedEvent } from "../ports/event-store.js"
import type { VaultShape } from "../ports/vault.js"
import {
  ChainWalker,
  corrupted,
  GENESIS,
  type RecordSink,
  recordsPast,
  verifyRange,
} from "./leveldb/chain.js"
import { type CommittedEvent, GroupCommitWriter } from "./leveldb/group-commit.js"
import { IndexCheck } from "./leveldb/index-check.js"
import { chunkKey, FORMAT_KEY, FORMAT_TAG, OLD_FORMAT_TAGS, VAULT_KEY } from "./leveldb/keys.js"
import { checkOnOpen, type OpenReport } from "./leveldb/open-check.js"
import { closeDb, type Db, describe, openDb, readFailure } from "./leveldb/open-db.js"
import { type RecordFields, type RecordView, storedEventOf } from "./leveldb/record.js"
import { createVaultEffect, unlockVaultEffect, type VaultOptions, type VaultSecret } from "./vault.js"

export type { OpenReport } from "./leveldb/open-check.js"

/** How payloads are protected; exactly one must be given. */
export type LevelDbAccess =
  /** A passphrase: the vault's data key is wrapped by a key derived from it with scrypt. */
  | { readonly passphrase: string | Uint8Array }
  /** A 32-byte host-supplied key (e.g. from an OS keystore) wraps the vault's data key. */
  | { readonly key: Uint8Array }
  /** A host-supplied sealer (a vault unlocked elsewhere). The store records only that it is sealed. */
  | { readonly sealer: PayloadSealer }
  /** No encryption at all. For tests and benchmarks only; a store created so can never hold a key. */
  | { readonly unencrypted: true }
  /** No key: appends and payload reads fail with `VaultError("missing-key")`; the chain can be verified. */
  | { readonly chainOnly: true }

/** Options of {@link openLevelDbEventStore}. */
export type LevelDbStoreOptions = LevelDbAccess & {
  /**
   * Directory of the LevelDB files. A new log is created only when it is missing or empty (and `create`
   * is not false); a directory holding anything else without a LevelDB store is refused.
   */
  readonly dataDir: string
  /** Create a new log when the directory has none (default true; false: fail with `StoreUnavailable`). */
  readonly create?: boolean
  /** Vault options (scrypt cost of a new passphrase vault; test-only weak KDF). */
  readonly vault?: VaultOptions
  /** Events whose chain is verified at open, back from the head (default 1024). */
  readonly tailCheck?: number
  /** Events read per page by streams (default 512). */
  readonly pageSize?: number
  /** LevelDB's memtable size in bytes (default `DEFAULT_WRITE_BUFFER_BYTES`, 64 MiB; see `open-db.ts`). */
  readonly writeBufferBytes?: number
}

/** Result of a full chain verification. */
export interface ChainReport {
  /** The head the verification ran to. */
  readonly head: number
  /** Events verified. */
  readonly verified: number
}

/** The LevelDB store: the {@link EventStoreShape} plus what only this backend offers. */
export interface LevelDbEventStore extends EventStoreShape {
  readonly dataDir: string
  /** What open checked and recovered. */
  readonly opened: OpenReport
  /** Verifies every record from 1 to the head: present, well-formed, hashed and linked; nothing past it. */
  readonly verifyChain: Effect.Effect<ChainReport, StoreCorrupted | StoreUnavailable>
  /** Group-commit counters: batches written and events in them since open. */
  readonly stats: () => { readonly batches: number; readonly events: number }
  /**
   * The sealer protecting this store's payloads (absent for a chain-only opener). The engine seals its
   * projection checkpoints with it, so they are as private at rest as the log.
   */
  readonly sealer: PayloadSealer | undefined
  /** What tags head attestations: the vault's key id and authenticator (absent without a vault). */
  readonly attester: Attester | undefined
}

/** Entries of a record scan: key and value bytes. */
type Entries = Array<[Uint8Array, Uint8Array]>

/** Bytes a page read may gather per native call (see `readEntries`): far above any page. */
const PAGE_READ_BYTES = 1 << 30

const brokenGroup = (): VaultError =>
  new VaultError({ reason: "tampered", message: "a sealed group of payloads is incomplete or out of order" })

const closedError = () => new StoreUnavailable({ reason: "closed", message: "the event store is closed" })
const ioError = (what: string) => (err: unknown) =>
  new StoreUnavailable({ reason: "io", message: `${what} failed: ${describe(err)}` })

const CLOSED = Symbol("closed")
type Published = ReadonlyArray<CommittedEvent> | typeof CLOSED

const secretOf = (opts: LevelDbAccess): VaultSecret | undefined =>
  "passphrase" in opts ? { passphrase: opts.passphrase } : "key" in opts ? { key: opts.key } : undefined

/**
 * Decides how payloads are sealed from the options and the store's vault record, creating (and durably
 * recording) the vault when the store is new. The vault record is `none`, `external` (host sealer) or the
 * vault material JSON, in clear.
 */
const resolveSealer = (
  db: Db,
  opts: LevelDbStoreOptions,
): Effect.Effect<
  { sealer: PayloadSealer | undefined; vault?: VaultShape },
  VaultError | StoreUnavailable | StoreCorrupted
> =>
  Effect.gen(function* () {
    const [format, record] = yield* Effect.tryPromise({
      try: () => db.getMany([FORMAT_KEY, VAULT_KEY]),
      catch: readFailure("reading the store header"),
    })
    const secret = secretOf(opts)
    const writeHeader = (vault: string) =>
      Effect.tryPromise({
        try: () =>
          db.batch(
            [
              { type: "put", key: FORMAT_KEY, value: Buffer.from(FORMAT_TAG) },
              { type: "put", key: VAULT_KEY, value: Buffer.from(vault) },
            ],
            { sync: true },
          ),
        catch: ioError("writing the store header"),
      })
    if (format === undefined) {
      // A header is written before anything else, so a log without one must be empty: never put a new
      // vault (which could not open the old payloads) over existing records.
      const any = yield* Effect.tryPromise({
        try: () => db.keys({ limit: 1 }).all(),
        catch: readFailure("reading the event log"),
      })
      if (any.length > 0)
        return yield* new StoreCorrupted({
          firstBadSequence: 0,
          message: "the store header is missing but the log holds data; refusing to create a vault over it",
        })
      if ("chainOnly" in opts) return { sealer: undefined }
      if ("unencrypted" in opts) {
        yield* writeHeader("none")
        return { sealer: identitySealer }
      }
      if ("sealer" in opts) {
        yield* writeHeader("external")
        return { sealer: opts.sealer }
      }
      const created = yield* createVaultEffect(secret!, opts.vault)
      yield* writeHeader(JSON.stringify(created.material)).pipe(
        Effect.tapError(() => Effect.sync(() => created.vault.destroy())),
      )
      return { sealer: created.vault, vault: created.vault }
    }
    const tag = Buffer.from(format).toString()
    if (OLD_FORMAT_TAGS.has(tag))
      return yield* new StoreUnavailable({
        reason: "io",
        message: `the data directory was written in an earlier format (${tag}) that this version does not read`,
      })
    if (tag !== FORMAT_TAG)
      return yield* new StoreUnavailable({
        reason: "io",
        message: "the data directory has an unknown format",
      })
    const stored = record === undefined ? "" : Buffer.from(record).toString()
    if ("chainOnly" in opts) return { sealer: stored === "none" ? identitySealer : undefined }
    if (stored === "none") {
      if ("unencrypted" in opts) return { sealer: identitySealer }
      return yield* new VaultError({ reason: "bad-parameters", message: "this store is not encrypted" })
    }
    if ("unencrypted" in opts)
      return yield* new VaultError({
        reason: "missing-key",
        message: "this store is encrypted; a key is needed",
      })
    if (stored === "external") {
      if ("sealer" in opts) return { sealer: opts.sealer }
      return yield* new VaultError({ reason: "bad-parameters", message: "this store is sealed by its host" })
    }
    if (secret === undefined)
      return yield* new VaultError({
        reason: "bad-parameters",
        message: "this store has a vault; give its secret",
      })
    let material: unknown
    try {
      // Not mint input: the vault material record of our own log, checked field by field.
      // nosemgrep: json-parse-outside-protocol
      material = JSON.parse(stored)
    } catch {
      return yield* new VaultError({
        reason: "bad-parameters",
        message: "the stored vault material is unreadable",
      })
    }
    const vault = yield* unlockVaultEffect(material, secret, opts.vault)
    return { sealer: vault, vault }
  })

/** Opens the event log in `opts.dataDir`; the store closes with the scope (or earlier with `close`). */
export const openLevelDbEventStore = (
  opts: LevelDbStoreOptions,
): Effect.Effect<
  LevelDbEventStore,
  StoreLocked | StoreCorrupted | VaultError | StoreUnavailable,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const pageSize = Math.max(1, opts.pageSize ?? 512)
    const db = yield* Effect.acquireRelease(
      openDb(opts.dataDir, {
        ...(opts.writeBufferBytes !== undefined ? { writeBufferBytes: opts.writeBufferBytes } : {}),
        ...(opts.create !== undefined ? { create: opts.create } : {}),
      }),
      (db) => Effect.promise(() => closeDb(db).catch(() => undefined)),
    )
    const { sealer, vault } = yield* resolveSealer(db, opts)
    if (vault !== undefined) yield* Effect.addFinalizer(() => Effect.sync(() => vault.destroy()))
    const state = yield* checkOnOpen(db, Math.max(0, opts.tailCheck ?? 1024))

    const pubsub = yield* PubSub.unbounded<Published>()
    let subscribers = 0
    const writer = new GroupCommitWriter(db, sealer, state.ids, state, (events) => {
      if (subscribers > 0) PubSub.publishUnsafe(pubsub, events)
    })
    let closed = false

    const ensureOpen: Effect.Effect<void, StoreUnavailable> = Effect.suspend(() =>
      closed ? Effect.fail(closedError()) : Effect.void,
    )

    // Only our own vault is known to authenticate (AES-GCM): a payload it opens under this envelope's AAD was
    // sealed by a holder of the data key, i.e. written by `encodeEvent`, which validated it. Such payloads
    // skip the per-character re-checks (`trusted`); a host sealer or an unencrypted store gets the full check.
    const decodeOptions = vault !== undefined ? { trusted: true } : undefined

    const missingKey = () =>
      new VaultError({ reason: "missing-key", message: "the store was opened without its key" })

    /** The aad of a record's payload: the same bytes as `payloadAad(fields)`, from Node's buffer pool. */
    const aadOf = (fields: RecordFields): Uint8Array => Buffer.from(payloadAadText(fields), "utf8")

    /** Opens a record's payload and decodes the event. Throws the tagged error of what went wrong. */
    const decodePayload = (fields: RecordFields, payload: Uint8Array) => {
      if (sealer === undefined) throw missingKey()
      // The identity ignores its AAD, so an unencrypted store does not build one per event.
      const plain = sealer === identitySealer ? payload : sealer.open(payload, aadOf(fields))
      return decodeEvent(fields.type, fields.schemaVersion, plain, decodeOptions)
    }

    /** Group sealing of the store's sealer: chunks of several events are stored as sealed groups. */
    const group = sealer?.group

    /**
     * Decodes checked records in order, whole sealed groups at a time (see `vault.ts`): a group's members
     * are held until the last one arrives, possibly in a later page, then opened with one cipher operation.
     * Records for which `keep` is false are decoded (their group needs them) but not returned. Throws
     * `VaultError("tampered")` when a group is interrupted or its members disagree about their places.
     */
    class GroupDecoder {
      private held: RecordView[] = []
      private heldEnvelopes: Envelope[] = []
      private payloads: Uint8Array[] = []
      constructor(private readonly keep: (r: RecordView) => boolean) {}

      push(r: RecordView, envelope: Envelope, out: RecordedEvent[]): void {
        if (sealer === undefined) throw missingKey()
        const payload = payloadOf(r)
        const pos = group?.positionOf(payload)
        if (pos === undefined) {
          if (this.held.length > 0) throw brokenGroup()
          if (this.keep(r)) out.push({ envelope, event: decodePayload(r.fields, payload) })
          return
        }
        if (pos.index !== this.held.length || (this.held.length > 0 && pos.count !== this.expected))
          throw brokenGroup()
        this.expected = pos.count
        this.held.push(r)
        this.heldEnvelopes.push(envelope)
        this.payloads.push(payload)
        if (this.held.length < pos.count) return
        const held = this.held
        const envelopes = this.heldEnvelopes
        const payloads = this.payloads
        this.held = []
        this.heldEnvelopes = []
        this.payloads = []
        const plains = group!.open(payloads, Buffer.from(groupAadText(held.map((m) => m.fields)), "utf8"))
        for (let k = 0; k < held.length; k++) {
          const m = held[k]!
          if (this.keep(m))
            out.push({
              envelope: envelopes[k]!,
              event: decodeEvent(m.fields.type, m.fields.schemaVersion, plains[k]!, decodeOptions),
            })
        }
      }
      private expected = 0

      /** Fails when a group was left incomplete at the end of the read. */
      end(): void {
        if (this.held.length > 0) throw brokenGroup()
      }
    }

    /**
     * Where a read must start for `fromSequence`: the first record of the chunk holding it (chunks are read
     * whole, and a sealed group opens only whole). From the in-memory chunk index, no read.
     */
    const chunkStart = (fromSequence: number, to: number): number =>
      fromSequence > to ? fromSequence : writer.chunks.startOf(fromSequence)

    /** The hex envelope of a verified record, given its two hashes as hex (one literal: one object shape). */
    const envelopeOf = (f: RecordFields, prevHash: string, hash: string): Envelope => ({
      sequence: f.sequence,
      streamId: f.streamId,
      streamVersion: f.streamVersion,
      eventId: f.eventId,
      type: f.type,
      schemaVersion: f.schemaVersion,
      time: f.time,
      prevHash,
      hash,
    })

    const payloadOf = (r: RecordView): Buffer => r.bytes.subarray(r.payloadAt, r.hashAt)

    const storedOf = (r: RecordView, envelope: Envelope): StoredEvent => ({ envelope, payload: payloadOf(r) })

    // Live events are decoded from the plaintext the writer just encoded (and validated): nothing to open.
    const recordedOfCommitted = (c: CommittedEvent): RecordedEvent => {
      if (sealer === undefined) throw missingKey()
      const stored = storedEventOf(c.fields, c.chunk.subarray(c.start, c.end), c.payloadAt - c.start)
      return {
        envelope: stored.envelope,
        event: decodeEvent(c.fields.type, c.fields.schemaVersion, c.plain, decodeOptions),
      }
    }

    const asStoreError = (error: unknown): StoreError => {
      if (
        error instanceof VaultError ||
        error instanceof EventCodecError ||
        error instanceof StoreCorrupted ||
        error instanceof StoreUnavailable
      )
        return error
      throw error
    }

    /**
     * Reads the stored chunks holding `from..last` (`from` starts a chunk). The iterator's
     * `highWaterMarkBytes` is raised from classic-level's 16 KiB so that a page comes back in a few native
     * round trips instead of one per ~16 KiB (each a hop to libuv's thread pool and back); it adds no memory,
     * since the whole page is collected anyway.
     */
    const readEntries = (from: number, last: number): Promise<Entries> =>
      db.iterator({ gte: chunkKey(from), lte: chunkKey(last), highWaterMarkBytes: PAGE_READ_BYTES }).all()

    /** A page read under way: its range and the entries to come. */
    interface PendingPage {
      readonly from: number
      readonly last: number
      readonly entries: Promise<Entries>
    }

    /**
     * A page of whole chunks: from `from` (a chunk's first record) to the end of the chunk holding
     * `from + pageSize - 1`.
     */
    const startPage = (from: number, to: number): PendingPage => {
      const last = writer.chunks.endOf(Math.min(to, from + pageSize - 1), to)
      const entries = readEntries(from, last)
      // A page read ahead may never be awaited (the stream stopped early); its failure must not go unhandled.
      entries.catch(() => undefined)
      return { from, last, entries }
    }

    /**
     * Checks one page of records, starting at `walker.next`: each present, well-formed, correctly hashed and
     * linked to the one before (the first link of a read that starts mid-log is checked against nothing).
     * Damage fails the read with `StoreCorrupted` instead of passing silently.
     */
    const checkPage = <A>(
      walker: ChainWalker,
      page: PendingPage,
      map: (r: RecordView, envelope: Envelope, out: A[]) => void,
      last: boolean,
      end: () => void,
    ): Effect.Effect<ReadonlyArray<A>, StoreError> =>
      Effect.flatMap(
        Effect.tryPromise({ try: () => page.entries, catch: readFailure("reading the event log") }),
        (entries) =>
          Effect.try({
            try: () => {
              const out: A[] = []
              const sink: RecordSink = (r, prevHex, hash) => map(r, envelopeOf(r.fields, prevHex, hash), out)
              for (let i = 0; i < entries.length; i++) {
                const entry = entries[i]!
                const found = walker.feed(entry[0], entry[1], sink)
                if (found !== undefined) throw corrupted(found.sequence, found.damage)
              }
              if (walker.next <= page.last) throw corrupted(walker.next, "missing")
              if (last) end()
              return out
            },
            catch: asStoreError,
          }),
      )

    /** How a paged read turns checked records into its items: a mapper per read, and its end check. */
    interface PageMapper<A> {
      readonly map: (r: RecordView, envelope: Envelope, out: A[]) => void
      readonly end: () => void
    }

    /**
     * Every record from `from` to the committed head at the time the stream starts, in pages of whole
     * chunks (starting at the chunk holding `from`; the mapper drops what precedes it). The next page is
     * requested from LevelDB before the current one is checked and decoded, so the disk read (on libuv's
     * thread pool) overlaps the CPU work on this thread. Pages are still checked strictly in order.
     */
    const pagedFrom = <A>(
      fromSequence: number,
      mapper: (from: number) => PageMapper<A>,
    ): Stream.Stream<A, StoreError> =>
      Stream.unwrap(
        Effect.map(ensureOpen, () => {
          const to = writer.head
          const from = Math.max(1, fromSequence)
          const walker = new ChainWalker(chunkStart(from, to), undefined)
          const { map, end } = mapper(from)
          let ahead: PendingPage | undefined
          return Stream.paginate(undefined, () => {
            if (walker.next > to) return Effect.succeed([[], Option.none<undefined>()] as const)
            // After a page checks out, `walker.next` is exactly where the page read ahead starts.
            const page =
              ahead !== undefined && ahead.from === walker.next ? ahead : startPage(walker.next, to)
            ahead = page.last < to ? startPage(page.last + 1, to) : undefined
            return Effect.map(checkPage(walker, page, map, page.last >= to, end), (out) => {
              return [out, walker.next > to ? Option.none<undefined>() : Option.some(undefined)] as const
            })
          })
        }),
      )

    /** Decoded events from `from` on (whole groups are read, members before `from` dropped). */
    const decodedFrom = (from: number): PageMapper<RecordedEvent> => {
      const decoder = new GroupDecoder((r) => r.fields.sequence >= from)
      return { map: (r, envelope, out) => decoder.push(r, envelope, out), end: () => decoder.end() }
    }

    /** Stored events from `from` on, as they are. */
    const storedFrom = (from: number): PageMapper<StoredEvent> => ({
      map: (r, envelope, out) => {
        if (r.fields.sequence >= from) out.push(storedOf(r, envelope))
      },
      end: () => undefined,
    })

    const read: EventStoreShape["read"] = (streamId, fromVersion = 1) =>
      Effect.gen(function* () {
        yield* ensureOpen
        const current = writer.versions.get(streamId) ?? 0
        const from = Math.max(1, fromVersion)
        if (from > current) return []
        // Whole runs (one run is one append), read as the chunks holding them. A chunk may hold other
        // streams' appends too: with the vault they are one sealed group, so they are decoded for the
        // group's sake and dropped, as are this stream's events before `from`. The indexes hold committed
        // runs and chunks only.
        const ownSequences = writer.streams.sequencesFrom(streamId, from)
        const own = new Set(ownSequences)
        const starts: number[] = []
        for (const seq of ownSequences) {
          const start = writer.chunks.startOf(seq)
          if (starts[starts.length - 1] !== start) starts.push(start)
        }
        const out: RecordedEvent[] = []
        const decoder = new GroupDecoder(
          (r) => r.fields.streamId === streamId && r.fields.streamVersion >= from,
        )
        const sink: RecordSink = (r, prevHex, hash) => {
          if (own.has(r.fields.sequence) && r.fields.streamId !== streamId)
            throw corrupted(r.fields.sequence, "misplaced")
          decoder.push(r, envelopeOf(r.fields, prevHex, hash), out)
        }
        let next = 0 // the first of `ownSequences` not yet seen
        for (let at = 0; at < starts.length; at += pageSize) {
          const page = starts.slice(at, at + pageSize)
          const values = yield* Effect.tryPromise({
            try: () => db.getMany(page.map(chunkKey)),
            catch: readFailure("reading events"),
          })
          yield* Effect.try({
            try: () => {
              for (let i = 0; i < page.length; i++) {
                const start = page[i]!
                const value = values[i]
                if (value === undefined) throw corrupted(start, "missing")
                // Each chunk is checked on its own: form, sequences, hashes and the links inside it.
                const walker = new ChainWalker(start, undefined)
                const found = walker.feed(chunkKey(start), value, sink)
                if (found !== undefined) throw corrupted(found.sequence, found.damage)
                decoder.end()
                // The chunk must hold every one of the stream's sequences that led here.
                while (next < ownSequences.length && ownSequences[next]! < walker.next) next++
                if (next < ownSequences.length && writer.chunks.startOf(ownSequences[next]!) === start)
                  throw corrupted(ownSequences[next]!, "missing")
              }
            },
            catch: asStoreError,
          })
        }
        return out
      })

    const subscribe: EventStoreShape["subscribe"] = (fromSequence = 1) =>
      Stream.unwrap(
        Effect.gen(function* () {
          yield* ensureOpen
          // Listen first, then read: anything committed from now on reaches the subscription.
          subscribers++
          yield* Effect.addFinalizer(() => Effect.sync(() => subscribers--))
          const sub = yield* PubSub.subscribe(pubsub)
          let last = Math.max(1, fromSequence) - 1
          const catchUp = pagedFrom<RecordedEvent>(fromSequence, (from) => {
            const decoded = decodedFrom(from)
            return {
              map: (r, envelope, out) => {
                decoded.map(r, envelope, out)
                if (r.fields.sequence >= from) last = r.fields.sequence
              },
              end: decoded.end,
            }
          })
          const pullLive: Effect.Effect<readonly [RecordedEvent, ...RecordedEvent[]], StoreError> =
            Effect.flatMap(PubSub.takeAll(sub), (items) => {
              const out: RecordedEvent[] = []
              for (const item of items) {
                if (item === CLOSED) return Effect.fail(closedError())
                for (const c of item) {
                  if (c.fields.sequence <= last) continue
                  try {
                    out.push(recordedOfCommitted(c))
                  } catch (error) {
                    return Effect.fail(asStoreError(error))
                  }
                  last = c.fields.sequence
                }
              }
              return out.length > 0 ? Effect.succeed(out as [RecordedEvent, ...RecordedEvent[]]) : pullLive
            })
          const live = Stream.fromPull(Effect.succeed(Effect.suspend(() => pullLive)))
          return Stream.concat(catchUp, live)
        }),
      )

    const close: Effect.Effect<void> = Effect.suspend(() => {
      if (closed) return Effect.void
      closed = true
      return Effect.promise(async () => {
        await writer.close()
        PubSub.publishUnsafe(pubsub, CLOSED)
        await closeDb(db).catch(() => undefined)
        vault?.destroy()
      })
    })
    yield* Effect.addFinalizer(() => close)

    const verifyChain: LevelDbEventStore["verifyChain"] = Effect.gen(function* () {
      yield* ensureOpen
      const head = writer.head
      const headHash = writer.headHash
      // The in-memory indexes (loaded from the index blocks, which carry no hash) must describe exactly
      // the records: a stream run hidden or moved, a chunk boundary or an id probe edited would otherwise
      // let reads skip events or a retried id be appended twice.
      const index = new IndexCheck(writer.streams, writer.chunks, state.ids)
      const verified =
        head === 0 ? 0 : yield* verifyRange(db, 1, head, GENESIS, headHash, 256, index.record, index.chunk)
      const mismatch = index.finish()
      if (mismatch !== undefined) return yield* mismatch
      // Records past the head are legitimate only while their batch is being written.
      const past = yield* recordsPast(db, writer.tail)
      if (past.length > 0)
        return yield* corrupted(writer.tail + 1, "misplaced", " (a record exists past the head)")
      return { head, verified }
    })

    const store: LevelDbEventStore = {
      dataDir: opts.dataDir,
      opened: state.report,
      append: (streamId, expectedVersion, events) =>
        Effect.callback((resume) => {
          writer.append(streamId, expectedVersion, events, (error, result) => {
            if (error === undefined) resume(Effect.succeed(result!))
            else if ("defect" in error) resume(Effect.die(error.defect))
            else resume(Effect.fail(error))
          })
        }),
      read,
      streamVersion: (streamId) => Effect.map(ensureOpen, () => writer.versions.get(streamId) ?? 0),
      readAll: (fromSequence = 1) => pagedFrom(fromSequence, decodedFrom),
      readRaw: (fromSequence = 1) => pagedFrom(fromSequence, storedFrom),
      subscribe,
      head: Effect.map(ensureOpen, () => writer.head),
      close,
      verifyChain,
      verifyStructure: verifyChain,
      stats: () => ({ batches: writer.batches, events: writer.eventsWritten }),
      sealer,
      attester: vault === undefined ? undefined : { keyId: vault.keyId, authenticate: vault.authenticate },
    }
    return store
  })

/** A layer providing {@link EventStore} from a LevelDB data directory. */
export const LevelDbEventStoreLive = (
  opts: LevelDbStoreOptions,
): Layer.Layer<EventStore, StoreLocked | StoreCorrupted | VaultError | StoreUnavailable> =>
  Layer.effect(EventStore, openLevelDbEventStore(opts))
