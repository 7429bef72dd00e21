/**
 * The engine's metrics page and health report (issue #15), computed when asked from what the engine already
 * holds: its projections, its log's head, and the {@link Observations} its store, checkpoint and mint-client
 * wrappers keep (`../infra/telemetry/observe.ts`).
 *
 * **Metrics** (`engine.metrics()`) are two parts:
 *
 * - the Effect metrics recorded while the engine works (mint calls, breaker state, rate-limit waits, log
 *   appends, operations by kind and outcome). Effect keeps them in the `Metric.MetricRegistry` of the
 *   context; the engine runs in the default context, whose registry is **one per process**: with several
 *   engines in one process these series are the sum of all of them.
 * - gauges of this engine alone, computed at scrape time over the wallets it hosts: proofs and their amounts
 *   by mint origin, unit and state; operations in flight and in doubt by kind, and the oldest in doubt; the
 *   projection lag; the checkpoint's age and lag; hosted wallets; each mint's reachability as last seen.
 *
 * No label carries a wallet id, an operation or quote id, a path or a secret.
 *
 * **Health** (`engine.health()`) is a typed {@link HealthReport}; its status is `failing` when the log cannot
 * be read or its last append failed, `degraded` when a mint is down or its breaker open, the projections lag,
 * an operation has been in doubt too long, or the last checkpoint save failed; else `ok`.
 *
 * @module
 */

import { randomBytes } from "node:crypto"
import { open, unlink } from "node:fs/promises"
import { join } from "node:path"
import { Effect, Exit, Metric } from "effect"
import { walletStream } from "../events/ids.js"
import { mintOrigin } from "../infra/mint-client/telemetry.js"
import type { TelemetryHttpOptions } from "../infra/telemetry/http.js"
import { type MintObservation, Observations } from "../infra/telemetry/observe.js"
import { familiesFromSnapshots, type MetricFamily, renderPrometheus } from "../infra/telemetry/prometheus.js"
import type { OtlpOptions } from "../infra/tracing.js"
import { PROOF_STATES } from "../machines/lifecycle.js"
import type { StoreError } from "../model/index.js"
import type { EventStoreShape } from "../ports/event-store.js"
import type { MintClientShape } from "../ports/mint-client.js"
import { mintsOf, mintsProjection } from "../projections/mints.js"
import { isTerminal, operationsProjection } from "../projections/operations.js"
import { proofsProjection } from "../projections/proofs.js"
import type { ProjectionRunner } from "../projections/runner.js"

export { Observations }

/** `ok`; `degraded` (serving, something needs a look); `failing` (the log is not usable). */
export type HealthStatus = "ok" | "degraded" | "failing"

/** The log as the health check found it. */
export interface StoreHealth {
  readonly kind: "leveldb" | "jetstream"
  /** The head could be read (JetStream: from the server, so the connection is up). */
  readonly readable: boolean
  /**
   * Whether the log takes durable appends: LevelDB, a small file written and fsynced in the data directory
   * beside the log (never an event in it) and the last append's outcome; JetStream, the last append's
   * outcome. `undefined` when nothing tells (no append yet on JetStream).
   */
  readonly writable: boolean | undefined
  /** The head (last global sequence), when readable. */
  readonly head: number | undefined
  /** When an append last succeeded (epoch ms). */
  readonly lastAppendAt: number | undefined
  /** The last failed append, when it is newer than the last success. */
  readonly lastAppendError: { readonly at: number; readonly error: string } | undefined
  /** Why the head could not be read or the probe failed (an error tag). */
  readonly error: string | undefined
}

/** One mint as the engine last saw it (no network call unless `probe`). */
export interface MintHealth {
  /** The mint's origin. */
  readonly mint: string
  /** The HTTP client's circuit breaker, when the engine uses it (the process's view of this origin). */
  readonly breaker: "closed" | "half-open" | "open" | undefined
  /** Whether the last call that showed anything found the mint up; `undefined`: no call yet. */
  readonly reachable: boolean | undefined
  /** `ok` or the error tag of the last call. */
  readonly lastOutcome: string | undefined
  readonly lastCallAt: number | undefined
  readonly consecutiveFailures: number
  /** With `probe: true`: the outcome of a `GET /v1/info` made for this report. */
  readonly probe: { readonly ok: boolean; readonly error: string | undefined } | undefined
}

/** An operation whose outcome is not settled yet (status `pending`). */
export interface InDoubtOperation {
  readonly operationId: string
  readonly kind: string
  /** The saga state (`ambiguous`, `paymentPending`, `recovered`, `compensating`). */
  readonly state: string
  readonly ageMs: number
}

