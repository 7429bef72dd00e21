/**
 * The composition root: `Engine.open({ dataDir, passphrase | key })` opens the encrypted event log, brings
 * the projections up, unlocks every hosted wallet and runs recovery; `engine.createWallet()` adds wallets.
 * Each {@link Wallet} offers a Promise API and, under `wallet.effect`, the same calls as Effects. Errors are
 * the project's tagged errors ({@link WalletError}); a Promise rejects with the error itself.
 *
 * @module
 */
import { join } from "node:path"
import { generateMnemonic } from "@scure/bip39"
import { wordlist } from "@scure/bip39/wordlists/english.js"
import { Context, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { isValidMnemonic, mnemonicToSeed } from "../crypto/nut13.js"
import type { Attester, HeadAttestation } from "../events/attestation.js"
import type { WalletCreated } from "../events/catalogue.js"
import { newOperationId, walletEventId, walletStream } from "../events/ids.js"
import type { PayloadSealer } from "../events/sealer.js"
import { fileCheckpointStore } from "../infra/checkpoint-file-store.js"
import { type LevelDbAccess, openLevelDbEventStore } from "../infra/leveldb-store.js"
import { type LoggingOptions, resolveLogging, withEngineLogging } from "../infra/logging/logger.js"
import { MintClientHttpLive, type MintClientHttpOptions } from "../infra/mint-client/http.js"
import type { RpcTransport } from "../infra/nats-rpc.js"
import { startTelemetryHttp, type TelemetryAddress } from "../infra/telemetry/http.js"
import { observeCheckpoints, observeMintClient, observeStore } from "../infra/telemetry/observe.js"
import { otlpTracer } from "../infra/tracing.js"
import type { VaultOptions } from "../infra/vault.js"
import { appendWitness, attestHead, checkWitness, readWitness } from "../infra/witness.js"
import {
  DecodeError,
  EngineClosed,
  EngineInvariant,
  type InvalidArgument,
  StoreUnavailable,
  UnknownWallet,
  type WalletError,
  WalletExists,
  WalletNotOwned,
} from "../model/index.js"
import { EventStore, type EventStoreShape, type NewEvent } from "../ports/event-store.js"
import { MintClient, type MintClientShape } from "../ports/mint-client.js"
import type { NodeMembersShape } from "../ports/node-members.js"
import type { AppEvent } from "../projections/app-events.js"
import { type AuditResult, auditLog, InvariantChecker } from "../projections/audit.js"
import { backupOf, backupProjection } from "../projections/backup.js"
import type { CheckpointStore } from "../projections/checkpoint.js"
import { ALL_PROJECTIONS } from "../projections/index.js"
import { operationsOf, operationsProjection } from "../projections/operations.js"
import { ownerOf, ownersProjection } from "../projections/owners.js"
import { startProjectionRunner } from "../projections/runner.js"
import {
  type AppEventsError,
  type AppEventsOptions,
  appEventIterable,
  appEventStreamOf,
} from "./app-events.js"
import { checked, createWalletArgs, healthArgs, openArgs, remoteArgs, walletIdArg } from "./arguments.js"
import {
  type EngineTelemetryOptions,
  type HealthOptions,
  type HealthReport,
  healthReport,
  Observations,
  renderMetrics,
  type TelemetrySources,
} from "./health.js"
import { hooksOf, newWallet, registerEngine, walletRuntime } from "./internal.js"
import { walletPrivateKey } from "./keys.js"
import { logAppended } from "./log-events.js"
import { makeMintCache, mintCachesEnabled } from "./mint-cache.js"
import { placementOf } from "./placement.js"
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions, type EngineServices, WalletRuntime } from "./runtime.js"
import { deferRecovery, seedFromBackup } from "./startup.js"
// Loading the class registers how the engine builds wallets (`./internal.ts`).
import "./wallet.js"
import { recoverWallet } from "./recovery.js"
import {
  callLocal,
  callRemote,
  closedCall,
  type RemoteOptions,
  RemoteWallet,
  serveWallet,
} from "./routing.js"
import type { Wallet } from "./wallet.js"

/** How the engine reaches mints: a ready client, or options of the HTTP client with its policies. */
export type MintClientChoice = MintClientShape | MintClientHttpOptions

const isClient = (c: MintClientChoice): c is MintClientShape =>
  typeof (c as MintClientShape).swap === "function"

/**
 * Where projection checkpoints live on LevelDB, inside the data directory (LevelDB ignores files it did not
 * write). On JetStream they live in the log's `<stream>-checkpoints` bucket instead (`sharedCheckpoints`).
 */
const CHECKPOINT_DIR = "checkpoints"
/** Save checkpoints after this many events (and when the engine closes). */
const CHECKPOINT_EVERY = 10_000

/**
 * Where the event log lives: a LevelDB directory (the default: `dataDir`), or a NATS JetStream stream shared
 * by the engine nodes that serve one wallet population (issue #12). With JetStream, `dataDir` is not used:
 * the vault's material lives in a KV bucket beside the stream (`infra/jetstream-vault.ts`), the projection
 * checkpoints in an Object Store bucket shared by the nodes (`infra/jetstream-checkpoints.ts`), and appends
 * are compare-and-set on the server (`infra/jetstream-store.ts`).
 */
export type EngineStoreChoice =
  | { readonly kind: "leveldb" }
  | {
      readonly kind: "jetstream"
      /** NATS server URLs (`nats://127.0.0.1:4222`), one or several of the cluster. */
      readonly servers: string | ReadonlyArray<string>
      /** The stream holding the log (default `CORECASHU`). */
      readonly stream?: string
      /** Subject prefix of the wallets' streams (default `cc`). */
      readonly subjectPrefix?: string
      /** Replicas when this open creates the stream and the vault bucket (1 or 3; default 1). */
      readonly replicas?: number
      /**
       * Run as one node of several over this log (issue #12): the engine then hosts only the wallets whose
       * lease it holds — those it creates and those it takes over with {@link Engine.acquire} — and none on
       * open. Without it the engine hosts every wallet of the log (one node per stream).
       */
      readonly node?: EngineNodeOptions
    }

