/**
 * One hosted wallet at run time: its identity and seed, the services it uses, and its **single writer**.
 *
 * Every append to a wallet's stream goes through {@link WalletRuntime.write}: a one-permit semaphore
 * serialises the decide-and-append steps of all concurrent calls on the wallet, and the append names the
 * stream version the decision was made against. Inside the permit the writer waits until the projections
 * have folded its own append, so the next decision (coin selection, the next counter) sees it. The permit is
 * NOT held across mint I/O: an operation takes it to reserve (intent), releases it for the request, and
 * takes it again to finalise — concurrent operations overlap on the network but never decide on stale state.
 *
 * @module
 */
import { Effect, Semaphore } from "effect"
import { isProofEvent, type WalletEvent } from "../events/catalogue.js"
import { walletStream } from "../events/ids.js"
import {
  decideOperation,
  evolveOperation,
  isEnded,
  type OperationCommand,
  type OperationState,
  replayOperationState,
} from "../machines/decider.js"
import { IllegalOperationStep } from "../machines/operation.js"
import { type ProofCurrent, proofTransition } from "../machines/proof.js"
import { isOperationEvent } from "../machines/saga.js"
import { EngineInvariant, OperationInDoubt, StoreUnavailable, WalletNotOwned } from "../model/index.js"
import type { EventStoreShape, NewEvent, RecordedEvent } from "../ports/event-store.js"
import type { MintClientShape } from "../ports/mint-client.js"
import type { WalletLeasesShape } from "../ports/wallet-leases.js"
import { countersProjection, nextCounter } from "../projections/counters.js"
import { type KeysetView, keysetOf, keysetsOf, mintsOf, mintsProjection } from "../projections/mints.js"
import { type OperationView, operationOf, operationsProjection } from "../projections/operations.js"
import { ownersProjection } from "../projections/owners.js"
import { type LiveProof, type LiveState, liveProofs, proofsProjection } from "../projections/proofs.js"
import type { ProjectionRunner } from "../projections/runner.js"
import type { InfoResponse } from "../protocol/schemas/index.js"
import { logAppended, logAppendInDoubt, logWalletLost } from "./log-events.js"
import type { MintCache } from "./mint-cache.js"

/**
 * Checks a batch's proof events against the proof machine, in order, starting from the projection's view.
 * Returns the first refusal's message (no Ys, no amounts), or undefined when every transition is legal.
 */
export const checkProofEvents = (view: WalletView, batch: ReadonlyArray<WalletEvent>): string | undefined => {
  const local = new Map<string, ProofCurrent | undefined>()
  const current = (y: string): ProofCurrent | undefined => {
    if (local.has(y)) return local.get(y)
    const live = view.proof(y)
    if (live !== undefined) return { state: live.state, owner: live.operationId }
    return view.isSpent(y) ? { state: "spent", owner: undefined } : undefined
  }
  for (const e of batch) {
    if (!isProofEvent(e)) continue
    const ys = e._tag === "ProofsIssued" || e._tag === "ProofsReceived" ? e.proofs.map((p) => p.Y) : e.ys
    for (const y of ys) {
      const r = proofTransition(current(y), { tag: e._tag, operationId: e.operationId })
      if (!r.ok) return r.refusal.message
      local.set(y, r.state === undefined ? undefined : { state: r.state, owner: r.owner })
    }
  }
  return undefined
}

/** What every wallet of an engine shares. */
export interface EngineServices {
  readonly store: EventStoreShape
  readonly mint: MintClientShape
  readonly runner: ProjectionRunner
  /** Wall clock, epoch ms (injectable for tests). */
  readonly now: () => number
  /** Engine-wide options. */
  readonly options: EngineOptions
  /** Test hooks (crash-point tests); absent in production. */
  readonly hooks?: EngineHooks
  /**
   * This node's wallet leases, when the engine runs as one node of several over a JetStream log (issue
   * #12): it then serves only the wallets it owns, and a refused append means the wallet was lost.
   */
  readonly leases?: WalletLeasesShape
  /**
   * Runs an effect of the engine under its observability: its logger (`../infra/logging/logger.ts`) and
   * level. Every public call goes through it.
   */
  readonly observe: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Mint info and keys shared by the engine's wallets (`mint-cache.ts`); absent: each wallet its own. */
  readonly mintCache?: MintCache
}

