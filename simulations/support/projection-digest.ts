/**
 * What a node's projections are, byte for byte: for every projection of the engine, the SHA-256 of its
 * canonical serialisation (the bytes a checkpoint stores) at the position the runner has folded to. Two nodes
 * at the same position of one log must agree on every digest, and a node restarted (from its checkpoints, or
 * from nothing) must reproduce the digests it had: projections are pure folds over the log.
 *
 * {@link digestsFromLog} is the reference: every projection folded from its initial state over the log's
 * first events, in this process, with no checkpoint and no runner.
 *
 * The digests reveal nothing of the state (the backup projection holds mnemonics): only hashes leave.
 *
 * @module
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import type { Engine } from "../../src/engine/engine.js"
import { engineServices, engineStore } from "../../src/engine/internal.js"
import { ALL_PROJECTIONS, foldEvents } from "../../src/projections/index.js"

/** The digests of one node's projections at log position `sequence`. */
export interface ProjectionDigests {
  readonly sequence: number
  /** Projection name → hex SHA-256 of its serialised state. */
  readonly digests: Readonly<Record<string, string>>
}

/** The digests of `engine`'s projections, once they have folded the log up to its head as this node sees it. */
export const projectionDigests = async (engine: Engine): Promise<ProjectionDigests> => {
  const { runner } = engineServices(engine)
  const head = await Effect.runPromise(engineStore(engine).head)
  await Effect.runPromise(runner.awaitSequence(head))
  // Synchronous from here: no event is folded between reading the position and hashing the states.
  const digests: Record<string, string> = {}
  for (const p of ALL_PROJECTIONS)
    digests[p.name] = createHash("sha256")
      .update(p.serialize(runner.state(p)))
      .digest("hex")
  return { sequence: runner.position(), digests }
}

const hash = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** The digests of every projection folded from nothing over events 1 … `sequence` of `engine`'s log. */
export const digestsFromLog = async (engine: Engine, sequence: number): Promise<ProjectionDigests> => {
  const events = await Effect.runPromise(
    Stream.runCollect(
      engineStore(engine)
        .readAll()
        .pipe(Stream.takeWhile((r) => r.envelope.sequence <= sequence)),
    ),
  )
  const digests: Record<string, string> = {}
  for (const p of ALL_PROJECTIONS) digests[p.name] = hash(p.serialize(foldEvents(p, p.initial, events)))
  return { sequence: events.at(-1)?.envelope.sequence ?? 0, digests }
}
