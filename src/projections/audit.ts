/**
 * The audit: replays the whole log and reports the FIRST violation, with its sequence number.
 *
 * One streaming pass over `readRaw` (the log is never held in memory) checks, event by event:
 * 1. **Chain** (no key needed): sequences run 1, 2, 3… without gaps; each event follows its predecessor's
 *    hash and its hash covers its contents (`verifyEventHash`); stream versions run without gaps; event ids
 *    are unique. Any changed, removed, inserted or reordered event breaks one of these.
 * 2. **Invariants** (needs the key to open payloads), on each event that passed the chain check:
 *    - its payload opens and decodes (`unreadable` otherwise);
 *    - the proof lifecycle of `./lifecycle.ts`: no proof spent twice (`double-spend`), none in two states
 *      (`two-states`), no forbidden step (`illegal-transition`: e.g. spent → unspent, reserve of a proof
 *      that is not unspent), no release or pending by an operation that does not hold the reservation
 *      (`not-owner`), no transition of a proof never held (`unknown-proof`);
 *    - every proof, counter and output names a keyset the wallet learned (`unknown-keyset`), and a keyset
 *      stays bound to its first mint and unit (`keyset-rebound`);
 *    - the balances projection equals, per wallet, mint and unit, the sum of the unspent proofs grouped by
 *      their keyset's binding (`balance-mismatch`: an event attributes proofs to the wrong mint or unit);
 *    - counters never go backwards (`counter-backwards`: a reservation starting below the keyset's next
 *      counter), and deterministic outputs use only reserved counters (`counter-unreserved`; restores are
 *      exempt: they re-derive used counters on purpose).
 *
 * Limits: the chain is keyless SHA-256, so someone able to rewrite the whole directory could recompute it
 * (and a truncation of the newest events, with the commit marker rewritten to match, is invisible without an
 * external anchor of the head hash). Payload authentication (AES-GCM with the envelope as associated data)
 * still catches any payload change or swap in the full audit.
 *
 * Messages name sequences, event types, streams, keyset ids and mint URLs; never a secret, a Y or an
 * amount.
 *
 * @module
 */
import { Effect, Stream } from "effect"
import type { WalletEvent } from "../events/catalogue.js"
import { decodeEvent } from "../events/codec.js"
import { type Envelope, GENESIS_HASH, type StoredEvent, verifyEventHash } from "../events/envelope.js"
import { type GroupPosition, groupAad, type PayloadSealer, payloadAad } from "../events/sealer.js"
import {
  checkTransition,
  ownerAfter,
  type ProofState,
  type RefusalKind,
  targetState,
} from "../machines/lifecycle.js"
import { EventCodecError, StoreCorrupted, type StoreError, VaultError } from "../model/index.js"
import type { EventStoreShape, RecordedEvent } from "../ports/event-store.js"
import { type BalancesState, balanceOf, balancesProjection, bucketKey } from "./balances.js"

/** What kind of rule a violation breaks. */
export type ViolationKind =
  | "chain"
  | "envelope"
  | "unreadable"
  | RefusalKind
  | "unknown-keyset"
  | "keyset-rebound"
  | "balance-mismatch"
  | "counter-backwards"
  | "counter-unreserved"
  | "owner-epoch"

/** The first rule the log breaks. */
export interface Violation {
  readonly sequence: number
  readonly kind: ViolationKind
  readonly message: string
}

/** What was checked: the chain only (no key), or the chain and every invariant. */
export type AuditScope = "chain" | "full"

/** The audit's verdict. `events` counts the events checked; `head` is the log's head. */
export type AuditResult =
  | { readonly ok: true; readonly scope: AuditScope; readonly events: number; readonly head: number }
  | {
      readonly ok: false
      readonly scope: AuditScope
      readonly events: number
      readonly head: number
      readonly violation: Violation
    }

// ---------------------------------------------------------------------------------------------------------
// Chain
// ---------------------------------------------------------------------------------------------------------

