/**
 * NATS request/reply for routed wallet calls (issue #12, "Routing"): the I/O under `../engine/routing.ts`.
 * Text in, text out: the wire format is `../protocol/rpc.ts`.
 *
 * **Subjects**: `<subjectPrefix>-rpc.<walletKey>` — one per wallet, subscribed by its owner only while it
 * owns the wallet (a plain subscription, never a queue group: exactly the owner must answer, not any node).
 * The first token is the log's subject prefix with `-rpc` appended, so it can never fall under the log's
 * own stream (which captures `<subjectPrefix>.>`: a request captured there would be stored in the log and
 * answered by JetStream). The wallet id is escaped like a lease key (`jetstream-leases.ts`: `.` and every
 * character outside `[A-Za-z0-9_-]` as `=hh`), so an id is one subject token.
 *
 * `request` tells apart what the router must: a reply; no responders (the server knows nobody subscribes:
 * the request reached no one — definitive); a timeout (it may have been handled: ambiguous); a request over
 * the server's `max_payload` (not sent); a connection failure.
 *
 * @module
 */
import { connect, type NatsConnection, RequestError, TimeoutError } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"
import { StoreUnavailable } from "../model/index.js"
import { leaseKeyOf } from "./jetstream-leases.js"

/** What a request came back with. */
export type RpcOutcome =
  | { readonly _tag: "Reply"; readonly text: string }
  | { readonly _tag: "NoResponders" }
  | { readonly _tag: "Timeout" }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Failed"; readonly message: string }

/** Requests and subscriptions on one NATS connection. */
export interface RpcTransport {
  /** The subject of a wallet's calls. */
  readonly subjectOf: (walletId: string) => string
  /** Sends one request and waits up to `timeoutMs` for the first reply. Never rejects. */
  readonly request: (subject: string, text: string, timeoutMs: number) => Promise<RpcOutcome>
  /**
   * Answers requests on `subject` with `handle` (each request handled on its own, concurrently) until the
   * returned `stop` is called; `ready` resolves once the server has the subscription (a flush). A handler
   * that rejects sends no reply (the caller times out: in doubt).
   */
  readonly serve: (
    subject: string,
    handle: (text: string) => Promise<string>,
  ) => { readonly stop: () => void; readonly ready: Promise<void> }
}

/** Options of {@link openNatsRpc}. */
export interface NatsRpcOptions {
  readonly servers: string | ReadonlyArray<string>
  /** The log's subject prefix (default `cc`). */
  readonly subjectPrefix?: string
  /** The connection's name (shown by the server's monitoring). */
  readonly name?: string
  /** Connect timeout, ms (default 5000). */
  readonly timeoutMs?: number
}

const describe = (e: unknown): string => (e instanceof Error ? e.message.slice(0, 200) : "unknown error")

/** Connects for routed calls; closing the scope drains the subscriptions and closes the connection. */
export const openNatsRpc = (
  opts: NatsRpcOptions,
): Effect.Effect<RpcTransport, StoreUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const nc: NatsConnection = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          connect({
            servers: typeof opts.servers === "string" ? opts.servers : [...opts.servers],
            name: opts.name ?? "corecashu-rpc",
            timeout: opts.timeoutMs ?? 5000,
          }),
        catch: (e) =>
          new StoreUnavailable({ reason: "io", message: `connecting to NATS failed: ${describe(e)}` }),
      }),
      (c) => Effect.promise(() => c.close().catch(() => undefined)),
    )
    const prefix = `${opts.subjectPrefix ?? "cc"}-rpc`
    const encoder = new TextEncoder()
    const decoder = new TextDecoder("utf-8", { fatal: false })
    return {
      subjectOf: (walletId) => `${prefix}.${leaseKeyOf(walletId)}`,
      request: async (subject, text, timeoutMs) => {
        const bytes = encoder.encode(text)
        if (bytes.length > nc.info!.max_payload) return { _tag: "TooLarge" }
        try {
          const msg = await nc.request(subject, bytes, { timeout: timeoutMs })
          return { _tag: "Reply", text: decoder.decode(msg.data) }
        } catch (e) {
          if (e instanceof RequestError && e.isNoResponders()) return { _tag: "NoResponders" }
          if (e instanceof TimeoutError) return { _tag: "Timeout" }
          return { _tag: "Failed", message: describe(e) }
        }
      },
      serve: (subject, handle) => {
        const sub = nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err !== null || msg.reply === undefined) return
            handle(decoder.decode(msg.data)).then(
              (reply) => {
                const bytes = encoder.encode(reply)
                if (bytes.length <= nc.info!.max_payload) msg.respond(bytes)
              },
              () => undefined,
            )
          },
        })
        return { stop: () => sub.unsubscribe(), ready: nc.flush().catch(() => undefined) }
      },
    } satisfies RpcTransport
  })
