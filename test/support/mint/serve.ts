/**
 * Serves a {@link TestMint} over real HTTP on 127.0.0.1 (node:http), for clients that cannot take a `fetch`
 * function (e.g. cashu-ts in a benchmark, or a child process in a crash test). A dropped-response fault
 * destroys the socket without an answer.
 *
 * @module
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import type { TestMint } from "./mint.js"

/** A running server: its URL and a `close()`. */
export interface ServedMint {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Listens on `127.0.0.1:port` (0 = any free port) and forwards every request to `mint.handle`. */
export const serve = (mint: TestMint, port = 0): Promise<ServedMint> =>
  new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8")
        const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname
        mint.handle({ method: req.method ?? "GET", path, ...(body.length > 0 ? { body } : {}) }).then(
          (answer) => {
            res.writeHead(answer.status, answer.headers ?? {})
            res.end(answer.body)
          },
          () => res.destroy(),
        )
      })
    })
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => {
      const p = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${p}`,
        port: p,
        close: () =>
          new Promise<void>((done, fail) => {
            server.closeAllConnections()
            server.close((err) => (err === undefined ? done() : fail(err)))
          }),
      })
    })
  })
