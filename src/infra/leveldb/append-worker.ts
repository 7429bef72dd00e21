/**
 * The append worker: a `worker_threads` worker that seals the payloads of whole chunks of appends and builds
 * their records onto the hash chain, off the writer's thread.
 *
 * Why: node:crypto builds a cipher object per AES-GCM operation (a fixed ~10 µs, one per append) and every
 * record costs a SHA-256 call and a buffer; under load that is most of what an append costs the writer's
 * thread, which is what caps the durable append rate of a host. The worker moves it to the machine's other
 * core. The writer keeps everything that decides an append's answer (validation, encoding, sequences,
 * versions) and the LevelDB writes.
 *
 * The chain runs through the worker: it processes chunks strictly in the order they are sent and links each
 * record to the previous one it built. The writer sends the hash to link to (`prev`) whenever the worker's
 * own idea of it may be stale: with the first chunk, and after any chunk was dropped (a failed write) or
 * built on the writer's thread.
 *
 * The worker is built from source text — the two kernels' `toString()` plus a message loop — rather than a
 * module file: it then runs the same under the TypeScript loaders of tests and tools, from `dist/` and from a
 * bundle, and starts in milliseconds (it loads nothing but `node:crypto`). The shim `__name` absorbs the
 * helper calls some TypeScript loaders insert into function bodies.
 *
 * Secrets: the key reaches the worker through the sealer (`startKeyedWorker`: one copy in `workerData`,
 * which the worker copies and zero-fills, and zero-fills again when it closes); plaintexts travel in
 * transferred buffers that the worker zero-fills once sealed. Nothing is written anywhere.
 *
 * @module
 */
import type { Worker } from "node:worker_threads"
import { VaultError } from "../../events/errors.js"
import type { PayloadSealer } from "../../events/sealer.js"
import { makeSealKernel } from "../seal-kernel.js"
import { makeRecordKernel, type RecordKernelFields } from "./record-kernel.js"

/**
 * One append of a chunk: the envelope fields of its events (one stream, consecutive sequences and versions,
 * one time) and their payloads, sealed as a group when there are two or more.
 */
export interface AppendJob {
  readonly fields: ReadonlyArray<RecordKernelFields>
  readonly plains: ReadonlyArray<Uint8Array>
  /** The AAD text of the append (`groupAadText` for a group, `payloadAadText` for one payload). */
  readonly aad: string
}

/** A chunk's records, built and chained: record `i` is `records[ends[i-1] … ends[i])`. */
export interface BuiltChunk {
  readonly records: Buffer
  readonly ends: Uint32Array
  /** Where each record's payload starts, from the record's first byte. */
  readonly payloadAts: Uint32Array
}

/** Receives a chunk's records, or a typed error (nothing of the chunk was built). */
export type BuildDone = (error: VaultError | undefined, built?: BuiltChunk) => void

/** A running append worker. */
export interface AppendWorker {
  /**
   * Seals and chains a chunk, linking its first record to `prev` when given, else to the last record the
   * worker built. `done` runs once, on the calling thread.
   */
  readonly build: (jobs: ReadonlyArray<AppendJob>, prev: Uint8Array | undefined, done: BuildDone) => void
  /** Chunks sent and not answered yet. */
  readonly pending: () => number
  /** Has the worker zero its key and stop; chunks still out fail with `missing-key`. Idempotent. */
  readonly close: () => Promise<void>
}

interface BuildRequest {
  readonly id: number
  readonly prev: Uint8Array | null
  /** Every plaintext of the chunk, concatenated (transferred). */
  readonly plains: Uint8Array
  /** Per event: plaintext length, schema version. */
  readonly lengths: Uint32Array
  readonly schemaVersions: Uint32Array
  readonly eventIds: ReadonlyArray<string>
  readonly types: ReadonlyArray<string>
  /** Per append: number of events, first sequence, first version, time, stream, aad. */
  readonly counts: Uint32Array
  readonly firstSequences: Float64Array
  readonly firstVersions: Float64Array
  readonly times: Float64Array
  readonly streamIds: ReadonlyArray<string>
  readonly aads: ReadonlyArray<string>
}