/** Checks stored events one at a time, in the order read. */
export class ChainChecker {
  private expected = 1
  private prevHash = GENESIS_HASH
  private readonly versions = new Map<string, number>()
  private readonly ids = new Set<string>()

  /** Events accepted so far. */
  get checked(): number {
    return this.expected - 1
  }

  /** Checks the next stored event; returns the violation, if any (the checker then stops being useful). */
  check(stored: StoredEvent): Violation | undefined {
    const env = stored.envelope
    const at = this.expected
    const chain = (message: string): Violation => ({ sequence: at, kind: "chain", message })
    if (env.sequence !== at)
      return chain(
        env.sequence > at
          ? `event ${at} is missing (the next stored event is ${env.sequence})`
          : `an event stored after ${at - 1} claims sequence ${env.sequence}`,
      )
    if (env.prevHash !== this.prevHash) return chain(`event ${at} does not follow its predecessor's hash`)
    if (!verifyEventHash(this.prevHash, stored)) return chain(`event ${at}'s contents do not match its hash`)
    const version = (this.versions.get(env.streamId) ?? 0) + 1
    if (env.streamVersion !== version)
      return {
        sequence: at,
        kind: "envelope",
        message: `event ${at} has version ${env.streamVersion} in stream ${env.streamId}, expected ${version}`,
      }
    if (this.ids.has(env.eventId))
      return { sequence: at, kind: "envelope", message: `event ${at} reuses an event id already in the log` }
    this.versions.set(env.streamId, version)
    this.ids.add(env.eventId)
    this.prevHash = env.hash
    this.expected = at + 1
    return undefined
  }

