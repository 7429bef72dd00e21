/**
 * The proof machine: the specification of a proof's lifecycle in one wallet, as an xstate v5 machine.
 *
 * ```
 *   (unknown) ──Issued──► unspent ──Reserved(op)──► reserved(op) ──Pending(op)──► pending(op)
 *       │                    ▲                           │                           │
 *       │                    └──────── Released(op) ─────┴───────────────────────────┘
 *       └──Received──► incoming ──Dropped──► (unknown)
 *   incoming | unspent | reserved | pending ──Spent──► spent (final)
 * ```
 *
 * The context is the operation holding the proof's reservation. Guards make "only the owner may move a
 * reserved or pending proof" a property of the machine. `./lifecycle.ts` is the compiled form
 * of this machine (a switch the projections run over millions of proofs); the tests check that the two
 * agree on every input, so the table cannot drift from the specification.
 *
 * The machine is used as a pure function (`proofTransition`), never as a live actor: one actor per proof
 * would not fit in memory, and the proof's state already lives in the projections.
 *
 * @module
 */
import { assign, setup, transition } from "xstate"
import type { ProofEventTag, ProofState, Refusal, RefusalKind } from "./lifecycle.js"

/** The machine's state: `unknown` stands for a proof the wallet has never held. */
export type ProofMachineState = ProofState | "unknown"

/** The context: the operation holding the reservation (reserved and pending proofs only). */
export interface ProofContext {
  readonly owner: string | undefined
}

/** A proof event as the machine sees it: its tag and the operation that records it. */
export interface ProofMachineEvent {
  readonly type: ProofEventTag
  readonly operationId?: string | undefined
}

/** The proof lifecycle machine (see the module comment for the diagram). */
export const proofMachine = setup({
  types: {
    context: {} as ProofContext,
    events: {} as ProofMachineEvent,
    input: {} as ProofContext,
  },
  guards: {
    /** Only the operation holding the reservation may move the proof on. */
    isOwner: ({ context, event }) => context.owner === event.operationId,
  },
  actions: {
    /** The event's operation now holds the reservation. */
    takeOwner: assign({ owner: ({ event }) => event.operationId }),
    /** Nobody holds the proof (unspent, incoming, spent). */
    dropOwner: assign({ owner: () => undefined }),
  },
}).createMachine({
  id: "proof",
  initial: "unknown",
  context: ({ input }) => ({ owner: input.owner }),
  states: {
    unknown: {
      on: {
        ProofsIssued: { target: "unspent", actions: "dropOwner" },
        ProofsReceived: { target: "incoming", actions: "dropOwner" },
      },
    },
    incoming: {
      // Never spendable by us: the receive's swap (or the sender) consumes it, or the receive ended without
      // effect and drops it (it was never ours).
      on: {
        ProofsSpent: { target: "spent", actions: "dropOwner" },
        ProofsDropped: { target: "unknown", actions: "dropOwner" },
      },
    },
    unspent: {
      on: {
        ProofsReserved: { target: "reserved", actions: "takeOwner" },
        ProofsSpent: { target: "spent", actions: "dropOwner" },
      },
    },
    reserved: {
      on: {
        ProofsPending: { target: "pending", guard: "isOwner", actions: "takeOwner" },
        ProofsReleased: { target: "unspent", guard: "isOwner", actions: "dropOwner" },
        // The mint's verdict, whoever reports it (our swap, or a checkstate seeing it spent elsewhere).
        ProofsSpent: { target: "spent", actions: "dropOwner" },
      },
    },
    pending: {
      on: {
        ProofsReleased: { target: "unspent", guard: "isOwner", actions: "dropOwner" },
        ProofsSpent: { target: "spent", actions: "dropOwner" },
      },
    },
    spent: { type: "final" },
  },
})

/** A proof as the projections hold it: its state and the reservation's owner. */
export interface ProofCurrent {
  readonly state: ProofState
  readonly owner: string | undefined
}

/** The outcome of one proof event on one proof (`state` undefined: the wallet no longer holds it). */
export type ProofTransitionResult =
  | { readonly ok: true; readonly state: ProofState | undefined; readonly owner: string | undefined }
  | { readonly ok: false; readonly refusal: Refusal }

const VERB: Record<ProofEventTag, string> = {
  ProofsIssued: "issue",
  ProofsReceived: "receive",
  ProofsReserved: "reserve",
  ProofsReleased: "release",
  ProofsPending: "pending",
  ProofsSpent: "spend",
  ProofsDropped: "drop",
}

