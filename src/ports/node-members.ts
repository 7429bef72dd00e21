/**
 * The node-membership port (issue #12, placement): which engine nodes of a log are alive now. A node
 * announces itself on open and keeps its entry alive by a heartbeat; an entry its node stops renewing
 * expires on its own (on the store's clock). Placement (`../engine/placement.ts`) spreads wallets over the
 * members this port reports. The implementation is `../infra/jetstream-members.ts`.
 *
 * Membership decides only where a wallet SHOULD live; who may serve it is still the lease, and the
 * ownership epoch in the log is still the fence.
 *
 * @module
 */

/** The members as one node sees them. */
export interface NodeMembersShape {
  /** This node's id (its own entry). */
  readonly nodeId: string
  /** The node ids alive now as last read (this node included while its entry lives), sorted. */
  readonly members: () => ReadonlyArray<string>
  /** Called after each read of the members that changed them. Returns how to stop listening. */
  readonly onChange: (f: (members: ReadonlyArray<string>) => void) => () => void
}
