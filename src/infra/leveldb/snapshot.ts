/**
 * A private copy of a data directory's LevelDB files, for readers that must never write to the original.
 *
 * Why: opening a LevelDB database writes — it replays the write-ahead log into a new table, writes a new
 * manifest and deletes the files it replaced. An audit is evidence-handling: it must leave the directory
 * exactly as it found it ("the audit never writes": README, Design). So it opens a snapshot instead.
 *
 * Table files (`*.ldb`, `*.sst`) are immutable once written, so they are hard-linked when the snapshot lives
 * on the same file system (copied otherwise); the manifest, `CURRENT` and the logs are copied. `LOCK`, LevelDB's
 * info logs and sub-directories (checkpoints) are left out. A directory that changes while it is copied (an
 * engine writing in it) can give a snapshot LevelDB refuses; the audit then says it cannot run.
 *
 * @module
 */
import { copyFile, link, mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const SKIP = new Set(["LOCK", "LOG", "LOG.old"])
const IMMUTABLE = /\.(ldb|sst)$/

/** A snapshot directory and how to remove it. */
export interface Snapshot {
  readonly dir: string
  readonly remove: () => Promise<void>
}

/** Copies (or links) the LevelDB files of `dataDir` into a fresh temporary directory. */
export const snapshotDataDir = async (dataDir: string): Promise<Snapshot> => {
  const dir = await mkdtemp(join(tmpdir(), "corecashu-snapshot-"))
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    const entries = await readdir(dataDir, { withFileTypes: true })
    for (const e of entries) {
      if (!e.isFile() || SKIP.has(e.name)) continue
      const from = join(dataDir, e.name)
      const to = join(dir, e.name)
      if (IMMUTABLE.test(e.name)) {
        try {
          await link(from, to)
          continue
        } catch {
          // Another file system, or links not allowed: copy.
        }
      }
      await copyFile(from, to)
    }
    return { dir, remove }
  } catch (err) {
    await remove()
    throw err
  }
}
