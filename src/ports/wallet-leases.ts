/**
 * The wallet-leases port (issue #12, scale-out): which engine node may serve a wallet now. A lease is taken
 * only when no other node holds it, is kept alive by the holder's heartbeat, and expires on its own when the
 * holder stops renewing (paused, partitioned, dead). The implementation is `../infra/jetstream-leases.ts`
 * (a JetStream KV bucket whose entries the server expires); the engine sees only this contract.
 *
 * A lease is permission to try, not the fence: a node that has acquired one appends an ownership event to
 * the wallet's stream (`WalletOwnerChanged`, the next epoch), and the log's expected-version check is what
 * stops a former owner. `onLost` is how the lease tells the engine to stop serving a wallet at once.
 *
 * @module
 */
import type { Effect } from "effect"
import type { StoreUnavailable } from "../model/index.js"

/** What an acquisition found. */
export type LeaseOutcome =
  | { readonly _tag: "Acquired" }
  /** Another node holds the lease (`owner`: its node id, when the entry names one). */
  | { readonly _tag: "Held"; readonly owner: string | undefined }

/** The leases of one engine node. */
export interface WalletLeasesShape {
  /** This node's id (written into every lease it holds). */
  readonly nodeId: string
  /** How long a lease lives without a renewal, ms (on the server's clock). */
  readonly ttlMs: number
  /**
   * Takes the wallet's lease when no other node holds it (absent, released or expired), recording `epoch`
   * (the ownership epoch this node is about to append). From then on it is renewed every `ttlMs / 3`; when a
   * renewal shows it lost (another holder, the entry gone, or no renewal confirmed for `ttlMs`), `onLost`
   * is called once and the lease forgotten.
   */
  readonly acquire: (
    walletId: string,
    epoch: number,
    onLost: (reason: string) => void,
  ) => Effect.Effect<LeaseOutcome, StoreUnavailable>
  /** Records the epoch this node appended (written with the next renewal). */
  readonly noteEpoch: (walletId: string, epoch: number) => void
  /** Whether this node holds the wallet's lease (as far as it knows: not yet found lost). */
  readonly holds: (walletId: string) => boolean
  /** Gives the lease up (only if still this node's: by revision) and stops renewing it. Never fails. */
  readonly release: (walletId: string) => Effect.Effect<void>
  /** The node holding the wallet's lease now, by the store; undefined when it is free. */
  readonly holder: (walletId: string) => Effect.Effect<string | undefined, StoreUnavailable>
}