type BuildReply =
  | {
      readonly id: number
      readonly records: Uint8Array
      readonly ends: Uint32Array
      readonly payloadAts: Uint32Array
    }
  | { readonly id: number; readonly error: true }

/** The part of `MessagePort` the worker body uses. */
interface PortLike {
  on(event: "message", listener: (m: BuildRequest | "close") => void): void
  postMessage(value: unknown, transfer?: ReadonlyArray<ArrayBuffer>): void
  close(): void
}

/**
 * The worker's body (runs in the worker, from source text). Self-contained like the kernels: only its
 * parameters and globals.
 */
function appendWorkerMain(
  seal: ReturnType<typeof makeSealKernel>,
  rec: ReturnType<typeof makeRecordKernel>,
  port: PortLike,
  key: Buffer,
): void {
  let last: Buffer = Buffer.alloc(32)
  port.on("message", (m) => {
    if (m === "close") {
      key.fill(0)
      port.close()
      return
    }
    const plains = Buffer.from(m.plains.buffer, m.plains.byteOffset, m.plains.byteLength)
    try {
      const n = m.lengths.length
      const payloads: Buffer[] = new Array(n)
      const jsons: string[] = new Array(n)
      let total = 0
      let at = 0
      let e = 0
      for (let j = 0; j < m.counts.length; j++) {
        const count = m.counts[j]!
        const members: Buffer[] = new Array(count)
        for (let i = 0; i < count; i++) {
          members[i] = plains.subarray(at, at + m.lengths[e + i]!)
          at += m.lengths[e + i]!
        }
        const aad = Buffer.from(m.aads[j]!, "utf8")
        const sealed = count === 1 ? [seal.seal(key, members[0]!, aad)] : seal.sealGroup(key, members, aad)
        for (let i = 0; i < count; i++) {
          const json = rec.fieldsJson({
            sequence: m.firstSequences[j]! + i,
            streamId: m.streamIds[j]!,
            streamVersion: m.firstVersions[j]! + i,
            eventId: m.eventIds[e]!,
            type: m.types[e]!,
            schemaVersion: m.schemaVersions[e]!,
            time: m.times[j]!,
          })
          payloads[e] = sealed[i]!
          jsons[e] = json
          total += rec.recordSize(json, sealed[i]!.length)
          e++
        }
      }
      // A dedicated buffer (not a pool slab), so transferring it hands over nothing else.
      const records = Buffer.allocUnsafeSlow(total)
      const ends = new Uint32Array(n)
      const payloadAts = new Uint32Array(n)
      let prev: Uint8Array = m.prev ?? last
      let prevAt = 0
      let o = 0
      for (let i = 0; i < n; i++) {
        const end = rec.writeRecord(records, o, prev, prevAt, jsons[i]!, payloads[i]!)
        payloadAts[i] = rec.payloadOffset(jsons[i]!)
        ends[i] = end
        prev = records
        prevAt = end - 32
        o = end
      }
      last = Buffer.from(records.subarray(o - 32, o))
      port.postMessage({ id: m.id, records, ends, payloadAts }, [
        records.buffer,
        ends.buffer,
        payloadAts.buffer,
      ])
    } catch {
      port.postMessage({ id: m.id, error: true })
    } finally {
      plains.fill(0)
    }
  })
}

const WORKER_SOURCE = `"use strict";
const __name = (f) => f;
const { createCipheriv, randomFillSync, hash } = require("node:crypto");
const { parentPort, workerData } = require("node:worker_threads");
const key = Buffer.from(workerData.key);
workerData.key.fill(0);
(${appendWorkerMain.toString()})(
  (${makeSealKernel.toString()})({ createCipheriv, randomFillSync }),
  (${makeRecordKernel.toString()})({ hash }),
  parentPort,
  key,
);
`

