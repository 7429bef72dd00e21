/**
 * Verification of LevelDB's write-ahead logs (`NNNNNN.log`) before LevelDB replays them.
 *
 * Why: LevelDB replays its log at open and, without `paranoid_checks` (which classic-level does not
 * expose), silently DROPS every record whose CRC fails — with the rest of its 32 KiB block. Each of our
 * batches is one log record carrying its events and the commit marker, so one flipped byte in the newest
 * part of the log rolls back fsynced, acknowledged batches without a trace: the marker and the records go
 * together, so the log looks whole. This module reads the log files itself, first.
 *
 * The log format (LevelDB `doc/log_format.md`): 32 KiB blocks of physical records, each
 * `crc32c masked (4, LE) ‖ length (2, LE) ‖ type (1) ‖ data`, the CRC over type and data. A block's last
 * < 7 bytes are zero padding. What counts as what:
 * - a record whose CRC does not hold, or whose length overruns its block while more of the file follows,
 *   is **damage**: it was complete (later bytes were written after it, or it ends exactly where it claims
 *   to), so it held a batch whose write returned — acknowledged. Open refuses the directory.
 * - a record that runs past the end of the file, and zero bytes up to the end, are a **torn tail**: a write
 *   that never completed, hence never acknowledged. LevelDB drops it, and so may we.
 *
 * A flip in the last, complete record cannot be told apart from a write torn by power loss whose bytes
 * happen to be all present; it is reported as damage, because treating acknowledged data as torn is the
 * failure this module exists to prevent.
 *
 * @module
 */
import { open, readdir } from "node:fs/promises"
import { join } from "node:path"

const BLOCK = 32 * 1024
const HEADER = 7
const LOG_NAME = /^\d{6,}\.log$/

/** A damaged log record: the file, the byte offset, and what is wrong. */
export interface WalDamage {
  readonly file: string
  readonly offset: number
  readonly what: "checksum" | "length" | "type"
}

// CRC-32C (Castagnoli), slice-by-8 tables.
const TABLES = (() => {
  const t = new Uint32Array(8 * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  for (let i = 0; i < 256; i++)
    for (let s = 1; s < 8; s++)
      t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!
  return t
})()

/** CRC-32C of `b[from, to)`. */
export const crc32c = (b: Uint8Array, from = 0, to = b.length): number => {
  const t = TABLES
  let c = ~0
  let i = from
  for (; i + 8 <= to; i += 8) {
    const lo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) ^ c
    const hi = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + (hi & 0xff)]! ^
      t[2 * 256 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!
  }
  for (; i < to; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** LevelDB's masking of stored CRCs. */
const mask = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0

/** Record types LevelDB writes: full, first, middle, last (0 is zero padding). */
const MAX_TYPE = 4

const allZero = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false
  return true
}

/** The first damaged record of one log file's bytes, or undefined when it is whole (up to a torn tail). */
export const checkLogBytes = (file: string, b: Uint8Array): WalDamage | undefined => {
  for (let block = 0; block < b.length; block += BLOCK) {
    const end = Math.min(block + BLOCK, b.length)
    let at = block
    while (end - at >= HEADER) {
      const length = b[at + 4]! | (b[at + 5]! << 8)
      const type = b[at + 6]!
      // Zero headers: preallocated or never-written space. Anything written after them is damage.
      if (type === 0 && length === 0) {
        if (allZero(b, at, b.length)) return undefined
        if (allZero(b, at, end)) break
        return { file, offset: at, what: "type" }
      }
      const dataEnd = at + HEADER + length
      if (dataEnd > end) {
        // Running past the end of the file: a write that never completed.
        if (end === b.length && dataEnd > b.length) return undefined
        return { file, offset: at, what: "length" }
      }
      if (type > MAX_TYPE) return { file, offset: at, what: "type" }
      const stored = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
      if (mask(crc32c(b, at + 6, dataEnd)) !== stored) return { file, offset: at, what: "checksum" }
      at = dataEnd
    }
    // Fewer than 7 bytes left: the block's zero padding, or (at the end of the file) a torn header.
    if (end < b.length && !allZero(b, at, end)) return { file, offset: at, what: "length" }
  }
  return undefined
}

/** Checks every LevelDB log file in `dir`; resolves to the first damage found, or undefined. */
export const checkWriteAheadLogs = async (dir: string): Promise<WalDamage | undefined> => {
  const names = (await readdir(dir)).filter((n) => LOG_NAME.test(n)).sort()
  for (const name of names) {
    const handle = await open(join(dir, name), "r")
    let bytes: Buffer
    try {
      bytes = await handle.readFile()
    } finally {
      await handle.close()
    }
    const damage = checkLogBytes(name, bytes)
    if (damage !== undefined) return damage
  }
  return undefined
}
