/**
 * The proof lifecycle: which proof event may move a proof from which state. The proof projections and the
 * audit apply this one table, so what the audit flags is exactly what the projections refuse to apply.
 *
 * ```
 *            ProofsIssued ──► unspent ──Reserved(op)──► reserved(op) ──Pending(op)──► pending(op)
 *                               ▲                           │                            │
 *                               └──────── Released(op) ─────┴────────────────────────────┘
 *          ProofsReceived ──► incoming ──Dropped──► (never held)
 *   any state but spent ──Spent──► spent (terminal)
 * ```
 *
 * - Only an unspent proof can be reserved (a compare-and-set: no two operations hold one proof); only the
 *   operation holding a reservation may move it to pending or release it.
 * - Incoming proofs (a received token, not yet swapped) are never spendable: they end spent (the receive's
 *   swap consumed them, or the sender got there first) or are dropped (the receive ended without effect:
 *   they were never ours, and the wallet no longer holds them — a new receive may take them up again).
 * - `Spent` is accepted from any live state whatever operation reports it: it is the mint's verdict (our
 *   own swap, or a checkstate observing a proof spent elsewhere). Spent twice is a double spend.
 * - A proof issued or received while this wallet already holds it would sit in two states at once.
 *
 * @module
 */

/** A proof's state in one wallet. */
export type ProofState = "incoming" | "unspent" | "reserved" | "pending" | "spent"

/** Every proof state, in lifecycle order. */
export const PROOF_STATES: ReadonlyArray<ProofState> = ["incoming", "unspent", "reserved", "pending", "spent"]

/** The proof events, by tag. */
export type ProofEventTag =
  | "ProofsIssued"
  | "ProofsReceived"
  | "ProofsReserved"
  | "ProofsReleased"
  | "ProofsPending"
  | "ProofsSpent"
  | "ProofsDropped"

/** Why a transition is refused. */
export type RefusalKind = "unknown-proof" | "two-states" | "double-spend" | "illegal-transition" | "not-owner"

/** A refused transition: its kind and a message without secrets (no Ys, no amounts). */
export interface Refusal {
  readonly kind: RefusalKind
  readonly message: string
}

/** The state a proof event moves a proof to (undefined: the wallet no longer holds it). */
export function targetState(tag: Exclude<ProofEventTag, "ProofsDropped">): ProofState
export function targetState(tag: ProofEventTag): ProofState | undefined
export function targetState(tag: ProofEventTag): ProofState | undefined {
  switch (tag) {
    case "ProofsIssued":
    case "ProofsReleased":
      return "unspent"
    case "ProofsReceived":
      return "incoming"
    case "ProofsReserved":
      return "reserved"
    case "ProofsPending":
      return "pending"
    case "ProofsSpent":
      return "spent"
    case "ProofsDropped":
      return undefined
  }
}

const refuse = (kind: RefusalKind, message: string): Refusal => ({ kind, message })

/**
 * Checks one proof's transition. `state`/`owner` describe the proof now (`state` undefined when the wallet
 * has never held it; `owner` is the operation holding a reservation); `operationId` is the event's.
 * Returns undefined when the transition is allowed, the refusal otherwise.
 */
export const checkTransition = (
  state: ProofState | undefined,
  owner: string | undefined,
  tag: ProofEventTag,
  operationId: string | undefined,
): Refusal | undefined => {
  switch (tag) {
    case "ProofsIssued":
    case "ProofsReceived":
      if (state === undefined) return undefined
      return state === "spent"
        ? refuse("illegal-transition", `${tag} of a proof that is already spent`)
        : refuse("two-states", `${tag} of a proof the wallet already holds as ${state}`)
    case "ProofsReserved":
      if (state === "unspent") return undefined
      if (state === undefined) return refuse("unknown-proof", "reserve of a proof the wallet never held")
      return refuse("illegal-transition", `reserve of a ${state} proof (only unspent proofs can be reserved)`)
    case "ProofsPending":
      if (state === "reserved") return owner === operationId ? undefined : notOwner("pending")
      if (state === undefined) return refuse("unknown-proof", "pending of a proof the wallet never held")
      return refuse(
        "illegal-transition",
        `pending of a ${state} proof (only reserved proofs can turn pending)`,
      )
    case "ProofsReleased":
      if (state === "reserved" || state === "pending")
        return owner === operationId ? undefined : notOwner("release")
      if (state === undefined) return refuse("unknown-proof", "release of a proof the wallet never held")
      return refuse("illegal-transition", `release of a ${state} proof (nothing to release)`)
    case "ProofsSpent":
      if (state === undefined) return refuse("unknown-proof", "spend of a proof the wallet never held")
      if (state === "spent") return refuse("double-spend", "a proof is spent a second time")
      return undefined
    case "ProofsDropped":
      if (state === "incoming") return undefined
      if (state === undefined) return refuse("unknown-proof", "drop of a proof the wallet never held")
      return refuse("illegal-transition", `drop of a ${state} proof (only incoming proofs can be dropped)`)
  }
}

const notOwner = (what: string): Refusal =>
  refuse("not-owner", `${what} by an operation that does not hold the proof's reservation`)

/** The operation that holds the proof after an allowed transition (reservations only). */
export const ownerAfter = (tag: ProofEventTag, operationId: string | undefined): string | undefined =>
  tag === "ProofsReserved" || tag === "ProofsPending" ? operationId : undefined