  /** Checks that nothing is missing at the end, given the store's head. */
  end(head: number): Violation | undefined {
    return head >= this.expected
      ? { sequence: this.expected, kind: "chain", message: `events ${this.expected}…${head} are missing` }
      : undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------------------

interface Held {
  state: ProofState
  owner: string | undefined
  readonly amount: bigint
  /** Bucket of the proof's keyset binding. */
  readonly bucket: string
}

interface WalletAudit {
  readonly proofs: Map<string, Held>
  readonly keysets: Map<string, { readonly mintUrl: string; readonly unit: string }>
  readonly counters: Map<string, number>
  /** Sum of unspent proofs per keyset-binding bucket. */
  readonly unspent: Map<string, bigint>
  /** The epoch of the wallet's last ownership event (0: none yet). */
  epoch: number
}

/** Checks decoded events one at a time, in log order, against every invariant. */
export class InvariantChecker {
  private readonly wallets = new Map<string, WalletAudit>()
  private balances: BalancesState = balancesProjection.initial
  private count = 0

  /** Events accepted so far. */
  get checked(): number {
    return this.count
  }

  private wallet(stream: string): WalletAudit {
    let w = this.wallets.get(stream)
    if (w === undefined) {
      w = { proofs: new Map(), keysets: new Map(), counters: new Map(), unspent: new Map(), epoch: 0 }
      this.wallets.set(stream, w)
    }
    return w
  }

  /** Checks the next event; returns the violation, if any (the checker then stops being useful). */
  check(rec: RecordedEvent): Violation | undefined {
    const v = this.inspect(rec)
    if (v === undefined) this.count++
    return v
  }

  private inspect(rec: RecordedEvent): Violation | undefined {
    const e = rec.event
    const env: Envelope = rec.envelope
    const stream = env.streamId
    const at = env.sequence
    const where = `${e._tag} (event ${at}, stream ${stream})`
    const violation = (kind: ViolationKind, message: string): Violation => ({ sequence: at, kind, message })
    const w = this.wallet(stream)
    const unknownKeyset = (id: string, what: string) =>
      violation("unknown-keyset", `${where}: ${what} names keyset ${id}, which the wallet never learned`)

    switch (e._tag) {
      case "WalletOwnerChanged": {
        // Each tenure follows the last: a node appends epoch n + 1 at the version where it read n.
        if (e.epoch !== w.epoch + 1)
          return violation(
            "owner-epoch",
            `${where}: ownership epoch ${e.epoch} does not follow the wallet's last epoch ${w.epoch}`,
          )
        w.epoch = e.epoch
        return undefined
      }
      case "KeysetLearned": {
        const known = w.keysets.get(e.id)
        if (known !== undefined && (known.mintUrl !== e.mintUrl || known.unit !== e.unit))
          return violation(
            "keyset-rebound",
            `${where}: keyset ${e.id} is already bound to another mint or unit`,
          )
        if (known === undefined) w.keysets.set(e.id, { mintUrl: e.mintUrl, unit: e.unit })
        return undefined
      }
      case "KeysetChanged": {
        const known = w.keysets.get(e.id)
        if (known === undefined) return unknownKeyset(e.id, "the change")
        if (known.mintUrl !== e.mintUrl)
          return violation("keyset-rebound", `${where}: keyset ${e.id} is bound to another mint`)
        return undefined
      }
      case "CountersReserved": {
        if (!w.keysets.has(e.keysetId)) return unknownKeyset(e.keysetId, "the reservation")
        const next = w.counters.get(e.keysetId) ?? 0
        if (e.start < next)
          return violation(
            "counter-backwards",
            `${where}: counters of keyset ${e.keysetId} reserved from ${e.start}, below the next unused ${next}`,
          )
        w.counters.set(e.keysetId, e.start + e.count)
        return undefined
      }
      case "OperationPrepared": {
        for (const [i, o] of e.outputs.entries()) {
          if (!w.keysets.has(o.id)) return unknownKeyset(o.id, `output ${i}`)
          if (o.counter !== undefined && e.kind !== "restore" && o.counter >= (w.counters.get(o.id) ?? 0))
            return violation(
              "counter-unreserved",
              `${where}: output ${i} derives from counter ${o.counter} of keyset ${o.id}, which was never reserved`,
            )
        }
        return undefined
      }
      case "OperationCompleted": {
        if (e.kind !== "restore") return undefined
        for (const c of e.counters) {
          if (!w.keysets.has(c.keysetId)) return unknownKeyset(c.keysetId, "the restored counter")
          if (c.next > (w.counters.get(c.keysetId) ?? 0)) w.counters.set(c.keysetId, c.next)
        }
        return undefined
      }
      case "ProofsIssued":
      case "ProofsReceived":
      case "ProofsReserved":
      case "ProofsReleased":
      case "ProofsPending":
      case "ProofsSpent":
      case "ProofsDropped":
        return this.proofEvent(rec, w, where, violation)
      default:
        return undefined
    }
  }

  private proofEvent(
    rec: RecordedEvent,
    w: WalletAudit,
    where: string,
    violation: (kind: ViolationKind, message: string) => Violation,
  ): Violation | undefined {
    const e = rec.event
    const touched = new Set<string>()
    const move = (bucket: string, amount: bigint, from: ProofState | undefined, to: ProofState) => {
      if (from === "unspent") w.unspent.set(bucket, (w.unspent.get(bucket) ?? 0n) - amount)
      if (to === "unspent") w.unspent.set(bucket, (w.unspent.get(bucket) ?? 0n) + amount)
      touched.add(bucket)
    }
    if (e._tag === "ProofsIssued" || e._tag === "ProofsReceived") {
      const to = targetState(e._tag)
      touched.add(bucketKey(e.mintUrl, e.unit))
      for (const [i, p] of e.proofs.entries()) {
        const binding = w.keysets.get(p.id)
        if (binding === undefined)
          return violation(
            "unknown-keyset",
            `${where}: proof ${i} names keyset ${p.id}, which the wallet never learned`,
          )
        const held = w.proofs.get(p.Y)
        const refusal = checkTransition(held?.state, held?.owner, e._tag, e.operationId)
        if (refusal !== undefined) return violation(refusal.kind, `${where}: proof ${i}: ${refusal.message}`)
        const bucket = bucketKey(binding.mintUrl, binding.unit)
        w.proofs.set(p.Y, { state: to, owner: undefined, amount: p.amount, bucket })
        move(bucket, p.amount, undefined, to)
      }
    } else if (
      e._tag === "ProofsReserved" ||
      e._tag === "ProofsReleased" ||
      e._tag === "ProofsPending" ||
      e._tag === "ProofsSpent" ||
      e._tag === "ProofsDropped"
    ) {
      const to = targetState(e._tag)
      for (const [i, y] of e.ys.entries()) {
        const held = w.proofs.get(y)
        const refusal = checkTransition(held?.state, held?.owner, e._tag, e.operationId)
        if (refusal !== undefined || held === undefined)
          return violation(
            refusal?.kind ?? "unknown-proof",
            `${where}: proof ${i}: ${refusal?.message ?? ""}`,
          )
        if (to === undefined) {
          // Dropped (an incoming proof of a receive that ended without effect): no longer held.
          touched.add(held.bucket)
          w.proofs.delete(y)
          continue
        }
        move(held.bucket, held.amount, held.state, to)
        held.state = to
        held.owner = ownerAfter(e._tag, e.operationId)
      }
    }
    this.balances = balancesProjection.evolve(this.balances, rec)
    for (const bucket of touched) {
      const [mintUrl = "", unit = ""] = bucket.split("\u0000")
      const projected = balanceOf(this.balances, rec.envelope.streamId, mintUrl, unit).unspent
      if (projected !== (w.unspent.get(bucket) ?? 0n))
        return violation(
          "balance-mismatch",
          `${where}: the unspent balance at ${mintUrl} in ${unit} differs from the sum of its unspent proofs`,
        )
    }
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// The audit
// ---------------------------------------------------------------------------------------------------------

/**
 * Opens and decodes a stored payload; throws `VaultError` or `EventCodecError`. `group`, when the sealer
 * seals appends as groups (see `infra/vault.ts`), finds group members and decodes a whole group at once.
 */
export type PayloadDecoder = ((stored: StoredEvent) => WalletEvent) & {
  readonly group?: {
    readonly positionOf: (payload: Uint8Array) => GroupPosition | undefined
    readonly decode: (members: ReadonlyArray<StoredEvent>) => WalletEvent[]
  }
}

/** The decoder of payloads sealed with `sealer` (the store's vault, or the identity for a plain store). */
export const payloadDecoder = (sealer: PayloadSealer): PayloadDecoder => {
  const one = (stored: StoredEvent): WalletEvent => {
    const env = stored.envelope
    return decodeEvent(env.type, env.schemaVersion, sealer.open(stored.payload, payloadAad(env)))
  }
  const group = sealer.group
  if (group === undefined) return one
  return Object.assign(one, {
    group: {
      positionOf: group.positionOf,
      decode: (members: ReadonlyArray<StoredEvent>) => {
        const plains = group.open(
          members.map((m) => m.payload),
          groupAad(members.map((m) => m.envelope)),
        )
        return members.map((m, i) => decodeEvent(m.envelope.type, m.envelope.schemaVersion, plains[i]!))
      },
    },
  })
}

/** Stops a stream early, carrying the verdict out. */
class Stop {
  constructor(readonly violation: Violation) {}
}

const unreadable = (sequence: number, e: EventCodecError | VaultError): Violation => ({
  sequence,
  kind: "unreadable",
  message:
    e instanceof VaultError
      ? `event ${sequence}'s payload does not open (${e.reason})`
      : `event ${sequence}'s payload does not decode: ${e.message}`,
})

/**
 * Audits the whole log in one streaming pass over `readRaw`: the chain and envelopes always; with `decode`
 * (which needs the key), every payload and every invariant too. Reports the first violation.
 *
 * Why the audit decodes itself instead of using `readAll`: a store decodes a whole page at a time, so an
 * undecodable event would fail its page and hide which event it was. Decoding each chain-checked event here
 * names the exact sequence, and reads the log once. A `VaultError` of reason `missing-key` (no key at all)
 * is not a finding: it fails the audit.
 */
export const auditLog = (
  store: EventStoreShape,
  decode?: PayloadDecoder,
): Effect.Effect<AuditResult, StoreError> =>
  Effect.gen(function* () {
    const head = yield* store.head
    const scope: AuditScope = decode === undefined ? "chain" : "full"
    const chain = new ChainChecker()
    const invariants = new InvariantChecker()
    let missingKey: VaultError | undefined
    /** Decodes (one event, or a whole sealed group), or says why the payload is unreadable. */
    const decoded = <A>(sequence: number, f: () => A): A | Violation => {
      try {
        return f()
      } catch (e) {
        if (e instanceof VaultError && e.reason === "missing-key") {
          missingKey = e
          return { sequence, kind: "unreadable", message: "no key" } satisfies Violation
        }
        if (e instanceof VaultError || e instanceof EventCodecError) return unreadable(sequence, e)
        throw e
      }
    }
    // Members of a sealed group open only together: they are held (already chain-checked) until the last
    // one arrives, then decoded and checked in order. A group that fails names its first member.
    let held: StoredEvent[] = []
    let heldCount = 0
    const brokenGroup = (sequence: number) =>
      unreadable(sequence, new VaultError({ reason: "tampered", message: "incomplete sealed group" }))
    const check = (stored: StoredEvent): Violation | undefined => {
      const v = chain.check(stored)
      if (v !== undefined || decode === undefined) return v
      const pos = decode.group?.positionOf(stored.payload)
      if (pos !== undefined || held.length > 0) {
        if (pos === undefined || pos.index !== held.length || (held.length > 0 && pos.count !== heldCount))
          return brokenGroup(held[0]?.envelope.sequence ?? stored.envelope.sequence)
        heldCount = pos.count
        held.push(stored)
        if (held.length < pos.count) return undefined
        const members = held
        held = []
        const events = decoded(members[0]!.envelope.sequence, () => decode.group!.decode(members))
        if (!Array.isArray(events)) return events
        for (let k = 0; k < members.length; k++) {
          const found = invariants.check({ envelope: members[k]!.envelope, event: events[k]! })
          if (found !== undefined) return found
        }
        return undefined
      }
      const event = decoded(stored.envelope.sequence, () => decode(stored))
      if (!("_tag" in event)) return event
      return invariants.check({ envelope: stored.envelope, event })
    }
    const found = yield* Stream.runForEachArray(store.readRaw(1), (items) =>
      Effect.suspend(() => {
        for (const item of items) {
          const v = check(item)
          if (v !== undefined) return Effect.fail(new Stop(v))
        }
        return Effect.void
      }),
    ).pipe(
      Effect.as(undefined),
      Effect.catchIf(
        (e): e is Stop => e instanceof Stop,
        (s) => Effect.succeed(s.violation),
      ),
      Effect.catchIf(
        (e): e is StoreCorrupted => e instanceof StoreCorrupted,
        (e) => Effect.succeed<Violation>({ sequence: e.firstBadSequence, kind: "chain", message: e.message }),
      ),
    )
    if (missingKey !== undefined) return yield* Effect.fail(missingKey)
    let violation =
      found ?? (held.length > 0 ? brokenGroup(held[0]!.envelope.sequence) : undefined) ?? chain.end(head)
    // What the records alone do not show: the backend's indexes and layout must agree with them.
    if (violation === undefined && store.verifyStructure !== undefined)
      violation = yield* store.verifyStructure.pipe(
        Effect.as(undefined),
        Effect.catchIf(
          (e): e is StoreCorrupted => e instanceof StoreCorrupted,
          (e) =>
            Effect.succeed<Violation>({ sequence: e.firstBadSequence, kind: "chain", message: e.message }),
        ),
      )
    // Events that passed every check of this scope.
    const events = decode === undefined ? chain.checked : invariants.checked
    return violation === undefined
      ? { ok: true, scope, events, head }
      : { ok: false, scope, events, head, violation }
  })
