/**
 * Where each stream's events sit in the global order, in memory: per stream, its runs (one per append: the
 * append's events are consecutive in the log) in version order. Rebuilt at open from the index blocks
 * (`keys.ts`), extended by the writer as batches commit.
 *
 * Why in memory: a LevelDB key per append cost more than the records themselves (see `keys.ts`). The price
 * is ~24 bytes per append (three numbers), the same order as the event-id index already held.
 *
 * @module
 */
import type { StreamRun } from "./keys.js"

interface Runs {
  readonly firstVersions: number[]
  readonly firstSequences: number[]
  readonly counts: number[]
}

/** The stream index. */
export class StreamIndex {
  private readonly streams = new Map<string, Runs>()
  /** The current version of every stream. */
  readonly versions = new Map<string, number>()

  /**
   * Adds a run. Runs of a stream arrive in version order and continue it (the writer guarantees it; open
   * checks it through {@link continues}).
   */
  add(run: StreamRun): void {
    let runs = this.streams.get(run.streamId)
    if (runs === undefined) {
      runs = { firstVersions: [], firstSequences: [], counts: [] }
      this.streams.set(run.streamId, runs)
    }
    runs.firstVersions.push(run.firstVersion)
    runs.firstSequences.push(run.firstSequence)
    runs.counts.push(run.count)
    this.versions.set(run.streamId, run.firstVersion + run.count - 1)
  }

  /** True when `run` starts right after the stream's current version (1 for a new stream). */
  continues(run: StreamRun): boolean {
    return run.firstVersion === (this.versions.get(run.streamId) ?? 0) + 1
  }

  /**
   * The sequences of the stream's events from the run holding `fromVersion` on, whole runs (a run is one
   * append, hence at most one sealed group: members before `fromVersion` are read for their group's sake).
   */
  sequencesFrom(streamId: string, fromVersion: number): number[] {
    const runs = this.streams.get(streamId)
    if (runs === undefined) return []
    const { firstVersions, firstSequences, counts } = runs
    // The run holding `fromVersion`: the last one starting at or before it.
    let lo = 0
    let hi = firstVersions.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (firstVersions[mid]! <= fromVersion) lo = mid
      else hi = mid - 1
    }
    const out: number[] = []
    for (let r = lo; r < firstVersions.length; r++) {
      if (firstVersions[r]! + counts[r]! - 1 < fromVersion) continue
      for (let i = 0; i < counts[r]!; i++) out.push(firstSequences[r]! + i)
    }
    return out
  }
}
