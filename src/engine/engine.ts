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
import { Context, Effect, Exit, Layer, Scope, Stream } from "effect"
import { isValidMnemonic, mnemonicToSeed } from "../crypto/nut13.js"
import type { Attester, HeadAttestation } from "../events/attestation.js"
import type { WalletCreated } from "../events/catalogue.js"
import { walletEventId, walletStream } from "../events/ids.js"
import type { PayloadSealer } from "../events/sealer.js"
import { fileCheckpointStore } from "../infra/checkpoint-file-store.js"
import { openJetStreamEventStore } from "../infra/jetstream-store.js"
import { openJetStreamVault } from "../infra/jetstream-vault.js"
import { type LevelDbAccess, openLevelDbEventStore } from "../infra/leveldb-store.js"
import { MintClientHttpLive, type MintClientHttpOptions } from "../infra/mint-client/http.js"
import type { VaultOptions } from "../infra/vault.js"
import { appendWitness, attestHead, checkWitness, readWitness } from "../infra/witness.js"
import {
  DecodeError,
  EngineClosed,
  EngineInvariant,
  UnknownWallet,
  type WalletError,
  WalletExists,
} from "../model/index.js"
import { EventStore, type EventStoreShape } from "../ports/event-store.js"
import { MintClient, type MintClientShape } from "../ports/mint-client.js"
import { type AuditResult, auditLog, InvariantChecker } from "../projections/audit.js"
import { backupProjection } from "../projections/backup.js"
import { ALL_PROJECTIONS } from "../projections/index.js"
import { startProjectionRunner } from "../projections/runner.js"
import { checked, createWalletArgs, openArgs, walletIdArg } from "./arguments.js"
import { hooksOf, newWallet, registerEngine, walletRuntime } from "./internal.js"
import { walletPrivateKey } from "./keys.js"
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions, type EngineServices, WalletRuntime } from "./runtime.js"
// Loading the class registers how the engine builds wallets (`./internal.ts`).
import "./wallet.js"
import type { Wallet } from "./wallet.js"

/** How the engine reaches mints: a ready client, or options of the HTTP client with its policies. */
export type MintClientChoice = MintClientShape | MintClientHttpOptions

const isClient = (c: MintClientChoice): c is MintClientShape =>
  typeof (c as MintClientShape).swap === "function"

/** Where projection checkpoints live, inside the data directory (LevelDB ignores files it did not write). */
const CHECKPOINT_DIR = "checkpoints"
/** Save checkpoints after this many events (and when the engine closes). */
const CHECKPOINT_EVERY = 10_000

/**
 * Where the event log lives: a LevelDB directory (the default: `dataDir`), or a NATS JetStream stream shared
 * by the engine nodes that serve one wallet population (issue #12). With JetStream, `dataDir` holds only this
 * node's projection checkpoints, and the vault's material lives in a KV bucket beside the stream
 * (`infra/jetstream-vault.ts`); appends are compare-and-set on the server (`infra/jetstream-store.ts`).
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
    }

/** Options of {@link Engine.open}. */
export type EngineOpenOptions = LevelDbAccess & {
  /**
   * Directory of the event log (created if missing; one process per directory). With a JetStream store:
   * where this node keeps its projection checkpoints.
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
  /** Run recovery of in-flight operations on open (default true). */
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
}

/** Options of {@link Engine.createWallet}. */
export interface CreateWalletOptions {
  /** Default: a fresh id. `[A-Za-z0-9._-]`, ≤ 128 chars. */
  readonly walletId?: string
  /** Default: a fresh 12-word BIP-39 mnemonic (read it back with `wallet.mnemonic()` to back it up). */
  readonly mnemonic?: string
  readonly label?: string
}

/** What the engine needs of its log beyond the contract: how payloads are sealed, and who attests heads. */
type OpenedLog = EventStoreShape & {
  readonly sealer: PayloadSealer | undefined
  readonly attester: Attester | undefined
}

