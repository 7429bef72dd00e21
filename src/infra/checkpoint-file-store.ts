/**
 * Projection checkpoints on disk: one sealed file per projection. Only written through a sealer (the vault),
 * never as plaintext — checkpoints hold mnemonics and proof secrets. Files are written to a temporary name,
 * fsynced and renamed, so a crash leaves the old checkpoint or the new one. A file that cannot be read back
 * is dropped (a checkpoint is a cache, never a source of truth: see `../projections/checkpoint.ts`).
 *
 * @module
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { StoreUnavailable, VaultError } from "../model/index.js"
import type { Checkpoint, CheckpointSealer, CheckpointStore } from "../projections/checkpoint.js"

const MAGIC = Buffer.from("corecashu-checkpoint/1\n", "utf8")
const NAME = /^[a-z][a-z0-9-]{0,63}$/

const aadOf = (projection: string): Buffer =>
  Buffer.from(`corecashu/checkpoint/v1\u0000${projection}`, "utf8")

const ioError = (what: string) => (err: unknown) =>
  new StoreUnavailable({
    reason: "io",
    message: `${what} failed: ${err instanceof Error ? err.message : String(err)}`,
  })

/** Fails unless `projection` is a valid checkpoint name (it names a file, or an object in a bucket). */
export const checkCheckpointName = (projection: string): Effect.Effect<void, StoreUnavailable> =>
  NAME.test(projection)
    ? Effect.void
    : Effect.fail(
        new StoreUnavailable({ reason: "io", message: "a projection name is not a valid file name" }),
      )

/**
 * Checkpoints as sealed files in `dir` (created when missing), one per projection. Every file is
 * `MAGIC ‖ seal(header JSON ‖ "\n" ‖ state)` with the projection's name as associated data, so a file
 * renamed to another projection fails to open.
 */
export const fileCheckpointStore = (dir: string, sealer: CheckpointSealer): CheckpointStore => {
  const pathOf = (projection: string) => join(dir, `${projection}.checkpoint`)
  return {
    load: (projection) =>
      Effect.gen(function* () {
        yield* checkCheckpointName(projection)
        const bytes = yield* Effect.tryPromise({
          try: () =>
            readFile(pathOf(projection)).catch((e: NodeJS.ErrnoException) => {
              if (e.code === "ENOENT") return undefined
              throw e
            }),
          catch: ioError("reading a checkpoint"),
        })
        if (bytes === undefined) return undefined
        const parsed = openCheckpoint(bytes, projection, sealer)
        if (parsed === undefined)
          yield* Effect.logWarning(`checkpoint of projection ${projection} is unreadable; it will be rebuilt`)
        return parsed
      }),
    save: (c) =>
      Effect.gen(function* () {
        yield* checkCheckpointName(c.projection)
        const sealed = yield* sealCheckpoint(c, sealer)
        const path = pathOf(c.projection)
        const tmp = `${path}.tmp`
        yield* Effect.tryPromise({
          try: async () => {
            await mkdir(dir, { recursive: true })
            const fh = await open(tmp, "w", 0o600)
            try {
              await fh.writeFile(sealed)
              await fh.sync()
            } finally {
              await fh.close()
            }
            await rename(tmp, path)
            const d = await open(dir, "r")
            try {
              await d.sync()
            } finally {
              await d.close()
            }
          },
          catch: ioError("writing a checkpoint"),
        })
      }),
    remove: (projection) =>
      Effect.flatMap(checkCheckpointName(projection), () =>
        Effect.tryPromise({
          try: () => rm(pathOf(projection), { force: true }),
          catch: ioError("removing a checkpoint"),
        }),
      ),
  }
}

/**
 * A checkpoint as stored: `MAGIC ‖ seal(header JSON ‖ "\n" ‖ state)` with the projection's name as associated
 * data (the plaintext is wiped once sealed). The JetStream bucket stores the same bytes as the files.
 */
export const sealCheckpoint = (c: Checkpoint, sealer: CheckpointSealer): Effect.Effect<Buffer, VaultError> =>
  Effect.gen(function* () {
    const header = Buffer.from(
      `${JSON.stringify({ projection: c.projection, version: c.version, sequence: c.sequence, hash: c.hash })}\n`,
      "utf8",
    )
    const plain = Buffer.concat([header, c.state])
    const sealed = yield* Effect.try({
      try: () => sealer.seal(plain, aadOf(c.projection)),
      catch: (e) =>
        e instanceof VaultError
          ? e
          : new VaultError({ reason: "bad-parameters", message: "the checkpoint could not be sealed" }),
    })
    plain.fill(0)
    return Buffer.concat([MAGIC, sealed])
  })

/** Opens and parses a stored checkpoint of `projection`; undefined when anything is off. */
export const openCheckpoint = (
  bytes: Uint8Array,
  projection: string,
  sealer: CheckpointSealer,
): Checkpoint | undefined => {
  if (bytes.length < MAGIC.length || !MAGIC.equals(bytes.subarray(0, MAGIC.length))) return undefined
  let plain: Uint8Array
  try {
    plain = sealer.open(bytes.subarray(MAGIC.length), aadOf(projection))
  } catch {
    return undefined
  }
  const nl = plain.indexOf(0x0a)
  if (nl < 0) return undefined
  let header: unknown
  try {
    // Not mint input: the header of a checkpoint the vault opened.
    // nosemgrep: json-parse-outside-protocol
    header = JSON.parse(Buffer.from(plain.buffer, plain.byteOffset, nl).toString("utf8"))
  } catch {
    return undefined
  }
  const h = header as { projection?: unknown; version?: unknown; sequence?: unknown; hash?: unknown }
  if (
    typeof h !== "object" ||
    h === null ||
    h.projection !== projection ||
    !Number.isSafeInteger(h.version) ||
    !Number.isSafeInteger(h.sequence) ||
    (h.sequence as number) < 0 ||
    typeof h.hash !== "string"
  )
    return undefined
  return {
    projection,
    version: h.version as number,
    sequence: h.sequence as number,
    hash: h.hash,
    state: plain.subarray(nl + 1),
  }
}
