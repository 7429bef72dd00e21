/**
 * How a record is written (the format is documented in `record.ts`), as ONE self-contained factory, so the
 * same code builds records on the writer's thread and in the sealing worker (`seal-worker.ts` builds the
 * worker from `makeRecordKernel.toString()`). Self-contained: the body uses only its parameters and globals
 * present in every Node thread (`Buffer`, `JSON`), never a binding of this module or an import.
 *
 * @module
 */
import type { hash } from "node:crypto"

/** The envelope fields a record is built from (everything the writer decides before hashing). */
export interface RecordKernelFields {
  readonly sequence: number
  readonly streamId: string
  readonly streamVersion: number
  readonly eventId: string
  readonly type: string
  readonly schemaVersion: number
  readonly time: number
}

/** Record writing. */
export interface RecordKernel {
  /** The fields' JSON text: exactly `JSON.stringify([sequence, streamId, streamVersion, eventId, type, schemaVersion, time])`. */
  readonly fieldsJson: (f: RecordKernelFields) => string
  /** Bytes of a record with this fields text and payload. */
  readonly recordSize: (json: string, payloadLength: number) => number
  /**
   * Writes a record at `out[at…]`, linking it to the 32 bytes at `prev[prevAt…]` (which may lie in `out`
   * itself, before `at`); returns where the record ends. Its hash is the last 32 bytes, its payload starts at
   * `at + payloadOffset(json)`.
   */
  readonly writeRecord: (
    out: Buffer,
    at: number,
    prev: Uint8Array,
    prevAt: number,
    json: string,
    payload: Uint8Array,
  ) => number
  /** Where the payload starts inside a record with this fields text. */
  readonly payloadOffset: (json: string) => number
}

/** Builds a record kernel. Self-contained: see the module comment before adding anything to this body. */
export function makeRecordKernel(deps: { readonly hash: typeof hash }): RecordKernel {
  const DOMAIN = Buffer.from("corecashu/event/v1", "utf8")
  const HASH_LEN = 32
  const PREV_AT = DOMAIN.length
  const LEN_AT = PREV_AT + HASH_LEN
  const FIELDS_AT = LEN_AT + 8

  // A string as JSON text, exactly as `JSON.stringify` writes it; plain printable ASCII (ids, types) needs
  // no escaping, so the generic stringifier runs only for anything else.
  const quote = (s: string): string => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s)
    }
    return `"${s}"`
  }

  const fieldsJson = (f: RecordKernelFields): string =>
    // The fields are safe integers and strings: this is what `JSON.stringify` of the array writes.
    `[${f.sequence},${quote(f.streamId)},${f.streamVersion},${quote(f.eventId)},${quote(f.type)},${f.schemaVersion},${f.time}]`

  const payloadOffset = (json: string): number => FIELDS_AT + Buffer.byteLength(json, "utf8")

  const recordSize = (json: string, payloadLength: number): number =>
    payloadOffset(json) + payloadLength + HASH_LEN

  const writeRecord = (
    out: Buffer,
    at: number,
    prev: Uint8Array,
    prevAt: number,
    json: string,
    payload: Uint8Array,
  ): number => {
    const len = Buffer.byteLength(json, "utf8")
    DOMAIN.copy(out, at)
    out.set(prev.subarray(prevAt, prevAt + HASH_LEN), at + PREV_AT)
    out.writeUInt32BE(0, at + LEN_AT)
    out.writeUInt32BE(len, at + LEN_AT + 4)
    out.write(json, at + FIELDS_AT, len, "utf8")
    const hashAt = at + FIELDS_AT + len + payload.length
    out.set(payload, at + FIELDS_AT + len)
    // The digest as hex, written into the record: a one-shot hash into a Buffer allocates native memory per
    // event (GC pressure on the append path).
    out.write(deps.hash("sha256", out.subarray(at, hashAt), "hex"), hashAt, HASH_LEN, "hex")
    return hashAt + HASH_LEN
  }

  return { fieldsJson, recordSize, writeRecord, payloadOffset }
}