/** Opens the JetStream log: unlocks (or creates) its vault from the KV bucket, then the store. */
const openJetStreamLog = (
  where: Extract<EngineStoreChoice, { kind: "jetstream" }>,
  access: LevelDbAccess,
  vault: VaultOptions | undefined,
  create: boolean | undefined,
): Effect.Effect<OpenedLog, import("../model/index.js").StoreError, Scope.Scope> =>
  Effect.gen(function* () {
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

  private constructor(
    scope: Scope.Closeable,
    services: EngineServices,
    attester: Attester | undefined,
    witness: string | undefined,
  ) {
    this.#scope = scope
    this.#services = services
    this.#attester = attester
    this.#witness = witness
    registerEngine(this, services)
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
          ...access
        } = opts
        const store =
          where?.kind === "jetstream"
            ? yield* openJetStreamLog(where, access as LevelDbAccess, vault, create)
            : yield* openLevelDbEventStore({
                dataDir,
                ...(access as LevelDbAccess),
                ...(vault !== undefined ? { vault } : {}),
                ...(create !== undefined ? { create } : {}),
              })
        if (witness !== undefined) {
          const attested = yield* readWitness(witness)
          yield* checkWitness(store, attested, store.attester, "furthest")
        }
        // Projection checkpoints, sealed like the log (they hold backup material): opening folds only the
        // events after the newest checkpoint that still matches the log, not the whole history.
        const checkpoints =
          store.sealer === undefined
            ? undefined
            : fileCheckpointStore(join(dataDir, CHECKPOINT_DIR), store.sealer)
        const runner = yield* startProjectionRunner({
          projections: ALL_PROJECTIONS,
          ...(checkpoints !== undefined ? { checkpoints, checkpointEvery: CHECKPOINT_EVERY } : {}),
        }).pipe(Effect.provideService(EventStore, store))
        const mint =
          mintClient !== undefined && isClient(mintClient)
            ? mintClient
            : yield* httpMintClient(mintClient ?? {})
        const services: EngineServices = {
          store,
          mint,
          runner,
          now: now ?? Date.now,
          options: { ...DEFAULT_ENGINE_OPTIONS, ...options },
          ...(hooks !== undefined ? { hooks } : {}),
        }
        const engine = new Engine(scope, services, store.attester, witness)
        if (witness !== undefined) yield* engine.attestHeadEffect()
        yield* engine.#loadWallets()
        if (recover !== false) yield* engine.#recoverAll()
        return engine
      }).pipe(
        Scope.provide(scope),
        Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))),
      )
      return opened
    })
  }

  #loadWallets(): Effect.Effect<void, EngineInvariant | import("../model/index.js").StoreError> {
    const self = this
    return Effect.gen(function* () {
      const backups = self.#services.runner.state(backupProjection)
      for (const [stream, w] of backups.wallets.entries()) {
        if (w.walletId === undefined || w.mnemonic === undefined) continue
        const version = yield* self.#services.store.streamVersion(stream)
        const rt = new WalletRuntime(w.walletId, mnemonicToSeed(w.mnemonic), self.#services, version)
        self.#wallets.set(w.walletId, self.#newWallet(rt))
      }
    })
  }

  #newWallet(rt: WalletRuntime): Wallet {
    return newWallet<Wallet>(rt, walletPrivateKey(rt.seed), () => this.auditEffect())
  }

  #recoverAll(): Effect.Effect<void, WalletError> {
    return Effect.forEach([...this.#wallets.values()], (w) => w.effect.recover(), {
      concurrency: 4,
      discard: true,
    })
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
      const walletId =
        opts.walletId ?? `w${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`
      if (self.#wallets.has(walletId))
        return yield* new WalletExists({ walletId, message: "a wallet with this id exists" })
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
      const stream = walletStream(walletId)
      const r = yield* self.#services.store
        .append(stream, 0, [{ eventId: walletEventId(walletId, "created"), event: created }])
        .pipe(
          Effect.mapError((e) =>
            e._tag === "WrongExpectedVersion"
              ? new WalletExists({ walletId, message: "a wallet with this id exists" })
              : new EngineInvariant({ message: `creating the wallet failed (${e._tag})` }),
          ),
        )
      yield* self.#services.runner
        .awaitSequence(r.lastSequence)
        .pipe(Effect.mapError((e) => new EngineInvariant({ message: `projections failed (${e._tag})` })))
      const rt = new WalletRuntime(walletId, mnemonicToSeed(mnemonic), self.#services, r.streamVersion)
      const wallet = self.#newWallet(rt)
      self.#wallets.set(walletId, wallet)
      return wallet
    })
  }

  /** A hosted wallet by id. Throws `InvalidArgument` for a malformed id, `UnknownWallet` for another. */
  wallet(walletId: string): Wallet {
    const id = walletIdArg(walletId)
    const w = this.#wallets.get(id)
    if (w === undefined)
      throw new UnknownWallet({ walletId, message: "no wallet with this id in this engine" })
    return w
  }

  /** The ids of every hosted wallet. */
  walletIds(): string[] {
    return [...this.#wallets.keys()].sort()
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

  /** Closes every wallet, the projections and the log. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    for (const w of this.#wallets.values()) walletRuntime(w).close()
    // The last word in the witness: the head as this engine leaves it.
    const attest = this.#witness === undefined ? Effect.void : Effect.ignore(this.attestHeadEffect())
    return Effect.runPromise(Effect.andThen(attest, Scope.close(this.#scope, Exit.void)))
  }
}