/** Operations of the hosted wallets that have not ended. */
export interface OperationsHealth {
  /** Not ended (any status but completed and compensated). */
  readonly inFlight: number
  /** In doubt: status `pending`, the outcome unknown or being settled. */
  readonly inDoubt: number
  readonly oldestInDoubtAgeMs: number | undefined
  /** The oldest in doubt, at most 20, oldest first. */
  readonly oldest: ReadonlyArray<InDoubtOperation>
}

/** Projection checkpoints (none when the log is not sealed). */
export interface CheckpointHealth {
  readonly enabled: boolean
  /** When this engine last saved one (epoch ms) and its sequence; undefined before the first save. */
  readonly lastSavedAt: number | undefined
  readonly lastSavedSequence: number | undefined
  /** Seconds since the last save by this engine. */
  readonly ageSeconds: number | undefined
  /** The sequence the checkpoints loaded at open stood at (0: none). */
  readonly loadedSequence: number | undefined
  /** Events folded since the last saved (or loaded) checkpoint. */
  readonly eventsSince: number | undefined
  /** The last failed save, when newer than the last success. */
  readonly lastError: { readonly at: number; readonly error: string } | undefined
}

/** What {@link Engine.health} reports. */
export interface HealthReport {
  readonly status: HealthStatus
  /** Why the status is not `ok`, one short sentence each (no secrets, no wallet ids). */
  readonly reasons: ReadonlyArray<string>
  /** When the report was made (epoch ms). */
  readonly checkedAt: number
  readonly store: StoreHealth
  readonly projections: { readonly position: number; readonly head: number | undefined; readonly lag: number }
  readonly mints: ReadonlyArray<MintHealth>
  readonly operations: OperationsHealth
  readonly checkpoints: CheckpointHealth
  readonly wallets: number
}

/** Options of {@link Engine.health}. */
export interface HealthOptions {
  /** Ask each mint `GET /v1/info` now (through the client, its breaker and timeouts); default false. */
  readonly probe?: boolean
  /** Projection lag (events) above which the engine is degraded (default 1000). */
  readonly maxProjectionLag?: number
  /** Age of an operation in doubt above which the engine is degraded (ms, default 15 minutes). */
  readonly maxInDoubtAgeMs?: number
}

/** What the engine hands this module. */
export interface TelemetrySources {
  readonly storeKind: "leveldb" | "jetstream"
  readonly store: EventStoreShape
  /** The head as the server has it (JetStream) or the head (LevelDB). */
  readonly sync: Effect.Effect<number, StoreError>
  /** LevelDB: the data directory, where the write probe goes. */
  readonly dataDir: string | undefined
  readonly checkpointsEnabled: boolean
  readonly runner: ProjectionRunner
  readonly mint: MintClientShape
  readonly observations: Observations
  readonly now: () => number
  /** The ids of the hosted wallets. */
  readonly walletIds: () => ReadonlyArray<string>
  /** Whether the engine is closed. */
  readonly closed: () => boolean
}

/** Telemetry options of `Engine.open`. */
export interface EngineTelemetryOptions {
  /** Start the HTTP listener (`/metrics`, `/healthz`, `/readyz`) on this port and host (default `127.0.0.1`). */
  readonly http?: TelemetryHttpOptions
  /**
   * Export traces over OTLP/HTTP (`../infra/tracing.ts`): a span per wallet call and its steps (log appends,
   * mint calls, recovery, projection catch-up), to the collector at `otlp.url` (`…/v1/traces`).
   */
  readonly otlp?: OtlpOptions
}

const PROBE_FILE = ".corecashu-health-probe"

/** Writes, fsyncs and removes a small file in `dir`: the disk under the log takes durable writes. */
const writeProbe = (dir: string): Effect.Effect<void, string> =>
  Effect.tryPromise({
    try: async () => {
      const path = join(dir, PROBE_FILE)
      const fh = await open(path, "w")
      try {
        await fh.writeFile(randomBytes(16))
        await fh.sync()
      } finally {
        await fh.close()
      }
      await unlink(path)
    },
    catch: (e) => (e as NodeJS.ErrnoException).code ?? "write probe failed",
  })

const BREAKER = ["closed", "half-open", "open"] as const