const stoppedError = () => new VaultError({ reason: "missing-key", message: "the append worker has stopped" })
const failedError = () =>
  new VaultError({ reason: "bad-parameters", message: "the append worker failed a chunk" })

/**
 * Starts an append worker through the sealer's `startKeyedWorker`; undefined when the sealer has none. The
 * worker keeps the process alive only while a chunk is out.
 */
export const startAppendWorker = (sealer: PayloadSealer): AppendWorker | undefined => {
  if (sealer.startKeyedWorker === undefined) return undefined
  const worker: Worker = sealer.startKeyedWorker(WORKER_SOURCE)
  // An idle worker must not keep the process alive; a busy one must (the appends waiting for it hold no
  // handle of their own).
  worker.unref()
  const pending = new Map<number, BuildDone>()
  let nextId = 1
  let stopped = false

  const stop = (): void => {
    if (stopped) return
    stopped = true
    const waiting = [...pending.values()]
    pending.clear()
    for (const done of waiting) done(stoppedError())
  }
  worker.on("message", (reply: BuildReply) => {
    const done = pending.get(reply.id)
    if (done === undefined) return
    pending.delete(reply.id)
    if (pending.size === 0) worker.unref()
    if ("error" in reply) done(failedError())
    else
      done(undefined, {
        records: Buffer.from(reply.records.buffer, reply.records.byteOffset, reply.records.byteLength),
        ends: reply.ends,
        payloadAts: reply.payloadAts,
      })
  })
  worker.on("error", stop)
  worker.on("exit", stop)

  return {
    build: (jobs, prev, done) => {
      if (stopped) {
        done(stoppedError())
        return
      }
      let events = 0
      let bytes = 0
      for (const j of jobs) {
        events += j.plains.length
        for (const p of j.plains) bytes += p.length
      }
      const plains = new Uint8Array(bytes)
      const lengths = new Uint32Array(events)
      const schemaVersions = new Uint32Array(events)
      const eventIds: string[] = new Array(events)
      const types: string[] = new Array(events)
      const a = jobs.length
      const counts = new Uint32Array(a)
      const firstSequences = new Float64Array(a)
      const firstVersions = new Float64Array(a)
      const times = new Float64Array(a)
      const streamIds: string[] = new Array(a)
      const aads: string[] = new Array(a)
      let at = 0
      let e = 0
      for (let j = 0; j < a; j++) {
        const job = jobs[j]!
        const first = job.fields[0]!
        counts[j] = job.plains.length
        firstSequences[j] = first.sequence
        firstVersions[j] = first.streamVersion
        times[j] = first.time
        streamIds[j] = first.streamId
        aads[j] = job.aad
        for (let i = 0; i < job.plains.length; i++) {
          const p = job.plains[i]!
          const f = job.fields[i]!
          plains.set(p, at)
          at += p.length
          lengths[e] = p.length
          schemaVersions[e] = f.schemaVersion
          eventIds[e] = f.eventId
          types[e] = f.type
          e++
        }
      }
      const id = nextId++
      if (pending.size === 0) worker.ref()
      pending.set(id, done)
      const request: BuildRequest = {
        id,
        prev: prev === undefined ? null : new Uint8Array(prev),
        plains,
        lengths,
        schemaVersions,
        eventIds,
        types,
        counts,
        firstSequences,
        firstVersions,
        times,
        streamIds,
        aads,
      }
      worker.postMessage(request, [plains.buffer])
    },
    pending: () => pending.size,
    close: async () => {
      if (stopped) return
      // Ask the worker to zero its key and end; terminate it if it has not within a second.
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()))
      worker.postMessage("close")
      stop()
      const timer = setTimeout(() => void worker.terminate().catch(() => undefined), 1000)
      await exited
      clearTimeout(timer)
    },
  }
}
