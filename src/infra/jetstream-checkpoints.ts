/**
 * Projection checkpoints shared through JetStream (issue #12): one object per projection in the Object Store
 * bucket `<stream>-checkpoints` beside the log, so a node with an empty data directory (a new container)
 * opens from the newest checkpoint any node saved instead of folding the whole log.
 *
 * Each object holds exactly the bytes a checkpoint file holds (`./checkpoint-file-store.ts`: sealed by the
 * vault with the projection's name as associated data; never plaintext). Its plaintext metadata is only the
 * `sequence` and `version` it was taken at, which the log does not hide either.
 *
 * Why the Object Store rather than KV with chunks: a checkpoint exceeds the 1 MiB message limit, and the
 * Object Store already writes an object as chunks under a fresh id, then publishes its meta (with a rollup,
 * by compare-and-set on the meta's last revision when asked), and only then purges the previous object's
 * chunks — with one stream purge, leaving no delete marker per chunk as KV deletes of chunk keys would.
 *
 * Several nodes save: every checkpoint is tied to a (sequence, hash) the runner checks against the log on
 * load, so the last writer may win. A save reads the meta first and skips when the stored checkpoint (same
 * projection version) is at or past its sequence — unless this store dropped that very object as unreadable
 * — then publishes by compare-and-set on that meta, so two savers never both purge the same old object and
 * leave the other's chunks behind; the loser reads the meta again and decides again.
 *
 * Reading: the meta from the stream leader, then the object's chunks by direct batch gets (no consumer, so a
 * read never waits on chunks that are gone). A writer that replaces the object purges the chunks a racing
 * reader is fetching: the reader sees fewer chunks than the meta promised and starts over; a lagging
 * replica looks the same and is retried the same way. An object that still cannot be read, or does not
 * open under the vault (tampered, foreign, another key), is dropped — `load` answers undefined with a
 * warning — since a checkpoint is a cache, never a source of truth. Only the NATS connection failing is an
 * error (`StoreUnavailable`), as an I/O error is for the files.
 *
 * A checkpoint another node saved may be past this node's view of the log when it opens, which the runner
 * would take for a cut log: {@link checkpointsAtOpen} reads the checkpoints first, then catches the log up.
 *
 * Left as is: chunks of a save whose process dies between its chunks and its meta stay in the bucket until
 * the bucket is recreated (the library purges them on every failure it sees); anyone who can write to the
 * bucket can stop saves by forging a high `sequence` in a meta (a cache held back, never a wrong state).
 *
 * @module
 */
import {
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  type StoredMsg,
} from "@nats-io/jetstream"
import { type ObjectInfo, type ObjectStore, Objm } from "@nats-io/obj"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import type { StoreUnavailable, VaultError } from "../model/index.js"
import type { Checkpoint, CheckpointSealer, CheckpointStore } from "../projections/checkpoint.js"
import { checkCheckpointName, openCheckpoint, sealCheckpoint } from "./checkpoint-file-store.js"
import { describe, io, scopedConnection, unavailable } from "./jetstream/io.js"
import { settled } from "./jetstream/settling.js"

/** Where a JetStream log's checkpoints live. */
export interface JetStreamCheckpointsOptions {
  readonly servers: string | ReadonlyArray<string>
  /** The log's stream (default `CORECASHU`); the checkpoints go to the Object Store `<stream>-checkpoints`. */
  readonly stream?: string
  /** Seals and opens checkpoints: the log's vault. */
  readonly sealer: CheckpointSealer
  /** Replicas of the bucket when this open creates it (default 1; as the stream's). */
  readonly replicas?: number
  /** How long to wait for each NATS answer, ms (default 5000). */
  readonly timeoutMs?: number
}

/** The shared checkpoints: a {@link CheckpointStore}, and the bucket's name. */
export interface JetStreamCheckpointStore extends CheckpointStore {
  readonly bucket: string
}