/** The breaker state per mint origin, from the process's `corecashu_mint_breaker_state` gauge. */
const breakerStates = Effect.map(Metric.snapshot, (snapshots) => {
  const out = new Map<string, (typeof BREAKER)[number]>()
  for (const s of snapshots)
    if (s.id === "corecashu_mint_breaker_state" && s.type === "Gauge" && s.attributes?.mint !== undefined)
      out.set(s.attributes.mint, BREAKER[Number(s.state.value)] ?? "open")
  return out
})

interface Counted {
  readonly proofs: Map<string, { mint: string; unit: string; state: string; count: number; amount: bigint }>
  readonly inFlight: Map<string, number>
  readonly inDoubt: Map<string, number>
  readonly oldest: InDoubtOperation[]
  readonly mints: Set<string>
}

/** One pass over the hosted wallets' projections. */
const countWallets = (src: TelemetrySources, now: number): Counted => {
  const proofs = src.runner.state(proofsProjection)
  const mints = src.runner.state(mintsProjection)
  const ops = src.runner.state(operationsProjection)
  const out: Counted = {
    proofs: new Map(),
    inFlight: new Map(),
    inDoubt: new Map(),
    oldest: [],
    mints: new Set(),
  }
  for (const id of src.walletIds()) {
    const stream = walletStream(id)
    const wm = mints.wallets.get(stream)
    for (const m of mintsOf(mints, stream)) out.mints.add(mintOrigin(m.mintUrl))
    proofs.wallets.get(stream)?.totals.forEach((t, keysetId) => {
      const ks = wm?.keysets.get(keysetId)
      const mint = ks === undefined ? "unknown" : mintOrigin(ks.mintUrl)
      const unit = ks?.unit ?? "unknown"
      PROOF_STATES.forEach((state, i) => {
        const key = `${mint}\n${unit}\n${state}`
        const row = out.proofs.get(key) ?? { mint, unit, state, count: 0, amount: 0n }
        row.count += t.counts[i] ?? 0
        row.amount += t.amounts[i] ?? 0n
        out.proofs.set(key, row)
      })
    })
    ops.wallets.get(stream)?.forEach((op) => {
      if (isTerminal(op.status)) return
      out.inFlight.set(op.kind, (out.inFlight.get(op.kind) ?? 0) + 1)
      if (op.status !== "pending") return
      out.inDoubt.set(op.kind, (out.inDoubt.get(op.kind) ?? 0) + 1)
      out.oldest.push({
        operationId: op.operationId,
        kind: op.kind,
        state: op.sagaState,
        ageMs: Math.max(0, now - op.startedAt),
      })
    })
  }
  out.oldest.sort((a, b) => b.ageMs - a.ageMs)
  return out
}

const headOf = (src: TelemetrySources) =>
  Effect.exit(src.storeKind === "jetstream" ? src.sync : src.store.head).pipe(
    Effect.map((exit) =>
      Exit.isSuccess(exit)
        ? { head: exit.value, error: undefined }
        : {
            head: undefined,
            error: (() => {
              const f = exit.cause.reasons.find((r) => r._tag === "Fail") as
                | { error?: { _tag?: string } }
                | undefined
              return f?.error?._tag ?? "defect"
            })(),
          },
    ),
  )

const scalar = (
  name: string,
  help: string,
  series: ReadonlyArray<{ labels: Record<string, string>; value: number | bigint }>,
  type: "gauge" | "counter" = "gauge",
): MetricFamily => ({ name, help, type, series })

/**
 * The Prometheus text of the engine: the process's Effect metrics, then this engine's scrape-time gauges.
 */