/** One engine node of several sharing a JetStream log (see {@link EngineStoreChoice}). */
export interface EngineNodeOptions {
  /** This node's id, `[A-Za-z0-9._-]`, ≤ 128 chars (default: a fresh random one). Unique among live nodes. */
  readonly id?: string
  /**
   * How long a wallet's lease lives without a renewal, ms (default 10 000; 300 … 600 000). Used when this
   * node creates the log's `<stream>-owners` bucket; an existing bucket's TTL wins. Renewed every TTL / 3.
   */
  readonly leaseTtlMs?: number
  /**
   * Where wallets live (default `"none"`: a node hosts what it creates and what it acquires). With
   * `"rendezvous"` the node announces itself in the log's `<stream>-nodes` bucket (same TTL as the leases,
   * on the server's clock) and keeps the wallets placed by rendezvous hashing over the live members
   * (`./placement.ts`): on every membership change and every TTL / 3 it acquires the wallets of the log
   * placed on it that it does not host (a try: it fails while the previous owner's lease lives) and hands
   * off those placed elsewhere (it stops serving them, waits for their operations in flight, and releases
   * the lease so the new owner acquires at once). The lease and the epoch fence still decide who may serve.
   */
  readonly placement?: "none" | "rendezvous"
}

/** Options of {@link Engine.open}. */
export type EngineOpenOptions = LevelDbAccess & {
  /**
   * Directory of the event log (created if missing; one process per directory) and of its projection
   * checkpoints. Not used with a JetStream store, whose checkpoints live beside the stream.
   */
  readonly dataDir: string
  /** Where the log lives (default: LevelDB in `dataDir`). */
  readonly store?: EngineStoreChoice
  /** The mint client; default: the HTTP client with retry, timeouts, circuit breaker and rate limits. */
  readonly mintClient?: MintClientChoice
  /** Engine knobs (DLEQ policy, restore batches, polling). */
  readonly options?: Partial<EngineOptions>
  /** Clock, epoch ms (tests). */
  readonly now?: () => number
  /**
   * Recover in-flight operations after open (default true): in the background, and before each affected
   * wallet's first call (see {@link Engine.open}). `false`: no recovery until `wallet.recover()`.
   */
  readonly recover?: boolean
  /** Vault options (scrypt cost of a new passphrase vault; tests use a weak KDF). */
  readonly vault?: import("../infra/vault.js").VaultOptions
  /**
   * A witness file for head attestations, on storage a forger of the data directory cannot reach
   * (`infra/witness.ts`). Opening checks that the log still holds the furthest attested event (a cut of the
   * newest events fails with `StoreCorrupted`) and appends an attestation of the head; so do `close` and
   * {@link Engine.attestHead}.
   */
  readonly witness?: string
  /** Create a new log when `dataDir` is missing or empty (default true); never over other files. */
  readonly create?: boolean
  /**
   * The engine's structured logs: level (default `warn`), `json` or `pretty`, and where lines go (standard
   * error by default). Lines never hold a secret: see `infra/logging/record.ts`. Unset fields come from
   * `CORECASHU_LOG_LEVEL`, `CORECASHU_LOG_FORMAT` and `CORECASHU_LOG_FILE`.
   */
  readonly logging?: LoggingOptions
  /**
   * Metrics and health over HTTP: `{ http: { port, host? } }` starts a listener (default host `127.0.0.1`)
   * serving `GET /metrics`, `/healthz` and `/readyz` until the engine closes (see `./health.ts`).
   */
  readonly telemetry?: EngineTelemetryOptions
}

/** Options of {@link Engine.createWallet}. */
export interface CreateWalletOptions {
  /** Default: a fresh id. `[A-Za-z0-9._-]`, ≤ 128 chars. */
  readonly walletId?: string
  /** Default: a fresh 12-word BIP-39 mnemonic (read it back with `wallet.mnemonic()` to back it up). */
  readonly mnemonic?: string
  readonly label?: string
}

/**
 * What the engine needs of its log beyond the contract: how payloads are sealed, who attests heads, and how
 * to catch up with other nodes' appends (the head as the server has it; LevelDB: the head).
 */
type OpenedLog = EventStoreShape & {
  readonly sealer: PayloadSealer | undefined
  readonly attester: Attester | undefined
  readonly sync: Effect.Effect<number, import("../model/index.js").StoreError>
}

/**
 * The NATS side of the engine, loaded only when a JetStream store is chosen: LevelDB users never load the
 * NATS client (nor pay its start-up).
 */
const natsModules = Effect.promise(() =>
  Promise.all([
    import("../infra/jetstream-store.js"),
    import("../infra/jetstream-vault.js"),
    import("../infra/jetstream-leases.js"),
    import("../infra/nats-rpc.js"),
    import("../infra/jetstream-members.js"),
    import("../infra/jetstream-checkpoints.js"),
  ]).then(([store, vault, leases, rpc, members, checkpoints]) => ({
    openJetStreamCheckpoints: checkpoints.openJetStreamCheckpoints,
    checkpointsAtOpen: checkpoints.checkpointsAtOpen,
    openJetStreamMembers: members.openJetStreamMembers,
    openJetStreamEventStore: store.openJetStreamEventStore,
    openJetStreamVault: vault.openJetStreamVault,
    openJetStreamLeases: leases.openJetStreamLeases,
    openNatsRpc: rpc.openNatsRpc,
  })),
)

/** Opens the JetStream log: unlocks (or creates) its vault from the KV bucket, then the store. */
const openJetStreamLog = (
  where: Extract<EngineStoreChoice, { kind: "jetstream" }>,
  access: LevelDbAccess,
  vault: VaultOptions | undefined,
  create: boolean | undefined,
): Effect.Effect<OpenedLog, import("../model/index.js").StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const { openJetStreamEventStore, openJetStreamVault } = yield* natsModules
    const common = {
      servers: where.servers,
      ...(where.stream !== undefined ? { stream: where.stream } : {}),
      ...(where.subjectPrefix !== undefined ? { subjectPrefix: where.subjectPrefix } : {}),
      ...(where.replicas !== undefined ? { replicas: where.replicas } : {}),
      ...(create !== undefined ? { create } : {}),
    }
    if ("passphrase" in access || "key" in access) {
      const secret = "passphrase" in access ? { passphrase: access.passphrase } : { key: access.key }
      const unlocked = yield* openJetStreamVault({
        ...common,
        secret,
        ...(vault !== undefined ? { vault } : {}),
      })
      const store = yield* openJetStreamEventStore({ ...common, sealer: unlocked.vault })
      return {
        ...store,
        attester: { keyId: unlocked.vault.keyId, authenticate: unlocked.vault.authenticate },
      }
    }
    const store = yield* openJetStreamEventStore({ ...common, ...access })
    return { ...store, attester: undefined }
  })

