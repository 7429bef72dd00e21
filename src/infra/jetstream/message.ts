/**
 * One JetStream message = one append: the subject it goes to, its `Nats-Msg-Id`, and its body.
 *
 * The body is exactly a LevelDB chunk (`../leveldb/chunk.ts`): the append's records, length-framed, each
 * record being the chain-hash input followed by its hash (`../leveldb/record.ts`). So an event is stored
 * byte for byte as the LevelDB backend stores it, `computeEventHash` checks either, and one verifier serves
 * both. Every record of a message belongs to the message's stream, and the subject names that stream: the
 * server's per-subject sequence (what `Nats-Expected-Last-Subject-Sequence` checks) is the stream's.
 *
 * Subjects: `<prefix>.<token>…`, one token per `/`-separated part of the stream id (`wallet/alice` →
 * `cc.wallet.alice`). Characters outside `[A-Za-z0-9_-]` (NATS reserves `.`, `*`, `>` and white space) are
 * written `~hh` per UTF-8 byte, and an empty part is a lone `~`, so the mapping is injective and reversible.
 *
 * @module
 */

import type { Envelope, StoredEvent } from "../../events/envelope.js"
import { quote } from "../../events/schema-json.js"
import { encodeChunk, splitChunk } from "../leveldb/chunk.js"
import {
  hexEqualsAt,
  PREV_HASH_AT,
  type RecordFields,
  sha256Hex,
  verifiedHashHexOf,
  viewRecord,
} from "../leveldb/record.js"

const PLAIN = /^[A-Za-z0-9_-]+$/

/** One subject token for one part of a stream id. */
const encodeToken = (part: string): string => {
  if (part === "") return "~"
  if (PLAIN.test(part)) return part
  let out = ""
  for (const ch of part) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch
    else for (const b of Buffer.from(ch, "utf8")) out += `~${b.toString(16).padStart(2, "0")}`
  }
  return out
}

/** The subject of a stream's messages under `prefix`. */
export const subjectOf = (prefix: string, streamId: string): string =>
  `${prefix}.${streamId.split("/").map(encodeToken).join(".")}`

/** The stream id a subject names, or undefined when it is not one of {@link subjectOf}'s. */
export const streamIdOf = (prefix: string, subject: string): string | undefined => {
  if (!subject.startsWith(`${prefix}.`)) return undefined
  const parts: string[] = []
  for (const token of subject.slice(prefix.length + 1).split(".")) {
    if (token === "~") {
      parts.push("")
      continue
    }
    if (token === "" || !/^(?:[A-Za-z0-9_-]|~[0-9a-f]{2})+$/.test(token)) return undefined
    const bytes: number[] = []
    for (let i = 0; i < token.length; ) {
      if (token[i] === "~") {
        bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16))
        i += 3
      } else {
        bytes.push(token.charCodeAt(i))
        i++
      }
    }
    const part = Buffer.from(bytes).toString("utf8")
    if (encodeToken(part) !== token) return undefined
    parts.push(part)
  }
  return parts.join("/")
}

/**
 * The `Nats-Msg-Id` of an append: a digest of its stream and its event ids, in order. A retry of the same
 * append (after a lost acknowledgement) carries the same id, so within the stream's duplicate window the
 * server stores it once; beyond it, the store's own id index answers.
 */
export const messageIdOf = (streamId: string, eventIds: ReadonlyArray<string>): string => {
  let text = `[${quote(streamId)}`
  for (const id of eventIds) text += `,${quote(id)}`
  return sha256Hex(Buffer.from(`${text}]`, "utf8"))
}

/** A message built for publishing: its body and what the index learns from it. */
export interface BuiltMessage {
  readonly body: Buffer
  readonly events: StoredEvent[]
  readonly lastHash: string
}

/** Builds the body of an append: the records of `fields`/`payloads`, chained from `prevHash` (hex). */
export const buildMessage = (
  prevHash: string,
  fields: ReadonlyArray<RecordFields>,
  payloads: ReadonlyArray<Uint8Array>,
): BuiltMessage => {
  const chunk = encodeChunk(Buffer.from(prevHash, "hex"), fields, payloads)
  const events: StoredEvent[] = new Array(fields.length)
  let prev = prevHash
  for (let i = 0; i < fields.length; i++) {
    const hashAt = chunk.ends[i]! - 32
    const hash = chunk.value.toString("hex", hashAt, chunk.ends[i]!)
    events[i] = {
      envelope: { ...fields[i]!, prevHash: prev, hash },
      payload: chunk.value.subarray(chunk.payloadAts[i]!, hashAt),
    }
    prev = hash
  }
  return { body: chunk.value, events, lastHash: prev }
}

/** What a message must be, from the index (or, for the next message, from the tail). */
export interface MessageExpectation {
  /** The global sequence of its first event. */
  readonly firstSequence: number
  /** The hash its first record must link to. */
  readonly prevHash: string
  /** The stream its subject names. */
  readonly streamId: string
  /** The stream version of its first event. */
  readonly firstVersion: number
  /** Known when the index already holds the message: its event count and last hash. */
  readonly count?: number
  readonly lastHash?: string
}

/** A message that failed its checks: the first global sequence that is wrong, and why. */
export interface BadMessage {
  readonly bad: number
  readonly reason: string
}

/**
 * Splits and verifies a message body against what it must be: well-formed records, each hash over its
 * bytes, each link to its predecessor, gapless sequences and stream versions, one stream. Returns its
 * events (envelopes and stored payloads, views into `data`) or the first bad sequence.
 */
export const readMessage = (data: Uint8Array, expect: MessageExpectation): StoredEvent[] | BadMessage => {
  const records = splitChunk(data)
  if (records === undefined || records.length === 0)
    return { bad: expect.firstSequence, reason: "the message is not a framed list of records" }
  if (expect.count !== undefined && records.length !== expect.count)
    return {
      bad: expect.firstSequence,
      reason: `the message holds ${records.length} events, not ${expect.count}`,
    }
  const out: StoredEvent[] = new Array(records.length)
  let prev = expect.prevHash
  for (let i = 0; i < records.length; i++) {
    const sequence = expect.firstSequence + i
    const v = viewRecord(records[i]!)
    if (v === undefined) return { bad: sequence, reason: "a record is malformed" }
    const f = v.fields
    if (f.sequence !== sequence) return { bad: sequence, reason: `a record says sequence ${f.sequence}` }
    if (f.streamId !== expect.streamId)
      return { bad: sequence, reason: "a record names another stream than its subject" }
    if (f.streamVersion !== expect.firstVersion + i)
      return { bad: sequence, reason: "a stream version is out of order" }
    if (!hexEqualsAt(prev, v.bytes, PREV_HASH_AT))
      return { bad: sequence, reason: "a record does not link to its predecessor" }
    const hash = verifiedHashHexOf(v)
    if (hash === undefined) return { bad: sequence, reason: "a record's hash does not match its contents" }
    const envelope: Envelope = {
      sequence: f.sequence,
      streamId: f.streamId,
      streamVersion: f.streamVersion,
      eventId: f.eventId,
      type: f.type,
      schemaVersion: f.schemaVersion,
      time: f.time,
      prevHash: prev,
      hash,
    }
    out[i] = { envelope, payload: v.bytes.subarray(v.payloadAt, v.hashAt) }
    prev = hash
  }
  if (expect.lastHash !== undefined && prev !== expect.lastHash)
    return {
      bad: expect.firstSequence + records.length - 1,
      reason: "the message differs from the one indexed",
    }
  return out
}