export const renderMetrics = (src: TelemetrySources): Effect.Effect<string> =>
  Effect.gen(function* () {
    const recorded = familiesFromSnapshots(yield* Metric.snapshot)
    const now = src.now()
    const c = countWallets(src, now)
    const { head } = yield* Effect.map(Effect.exit(src.store.head), (e) => ({
      head: Exit.isSuccess(e) ? e.value : undefined,
    }))
    const position = src.runner.position()
    const obs = src.observations
    const proofRows = [...c.proofs.values()]
    const families: MetricFamily[] = [
      scalar(
        "corecashu_proofs",
        "Proofs of the hosted wallets by mint origin, unit and state",
        proofRows.map((r) => ({ labels: { mint: r.mint, unit: r.unit, state: r.state }, value: r.count })),
      ),
      scalar(
        "corecashu_proofs_amount",
        "Amount held in proofs of the hosted wallets by mint origin, unit and state (in the unit)",
        proofRows.map((r) => ({ labels: { mint: r.mint, unit: r.unit, state: r.state }, value: r.amount })),
      ),
      scalar(
        "corecashu_operations_in_flight",
        "Operations of the hosted wallets not ended yet, by kind",
        [...c.inFlight].map(([kind, n]) => ({ labels: { kind }, value: n })),
      ),
      scalar(
        "corecashu_operations_in_doubt",
        "Operations of the hosted wallets in doubt (outcome unknown or being settled), by kind",
        [...c.inDoubt].map(([kind, n]) => ({ labels: { kind }, value: n })),
      ),
      scalar(
        "corecashu_operations_in_doubt_oldest_seconds",
        "Age of the oldest operation in doubt, seconds",
        [{ labels: {}, value: c.oldest.length === 0 ? 0 : c.oldest[0]!.ageMs / 1000 }],
      ),
      scalar("corecashu_projection_position", "Last log sequence folded into every projection", [
        { labels: {}, value: position },
      ]),
      scalar("corecashu_wallets_hosted", "Wallets this engine hosts", [
        { labels: {}, value: src.walletIds().length },
      ]),
      scalar(
        "corecashu_mint_reachable",
        "Whether the last call to the mint that showed anything found it up (1) or down (0)",
        [...obs.mints.values()]
          .filter((m) => m.reachable !== undefined)
          .map((m) => ({ labels: { mint: m.mint }, value: m.reachable ? 1 : 0 })),
      ),
    ]
    if (head !== undefined) {
      families.push(
        scalar("corecashu_log_head", "Last global sequence of the log", [{ labels: {}, value: head }]),
        scalar("corecashu_projection_lag_events", "Log head minus the projections' position", [
          { labels: {}, value: Math.max(0, head - position) },
        ]),
      )
    }
    const cp = checkpointHealth(src, now)
    if (cp.ageSeconds !== undefined)
      families.push(
        scalar("corecashu_checkpoint_age_seconds", "Seconds since this engine last saved the checkpoints", [
          { labels: {}, value: cp.ageSeconds },
        ]),
      )
    if (cp.eventsSince !== undefined)
      families.push(
        scalar("corecashu_checkpoint_lag_events", "Events folded since the last saved or loaded checkpoint", [
          { labels: {}, value: cp.eventsSince },
        ]),
      )
    if (obs.lastAppendOkAt !== undefined)
      families.push(
        scalar("corecashu_log_last_append_timestamp_seconds", "When an append last succeeded (Unix time)", [
          { labels: {}, value: obs.lastAppendOkAt / 1000 },
        ]),
      )
    return renderPrometheus([...recorded, ...families])
  })

const checkpointHealth = (src: TelemetrySources, now: number): CheckpointHealth => {
  const obs = src.observations
  const saved = obs.lastCheckpointSave
  const base = saved?.sequence ?? obs.checkpointLoadedSequence
  const err = obs.lastCheckpointError
  return {
    enabled: src.checkpointsEnabled,
    lastSavedAt: saved?.at,
    lastSavedSequence: saved?.sequence,
    ageSeconds: saved === undefined ? undefined : Math.max(0, now - saved.at) / 1000,
    loadedSequence: obs.checkpointLoadedSequence,
    eventsSince:
      src.checkpointsEnabled && base !== undefined ? Math.max(0, src.runner.position() - base) : undefined,
    lastError:
      err !== undefined && (saved === undefined || err.at >= saved.at)
        ? { at: err.at, error: err.tag }
        : undefined,
  }
}

const mintHealth = (
  mint: string,
  seen: MintObservation | undefined,
  breaker: MintHealth["breaker"],
  probe: MintHealth["probe"],
): MintHealth => ({
  mint,
  breaker:
    breaker ??
    (seen?.lastOutcome === "MintNotSent" && seen.lastNotSentReason === "circuit-open" ? "open" : undefined),
  reachable: seen?.reachable,
  lastOutcome: seen?.lastOutcome,
  lastCallAt: seen?.lastCallAt,
  consecutiveFailures: seen?.consecutiveFailures ?? 0,
  probe,
})