/** Reads of one checkpoint before it is dropped (the object replaced meanwhile, or a replica behind). */
const READ_ATTEMPTS = 4
/** Compare-and-set tries of one save before another node's newer save is left standing. */
const WRITE_ATTEMPTS = 4
const RETRY_MS = 25
/** Bytes per chunk (the library's default is 128 KiB; fewer, larger publishes save a big state faster). */
const CHUNK_BYTES = 512 * 1024

/** The server refused a publish's expected last subject sequence: another writer got there first. */
const isWrongLastSequence = (e: unknown): boolean =>
  e instanceof JetStreamApiError && (e.code === 10071 || e.code === 10164)

/** The live object's info (a deleted object's meta stays, marked deleted). */
const live = (info: ObjectInfo | null): ObjectInfo | undefined =>
  info === null || info.deleted ? undefined : info

/** Whether the stored object is a checkpoint of `c`'s projection version at or past `c`'s sequence. */
const notOlder = (stored: ObjectInfo, c: Checkpoint): boolean => {
  const m = stored.metadata ?? {}
  return m.version === String(c.version) && Number(m.sequence) >= c.sequence
}

/**
 * Opens (creating it when missing) the checkpoint bucket of a JetStream log. The connection closes with the
 * scope: open it before the projection runner, whose last checkpoints are saved when the scope closes.
 */
export const openJetStreamCheckpoints = (
  opts: JetStreamCheckpointsOptions,
): Effect.Effect<JetStreamCheckpointStore, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const bucket = `${opts.stream ?? "CORECASHU"}-checkpoints`
    const timeout = opts.timeoutMs ?? 5000
    const nc: NatsConnection = yield* scopedConnection({
      servers: opts.servers,
      name: "corecashu-checkpoints",
      timeoutMs: timeout,
    })
    const os = yield* io(
      "opening the checkpoint bucket",
      settled(() =>
        new Objm(nc).create(bucket, {
          description: "corecashu projection checkpoints, sealed by the log's vault",
          replicas: opts.replicas ?? 1,
        }),
      ),
    )
    const jsm = yield* io("opening the checkpoint bucket", () => jetstreamManager(nc, { timeout }))
    return jetStreamCheckpointStore(bucket, os, jsm, opts.sealer, timeout)
  })