/**
 * Points where a test may stop the process (a crash) or observe the engine. Called synchronously; a hook that
 * exits the process simulates `kill -9` at that point.
 */
export interface EngineHooks {
  /** Before a wallet append is handed to the store. */
  readonly beforeAppend?: (walletId: string, events: ReadonlyArray<NewEvent>) => void
  /** After the store acknowledged (fsynced) a wallet append. */
  readonly afterAppend?: (walletId: string, events: ReadonlyArray<NewEvent>) => void
}

/** Engine-wide knobs; every field has a default (see `DEFAULT_ENGINE_OPTIONS`). */
export interface EngineOptions {
  /** Require a DLEQ proof on every signature when the mint advertises NUT-12 (default true). */
  readonly requireDleq: boolean
  /** Restore: outputs per `/v1/restore` request (NUT-13 suggests 100). */
  readonly restoreBatchSize: number
  /** Restore: stop after this many consecutive empty batches (NUT-13: 3). */
  readonly restoreEmptyBatches: number
  /** Mint info is refetched when older than this (ms). */
  readonly infoTtlMs: number
  /** Poll interval while waiting for a mint quote to be paid (ms). */
  readonly quotePollMs: number
  /**
   * How long after a request of this process timed out unanswered its operation stays in doubt even when a
   * checkstate shows every input unspent (ms): a mint that is slow, or a request held on the way, may still
   * apply it (see `WalletRuntime.unanswered`).
   */
  readonly unansweredGraceMs: number
}

/** Defaults of {@link EngineOptions}. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  requireDleq: true,
  restoreBatchSize: 100,
  restoreEmptyBatches: 3,
  infoTtlMs: 5 * 60_000,
  quotePollMs: 500,
  unansweredGraceMs: 120_000,
}

/** A read-only view of one wallet's projections at one moment. */
export class WalletView {
  constructor(
    private readonly runner: ProjectionRunner,
    readonly stream: string,
  ) {}
  /** Live proofs matching the filter. */
  proofs(
    filter: { state?: LiveState; mintUrl?: string; unit?: string; keysetId?: string } = {},
  ): LiveProof[] {
    return liveProofs(this.runner.state(proofsProjection), this.stream, filter)
  }
  /** A live proof by Y. */
  proof(y: string): LiveProof | undefined {
    return this.runner.state(proofsProjection).wallets.get(this.stream)?.live.get(y)
  }
  /** Whether proof Y is known as spent. */
  isSpent(y: string): boolean {
    return this.runner.state(proofsProjection).wallets.get(this.stream)?.spent.has(y) === true
  }
  keyset(id: string): KeysetView | undefined {
    return keysetOf(this.runner.state(mintsProjection), this.stream, id)
  }
  keysets(mintUrl?: string): KeysetView[] {
    return keysetsOf(this.runner.state(mintsProjection), this.stream, mintUrl)
  }
  /** The mint's active keyset for `unit` with the lowest fee (ties: the newest learned). */
  activeKeyset(mintUrl: string, unit: string): KeysetView | undefined {
    let best: KeysetView | undefined
    for (const k of this.keysets(mintUrl)) {
      if (!k.active || k.unit !== unit) continue
      if (
        best === undefined ||
        k.inputFeePpk < best.inputFeePpk ||
        (k.inputFeePpk === best.inputFeePpk && k.learnedAt > best.learnedAt)
      )
        best = k
    }
    return best
  }
  mints() {
    return mintsOf(this.runner.state(mintsProjection), this.stream)
  }
  /** Whether the wallet trusts `mintUrl` for `unit`. */
  trusts(mintUrl: string, unit?: string): boolean {
    const m = this.mints().find((v) => v.mintUrl === mintUrl)
    return m !== undefined && (unit === undefined || m.units.includes(unit))
  }
  nextCounter(keysetId: string): number {
    return nextCounter(this.runner.state(countersProjection), this.stream, keysetId)
  }
  operation(operationId: string): OperationView | undefined {
    return operationOf(this.runner.state(operationsProjection), this.stream, operationId)
  }
}

