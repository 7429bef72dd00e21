/**
 * Opening the LevelDB handle of a data directory, with LevelDB's failures mapped to typed errors.
 *
 * LevelDB holds an OS lock on `DIR/LOCK` for as long as the handle is open, so a second opener — another
 * process, or another handle in this process — fails; classic-level reports it as `LEVEL_DATABASE_NOT_OPEN`
 * whose `cause.code` is `LEVEL_LOCKED`. That lock is what makes "one process per data directory" hold.
 *
 * @module
 */
import { mkdir, readdir, stat } from "node:fs/promises"
import { ClassicLevel } from "classic-level"
import { Effect } from "effect"
import { StoreCorrupted, StoreLocked, StoreUnavailable } from "../../model/index.js"
import { checkWriteAheadLogs } from "./wal-check.js"

/** The raw handle: keys and values are bytes. */
export type Db = ClassicLevel<Uint8Array, Uint8Array>

const codes = (err: unknown): ReadonlyArray<string> => {
  const out: string[] = []
  let e: unknown = err
  for (let depth = 0; depth < 4 && typeof e === "object" && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === "string") out.push(code)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

/**
 * LevelDB's memtable size by default (64 MiB; LevelDB's own default is 4 MiB). Why larger: every batch
 * writes keys in three places — its chunks (`s`), its index block (`i`) and the commit marker (`m/head`) — so
 * each table flushed from the memtable spans the whole `s` range and LevelDB merges it with every table of
 * the next level instead of moving it down. Measured on raw classic-level with our key layout: those merges
 * cost ~3 µs of background CPU per event at 4 MiB and nothing measurable at 64 MiB (16× fewer flushes). The
 * price is memory (up to two memtables) and a longer log replay when opening after a crash.
 */
export const DEFAULT_WRITE_BUFFER_BYTES = 64 * 1024 * 1024

/** What to do when the data directory holds no log yet. */
export interface OpenDbOptions {
  /** LevelDB's memtable size (default {@link DEFAULT_WRITE_BUFFER_BYTES}). */
  readonly writeBufferBytes?: number
  /**
   * Create a new log when the directory is missing or empty (default true). Never creates over anything
   * else: a directory with files but no `CURRENT` is refused (see {@link inspectDataDir}).
   */
  readonly create?: boolean
}

/**
 * Data directories this process holds open, by device and inode, shared by every copy of this module
 * loaded in the process. Why not LevelDB's lock alone: it is a POSIX `fcntl` lock, and POSIX drops ALL of
 * a process's locks on a file when ANY descriptor of that file is closed — LevelDB's second, failing open
 * in the same process closes its own descriptor of `LOCK` and so releases the first handle's lock, letting
 * another process open the directory and write beside us. Refusing the second opener here, before LevelDB
 * touches `LOCK`, keeps the OS lock held for as long as the first handle lives.
 */
const held: Set<string> = (() => {
  const slot = Symbol.for("corecashu.held-data-dirs")
  const g = globalThis as Record<symbol, unknown>
  if (!(g[slot] instanceof Set)) g[slot] = new Set<string>()
  return g[slot] as Set<string>
})()

/** The registry key of each open handle. */
const keyOfDb = new WeakMap<Db, string>()

/**
 * Files LevelDB may leave in a directory before `CURRENT` exists, i.e. a crash while it was creating the
 * database: the lock, its info log, the first manifest and the temporary file `CURRENT` is renamed from.
 * No write-ahead log or table exists before `CURRENT`, so none of these can hold an event.
 */
const CREATION_LEFTOVERS = new Set(["LOCK", "LOG", "LOG.old", "MANIFEST-000001", "000001.dbtmp"])

/** What a data directory holds before it is opened. */
export type DataDirState = "missing" | "empty" | "store" | "foreign"

/**
 * Whether `dataDir` is missing, empty (nothing but what a crash during creation leaves), holds a LevelDB
 * store (`CURRENT` present), or holds other files. Why it matters: LevelDB opened with `createIfMissing` on
 * a directory whose `CURRENT` was lost creates a NEW database there and then deletes every table and log it
 * does not know — the whole history and the only copy of the vault. So a new log is created only in a
 * missing or empty directory.
 */
export const inspectDataDir = async (dataDir: string): Promise<DataDirState> => {
  let names: string[]
  try {
    names = await readdir(dataDir)
  } catch (err) {
    if (codes(err).includes("ENOENT")) return "missing"
    throw err
  }
  if (names.includes("CURRENT")) return "store"
  return names.every((n) => CREATION_LEFTOVERS.has(n)) ? "empty" : "foreign"
}

/**
 * Opens the LevelDB database in `dataDir`: refuses a directory this process already holds
 * (`StoreLocked`), creates only in a missing or empty directory, checks LevelDB's write-ahead logs before
 * LevelDB replays them (`wal-check.ts`), then opens.
 */
export const openDb = (
  dataDir: string,
  options: OpenDbOptions = {},
): Effect.Effect<Db, StoreLocked | StoreCorrupted | StoreUnavailable> =>
  Effect.tryPromise({
    try: async () => {
      const state = await inspectDataDir(dataDir)
      const create = options.create ?? true
      if (state === "foreign")
        throw new StoreCorrupted({
          firstBadSequence: 0,
          message:
            "the data directory holds files but no LevelDB CURRENT file; refusing to create a new log over " +
            "them (restore the directory from a backup, or repair it with LevelDB's RepairDB)",
        })
      if (!create && state !== "store")
        throw new StoreUnavailable({ reason: "io", message: "there is no event log in the data directory" })
      if (state === "missing") await mkdir(dataDir, { recursive: true })
      const st = await stat(dataDir)
      const key = `${st.dev}:${st.ino}`
      if (held.has(key))
        throw new StoreLocked({ dataDir, message: "the data directory is already open in this process" })
      held.add(key)
      try {
        if (state === "store") {
          const damage = await checkWriteAheadLogs(dataDir)
          if (damage !== undefined)
            throw new StoreCorrupted({
              firstBadSequence: 0,
              message:
                `LevelDB's write-ahead log ${damage.file} is damaged at byte ${damage.offset} ` +
                `(${damage.what}); it may hold acknowledged batches, which LevelDB would silently drop`,
            })
        }
        const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dataDir, {
          keyEncoding: "view",
          valueEncoding: "view",
          createIfMissing: state !== "store",
          // Records are mostly AES-GCM ciphertext and SHA-256 hashes: Snappy cannot shrink them and only
          // burns CPU on every table write. LevelDB marks compression per block, so older files stay readable.
          compression: false,
          writeBufferSize: options.writeBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES,
        })
        await db.open()
        keyOfDb.set(db, key)
        return db
      } catch (err) {
        held.delete(key)
        throw err
      }
    },
    catch: (err) => {
      if (err instanceof StoreLocked || err instanceof StoreCorrupted || err instanceof StoreUnavailable)
        return err
      const c = codes(err)
      if (c.includes("LEVEL_LOCKED"))
        return new StoreLocked({
          dataDir,
          message: "the data directory is open in another process",
        })
      if (c.includes("LEVEL_CORRUPTION"))
        return new StoreCorrupted({ firstBadSequence: 0, message: "LevelDB reports corrupted files" })
      return new StoreUnavailable({
        reason: "io",
        message: `cannot open the data directory: ${describe(err)}`,
      })
    },
  })

