/**
 * Wallet leases in a JetStream KV bucket (issue #12): the {@link WalletLeasesShape} port for engine nodes
 * sharing one JetStream log.
 *
 * **The bucket** is `<stream>-owners`, created with a bucket TTL (the stream's `max_age`) and `history: 1`:
 * an entry the holder stops renewing is removed by the server once it is older than the TTL, measured on the
 * SERVER's clock from when the server stored the last renewal. No node's clock decides who owns a wallet —
 * a node whose clock runs fast or slow, or jumps, cannot expire another's lease early or keep its own alive;
 * only the durations of its own timers matter, and only for when it gives up on itself. When the bucket
 * exists already its TTL wins (every node of a log uses one TTL; a node's `ttlMs` only creates it).
 *
 * **An entry** is keyed by the wallet id (escaped for KV's key rules: every character outside
 * `[A-Za-z0-9_-]` as `=hh` per UTF-8 byte, so the mapping is injective) and holds `{ nodeId, epoch, token }`:
 * the holder, the ownership epoch it appended, and a random token of this acquisition.
 * - `acquire`: KV `create` — succeeds only when the key is absent (never written, released, or expired);
 *   otherwise the lease is held by the node the entry names.
 * - renewal: a heartbeat every `ttl / 3` updates each held entry by its revision (`update(key, value,
 *   revision)`: the server's compare-and-set). A refused update means the entry moved on (expired and taken
 *   by another node, or deleted): the lease is LOST and `onLost` runs at once — unless the entry still
 *   carries this acquisition's token (our own earlier update landed but its acknowledgement was lost: its
 *   revision is adopted). An update that fails otherwise (timeout, disconnected) is retried on the next beat;
 *   when no renewal has been confirmed for a whole TTL counted from the moment the last good one was SENT
 *   (a conservative bound: the server stamped it later), the server may have expired it: lost.
 * - `release`: delete by revision (only if still ours), on close and when the engine drops a wallet.
 *
 * The lease is permission, not the fence: the engine appends an ownership event after acquiring, and the
 * log's expected-version check stops a former owner that has not yet noticed (see `../engine/engine.ts`).
 *
 * @module
 */
import { JetStreamApiError } from "@nats-io/jetstream"
import { type KV, Kvm } from "@nats-io/kv"
import type { NatsConnection } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import { StoreUnavailable } from "../model/index.js"
import type { LeaseOutcome, WalletLeasesShape } from "../ports/wallet-leases.js"
import { describe, io, scopedConnection, unavailable } from "./jetstream/io.js"
import { settled } from "./jetstream/settling.js"

/** Options of {@link openJetStreamLeases}. */
export interface JetStreamLeasesOptions {
  readonly servers: string | ReadonlyArray<string>
  /** The log's stream (default `CORECASHU`); the leases live in the KV bucket `<stream>-owners`. */
  readonly stream?: string
  /** This node's id. */
  readonly nodeId: string
  /** The bucket TTL when this open creates the bucket, ms (default 10 000). */
  readonly ttlMs?: number
  /** Replicas of the bucket when this open creates it (default 1). */
  readonly replicas?: number
  /** How long to wait for a KV answer, ms (default 5000, at most the TTL / 3). */
  readonly timeoutMs?: number
}

/** The JetStream leases, plus what tests need to act out a paused node. */
export interface JetStreamWalletLeases extends WalletLeasesShape {
  /** The KV bucket's name. */
  readonly bucket: string
  /**
   * @internal Tests only: `suspend()` stops renewing (a node paused, its timers not firing) until
   * `resume()`; `beat()` runs one renewal round now.
   */
  readonly heartbeat: {
    readonly suspend: () => void
    readonly resume: () => void
    readonly beat: () => Promise<void>
  }
}

/** The default lease TTL, ms. */
export const DEFAULT_LEASE_TTL_MS = 10_000

/** JetStream's errors for a failed expected-last-subject-sequence check (KV create/update by revision). */
const isWrongLastSequence = (e: unknown): boolean =>
  e instanceof JetStreamApiError && (e.code === 10071 || e.code === 10164)

/** The KV key of a wallet id: `[A-Za-z0-9_-]` kept, every other character as `=hh` per UTF-8 byte. */
export const leaseKeyOf = (walletId: string): string => {
  let out = ""
  for (const ch of walletId) {
    if (/[A-Za-z0-9_-]/.test(ch)) out += ch
    else for (const b of Buffer.from(ch, "utf8")) out += `=${b.toString(16).padStart(2, "0")}`
  }
  return out
}

interface LeaseValue {
  readonly nodeId: string
  readonly epoch: number
  readonly token: string
}

interface Held {
  readonly key: string
  revision: number
  value: LeaseValue
  /** `performance.now()` when the last confirmed write of the entry was sent. */
  confirmedSentAt: number
  readonly onLost: (reason: string) => void
}

const encode = (v: LeaseValue): string => JSON.stringify(v)
const decode = (text: string): Partial<LeaseValue> => {
  try {
    // Not mint input: a lease value our nodes wrote (inside the NATS account's boundary).
    // nosemgrep: json-parse-outside-protocol
    const v = JSON.parse(text) as unknown
    return typeof v === "object" && v !== null ? (v as Partial<LeaseValue>) : {}
  } catch {
    return {}
  }
}

const newToken = (): string => {
  const b = new Uint8Array(12)
  globalThis.crypto.getRandomValues(b)
  return Buffer.from(b).toString("hex")
}

/** The entry's holder and token when it is a live value (not a delete marker), else undefined. */
const readEntry = async (kv: KV, key: string) => {
  const e = await kv.get(key)
  if (e === null || e.operation !== "PUT") return undefined
  return { revision: e.revision, value: decode(e.string()) }
}