/**
 * How a step of an operation can fail: refused before anything was appended (`EngineInvariant`: nothing of
 * the step is in the log), or appended without the log confirming it (`OperationInDoubt`, reason
 * `append-in-doubt`: the step may be in the log or not; the operation is left for recovery).
 */
export type StepError = EngineInvariant | OperationInDoubt

/** Whether `e` is a {@link StepError} (not, say, signatures that failed their checks). */
export const isStepError = (e: { readonly _tag: string }): e is StepError =>
  e._tag === "EngineInvariant" || e._tag === "OperationInDoubt"

/**
 * Appends raw events (checked like every append); for what no operation decides (wallet, mints, keysets).
 * An append the log did not confirm fails with `StoreUnavailable` (reason `in-doubt`), or with
 * `OperationInDoubt` when the batch holds an operation's events.
 */
export type Append = (events: ReadonlyArray<NewEvent>) => Effect.Effect<void, StepError | StoreUnavailable>

/**
 * Records the next steps of an operation: the decider turns `commands` into events on the operation's state
 * now (refusing what its saga does not allow), they are appended as one batch, and the new state returned.
 */
export type Record = (
  operationId: string,
  commands: ReadonlyArray<OperationCommand>,
) => Effect.Effect<OperationState, StepError>

/** The error of an operation step whose append the log did not confirm (see `WalletRuntime.appendChecked`). */
const inDoubtOf = (operationId: string, kind: OperationState["kind"], message: string): OperationInDoubt =>
  new OperationInDoubt({
    operationId,
    kind,
    reason: "append-in-doubt",
    code: undefined,
    message: `${message}; the ${kind} is left for recovery (wallet.recover(), or the next open)`,
  })

/** A hosted wallet: identity, seed, services and its single writer. */
export class WalletRuntime {
  readonly stream: string
  /** Undefined until the first write reads it (see the constructor). */
  private version: number | undefined
  private readonly lock = Semaphore.makeUnsafe(1)
  private readonly infos = new Map<string, { readonly info: InfoResponse; readonly at: number }>()
  /** States of the operations this process is running or recovering (ended ones are dropped). */
  private readonly states = new Map<string, OperationState>()
  /**
   * The stream version of each operation's `OperationStarted`, for operations started by this runtime: its
   * events are read from there on instead of from the stream's start (a long-lived wallet's stream is long).
   */
  private readonly startedAt = new Map<string, number>()
  /**
   * Operations this process is driving right now (a request on its way, a recovery pass, a melt waiting for
   * its payment): see {@link claimOperation}.
   */
  private readonly claimed = new Set<string>()
  /**
   * Operations whose swap or melt request this process sent and then stopped waiting for (the call timed
   * out), with when. The mint may still apply such a request — it may be queued at the mint, or held on the
   * way — so for `unansweredGraceMs` an all-unspent checkstate does not prove it never will: recovery keeps
   * the operation in doubt instead of releasing its inputs (which the late request would then spend, while
   * the wallet counted them and lost the outputs). Not in the log: after a restart the grace is over anyway.
   */
  private readonly unanswered = new Map<string, number>()
  /**
   * Why this node no longer owns the wallet (issue #12), once it lost it: every append then fails at once,
   * before the store, and the wallet's API answers `WalletNotOwned`.
   */
  private lostBecause: string | undefined
  /**
   * The event ids of an append whose outcome is not known — the store failed after it may have written it
   * (a lost acknowledgement, a failed fsync), the call was interrupted while it was on its way, or it was
   * stored but the projections did not show it (then `[]`). Until the stream is re-read ({@link resync})
   * this runtime's version and cached states may be stale, so no append of the wallet is made.
   */
  private inDoubt: ReadonlyArray<string> | undefined
  /**
   * The last such append that the re-read did not find: it may still land (JetStream: a publish held in the
   * client's buffer while disconnected, flushed after the store gave up; its compare-and-set passes while the
   * log stayed still). An append refused because the stream moved is then re-read for it before being taken
   * for another writer's (a fence). Forgotten at the next acknowledged append, whose compare-and-set it can
   * no longer pass.
   */
  private unconfirmed: ReadonlyArray<string> | undefined
  /**
   * Called once when an append is refused because the stream moved on without this runtime — with owners,
   * that is another node's ownership event: the engine drops the wallet. Unset without owners.
   */
  onFenced: ((reason: string) => void) | undefined
  /**
   * The ownership epoch this runtime serves under (set when its tenure starts; undefined without owners).
   * A later epoch in the log — another node's takeover, folded in from the log's feed — means this runtime is
   * stale: it stops before its checks run against state another owner moved (see {@link supersededBy}).
   */
  ownerEpoch: number | undefined