/** Closes a handle from {@link openDb} and releases the directory in this process (idempotent). */
export const closeDb = async (db: Db): Promise<void> => {
  try {
    await db.close()
  } finally {
    const key = keyOfDb.get(db)
    if (key !== undefined) {
      keyOfDb.delete(db)
      held.delete(key)
    }
  }
}

/**
 * The typed failure of a LevelDB read: damaged or unreadable files (`LEVEL_CORRUPTION`, or LevelDB's
 * `LEVEL_IO_ERROR` on a table it cannot read, e.g. one cut short) are `StoreCorrupted` — the log is damaged,
 * which an audit reports as a finding — anything else `StoreUnavailable`.
 */
export const readFailure =
  (what: string) =>
  (err: unknown): StoreCorrupted | StoreUnavailable => {
    const c = codes(err)
    if (c.includes("LEVEL_CORRUPTION") || c.includes("LEVEL_IO_ERROR"))
      return new StoreCorrupted({
        firstBadSequence: 0,
        message: `${what}: LevelDB's files are damaged (${describe(err)})`,
      })
    return new StoreUnavailable({ reason: "io", message: `${what} failed: ${describe(err)}` })
  }

/** A short, secret-free description of an I/O failure. */
export const describe = (err: unknown): string => {
  const c = codes(err)
  const msg = err instanceof Error ? err.message : String(err)
  return c.length > 0 ? `${c.join("/")}: ${msg}` : msg
}