/** Builds the {@link HealthReport}. */
export const healthReport = (
  src: TelemetrySources,
  options: HealthOptions = {},
): Effect.Effect<HealthReport> =>
  Effect.gen(function* () {
    const maxLag = options.maxProjectionLag ?? 1000
    const maxInDoubt = options.maxInDoubtAgeMs ?? 15 * 60_000
    const obs = src.observations
    const reasons: { failing: string[]; degraded: string[] } = { failing: [], degraded: [] }
    if (src.closed()) reasons.failing.push("the engine is closed")
    // The log.
    const { head, error: headError } = yield* headOf(src)
    let probeError: string | undefined
    if (src.storeKind === "leveldb" && src.dataDir !== undefined)
      probeError = yield* Effect.match(writeProbe(src.dataDir), {
        onFailure: (e) => e,
        onSuccess: () => undefined,
      })
    const appendErr = obs.lastAppendError
    const appendFailedLast =
      appendErr !== undefined && (obs.lastAppendOkAt === undefined || appendErr.at >= obs.lastAppendOkAt)
    const writable =
      probeError !== undefined || appendFailedLast
        ? false
        : src.storeKind === "leveldb" || obs.lastAppendOkAt !== undefined
          ? true
          : undefined
    if (head === undefined) reasons.failing.push(`the log cannot be read (${headError})`)
    if (probeError !== undefined)
      reasons.failing.push(`the data directory does not take durable writes (${probeError})`)
    if (appendFailedLast) reasons.failing.push(`the last append to the log failed (${appendErr!.tag})`)
    const store: StoreHealth = {
      kind: src.storeKind,
      readable: head !== undefined,
      writable,
      head,
      lastAppendAt: obs.lastAppendOkAt,
      lastAppendError: appendFailedLast ? { at: appendErr!.at, error: appendErr!.tag } : undefined,
      error: headError ?? probeError,
    }
    // Projections.
    const position = src.runner.position()
    const lag = head === undefined ? 0 : Math.max(0, head - position)
    if (lag > maxLag) reasons.degraded.push(`the projections are ${lag} events behind the log`)
    // Operations and proofs.
    const now = src.now()
    const c = countWallets(src, now)
    const inDoubt = [...c.inDoubt.values()].reduce((a, b) => a + b, 0)
    const oldestAge = c.oldest[0]?.ageMs
    if (oldestAge !== undefined && oldestAge > maxInDoubt)
      reasons.degraded.push(`an operation has been in doubt for ${Math.round(oldestAge / 1000)} s`)
    // Mints: those the hosted wallets trust, and any other the engine called.
    const origins = [...new Set([...c.mints, ...obs.mints.keys()])].sort()
    const probes = new Map<string, MintHealth["probe"]>()
    if (options.probe === true) {
      const urls = new Map<string, string>()
      const mints = src.runner.state(mintsProjection)
      for (const id of src.walletIds())
        for (const m of mintsOf(mints, walletStream(id))) urls.set(mintOrigin(m.mintUrl), m.mintUrl)
      yield* Effect.forEach(
        [...urls],
        ([origin, url]) =>
          Effect.exit(src.mint.info(url)).pipe(
            Effect.tap((exit) => {
              const f = Exit.isFailure(exit)
                ? (exit.cause.reasons.find((r) => r._tag === "Fail") as
                    | { error?: { _tag?: string } }
                    | undefined)
                : undefined
              probes.set(origin, {
                ok: Exit.isSuccess(exit),
                error: Exit.isSuccess(exit) ? undefined : (f?.error?._tag ?? "defect"),
              })
              return Effect.void
            }),
          ),
        { concurrency: 8, discard: true },
      )
    }
    const breakers = yield* breakerStates
    const mints = origins.map((o) => mintHealth(o, obs.mints.get(o), breakers.get(o), probes.get(o)))
    for (const m of mints) {
      if (m.breaker === "open") reasons.degraded.push(`the circuit breaker of ${m.mint} is open`)
      else if (m.probe !== undefined && !m.probe.ok)
        reasons.degraded.push(`${m.mint} did not answer the probe (${m.probe.error})`)
      else if (m.probe === undefined && m.reachable === false)
        reasons.degraded.push(`${m.mint} was unreachable at the last call (${m.lastOutcome})`)
    }
    // Checkpoints.
    const checkpoints = checkpointHealth(src, now)
    if (checkpoints.lastError !== undefined)
      reasons.degraded.push(`the last checkpoint save failed (${checkpoints.lastError.error})`)
    const status: HealthStatus =
      reasons.failing.length > 0 ? "failing" : reasons.degraded.length > 0 ? "degraded" : "ok"
    return {
      status,
      reasons: [...reasons.failing, ...reasons.degraded],
      checkedAt: now,
      store,
      projections: { position, head, lag },
      mints,
      operations: {
        inFlight: [...c.inFlight.values()].reduce((a, b) => a + b, 0),
        inDoubt,
        oldestInDoubtAgeMs: oldestAge,
        oldest: c.oldest.slice(0, 20),
      },
      checkpoints,
      wallets: src.walletIds().length,
    }
  })