  /** The NUT-13 seed once derived (see {@link seed}); wiped by `close`. */
  #seed: Uint8Array | undefined
  /** Derives the seed on first use (`./startup.ts`); dropped once it has. */
  #deriveSeed: (() => Uint8Array) | undefined
  #closed = false

  constructor(
    readonly walletId: string,
    /**
     * The NUT-13 seed (64 bytes), or how to derive it on first use (`Engine.open` defers the BIP-39 work of
     * every wallet it hosts: `./startup.ts`).
     */
    seed: Uint8Array | (() => Uint8Array),
    readonly services: EngineServices,
    /**
     * The stream's version, or undefined to read it from the store at the first write (under the writer,
     * with the projections caught up to the log's head first).
     */
    streamVersion: number | undefined,
  ) {
    this.stream = walletStream(walletId)
    this.version = streamVersion
    if (typeof seed === "function") this.#deriveSeed = seed
    else this.#seed = seed
  }

  /**
   * The NUT-13 seed (64 bytes): derived on first use when the runtime was given a derivation, then kept in
   * memory only while the wallet is open; wiped by `close`. After `close` it throws: nothing may derive
   * outputs or keys from a wiped seed (a zero seed would make proofs the wallet could never restore).
   */
  get seed(): Uint8Array {
    if (this.#closed) throw new Error("the wallet is closed: its seed was wiped")
    if (this.#seed === undefined) {
      const derive = this.#deriveSeed
      if (derive === undefined) throw new Error("the wallet has no seed")
      this.#seed = derive()
      this.#deriveSeed = undefined
    }
    return this.#seed
  }

  /**
   * Runs `body` as the one driver of operation `operationId` in this process, or `onBusy` when another
   * driver holds it. A driver is whatever may still make the mint act on the operation: the live call that
   * sent its request, a recovery pass, a melt waiting for its payment. Recovery never decides an operation
   * another driver holds (it could release inputs a request still on its way is about to spend), and two
   * calls never drive one operation at once. Released when `body` ends, however it ends.
   */
  claimOperation<A, E, R, B = never, E2 = never, R2 = never>(
    operationId: string,
    body: Effect.Effect<A, E, R>,
    onBusy: Effect.Effect<B, E2, R2>,
  ): Effect.Effect<A | B, E | E2, R | R2> {
    return Effect.suspend((): Effect.Effect<A | B, E | E2, R | R2> => {
      if (this.claimed.has(operationId)) return onBusy
      this.claimed.add(operationId)
      return Effect.ensuring(
        body,
        Effect.sync(() => this.claimed.delete(operationId)),
      )
    })
  }

  /** Marks the wallet lost to this node (see `lostBecause`); the first reason is kept. */
  markLost(reason: string): void {
    this.lostBecause ??= reason
  }

  /** The `WalletNotOwned` this wallet's calls fail with once it was lost, else undefined. */
  notOwned(): WalletNotOwned | undefined {
    if (this.lostBecause === undefined) return undefined
    return new WalletNotOwned({
      walletId: this.walletId,
      owner: this.services.runner.state(ownersProjection).wallets.get(this.stream)?.nodeId,
      message: `this node no longer owns the wallet (${this.lostBecause})`,
    })
  }

  /** Whether a driver of this process holds the operation now (see {@link claimOperation}). */
  isClaimed(operationId: string): boolean {
    return this.claimed.has(operationId)
  }

  /** Notes that the operation's request timed out unanswered just now (see `unanswered`). */
  noteUnanswered(operationId: string): void {
    this.unanswered.set(operationId, this.services.now())
  }

  /** Whether an unanswered request of the operation may still be applied by the mint (see `unanswered`). */
  mayStillApply(operationId: string): boolean {
    const at = this.unanswered.get(operationId)
    if (at === undefined) return false
    if (this.services.now() - at < this.services.options.unansweredGraceMs) return true
    this.unanswered.delete(operationId)
    return false
  }

  /** The wallet's projections now. */
  view(): WalletView {
    return new WalletView(this.services.runner, this.stream)
  }

  /**
   * Runs `f` as the wallet's single writer: no other decide-and-append of this wallet runs meanwhile. `f`
   * gets `append` (raw events) and `record` (an operation's next steps, decided); both check the stream
   * version and return once the projections show the append.
   */
  write<A, E, R>(f: (append: Append, record: Record) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Semaphore.withPermits(
      this.lock,
      1,
    )(
      // `f` is called under the permit, after the re-read: whatever it decides, it decides on the stream now.
      Effect.andThen(
        // Both read the runtime's state under the permit, not when `write` was called.
        Effect.suspend(() => Effect.andThen(this.loadVersion(), this.resync())),
        Effect.suspend(() =>
          f(
            (events) => this.appendNow(events),
            (operationId, commands) => this.recordNow(operationId, commands),
          ),
        ),
      ),
    )
  }

  /**
   * Reads the stream's version at the first write of a runtime opened without it (under the writer), after
   * catching the projections up to the log's head: the version and the state decisions are made on then
   * agree. When the store cannot be read the version stays unknown, and appends are refused (nothing
   * recorded) until a later write reads it.
   */
  private loadVersion(): Effect.Effect<void> {
    if (this.version !== undefined) return Effect.void
    const self = this
    const { store, runner } = this.services
    return Effect.gen(function* () {
      const version = yield* store.streamVersion(self.stream)
      yield* runner.awaitSequence(yield* store.head)
      self.version = version
    }).pipe(Effect.ignore)
  }

  /**
   * Re-reads the wallet's stream after an append of unknown outcome (`inDoubt`), under the writer and before
   * the next decision: the append is either found right after this runtime's version (it landed: the version
   * moves past it) or not (it did not, so far: `unconfirmed`); the projections are awaited up to the store's
   * head and the cached operation states dropped. Anything else after the version is another writer's: the
   * version stays, and the store refuses the next append (the fence). When the store cannot be read the
   * append stays in doubt, and every append of the wallet is refused until a later write re-reads it.
   */
  private resync(): Effect.Effect<void> {
    const pending = this.inDoubt
    if (pending === undefined) return Effect.void
    const self = this
    const { store, runner } = this.services
    return Effect.gen(function* () {
      const after = yield* store.read(self.stream, (self.version ?? 0) + 1)
      yield* runner.awaitSequence(yield* store.head)
      const landed = pending.length > 0 && pending.every((id, i) => after[i]?.envelope.eventId === id)
      if (landed) {
        const ours = after.slice(0, pending.length)
        self.version = ours[ours.length - 1]!.envelope.streamVersion
        for (const r of ours)
          if (r.event._tag === "OperationStarted")
            self.startedAt.set(r.event.operationId, r.envelope.streamVersion)
      }
      // Not there, and the stream did not move: it may still land. Moved by something else: a fence.
      self.unconfirmed = !landed && pending.length > 0 && after.length === 0 ? pending : undefined
      self.inDoubt = undefined
      self.states.clear()
    }).pipe(Effect.ignore)
  }

  /** Notes an append of unknown outcome (see `inDoubt`); the cached states may be stale from now on. */
  private markInDoubt(eventIds: ReadonlyArray<string>): void {
    this.inDoubt = eventIds
    this.states.clear()
  }

  /** {@link Record} as one step of its own under the writer. */
  record(operationId: string, commands: ReadonlyArray<OperationCommand>) {
    return this.write((_, record) => record(operationId, commands))
  }

  private recordNow(
    operationId: string,
    commands: ReadonlyArray<OperationCommand>,
  ): Effect.Effect<OperationState, StepError> {
    const self = this
    return Effect.gen(function* () {
      const starting = commands[0]?._tag === "Start"
      const before = starting ? undefined : yield* self.operation(operationId)
      if (!starting && before === undefined)
        return yield* new EngineInvariant({ message: "refused to append: the operation has not started" })
      const decision = decideOperation(before, commands, self.services.now())
      if (decision instanceof IllegalOperationStep)
        return yield* new EngineInvariant({ message: `refused to append: ${decision.message}` })
      yield* self.appendProofChecked(decision.events, (message) =>
        inDoubtOf(operationId, decision.state.kind, message),
      )
      self.remember(decision.state)
      return decision.state
    })
  }

  private remember(s: OperationState): void {
    if (isEnded(s)) this.states.delete(s.operationId)
    else this.states.set(s.operationId, s)
  }

  private appendNow(events: ReadonlyArray<NewEvent>): Effect.Effect<void, StepError | StoreUnavailable> {
    if (events.length === 0) return Effect.void
    const self = this
    return Effect.gen(function* () {
      // A raw batch with operation events is checked by the same decider fold (`evolve`) as a decided one.
      const batch = events.map((e) => e.event)
      const opId = batch.find(isOperationEvent)?.operationId
      let state: OperationState | undefined
      if (opId !== undefined) {
        state = yield* self.operation(opId)
        for (const e of batch) {
          if (!isOperationEvent(e)) continue
          if (e.operationId !== opId)
            return yield* new EngineInvariant({ message: "refused to append: one batch, two operations" })
          const next = evolveOperation(state, e, self.services.now())
          if (next instanceof IllegalOperationStep)
            return yield* new EngineInvariant({ message: `refused to append: ${next.message}` })
          state = next
        }
      }
      const kind = state?.kind
      yield* self.appendProofChecked(events, (message) =>
        opId !== undefined && kind !== undefined
          ? inDoubtOf(opId, kind, message)
          : new StoreUnavailable({ reason: "in-doubt", message }),
      )
      if (state !== undefined) self.remember(state)
    })
  }

  /**
   * With owners: the reason this runtime no longer serves the wallet when the log already holds a newer
   * ownership epoch than its own (a node paused past its lease wakes with operations in flight while the new
   * owner recovered them). It is then marked lost and dropped, so its step ends as `WalletNotOwned` rather
   * than as a check failing against proofs the new owner moved; its own append would be refused by the
   * store's fence anyway.
   */
  private supersededBy(): string | undefined {
    if (this.lostBecause !== undefined) return this.lostBecause
    if (this.ownerEpoch === undefined) return undefined
    const owner = this.services.runner.state(ownersProjection).wallets.get(this.stream)
    if (owner === undefined || owner.epoch === this.ownerEpoch) return undefined
    const reason = `the log holds ownership epoch ${owner.epoch} (${owner.nodeId}) after this node's ${this.ownerEpoch}`
    this.markLost(reason)
    this.onFenced?.(reason)
    return reason
  }

  /**
   * The `WalletNotOwned` of a wallet this runtime lost — also when only the log shows it so far (a newer
   * ownership epoch folded in): a step that failed against state the new owner moved ends as that.
   */
  superseded(): WalletNotOwned | undefined {
    this.supersededBy()
    return this.notOwned()
  }

  /** Every proof event of the batch checked against the proof machine, then the append. */
  private appendProofChecked<E>(
    events: ReadonlyArray<NewEvent>,
    unconfirmed: (message: string) => E,
  ): Effect.Effect<void, EngineInvariant | E> {
    const superseded = this.supersededBy()
    if (superseded !== undefined)
      return Effect.fail(
        new EngineInvariant({
          message: `this node no longer owns the wallet (${superseded}); nothing of this step was recorded`,
        }),
      )
    const refusal = checkProofEvents(
      this.view(),
      events.map((e) => e.event),
    )
    if (refusal !== undefined)
      return Effect.fail(new EngineInvariant({ message: `refused to append: ${refusal}` }))
    return this.appendChecked(events, unconfirmed)
  }

  /**
   * An operation's state now: cached while this process runs it, else replayed from its events in the log.
   * Undefined when the wallet has no such operation.
   */
  operation(operationId: string): Effect.Effect<OperationState | undefined, EngineInvariant> {
    const cached = this.states.get(operationId)
    if (cached !== undefined) return Effect.succeed(cached)
    if (this.view().operation(operationId) === undefined) return Effect.succeed(undefined)
    return this.operationEvents(operationId).pipe(
      Effect.flatMap((recs) => {
        const r = replayOperationState(operationId, recs)
        return r instanceof IllegalOperationStep
          ? Effect.fail(new EngineInvariant({ message: `the log holds an illegal history: ${r.message}` }))
          : Effect.succeed(r)
      }),
    )
  }

  /** {@link operation}, failing with `EngineInvariant` when the wallet has no such operation. */
  existingOperation(operationId: string): Effect.Effect<OperationState, EngineInvariant> {
    return Effect.flatMap(this.operation(operationId), (s) =>
      s === undefined
        ? Effect.fail(
            new EngineInvariant({ message: `operation ${operationId} has no OperationStarted event` }),
          )
        : Effect.succeed(s),
    )
  }

  /**
   * Appends at this runtime's version and waits until the projections show it. Fails with `EngineInvariant`
   * only when nothing of the step can be in the log: refused before the store (the wallet was lost, or an
   * earlier append is still in doubt), or refused by it (`WrongExpectedVersion`: it appends nothing). Any
   * other failure once the store has the batch — `StoreUnavailable` after a lost acknowledgement or a failed
   * write, a damaged log, projections that failed after it was stored — leaves the outcome unknown: the
   * append is marked in doubt (the stream is re-read before the next one) and the call fails with
   * `unconfirmed`'s error, which says so. An interrupted append is marked in doubt the same way.
   */
  private appendChecked<E>(
    events: ReadonlyArray<NewEvent>,
    unconfirmed: (message: string) => E,
  ): Effect.Effect<void, EngineInvariant | E> {
    return Effect.suspend(() => {
      const { store, runner, hooks } = this.services
      if (this.lostBecause !== undefined)
        return Effect.fail(
          new EngineInvariant({
            message: `this node no longer owns the wallet (${this.lostBecause}); nothing of this step was recorded`,
          }),
        )
      const version = this.version
      if (version === undefined)
        return Effect.fail(
          new EngineInvariant({
            message:
              "the wallet's stream version could not be read from the log; nothing of this step was recorded",
          }),
        )
      if (this.inDoubt !== undefined)
        return Effect.fail(
          new EngineInvariant({
            message:
              "an earlier append to the wallet's stream has an unknown outcome and the stream could not be re-read; nothing of this step was recorded",
          }),
        )
      const eventIds = events.map((e) => e.eventId)
      let stored = false
      return Effect.sync(() => hooks?.beforeAppend?.(this.walletId, events)).pipe(
        Effect.andThen(
          store.append(this.stream, version, events).pipe(
            Effect.withSpan("log.append", {
              attributes: { walletId: this.walletId, count: events.length },
            }),
          ),
        ),
        Effect.flatMap((r) => {
          stored = true
          this.version = r.streamVersion
          this.unconfirmed = undefined
          const first = r.streamVersion - events.length + 1
          events.forEach((e, i) => {
            if (e.event._tag === "OperationStarted") this.startedAt.set(e.event.operationId, first + i)
          })
          hooks?.afterAppend?.(this.walletId, events)
          return Effect.andThen(
            logAppended(this.walletId, events),
            runner.awaitSequence(r.lastSequence).pipe(Effect.withSpan("projection.catch-up")),
          )
        }),
        Effect.onInterrupt(() => Effect.sync(() => this.markInDoubt(stored ? [] : eventIds))),
        Effect.tapError((e) =>
          e._tag !== "WrongExpectedVersion"
            ? logAppendInDoubt(this.walletId, e._tag)
            : this.unconfirmed === undefined && this.onFenced !== undefined
              ? logWalletLost(this.walletId, "fenced")
              : Effect.void,
        ),
        Effect.mapError((e): EngineInvariant | E => {
          if (e._tag === "WrongExpectedVersion") {
            if (this.unconfirmed !== undefined) {
              // Perhaps our own append of unknown outcome landed late: re-read before calling it a fence.
              this.markInDoubt(this.unconfirmed)
              this.unconfirmed = undefined
            } else if (this.onFenced !== undefined) {
              // Only the owner appends to a wallet it owns: the stream moved on under another node's epoch.
              const reason = "an append was refused: another node's ownership event moved the wallet on"
              this.markLost(reason)
              this.onFenced(reason)
            }
            return new EngineInvariant({
              message: `append to the wallet's stream failed (${e._tag}); nothing of this step was recorded`,
            })
          }
          this.markInDoubt(stored ? [] : eventIds)
          return unconfirmed(
            stored
              ? `the step was recorded, but the wallet's projections did not show it (${e._tag}: ${e.message})`
              : `the log did not confirm the append to the wallet's stream (${e._tag}: ${e.message}): the step may have been recorded or not`,
          )
        }),
      )
    })
  }

  /** The events of one operation, from the log (recovery; the intent's outputs and request live there). */
  operationEvents(operationId: string): Effect.Effect<RecordedEvent[], EngineInvariant> {
    return this.services.store.read(this.stream, this.startedAt.get(operationId) ?? 1).pipe(
      Effect.map((events) =>
        events.filter((r) => "operationId" in r.event && r.event.operationId === operationId),
      ),
      Effect.mapError(
        (e) => new EngineInvariant({ message: `reading the wallet's stream failed (${e._tag})` }),
      ),
    )
  }

  /** The mint's `/v1/info`, cached for `infoTtlMs` (engine-wide when the engine shares a `mintCache`). */
  info(mintUrl: string) {
    const shared = this.services.mintCache
    if (shared !== undefined) return shared.info(mintUrl, this.services.mint.info(mintUrl))
    const cached = this.infos.get(mintUrl)
    const now = this.services.now()
    if (cached !== undefined && now - cached.at < this.services.options.infoTtlMs)
      return Effect.succeed(cached.info)
    return this.services.mint.info(mintUrl).pipe(
      Effect.tap((info) =>
        Effect.sync(() => {
          this.infos.set(mintUrl, { info, at: now })
        }),
      ),
    )
  }

  /** Forgets the seed (best effort: JS cannot promise the bytes are gone from every copy). */
  close(): void {
    this.#closed = true
    this.#seed?.fill(0)
    this.#deriveSeed = undefined
  }
}