/**
 * Opens this node's leases on a JetStream log's `<stream>-owners` bucket (created with the TTL when
 * missing). Closing the scope stops the heartbeat and releases every lease still held.
 */
export const openJetStreamLeases = (
  opts: JetStreamLeasesOptions,
): Effect.Effect<JetStreamWalletLeases, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const stream = opts.stream ?? "CORECASHU"
    const bucket = `${stream}-owners`
    const nc: NatsConnection = yield* scopedConnection({
      servers: opts.servers,
      name: `corecashu-leases-${opts.nodeId}`,
      timeoutMs: opts.timeoutMs ?? 5000,
    })
    const kv = yield* io(
      "opening the owners bucket",
      settled(() =>
        new Kvm(nc).create(bucket, {
          history: 1,
          ttl: opts.ttlMs ?? DEFAULT_LEASE_TTL_MS,
          replicas: opts.replicas ?? 1,
        }),
      ),
    )
    const ttlMs = (yield* io(
      "reading the owners bucket",
      settled(() => kv.status()),
    )).ttl
    if (!(ttlMs > 0))
      return yield* unavailable(`the KV bucket ${bucket} has no TTL: leases in it would never expire`)
    const timeout = Math.max(100, Math.min(opts.timeoutMs ?? 5000, Math.floor(ttlMs / 3)))

    const held = new Map<string, Held>()
    let suspended = false
    let closed = false

    const lose = (walletId: string, h: Held, reason: string): void => {
      if (held.get(walletId) !== h) return
      held.delete(walletId)
      h.onLost(reason)
    }

    /** One renewal of one lease. */
    const renew = async (walletId: string, h: Held): Promise<void> => {
      const sentAt = performance.now()
      try {
        h.revision = await kv.update(h.key, encode(h.value), h.revision, timeout)
        h.confirmedSentAt = sentAt
        return
      } catch (e) {
        if (held.get(walletId) !== h) return
        if (isWrongLastSequence(e)) {
          // Moved on — unless our own earlier update landed without its acknowledgement.
          const now = await readEntry(kv, h.key).catch(() => undefined)
          if (now !== undefined && now.value.token === h.value.token) {
            h.revision = now.revision
            h.confirmedSentAt = sentAt
            return
          }
          return lose(walletId, h, "the lease was taken over or removed (a renewal by revision was refused)")
        }
      }
      if (performance.now() - h.confirmedSentAt >= ttlMs)
        lose(walletId, h, `no renewal of the lease was confirmed for its TTL (${ttlMs} ms)`)
    }

    let running: Promise<void> = Promise.resolve()
    const beat = (): Promise<void> => {
      running = running.then(() =>
        Promise.all([...held].map(([walletId, h]) => renew(walletId, h))).then(() => undefined),
      )
      return running
    }
    const interval = Math.max(50, Math.floor(ttlMs / 3))
    const timer = setInterval(() => {
      if (!suspended && !closed && held.size > 0) void beat()
    }, interval)
    timer.unref?.()

    const release = (walletId: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        const h = held.get(walletId)
        if (h === undefined) return Effect.void
        held.delete(walletId)
        return Effect.ignore(io("releasing a lease", () => kv.delete(h.key, { previousSeq: h.revision })))
      })

    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        clearInterval(timer)
        return Effect.forEach([...held.keys()], release, { discard: true, concurrency: 8 })
      }),
    )

    const acquire = (
      walletId: string,
      epoch: number,
      onLost: (reason: string) => void,
    ): Effect.Effect<LeaseOutcome, StoreUnavailable> =>
      Effect.suspend(() => {
        if (closed)
          return Effect.fail(new StoreUnavailable({ reason: "closed", message: "the leases are closed" }))
        if (held.has(walletId)) return Effect.succeed({ _tag: "Acquired" } as const)
        const key = leaseKeyOf(walletId)
        const value: LeaseValue = { nodeId: opts.nodeId, epoch, token: newToken() }
        const sentAt = performance.now()
        return Effect.tryPromise({
          try: async (): Promise<LeaseOutcome> => {
            try {
              const revision = await kv.create(key, encode(value))
              held.set(walletId, { key, revision, value, confirmedSentAt: sentAt, onLost })
              return { _tag: "Acquired" }
            } catch (e) {
              if (!isWrongLastSequence(e)) throw e
              const now = await readEntry(kv, key)
              // Our own create landed without its acknowledgement (a retry inside the client).
              if (now !== undefined && now.value.token === value.token) {
                held.set(walletId, { key, revision: now.revision, value, confirmedSentAt: sentAt, onLost })
                return { _tag: "Acquired" }
              }
              return {
                _tag: "Held",
                owner: typeof now?.value.nodeId === "string" ? now.value.nodeId : undefined,
              }
            }
          },
          catch: (e) => unavailable(`acquiring a wallet's lease failed: ${describe(e)}`),
        })
      })

    return {
      nodeId: opts.nodeId,
      ttlMs,
      bucket,
      acquire,
      noteEpoch: (walletId, epoch) => {
        const h = held.get(walletId)
        if (h !== undefined) h.value = { ...h.value, epoch }
      },
      holds: (walletId) => held.has(walletId),
      release,
      holder: (walletId) =>
        io("reading a wallet's lease", () => readEntry(kv, leaseKeyOf(walletId))).pipe(
          Effect.map((e) => (typeof e?.value.nodeId === "string" ? e.value.nodeId : undefined)),
        ),
      heartbeat: {
        suspend: () => {
          suspended = true
        },
        resume: () => {
          suspended = false
        },
        beat,
      },
    }
  })
