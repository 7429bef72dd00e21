/**
 * The engine's optional telemetry listener (`node:http`, no framework), open as long as the engine:
 *
 * - `GET /metrics`: the Prometheus text format (`text/plain; version=0.0.4`).
 * - `GET /healthz`: liveness, `200 ok` while the engine is open (the listener closes with it).
 * - `GET /readyz`: readiness, `200` with the health report as JSON when its status is `ok`, `503` with it
 *   otherwise.
 *
 * Anything else is `404`; a method other than `GET`/`HEAD` is `405`. It binds `127.0.0.1` by default: the
 * report names mints and operation kinds, nothing secret, but it is not meant for the open internet.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"
import { InvalidArgument } from "../../model/index.js"
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.js"

/** Where the listener binds. */
export interface TelemetryHttpOptions {
  /** TCP port; 0 picks a free one (read it back from `engine.telemetryAddress`). */
  readonly port: number
  /** Interface to bind (default `127.0.0.1`). */
  readonly host?: string
}

/** What the listener serves, supplied by the engine. */
export interface TelemetryHandlers {
  readonly metrics: () => Promise<string>
  /** The readiness verdict and the JSON body to send with it. */
  readonly ready: () => Promise<{ readonly ok: boolean; readonly body: unknown }>
}

/** Where a started listener listens. */
export interface TelemetryAddress {
  readonly host: string
  readonly port: number
}

const json = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v))

const send = (res: ServerResponse, status: number, type: string, body: string, head: boolean): void => {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" })
  res.end(head ? undefined : body)
}

const route = async (req: IncomingMessage, res: ServerResponse, h: TelemetryHandlers): Promise<void> => {
  const path = new URL(req.url ?? "/", "http://localhost").pathname
  const head = req.method === "HEAD"
  if (req.method !== "GET" && !head) {
    res.setHeader("allow", "GET, HEAD")
    return send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", false)
  }
  switch (path) {
    case "/metrics":
      return send(res, 200, PROMETHEUS_CONTENT_TYPE, await h.metrics(), head)
    case "/healthz":
      return send(res, 200, "text/plain; charset=utf-8", "ok\n", head)
    case "/readyz": {
      const r = await h.ready()
      return send(res, r.ok ? 200 : 503, "application/json", `${json(r.body)}\n`, head)
    }
    default:
      return send(res, 404, "text/plain; charset=utf-8", "not found\n", head)
  }
}

/**
 * Starts the listener in the current scope (closed, with its open connections, when the scope closes). Fails
 * with `InvalidArgument` naming `options.telemetry.http` when it cannot listen (port taken, bad host).
 */
export const startTelemetryHttp = (
  options: TelemetryHttpOptions,
  handlers: TelemetryHandlers,
): Effect.Effect<TelemetryAddress, InvalidArgument, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: ReturnType<typeof createServer>; address: TelemetryAddress }, InvalidArgument>(
      (resume) => {
        const host = options.host ?? "127.0.0.1"
        const server = createServer((req, res) => {
          route(req, res, handlers).catch(() => {
            if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n", false)
            else res.destroy()
          })
        })
        server.once("error", (e: NodeJS.ErrnoException) =>
          resume(
            Effect.fail(
              new InvalidArgument({
                argument: "options.telemetry.http",
                reason: e.code ?? "listen failed",
                message: `the telemetry listener cannot listen on ${host}:${options.port} (${e.code ?? e.message})`,
              }),
            ),
          ),
        )
        server.listen(options.port, host, () => {
          const a = server.address() as AddressInfo
          resume(Effect.succeed({ server, address: { host: a.address, port: a.port } }))
        })
      },
    ),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      }),
  ).pipe(Effect.map(({ address }) => address))