const refuse = (kind: RefusalKind, message: string): Refusal => ({ kind, message })

/**
 * Why the machine refused `tag` in `state`. The machine decides *whether*; this names *why*, in the words of
 * the lifecycle table (messages carry no Ys, amounts or operation ids).
 */
const refusalOf = (state: ProofMachineState, tag: ProofEventTag, guarded: boolean): Refusal => {
  if (guarded) {
    return refuse("not-owner", `${VERB[tag]} by an operation that does not hold the proof's reservation`)
  }
  if (state === "unknown") return refuse("unknown-proof", `${VERB[tag]} of a proof the wallet never held`)
  switch (tag) {
    case "ProofsIssued":
    case "ProofsReceived":
      return state === "spent"
        ? refuse("illegal-transition", `${tag} of a proof that is already spent`)
        : refuse("two-states", `${tag} of a proof the wallet already holds as ${state}`)
    case "ProofsReserved":
      return refuse("illegal-transition", `reserve of a ${state} proof (only unspent proofs can be reserved)`)
    case "ProofsPending":
      return refuse(
        "illegal-transition",
        `pending of a ${state} proof (only reserved proofs can turn pending)`,
      )
    case "ProofsReleased":
      return refuse("illegal-transition", `release of a ${state} proof (nothing to release)`)
    case "ProofsSpent":
      return refuse("double-spend", "a proof is spent a second time")
    case "ProofsDropped":
      return refuse("illegal-transition", `drop of a ${state} proof (only incoming proofs can be dropped)`)
  }
}

/**
 * Applies one proof event to one proof through the machine. `current` is undefined for a proof the wallet
 * has never held; `event.operationId` is the event's operation (absent on some issues and spends).
 */
export const proofTransition = (
  current: ProofCurrent | undefined,
  event: { readonly tag: ProofEventTag; readonly operationId?: string | undefined },
): ProofTransitionResult => {
  // The machine's answer depends only on the state, the tag, and how the owner relates to the event's
  // operation: decide each such class once through xstate, then reuse the decision (an engine append checks
  // dozens of proof events; resolving an xstate snapshot per event cost ~135 µs).
  const owner = current?.owner
  const relation =
    owner === undefined
      ? "free"
      : event.operationId === undefined
        ? "held"
        : owner === event.operationId
          ? "own"
          : "other"
  const key = `${current?.state ?? "unknown"}|${relation}|${event.operationId === undefined ? "-" : "+"}|${event.tag}`
  let decided = decisions.get(key)
  if (decided === undefined) {
    const r = decide(current, event)
    decided = r.ok
      ? {
          ok: true,
          state: r.state,
          // Who holds the proof afterwards, as a rule over the inputs (ids differ from call to call).
          owner: r.owner === undefined ? "none" : r.owner === event.operationId ? "event" : "current",
        }
      : r
    decisions.set(key, decided)
  }
  if (!decided.ok) return decided
  const next = decided.owner === "none" ? undefined : decided.owner === "event" ? event.operationId : owner
  return { ok: true, state: decided.state, owner: next }
}

/** A cached decision: the refusal, or the next state and whose the reservation is then. */
type Decision =
  | { readonly ok: false; readonly refusal: Refusal }
  | {
      readonly ok: true
      readonly state: ProofState | undefined
      readonly owner: "none" | "event" | "current"
    }

/** Decisions by (state, owner relation, tag) class; see {@link proofTransition}. */
const decisions = new Map<string, Decision>()

/** The machine's own answer for one proof event (no caching). */
const decide = (
  current: ProofCurrent | undefined,
  event: { readonly tag: ProofEventTag; readonly operationId?: string | undefined },
): ProofTransitionResult => {
  const from: ProofMachineState = current?.state ?? "unknown"
  const snapshot = proofMachine.resolveState({ value: from, context: { owner: current?.owner } })
  const ev: ProofMachineEvent = { type: event.tag, operationId: event.operationId }
  if (!snapshot.can(ev)) {
    // A transition exists for this tag but its guard failed: the only guard is the owner check.
    const guarded = proofMachine.states[from]?.on[event.tag] !== undefined
    return { ok: false, refusal: refusalOf(from, event.tag, guarded) }
  }
  const [next] = transition(proofMachine, snapshot, ev)
  const state = next.value as ProofMachineState
  return { ok: true, state: state === "unknown" ? undefined : state, owner: next.context.owner }
}