const jetStreamCheckpointStore = (
  bucket: string,
  os: ObjectStore,
  jsm: JetStreamManager,
  sealer: CheckpointSealer,
  timeout: number,
): JetStreamCheckpointStore => {
  const stream = `OBJ_${bucket}`
  /** Objects this store found unreadable, by projection: their revision (a save replaces them whatever). */
  const dropped = new Map<string, number>()

  const infoOf = (projection: string) =>
    io(
      "reading a checkpoint's meta",
      settled(() => os.info(projection)),
    ).pipe(Effect.map(live))

  /**
   * The object's bytes, its chunks in order; undefined when fewer are there than its meta counts (purged
   * by a writer that replaced the object, or not yet on the replica that answered).
   */
  const fetchChunks = async (info: ObjectInfo): Promise<Uint8Array | undefined> => {
    const subject = `$O.${bucket}.C.${info.nuid}`
    const chunks: Uint8Array[] = []
    let from = 1
    while (chunks.length < info.chunks) {
      const got: StoredMsg[] = []
      try {
        const it = await jsm.direct.getBatch(stream, {
          seq: from,
          batch: info.chunks - chunks.length,
          next_by_subj: subject,
        })
        for await (const m of it) got.push(m)
      } catch (e) {
        // "No message found": the chunks are gone (or not here yet). Anything else after some: keep those.
        if (got.length === 0 && !(e instanceof Error && "code" in e && e.code === 404)) throw e
      }
      if (got.length === 0) return undefined
      for (const m of got) {
        if (m.subject !== subject || chunks.length === info.chunks) return undefined
        chunks.push(m.data)
        from = m.seq + 1
      }
    }
    const bytes = Buffer.concat(chunks)
    return bytes.length === info.size ? bytes : undefined
  }

  const load = (projection: string): Effect.Effect<Checkpoint | undefined, StoreUnavailable> =>
    Effect.gen(function* () {
      yield* checkCheckpointName(projection)
      let info: ObjectInfo | undefined
      for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        if (attempt > 0) yield* Effect.sleep(RETRY_MS * attempt)
        info = yield* infoOf(projection)
        if (info === undefined) return undefined
        const read = info
        const bytes = yield* io("reading a checkpoint", () => fetchChunks(read))
        if (bytes === undefined) continue
        const parsed = openCheckpoint(bytes, projection, sealer)
        if (parsed !== undefined) return parsed
        break
      }
      if (info !== undefined) dropped.set(projection, info.revision)
      yield* Effect.logWarning(`checkpoint of projection ${projection} is unreadable; it will be rebuilt`)
      return undefined
    })

  const save = (c: Checkpoint): Effect.Effect<void, StoreUnavailable | VaultError> =>
    Effect.gen(function* () {
      yield* checkCheckpointName(c.projection)
      let sealed: Buffer | undefined
      for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        const meta = yield* io(
          "reading a checkpoint's meta",
          settled(() => os.info(c.projection)),
        )
        const stored = live(meta)
        if (stored !== undefined && dropped.get(c.projection) !== stored.revision && notOlder(stored, c))
          return
        sealed ??= yield* sealCheckpoint(c, sealer)
        const body = sealed
        const written = yield* Effect.tryPromise({
          try: () =>
            os.putBlob(
              {
                name: c.projection,
                options: { max_chunk_size: CHUNK_BYTES },
                metadata: { sequence: String(c.sequence), version: String(c.version) },
              },
              body,
              // The meta's last revision, or 0: none yet.
              { previousRevision: meta?.revision ?? 0, timeout },
            ),
          catch: (e) => e,
        }).pipe(
          Effect.as(true),
          Effect.catch((e) =>
            isWrongLastSequence(e)
              ? Effect.succeed(false)
              : Effect.fail(unavailable(`writing a checkpoint failed: ${describe(e)}`)),
          ),
        )
        if (written) {
          dropped.delete(c.projection)
          return
        }
      }
      // Other nodes kept saving meanwhile: theirs stands (each is checked against the log when loaded).
    })

  const remove = (projection: string): Effect.Effect<void, StoreUnavailable> =>
    Effect.flatMap(checkCheckpointName(projection), () =>
      io("removing a checkpoint", () => os.delete(projection)).pipe(
        Effect.tap(() => Effect.sync(() => dropped.delete(projection))),
        Effect.asVoid,
      ),
    )

  return { bucket, load, save, remove }
}

/**
 * The checkpoints as the projection runner must see them when a node opens on a shared log: every one of
 * `projections` read now (the first `load` of each answers with it, later ones read `store`), and only then
 * the log caught up with the server by `sync`. Every checkpoint read was saved from events already in the
 * stream, so the runner's head, read after this, is at or past each — a checkpoint past the head then still
 * means a cut log, never merely a node that saved after this one opened its store.
 */
export const checkpointsAtOpen = <E>(
  store: CheckpointStore,
  projections: ReadonlyArray<string>,
  sync: Effect.Effect<unknown, E>,
): Effect.Effect<CheckpointStore, StoreUnavailable | E> =>
  Effect.gen(function* () {
    const read = new Map<string, Checkpoint | undefined>()
    for (const p of projections) read.set(p, yield* store.load(p))
    yield* sync
    return {
      load: (projection) =>
        Effect.suspend(() => {
          if (!read.has(projection)) return store.load(projection)
          const cp = read.get(projection)
          read.delete(projection)
          return Effect.succeed(cp)
        }),
      save: store.save,
      remove: (projection) =>
        Effect.suspend(() => {
          read.delete(projection)
          return store.remove(projection)
        }),
    }
  })