/**
 * The checkpoints of a JetStream log, in its `<stream>-checkpoints` bucket: read before the log catches up
 * with the server, so none that another node saved meanwhile is past the head the projections open at. No
 * local copy in `dataDir`: the log is on the same servers, so a node that cannot reach the bucket cannot
 * open anyway, and a second copy would double every save for a cache the bucket already keeps.
 */
const sharedCheckpoints = (
  where: Extract<EngineStoreChoice, { kind: "jetstream" }>,
  log: OpenedLog,
  sealer: PayloadSealer,
): Effect.Effect<CheckpointStore, import("../model/index.js").StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const { openJetStreamCheckpoints, checkpointsAtOpen } = yield* natsModules
    const shared = yield* openJetStreamCheckpoints({
      servers: where.servers,
      sealer,
      ...(where.stream !== undefined ? { stream: where.stream } : {}),
      ...(where.replicas !== undefined ? { replicas: where.replicas } : {}),
    })
    return yield* checkpointsAtOpen(
      shared,
      ALL_PROJECTIONS.map((p) => p.name),
      log.sync,
    )
  })

/** A store failure where only the engine's errors may leave: named, never guessed at. */
const storeFailed = (e: { readonly _tag: string }): EngineInvariant =>
  new EngineInvariant({ message: `the log or the leases failed (${e._tag})` })

const notOwnedError = (walletId: string, owner: string | undefined, why: string): WalletNotOwned =>
  new WalletNotOwned({ walletId, owner, message: `this node does not own the wallet: ${why}` })

const notOwned = (walletId: string, owner: string | undefined, why: string) =>
  Effect.fail(notOwnedError(walletId, owner, why))

/**
 * The ownership event of `epoch` (issue #12). Its id carries the node and a fresh nonce: a retry of this one
 * append is recognised as itself, but no other node's (or other attempt's) event of the same epoch is ever
 * taken for it.
 */
const ownerEvent = (walletId: string, nodeId: string, epoch: number): NewEvent => ({
  eventId: walletEventId(walletId, "owner", epoch, nodeId, newOperationId()),
  event: { _tag: "WalletOwnerChanged", nodeId, epoch },
})

/** The HTTP mint client with its policies, living as long as the engine's scope. */
const httpMintClient = (options: MintClientHttpOptions): Effect.Effect<MintClientShape, never, Scope.Scope> =>
  Layer.build(MintClientHttpLive(options)).pipe(Effect.map((ctx) => Context.get(ctx, MintClient)))

/**
 * A running engine hosting many wallets over one event log. What it is made of (the raw log, whose
 * `WalletCreated` events hold mnemonics, the mint client, the projections) lives in ES private fields: no
 * property of an engine or of its wallets leads to it.
 */
export class Engine {
  readonly #wallets = new Map<string, Wallet>()
  #closed = false
  readonly #scope: Scope.Closeable
  readonly #services: EngineServices
  readonly #attester: Attester | undefined
  readonly #witness: string | undefined
  /** Catches this node's view of the log up with the server (other nodes' appends). */
  readonly #sync: Effect.Effect<number, import("../model/index.js").StoreError>
  /** Acquisitions in progress, by wallet id (a second `acquire` of the same wallet joins the first). */
  readonly #acquiring = new Map<string, Promise<Wallet>>()
  /** Runtimes of wallets this node lost; their seeds are wiped when the engine closes. */
  readonly #dropped: WalletRuntime[] = []
  /** Routed calls (JetStream only, `./routing.ts`): the transport, and the subscriptions of hosted wallets. */
  readonly #rpc: RpcTransport | undefined
  readonly #serving = new Map<string, () => void>()
  /** Placement (`store.node.placement: "rendezvous"`): the live members, and the rebalancing loop. */
  #members: NodeMembersShape | undefined
  #stopPlacement: (() => void) | undefined
  #rebalancing: Promise<void> | undefined
  #rebalanceAgain = false
  /** Wallets being handed off (no second hand-off, no acquisition meanwhile). */
  readonly #handingOff = new Set<string>()
  /** The background recovery sweep open started (`./startup.ts`), if any. */
  #sweep: Fiber.Fiber<void> | undefined
  /** What metrics and health read beyond the services (set once by `openEffect`). */
  #telemetry!: Pick<TelemetrySources, "observations" | "storeKind" | "dataDir" | "checkpointsEnabled">
  #telemetryAddress: TelemetryAddress | undefined

  private constructor(
    scope: Scope.Closeable,
    services: EngineServices,
    attester: Attester | undefined,
    witness: string | undefined,
    sync: Effect.Effect<number, import("../model/index.js").StoreError>,
    rpc?: RpcTransport,
  ) {
    this.#rpc = rpc
    this.#scope = scope
    this.#services = services
    this.#attester = attester
    this.#witness = witness
    this.#sync = sync
    registerEngine(this, services)
  }

  /** This engine's node id when it runs as one node of several (`store.node`), else undefined. */
  get nodeId(): string | undefined {
    return this.#services.leases?.nodeId
  }

  /**
   * Attests the log's current head (sequence, hash, time; tagged with the vault's key) and, with a witness
   * file, appends it there durably. Export attestations to storage or monitoring a forger cannot reach: a
   * later audit with them (`corecashu audit --witness FILE`) detects a cut of the newest events.
   */
  attestHead(): Promise<HeadAttestation> {
    return Effect.runPromise(this.attestHeadEffect())
  }

