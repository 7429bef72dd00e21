/**
 * What every JetStream part of the engine (vault, leases, members, checkpoints) does the same way: a NATS
 * connection tied to a scope, and a promise's rejection turned into a typed `StoreUnavailable` that names
 * the step and carries at most the first 200 characters of the client's message (never a payload).
 *
 * @module
 */
import { connect, type NatsConnection } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import { StoreUnavailable } from "../../model/index.js"

/** A typed store error (`reason: "io"`) with `message`. */
export const unavailable = (message: string): StoreUnavailable =>
  new StoreUnavailable({ reason: "io", message })

/** The client's message of a failure, bounded, for a typed error. */
export const describe = (e: unknown): string =>
  e instanceof Error ? e.message.slice(0, 200) : "unknown error"

/** Runs `f`, turning a rejection into `StoreUnavailable` "`what` failed: …". */
export const io = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, StoreUnavailable> =>
  Effect.tryPromise({ try: f, catch: (e) => unavailable(`${what} failed: ${describe(e)}`) })

/** A NATS connection named `name` (as the server's monitoring shows it), closed when the scope closes. */
export const scopedConnection = (opts: {
  readonly servers: string | ReadonlyArray<string>
  readonly name: string
  readonly timeoutMs?: number
}): Effect.Effect<NatsConnection, StoreUnavailable, Scope.Scope> =>
  Effect.acquireRelease(
    io("connecting to NATS", () =>
      connect({
        servers: typeof opts.servers === "string" ? opts.servers : [...opts.servers],
        name: opts.name,
        timeout: opts.timeoutMs ?? 5000,
      }),
    ),
    (c) => Effect.promise(() => c.close().catch(() => undefined)),
  )
