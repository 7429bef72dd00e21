/**
 * The witness file: head attestations (`events/attestation.ts`), one JSON line each, appended and fsynced,
 * kept where a forger of the data directory cannot reach (other storage, another host's mount). The engine
 * appends one when it opens and closes and on `engine.attestHead()`; opening and the audit check the log
 * against it, so a cut of the newest events (marker rewritten, records gone) is detected up to the last
 * attestation.
 *
 * @module
 */
import { open, readFile, stat } from "node:fs/promises"
import { Effect, Stream } from "effect"
import {
  type Attester,
  decodeAttestation,
  encodeAttestation,
  type HeadAttestation,
  makeAttestation,
  tagHolds,
} from "../events/attestation.js"
import { GENESIS_HASH } from "../events/envelope.js"
import { StoreCorrupted, type StoreError, StoreUnavailable } from "../model/index.js"
import type { EventStoreShape } from "../ports/event-store.js"

/** Largest witness file read (~250 bytes a line: hundreds of thousands of attestations). */
export const MAX_WITNESS_BYTES = 64 * 1024 * 1024

const io = (what: string) => (err: unknown) =>
  new StoreUnavailable({
    reason: "io",
    message: `${what} failed (${(err as { code?: string }).code ?? "error"})`,
  })

/**
 * The attestations of a witness file, oldest first (none when it does not exist). A last line without its
 * newline is an append that never completed and is ignored; any other malformed line is `StoreCorrupted`.
 */
export const readWitness = (
  file: string,
): Effect.Effect<HeadAttestation[], StoreCorrupted | StoreUnavailable> =>
  Effect.gen(function* () {
    const size = yield* Effect.tryPromise({
      try: () => stat(file).then((s) => s.size),
      catch: (err) => err,
    }).pipe(
      Effect.catch((err) =>
        (err as { code?: string }).code === "ENOENT"
          ? Effect.succeed(-1)
          : Effect.fail(io("reading the witness")(err)),
      ),
    )
    if (size < 0) return []
    if (size > MAX_WITNESS_BYTES)
      return yield* new StoreUnavailable({ reason: "io", message: "the witness file is larger than 64 MiB" })
    const text = yield* Effect.tryPromise({
      try: () => readFile(file, "utf8"),
      catch: io("reading the witness"),
    })
    const lines = text.split("\n")
    lines.pop() // "" after the last newline, or a torn last append
    const out: HeadAttestation[] = []
    for (let i = 0; i < lines.length; i++) {
      const a = decodeAttestation(lines[i]!)
      if (!("v" in a))
        return yield* new StoreCorrupted({
          firstBadSequence: 0,
          message: `witness line ${i + 1} is malformed (${a.message})`,
        })
      out.push(a)
    }
    return out
  })

/** Appends one attestation and makes it durable before returning. */
export const appendWitness = (file: string, a: HeadAttestation): Effect.Effect<void, StoreUnavailable> =>
  Effect.tryPromise({
    try: async () => {
      const handle = await open(file, "a", 0o600)
      try {
        await handle.write(`${encodeAttestation(a)}\n`)
        await handle.sync()
      } finally {
        await handle.close()
      }
    },
    catch: io("writing the witness"),
  })

/** The hash of the event at `sequence` (the genesis hash for 0), or undefined past the head. */
const hashAt = (store: EventStoreShape, sequence: number): Effect.Effect<string | undefined, StoreError> =>
  sequence === 0
    ? Effect.succeed(GENESIS_HASH)
    : Effect.map(Stream.runHead(Stream.take(store.readRaw(sequence), 1)), (first) =>
        first._tag === "Some" && first.value.envelope.sequence === sequence
          ? first.value.envelope.hash
          : undefined,
      )

/** An attestation of the store's current head. */
export const attestHead = (
  store: EventStoreShape,
  time: number,
  attester?: Attester,
): Effect.Effect<HeadAttestation, StoreError> =>
  Effect.gen(function* () {
    const head = yield* store.head
    const hash = yield* hashAt(store, head)
    if (hash === undefined)
      return yield* new StoreCorrupted({ firstBadSequence: head, message: "the head event cannot be read" })
    return makeAttestation(head, hash, time, attester)
  })

/**
 * Checks the log against attestations: each tag (when the log has a key, every attestation must carry one
 * made by it), and the log must still hold each attested hash at its sequence. `which` picks every
 * attestation (the audit) or only the furthest one (opening). Fails with `StoreCorrupted` naming the first
 * sequence the log no longer holds as attested.
 */
export const checkWitness = (
  store: EventStoreShape,
  attestations: ReadonlyArray<HeadAttestation>,
  attester: Attester | undefined,
  which: "all" | "furthest",
): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (attestations.length === 0) return
    if (attester !== undefined)
      for (const a of attestations)
        if (!tagHolds(a, attester))
          return yield* new StoreCorrupted({
            firstBadSequence: a.sequence,
            message: `the witness holds an attestation of sequence ${a.sequence} that this log's key did not make`,
          })
    const head = yield* store.head
    const chosen =
      which === "all"
        ? attestations
        : [attestations.reduce((best, a) => (a.sequence > best.sequence ? a : best))]
    for (const a of chosen) {
      if (a.sequence > head)
        return yield* new StoreCorrupted({
          firstBadSequence: head + 1,
          message:
            `the log ends at sequence ${head}, but the witness attests sequence ${a.sequence}: ` +
            "the newest events were cut or rolled back",
        })
      const hash = yield* hashAt(store, a.sequence)
      if (hash !== a.hash)
        return yield* new StoreCorrupted({
          firstBadSequence: a.sequence,
          message: `event ${a.sequence} is not the one the witness attests: the log was rewritten`,
        })
    }
  })