  /** {@link Engine.attestHead} as an Effect. */
  attestHeadEffect(): Effect.Effect<HeadAttestation, import("../model/index.js").StoreError> {
    const { store, now } = this.#services
    const witness = this.#witness
    return Effect.tap(attestHead(store, now(), this.#attester), (a) =>
      witness === undefined ? Effect.void : appendWitness(witness, a),
    )
  }

  /**
   * Opens (or creates) the engine's data directory and recovers in-flight operations. Options are checked
   * before the disk is touched: a wrong or unknown one fails with `InvalidArgument`.
   *
   * What open verifies before it returns — the vault, the log (a damaged or cut log fails here, loudly), the
   * witness, the projections caught up from their checkpoints — it still verifies; what it does per wallet
   * it no longer does (issue #15), so its time does not grow with the number of wallets:
   * - a wallet's seed (BIP-39, ~1–2 ms) is derived the first time an operation or `publicKey()` needs it,
   *   and its stream version read at its first write;
   * - recovery (unless `recover: false`) runs in the background after open returns, only for the wallets
   *   whose operations projection shows operations in flight. **Guarantee:** the first call on such a
   *   wallet — any call, `recover()` included — runs or joins that wallet's recovery pass and starts its own
   *   operation only after the pass ended, so no call acts on a wallet whose operations left in doubt by the
   *   last run were not yet put through recovery (what a pass cannot settle stays pending, as before). The
   *   synchronous reads (`balance()`, `history()`, `pending()`) show the log as it is meanwhile.
   */
  static open(opts: EngineOpenOptions): Promise<Engine> {
    return Effect.runPromise(Engine.openEffect(opts))
  }

  /** {@link Engine.open} as an Effect. */
  static openEffect(
    opts: EngineOpenOptions,
  ): Effect.Effect<Engine, WalletError | import("../model/index.js").StoreError> {
    return Effect.gen(function* () {
      yield* checked(() => openArgs(opts, DEFAULT_ENGINE_OPTIONS))
      const hooks = hooksOf(opts)
      const observe = withEngineLogging(resolveLogging(opts.logging))
      const scope = yield* Scope.make()
      const opened = yield* Effect.gen(function* () {
        const {
          dataDir,
          mintClient,
          options,
          now,
          recover,
          vault,
          witness,
          create,
          store: where,
          telemetry,
          logging: _logging,
          ...access
        } = opts
        // What the log, the checkpoints and the mint calls show, for engine.metrics() and engine.health().
        const observations = new Observations(now ?? Date.now)
        const rawStore =
          where?.kind === "jetstream"
            ? yield* openJetStreamLog(where, access as LevelDbAccess, vault, create)
            : yield* openLevelDbEventStore({
                dataDir,
                ...(access as LevelDbAccess),
                ...(vault !== undefined ? { vault } : {}),
                ...(create !== undefined ? { create } : {}),
              }).pipe(Effect.map((s): OpenedLog => ({ ...s, sync: s.head })))
        const store = observeStore(rawStore, observations)
        if (witness !== undefined) {
          const attested = yield* readWitness(witness)
          yield* checkWitness(store, attested, store.attester, "furthest")
        }
        // Projection checkpoints, sealed like the log (they hold backup material): opening folds only the
        // events after the newest checkpoint that still matches the log, not the whole history. On
        // JetStream they are shared by the nodes, so a node with an empty data directory opens from them.
        const checkpoints =
          store.sealer === undefined
            ? undefined
            : where?.kind === "jetstream"
              ? yield* sharedCheckpoints(where, store, store.sealer)
              : fileCheckpointStore(join(dataDir, CHECKPOINT_DIR), store.sealer)
        const runner = yield* startProjectionRunner({
          projections: ALL_PROJECTIONS,
          ...(checkpoints !== undefined
            ? {
                checkpoints: observeCheckpoints(checkpoints, observations),
                checkpointEvery: CHECKPOINT_EVERY,
              }
            : {}),
        }).pipe(Effect.provideService(EventStore, store))
        const rawMint =
          mintClient !== undefined && isClient(mintClient)
            ? mintClient
            : yield* httpMintClient(mintClient ?? {})
        const mint = observeMintClient(rawMint, observations)
        // Traces (telemetry.otlp): one exporter in the engine's scope, flushed when the engine closes.
        const tracer = telemetry?.otlp !== undefined ? yield* otlpTracer(telemetry.otlp) : undefined
        // One node of several: this node's leases, beside the log (released when the engine closes).
        const node = where?.kind === "jetstream" ? where.node : undefined
        const leases =
          node === undefined || where?.kind !== "jetstream"
            ? undefined
            : yield* (yield* natsModules).openJetStreamLeases({
                servers: where.servers,
                ...(where.stream !== undefined ? { stream: where.stream } : {}),
                nodeId: node.id ?? `node-${newOperationId()}`,
                ...(node.leaseTtlMs !== undefined ? { ttlMs: node.leaseTtlMs } : {}),
                ...(where.replicas !== undefined ? { replicas: where.replicas } : {}),
              })
        const services: EngineServices = {
          store,
          mint,
          runner,
          now: now ?? Date.now,
          options: { ...DEFAULT_ENGINE_OPTIONS, ...options },
          ...(hooks !== undefined ? { hooks } : {}),
          ...(leases !== undefined ? { leases } : {}),
          ...(mintCachesEnabled()
            ? {
                mintCache: makeMintCache({
                  now: now ?? Date.now,
                  infoTtlMs: options?.infoTtlMs ?? DEFAULT_ENGINE_OPTIONS.infoTtlMs,
                }),
              }
            : {}),
          observe:
            tracer === undefined
              ? observe
              : <A, E, R>(effect: Effect.Effect<A, E, R>) => observe(Effect.withTracer(effect, tracer)),
        }
        // Routed calls (issue #12): this node answers for the wallets it hosts, and routes the others.
        const rpc =
          where?.kind === "jetstream"
            ? yield* (yield* natsModules).openNatsRpc({
                servers: where.servers,
                ...(where.subjectPrefix !== undefined ? { subjectPrefix: where.subjectPrefix } : {}),
                name: `corecashu-rpc-${leases?.nodeId ?? "engine"}`,
              })
            : undefined
        const engine = new Engine(scope, services, store.attester, witness, store.sync, rpc)
        engine.#telemetry = {
          observations,
          storeKind: where?.kind === "jetstream" ? "jetstream" : "leveldb",
          dataDir: where?.kind === "jetstream" ? undefined : dataDir,
          checkpointsEnabled: checkpoints !== undefined,
        }
        if (witness !== undefined) yield* engine.attestHeadEffect()
        // Placement (issue #12): announce this node, then keep the wallets placed on it hosted here.
        if (leases !== undefined && node?.placement === "rendezvous" && where?.kind === "jetstream")
          engine.#startPlacement(
            yield* (yield* natsModules).openJetStreamMembers({
              servers: where.servers,
              ...(where.stream !== undefined ? { stream: where.stream } : {}),
              nodeId: leases.nodeId,
              ttlMs: leases.ttlMs,
              ...(where.replicas !== undefined ? { replicas: where.replicas } : {}),
            }),
          )
        // A node of several hosts no wallet until it acquires one.
        if (leases === undefined) {
          yield* engine.#loadWallets()
          if (recover !== false) yield* engine.#recoverAll()
        }
        if (telemetry?.http !== undefined)
          engine.#telemetryAddress = yield* startTelemetryHttp(telemetry.http, {
            metrics: () => engine.metrics(),
            ready: () => engine.health().then((h) => ({ ok: h.status === "ok", body: h })),
          })
        return engine
      }).pipe(
        Scope.provide(scope),
        Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))),
        observe,
      )
      return opened
    })
  }

  #loadWallets(): Effect.Effect<void, EngineInvariant | import("../model/index.js").StoreError> {
    const self = this
    return Effect.gen(function* () {
      const backups = self.#services.runner.state(backupProjection)
      // No per-wallet work here (issue #15): the seed is derived, and the stream's version read, on first use.
      for (const [stream, w] of backups.wallets.entries()) {
        if (w.walletId === undefined || w.mnemonic === undefined) continue
        const seed = seedFromBackup(self.#services.runner, stream)
        const rt = new WalletRuntime(w.walletId, seed, self.#services, undefined)
        yield* self.#host(w.walletId, self.#newWallet(rt))
      }
    })
  }

  /** Starts placement: a rebalance now, on every membership change, and every TTL / 3. */
  #startPlacement(members: NodeMembersShape & { readonly ttlMs: number }): void {
    this.#members = members
    const kick = () => this.#kickRebalance()
    const unlisten = members.onChange(kick)
    const timer = setInterval(kick, Math.max(50, Math.floor(members.ttlMs / 3)))
    timer.unref?.()
    this.#stopPlacement = () => {
      unlisten()
      clearInterval(timer)
    }
    kick()
  }

  /** Runs a rebalance, or one more after the running one. */
  #kickRebalance(): void {
    if (this.#closed) return
    if (this.#rebalancing !== undefined) {
      this.#rebalanceAgain = true
      return
    }
    this.#rebalancing = Effect.runPromise(this.#services.observe(Effect.ignore(this.#rebalance()))).finally(
      () => {
        this.#rebalancing = undefined
        if (this.#rebalanceAgain) {
          this.#rebalanceAgain = false
          this.#kickRebalance()
        }
      },
    )
  }

  /**
   * One pass of placement: every wallet of the log placed on this node by the members it sees is acquired
   * (a failure is harmless: the previous owner's lease still lives, the next pass tries again), every
   * hosted wallet placed elsewhere handed off. Nothing moves while this node is not among the members it
   * sees (its own entry lapsed: it cannot know where wallets belong).
   */
  #rebalance(): Effect.Effect<void, WalletError> {
    const self = this
    return Effect.gen(function* () {
      const members = self.#members?.members() ?? []
      const leases = self.#services.leases
      if (self.#closed || leases === undefined || !members.includes(leases.nodeId)) return
      const { runner } = self.#services
      yield* self.#sync.pipe(
        Effect.flatMap((head) => runner.awaitSequence(head)),
        Effect.mapError(storeFailed),
      )
      const mine: string[] = []
      const away: string[] = []
      for (const w of runner.state(backupProjection).wallets.values()) {
        if (w.walletId === undefined || w.mnemonic === undefined) continue
        const placed = placementOf(w.walletId, members) === leases.nodeId
        const hosted = self.#wallets.has(w.walletId)
        if (placed && !hosted && !self.#handingOff.has(w.walletId)) mine.push(w.walletId)
        else if (!placed && hosted) away.push(w.walletId)
      }
      yield* Effect.forEach(away, (id) => self.#handOff(id), { concurrency: 8, discard: true })
      yield* Effect.forEach(mine, (id) => Effect.ignore(self.acquireEffect(id)), {
        concurrency: 4,
        discard: true,
      })
    })
  }

  /**
   * Gives a hosted wallet up voluntarily (placement moved it): stops serving it at once (new calls are
   * routed to its next owner), lets the operations this node is driving finish (up to a TTL), takes the
   * wallet's writer and marks it lost under it — no append of this node can follow —, then releases the
   * lease so the next owner acquires it without waiting for the TTL. An operation still running after the
   * wait fails its next append and is left in flight for the next owner's recovery (the usual takeover).
   */
  #handOff(walletId: string): Effect.Effect<void> {
    const self = this
    return Effect.gen(function* () {
      const wallet = self.#wallets.get(walletId)
      const leases = self.#services.leases
      if (wallet === undefined || leases === undefined || self.#handingOff.has(walletId)) return
      self.#handingOff.add(walletId)
      const rt = walletRuntime(wallet)
      self.#wallets.delete(walletId)
      self.#serving.get(walletId)?.()
      self.#serving.delete(walletId)
      const { runner } = self.#services
      const busy = () =>
        operationsOf(runner.state(operationsProjection), rt.stream, { inFlight: true }).some((op) =>
          rt.isClaimed(op.operationId),
        )
      const until = performance.now() + leases.ttlMs
      while (busy() && performance.now() < until) yield* Effect.sleep("20 millis")
      yield* rt.write(() =>
        Effect.sync(() => rt.markLost("handed off: placement moved the wallet to another node")),
      )
      self.#dropped.push(rt)
      yield* leases.release(walletId)
    }).pipe(Effect.ensuring(Effect.sync(() => self.#handingOff.delete(walletId))))
  }

  /** Hosts a wallet: serves it locally, and answers its routed calls (until it is dropped). */
  #host(walletId: string, wallet: Wallet): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.#wallets.set(walletId, wallet)
      const rpc = this.#rpc
      if (rpc === undefined || this.#serving.has(walletId)) return Effect.void
      const serving = rpc.serve(
        rpc.subjectOf(walletId),
        serveWallet(walletId, (id) => this.wallet(id)),
      )
      this.#serving.set(walletId, serving.stop)
      return Effect.promise(() => serving.ready)
    })
  }

  #newWallet(rt: WalletRuntime): Wallet {
    return newWallet<Wallet>(
      rt,
      () => walletPrivateKey(rt.seed),
      () => this.auditEffect(),
    )
  }

  /**
   * Recovery at open, deferred (`./startup.ts`): the wallets with operations in flight are gated — each one's
   * first call runs or joins its recovery pass before its own operation starts — and a background sweep in
   * the engine's scope runs the passes nobody asked for yet. Returns before any pass runs.
   */
  #recoverAll(): Effect.Effect<void> {
    const runtimes = [...this.#wallets.values()].map((w) => walletRuntime(w))
    return this.#services.observe(
      Effect.map(deferRecovery(this.#services.runner, runtimes, this.#scope), ({ sweep }) => {
        this.#sweep = sweep
      }),
    )
  }

  /**
   * Resolves once the recovery `Engine.open` deferred has run: every wallet that had operations in flight went
   * through its recovery pass (the background sweep ended). At once when open found nothing in flight, or ran
   * with `recover: false`. A service that wants the old behaviour — nothing served before recovery — awaits it
   * after open; a wallet's own first call waits for that wallet's pass anyway.
   */
  recovered(): Promise<void> {
    return Effect.runPromise(this.recoveredEffect())
  }

  /** {@link Engine.recovered} as an Effect. */
  recoveredEffect(): Effect.Effect<void> {
    return Effect.suspend(() =>
      this.#sweep === undefined ? Effect.void : Effect.asVoid(Fiber.await(this.#sweep)),
    )
  }

  #check(): Effect.Effect<void, EngineClosed> {
    return this.#closed ? Effect.fail(new EngineClosed({ message: "the engine is closed" })) : Effect.void
  }

  /** Creates a wallet (from a new or given mnemonic). */
  createWallet(opts?: CreateWalletOptions): Promise<Wallet> {
    return Effect.runPromise(this.createWalletEffect(opts))
  }

  /** {@link Engine.createWallet} as an Effect. */
  createWalletEffect(options?: CreateWalletOptions): Effect.Effect<Wallet, WalletError> {
    const self = this
    return Effect.gen(function* () {
      const opts = yield* checked(() => createWalletArgs(options))
      yield* self.#check()
      const { store, runner, leases } = self.#services
      const walletId =
        opts.walletId ??
        `w${Date.now().toString(36)}${globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`
      const exists = () => new WalletExists({ walletId, message: "a wallet with this id exists" })
      if (self.#wallets.has(walletId) || (leases !== undefined && self.#knows(walletId)))
        return yield* exists()
      const mnemonic = opts.mnemonic?.trim().replace(/\s+/g, " ") ?? generateMnemonic(wordlist, 128)
      if (!isValidMnemonic(mnemonic))
        return yield* new DecodeError({
          reason: "mnemonic",
          message: "the mnemonic is not a valid BIP-39 phrase",
        })
      const created: WalletCreated = {
        _tag: "WalletCreated",
        walletId,
        mnemonic,
        ...(opts.label !== undefined ? { label: opts.label } : {}),
      }
      const events: NewEvent[] = [{ eventId: walletEventId(walletId, "created"), event: created }]
      // One node of several: the new wallet's lease first, then its creation with the first epoch, in one append.
      const tenure = leases === undefined ? undefined : self.#tenure()
      if (leases !== undefined && tenure !== undefined) {
        const got = yield* leases.acquire(walletId, 1, tenure.onLost).pipe(Effect.mapError(storeFailed))
        if (got._tag === "Held") return yield* notOwned(walletId, got.owner, "another node holds its lease")
        events.push(ownerEvent(walletId, leases.nodeId, 1))
      }
      const stream = walletStream(walletId)
      const r = yield* store.append(stream, 0, events).pipe(
        Effect.mapError((e) =>
          e._tag === "WrongExpectedVersion"
            ? exists()
            : new StoreUnavailable({
                reason: "in-doubt",
                message: `the log did not confirm the wallet's creation (${e._tag}): it may have been recorded or not; the engine opened again (or acquire, with node ids) hosts it if it was`,
              }),
        ),
        Effect.tapError(() => (leases === undefined ? Effect.void : leases.release(walletId))),
      )
      // Its creation was in the log already (an earlier call the log did not confirm): the wallet exists, with
      // that call's mnemonic — never host it with this one's.
      if (r.deduplicated) {
        if (leases !== undefined) yield* leases.release(walletId)
        return yield* exists()
      }
      yield* runner
        .awaitSequence(r.lastSequence)
        .pipe(Effect.mapError((e) => new EngineInvariant({ message: `projections failed (${e._tag})` })))
      yield* logAppended(walletId, events)
      const rt = new WalletRuntime(walletId, mnemonicToSeed(mnemonic), self.#services, r.streamVersion)
      if (tenure !== undefined) yield* tenure.start(rt)
      const wallet = self.#newWallet(rt)
      yield* self.#host(walletId, wallet)
      return wallet
    }).pipe(self.#services.observe)
  }

  /**
   * Takes over a wallet no node holds (issue #12; with `store.node` only): acquires its lease (free,
   * released or expired on the server's clock), appends the next ownership epoch to its stream — after
   * which a former owner can never append to it again: the server refuses its stale expectation — runs the
   * wallet's recovery, and serves it. Operations the former owner left in flight are settled the usual way,
   * with one more guard: for `unansweredGraceMs` none of them is released on an all-unspent checkstate (the
   * former owner's request may still be on its way to the mint). Fails with `WalletNotOwned` (naming the
   * holder) while another node holds the lease, `UnknownWallet` for a wallet the log does not hold.
   * Without `store.node` every wallet is hosted already: this is {@link Engine.wallet}.
   */
  acquire(walletId: string): Promise<Wallet> {
    return Effect.runPromise(this.acquireEffect(walletId))
  }

  /** {@link Engine.acquire} as an Effect. */
  acquireEffect(walletId: string): Effect.Effect<Wallet, WalletError> {
    const self = this
    return Effect.gen(function* () {
      const id = yield* checked(() => walletIdArg(walletId))
      yield* self.#check()
      const hosted = self.#wallets.get(id)
      if (hosted !== undefined) return hosted
      if (self.#services.leases === undefined)
        return yield* new UnknownWallet({ walletId: id, message: "no wallet with this id in this engine" })
      if (self.#handingOff.has(id))
        return yield* notOwned(id, undefined, "this node is handing it off (placement moved it)")
      // One takeover per wallet at a time: a second call joins the first.
      let attempt = self.#acquiring.get(id)
      if (attempt === undefined) {
        const started = Effect.runPromise(self.#services.observe(self.#takeOver(id))).finally(() =>
          self.#acquiring.delete(id),
        )
        self.#acquiring.set(id, started)
        attempt = started
      }
      const joined = attempt
      return yield* Effect.tryPromise({ try: () => joined, catch: (e) => e as WalletError })
    })
  }

  /** The takeover behind {@link Engine.acquireEffect}: lease, ownership event, recovery. */
  #takeOver(walletId: string): Effect.Effect<Wallet, WalletError> {
    const self = this
    const { store, runner, leases } = this.#services
    return Effect.gen(function* () {
      if (leases === undefined) return yield* new EngineInvariant({ message: "no leases" })
      const stream = walletStream(walletId)
      const catchUp = self.#sync.pipe(
        Effect.flatMap((head) => runner.awaitSequence(head)),
        Effect.mapError(storeFailed),
      )
      yield* catchUp
      const backup = backupOf(runner.state(backupProjection), stream)
      if (backup?.mnemonic === undefined)
        return yield* new UnknownWallet({ walletId, message: "no wallet with this id in this log" })
      const tenure = self.#tenure()
      const lastEpoch = () => ownerOf(runner.state(ownersProjection), stream)?.epoch ?? 0
      const got = yield* leases
        .acquire(walletId, lastEpoch() + 1, tenure.onLost)
        .pipe(Effect.mapError(storeFailed))
      if (got._tag === "Held") return yield* notOwned(walletId, got.owner, "another node holds its lease")
      // The fence: the next epoch, appended at the version this node read. Refused when the stream moved
      // (the former owner's last append landed meanwhile): catch up and append on the new tail.
      const appended = yield* Effect.gen(function* () {
        for (let attempt = 0; ; attempt++) {
          const epoch = lastEpoch() + 1
          leases.noteEpoch(walletId, epoch)
          const version = yield* store.streamVersion(stream).pipe(Effect.mapError(storeFailed))
          const r = yield* store.append(stream, version, [ownerEvent(walletId, leases.nodeId, epoch)]).pipe(
            Effect.map((r) => ({ ok: true as const, r, epoch })),
            Effect.catchTag("WrongExpectedVersion", (e) =>
              attempt < 8 ? Effect.succeed({ ok: false as const }) : Effect.fail(e),
            ),
            Effect.mapError(storeFailed),
          )
          if (r.ok) return r
          yield* catchUp
        }
      }).pipe(Effect.tapError(() => leases.release(walletId)))
      yield* runner.awaitSequence(appended.r.lastSequence).pipe(Effect.mapError(storeFailed))
      const rt = new WalletRuntime(
        walletId,
        mnemonicToSeed(backup.mnemonic),
        self.#services,
        appended.r.streamVersion,
      )
      // What the former owner left in flight may still reach the mint: never released on an all-unspent
      // checkstate within the grace (the same rule as this node's own unanswered requests).
      if (appended.epoch > 1)
        for (const op of operationsOf(runner.state(operationsProjection), stream, { inFlight: true }))
          rt.noteUnanswered(op.operationId)
      yield* tenure.start(rt)
      yield* recoverWallet(rt).pipe(
        Effect.catch(() => Effect.void), // what stays in doubt is pending, for the next pass
      )
      const lost = rt.notOwned()
      if (lost !== undefined) return yield* lost
      const wallet = self.#newWallet(rt)
      yield* self.#host(walletId, wallet)
      return wallet
    })
  }

  /**
   * One tenure of a wallet on this node: `onLost` (given to the lease) drops the wallet once it has a
   * runtime, or marks the tenure lost before; `start` binds the runtime (fenced appends drop it too).
   */
  #tenure() {
    let rt: WalletRuntime | undefined
    let lostEarly: string | undefined
    return {
      onLost: (reason: string) => {
        if (rt !== undefined) this.#drop(rt, reason)
        else lostEarly ??= reason
      },
      start: (runtime: WalletRuntime): Effect.Effect<void, WalletNotOwned> =>
        Effect.suspend(() => {
          rt = runtime
          runtime.onFenced = (reason) => this.#drop(runtime, reason)
          // Its own ownership event is folded in by now: the epoch it serves under.
          runtime.ownerEpoch = ownerOf(
            this.#services.runner.state(ownersProjection),
            walletStream(runtime.walletId),
          )?.epoch
          if (lostEarly === undefined) return Effect.void
          this.#drop(runtime, lostEarly)
          return Effect.fail(runtime.notOwned()!)
        }),
    }
  }

  /** Stops serving a wallet this node lost (its lease, or an append fenced by a newer epoch). */
  #drop(rt: WalletRuntime, reason: string): void {
    rt.markLost(reason)
    const w = this.#wallets.get(rt.walletId)
    if (w !== undefined && walletRuntime(w) === rt) {
      this.#wallets.delete(rt.walletId)
      this.#serving.get(rt.walletId)?.()
      this.#serving.delete(rt.walletId)
    }
    this.#dropped.push(rt)
    const leases = this.#services.leases
    if (leases !== undefined) Effect.runFork(leases.release(rt.walletId))
  }

  /** Whether the log holds a wallet with this id (its creation folded here). */
  #knows(walletId: string): boolean {
    return (
      backupOf(this.#services.runner.state(backupProjection), walletStream(walletId))?.mnemonic !== undefined
    )
  }

  /**
   * A hosted wallet by id. Throws `InvalidArgument` for a malformed id, `UnknownWallet` for another; with
   * `store.node`, `WalletNotOwned` (naming the last owner the log records) for a wallet of the log this node
   * does not own — or lost.
   */
  wallet(walletId: string): Wallet {
    const id = walletIdArg(walletId)
    const w = this.#current(id)
    if (w !== undefined) return w
    if (this.#services.leases !== undefined && this.#knows(id))
      throw notOwnedError(
        id,
        ownerOf(this.#services.runner.state(ownersProjection), walletStream(id))?.nodeId,
        "another node owns it, or none has acquired it",
      )
    throw new UnknownWallet({ walletId, message: "no wallet with this id in this engine" })
  }

  /**
   * A wallet wherever it is owned (issue #12, `./routing.ts`): each call runs here when this node hosts the
   * wallet at the time of the call, else it is routed over NATS to the node that owns it and comes back with
   * the same typed result or error. A call that changes the wallet is sent once and never retried: a lost
   * reply is `RemoteInDoubt`. Without a JetStream store only this engine's wallets answer (`UnknownWallet`).
   * Throws `InvalidArgument` for a malformed id or option.
   */
  remote(walletId: string, options?: RemoteOptions): RemoteWallet {
    const a = remoteArgs(walletId, options)
    const id = a.walletId
    const owners = () => ownerOf(this.#services.runner.state(ownersProjection), walletStream(id))?.nodeId
    return new RemoteWallet(id, (method, args) =>
      Effect.suspend(() => {
        if (this.#closed) return closedCall()
        const local = this.#current(id)
        if (local !== undefined) return callLocal(local, method, args)
        if (this.#rpc === undefined)
          return Effect.fail(
            new UnknownWallet({ walletId: id, message: "no wallet with this id in this engine" }),
          )
        return callRemote(this.#rpc, id, method, args, a.options, owners)
      }),
    )
  }

  /** The ids of every hosted wallet. */
  walletIds(): string[] {
    return [...this.#wallets.keys()].filter((id) => this.#current(id) !== undefined).sort()
  }

  /**
   * The hosted wallet `id`, unless the log's feed has brought in a newer ownership epoch than the one it is
   * served under (another node took it over while this one was paused): then it is dropped here and now,
   * before a call or a routed read is served from state that is no longer this node's.
   */
  #current(id: string): Wallet | undefined {
    const w = this.#wallets.get(id)
    if (w === undefined || walletRuntime(w).superseded() === undefined) return w
    return undefined
  }

  /**
   * Replays the whole log: the hash chain, then every invariant (no proof spent twice or in two states,
   * balances equal the unspent proofs, counters never go backwards). Reports the first violation.
   */
  audit(): Promise<AuditResult> {
    return Effect.runPromise(this.auditEffect())
  }

  /** {@link Engine.audit} as an Effect. */
  auditEffect(): Effect.Effect<AuditResult, import("../model/index.js").StoreError> {
    const store = this.#services.store
    return Effect.gen(function* () {
      const chain = yield* auditLog(store)
      if (!chain.ok) return chain
      const checker = new InvariantChecker()
      let violation: import("../projections/audit.js").Violation | undefined
      yield* Stream.runForEach(store.readAll(1), (rec) =>
        Effect.sync(() => {
          violation ??= checker.check(rec)
        }),
      )
      return violation === undefined
        ? { ok: true as const, scope: "full" as const, events: checker.checked, head: chain.head }
        : { ok: false as const, scope: "full" as const, events: checker.checked, head: chain.head, violation }
    })
  }

  /**
   * The app events of every wallet of the log (typed, versioned, free of secrets; see {@link AppEvent}), live,
   * as an async iterable: from `options.fromPosition` (events of log positions after it), else from what the
   * views reflect at this call. `break` (or `return()`) ends the subscription; closing the engine ends the
   * iteration. On a JetStream multi-node engine: every wallet of the shared log, as far as this node follows
   * it. Throws `InvalidArgument` for a bad option.
   */
  events(options?: AppEventsOptions): AsyncIterable<AppEvent> {
    const { store, runner } = this.#services
    return appEventIterable(store, options, runner.position, () => this.#closedError())
  }

  /** {@link Engine.events} as an Effect `Stream` (options checked, default start read, when it runs). */
  eventsEffect(options?: AppEventsOptions): Stream.Stream<AppEvent, AppEventsError> {
    const { store, runner } = this.#services
    return appEventStreamOf(store, options, runner.position, () => this.#closedError())
  }

  /** `EngineClosed` once the engine is closed, for the app-event feeds' start. */
  #closedError(): EngineClosed | undefined {
    return this.#closed ? new EngineClosed({ message: "the engine is closed" }) : undefined
  }

  /**
   * The engine's metrics in the Prometheus text format (0.0.4): the Effect metrics recorded in this process
   * (mint calls, breakers, rate-limit waits, log appends, operations by kind and outcome — process-wide, see
   * `./health.ts`) and this engine's gauges (proofs by state, operations in doubt, projection lag,
   * checkpoint age). Labels never carry wallet ids, quote ids or secrets.
   */
  metrics(): Promise<string> {
    return Effect.runPromise(this.metricsEffect())
  }

  /** {@link Engine.metrics} as an Effect. */
  metricsEffect(): Effect.Effect<string> {
    return Effect.suspend(() => renderMetrics(this.#telemetrySources()))
  }

  /**
   * A health report: the log (readable, takes durable writes), projection lag, each mint's breaker and
   * reachability as last seen (or probed now with `probe: true`), operations in doubt and their age, and the
   * checkpoints. `status` is `ok`, `degraded` or `failing`, with the reasons.
   */
  health(options?: HealthOptions): Promise<HealthReport> {
    return Effect.runPromise(this.healthEffect(options))
  }

  /** {@link Engine.health} as an Effect. */
  healthEffect(options?: HealthOptions): Effect.Effect<HealthReport, InvalidArgument> {
    return Effect.andThen(
      checked(() => healthArgs(options)),
      Effect.suspend(() => healthReport(this.#telemetrySources(), options)),
    )
  }

  /** Where the telemetry listener (`telemetry.http`) listens, or undefined without one. */
  get telemetryAddress(): TelemetryAddress | undefined {
    return this.#telemetryAddress
  }

  #telemetrySources(): TelemetrySources {
    const { store, mint, runner, now } = this.#services
    return {
      ...this.#telemetry,
      store,
      sync: this.#sync,
      runner,
      mint,
      now,
      walletIds: () => this.walletIds(),
      closed: () => this.#closed,
    }
  }

  /** Closes every wallet, the projections and the log. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    this.#stopPlacement?.()
    for (const w of this.#wallets.values()) walletRuntime(w).close()
    for (const rt of this.#dropped.splice(0)) rt.close()
    // The last word in the witness: the head as this engine leaves it.
    const attest = this.#witness === undefined ? Effect.void : Effect.ignore(this.attestHeadEffect())
    return Effect.runPromise(Effect.andThen(attest, Scope.close(this.#scope, Exit.void)))
  }
}
