/**
 * The HTTP mint client against real sockets on 127.0.0.1 (Node's own `fetch`): a mint that stalls or drips its
 * answer (issue 10, item 9) and a mint that closes kept-alive connections as a request arrives on them.
 */
import { createServer, type Server, type Socket } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import type { MintClientHttpOptions } from "../../../src/infra/mint-client/http.js"
import { DEFAULT_IDLE_TIMEOUTS, type IdleTimeoutOverrides } from "../../../src/infra/mint-client/timeouts.js"
import type { MintCallError } from "../../../src/model/index.js"
import { clientOver, FAST, fail, run } from "./harness.js"

/** What a scripted connection does with one request: its first line (`POST /v1/melt/bolt11`) and its index. */
type Script = (socket: Socket, requestLine: string, indexOnConnection: number) => void

interface Scripted {
  readonly url: string
  /** Request lines received, in order. */
  readonly requests: string[]
  readonly connections: () => number
}

const servers: Server[] = []
const sockets = new Set<Socket>()
const timers: NodeJS.Timeout[] = []
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t)
  for (const s of sockets) s.destroy()
  sockets.clear()
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
})

/**
 * A raw HTTP/1.1 server on 127.0.0.1 that reads each request (headers and a `content-length` body) and hands it
 * to `script`. Raw `net`, so a test controls every byte and when a connection closes.
 */
const scriptedServer = async (script: Script): Promise<Scripted> => {
  const requests: string[] = []
  let connections = 0
  const server = createServer((socket) => {
    connections++
    sockets.add(socket)
    let buffered = Buffer.alloc(0)
    let index = 0
    socket.on("error", () => {})
    socket.on("data", (data) => {
      buffered = Buffer.concat([buffered, data])
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n")
        if (end < 0) return
        const head = buffered.subarray(0, end).toString("latin1")
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? "0")
        if (buffered.length < end + 4 + length) return
        buffered = buffered.subarray(end + 4 + length)
        const line = head.split("\r\n")[0]!.split(" ").slice(0, 2).join(" ")
        requests.push(line)
        script(socket, line, index++)
      }
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("no port")
  return { url: `http://127.0.0.1:${address.port}`, requests, connections: () => connections }
}

const respond = (socket: Socket, status: number, body: string): void => {
  socket.write(
    `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: keep-alive\r\nkeep-alive: timeout=5\r\n\r\n${body}`,
  )
}

/** Headers of a 200 whose body is then written piece by piece (chunked, never finished). */
const startChunked = (socket: Socket, status = 200): void => {
  socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`)
}
const chunk = (socket: Socket, text: string): void => {
  if (!socket.destroyed) socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`)
}

/** `promise`, or "still running" after `ms`: a guard so a hanging call fails the test instead of the run. */
const within = <A>(promise: Promise<A>, ms: number): Promise<A | "still running"> =>
  Promise.race([promise, new Promise<"still running">((r) => setTimeout(() => r("still running"), ms))])

const MELT_BODY = JSON.stringify({ quote: "q", inputs: [] })

const client = (idleTimeouts: IdleTimeoutOverrides, extra: MintClientHttpOptions = {}) =>
  clientOver(globalThis.fetch, { ...FAST, idleTimeouts, ...extra })

describe("a melt through a mint that stalls or drips its answer", () => {
  it("keeps a generous idle bound by default: 120 s for melt", () => {
    expect(DEFAULT_IDLE_TIMEOUTS.melt).toBe(120_000)
  })

  it("fails as an ambiguous MintTimeout when the headers do not come within the idle bound", async () => {
    const mint = await scriptedServer(() => {}) // reads the request, never answers
    const c = await client({ melt: 1_000 })
    const e = await within(fail(c.melt(mint.url, "bolt11", MELT_BODY)), 10_000)
    expect(e).toMatchObject({ _tag: "MintTimeout", endpoint: "melt", afterMs: 1_000 })
    expect(mint.requests).toEqual(["POST /v1/melt/bolt11"])
  })

  it("fails as an ambiguous MintTimeout when the body drips slower than the idle bound", async () => {
    const mint = await scriptedServer((socket) => {
      startChunked(socket)
      chunk(socket, "{")
      timers.push(setInterval(() => chunk(socket, " "), 400))
    })
    const c = await client({ melt: 150 })
    const e = await within(fail(c.melt(mint.url, "bolt11", MELT_BODY)), 10_000)
    expect(e).toMatchObject({ _tag: "MintTimeout", endpoint: "melt", afterMs: 150 })
    expect(mint.requests).toHaveLength(1)
  })

  it("a body that keeps coming within the idle bound is cut at the size cap, as an ambiguous answer", async () => {
    const mint = await scriptedServer((socket) => {
      startChunked(socket)
      chunk(socket, '{"state": "')
      timers.push(setInterval(() => chunk(socket, "x".repeat(64)), 5))
    })
    const c = await client({ melt: 5_000 }, { maxBodyBytes: 4096 })
    const e = await within(fail(c.melt(mint.url, "bolt11", MELT_BODY)), 10_000)
    expect(e).toMatchObject({ _tag: "MintAmbiguous", endpoint: "melt", reason: "malformed" })
  })

  it("an error status whose body exceeds the cap settles nothing: ambiguous, not a refusal", async () => {
    const mint = await scriptedServer((socket) => {
      respond(socket, 400, JSON.stringify({ detail: "x".repeat(600), code: 11001 }))
    })
    const c = await client({ melt: 5_000 }, { maxBodyBytes: 256 })
    const e = (await fail(c.melt(mint.url, "bolt11", MELT_BODY))) as MintCallError
    expect(e).toMatchObject({ _tag: "MintAmbiguous", reason: "malformed", status: 400 })
  })

  it("a slow but steady answer within the idle bound still completes (no overall timeout on melt)", async () => {
    const answer = JSON.stringify({ quote: "q", amount: 1, fee_reserve: 1, state: "PAID", expiry: null })
    const mint = await scriptedServer((socket) => {
      startChunked(socket)
      const parts = answer.match(/.{1,8}/g)!
      let i = 0
      const t = setInterval(() => {
        if (i < parts.length) chunk(socket, parts[i++]!)
        else {
          socket.write("0\r\n\r\n")
          clearInterval(t)
        }
      }, 40)
      timers.push(t)
    })
    const c = await client({ melt: 400 })
    const res = await run(c.melt(mint.url, "bolt11", MELT_BODY))
    expect(res.state).toBe("PAID")
  })
})

describe("a mint that closes kept-alive connections (nutshell closes idle ones after 5 s)", () => {
  const QUOTE = JSON.stringify({
    quote: "q1",
    request: "lnbc1",
    amount: 1,
    unit: "sat",
    state: "UNPAID",
    expiry: 1,
  })
  /** Lets fetch put the answered connection back in its pool, so the next request reuses it. */
  const settle = () => new Promise((r) => setTimeout(r, 100))
  /** Answers the first request of each connection and keeps it open; closes it when a second one arrives. */
  const closingMint = (body: string) =>
    scriptedServer((socket, _line, index) => {
      if (index === 0) respond(socket, 200, body)
      else socket.destroy()
    })

  it("a quote request that meets the closed connection is sent again on a fresh one", async () => {
    const mint = await closingMint(QUOTE)
    const c = await client({})
    await run(c.mintQuote(mint.url, "bolt11", { amount: 1n, unit: "sat" }))
    await settle()
    const again = await run(c.mintQuote(mint.url, "bolt11", { amount: 1n, unit: "sat" }))
    expect(again.quote).toBe("q1")
    expect(mint.requests).toEqual(Array(3).fill("POST /v1/mint/quote/bolt11"))
    expect(mint.connections()).toBe(2)
  })

  it("so is a GET", async () => {
    const mint = await closingMint(JSON.stringify({ keysets: [] }))
    const c = await client({}, { retry: { times: 0 } })
    await run(c.keysets(mint.url))
    await settle()
    expect(await run(c.keysets(mint.url))).toEqual({ keysets: [] })
    expect(mint.requests).toEqual(Array(3).fill("GET /v1/keysets"))
  })

  it("a swap that may have reached the mint is not sent again here", async () => {
    const mint = await closingMint(JSON.stringify({ signatures: [] }))
    const c = await client({})
    await run(c.swap(mint.url, JSON.stringify({ inputs: [], outputs: [] })))
    await settle()
    const e = await fail(c.swap(mint.url, JSON.stringify({ inputs: [], outputs: [] })))
    expect(e._tag).toBe("MintUnreachable")
    expect(mint.requests.filter((r) => r === "POST /v1/swap")).toHaveLength(2)
  })

  it("a refused connection is tried once more, whatever the endpoint (nothing left this process)", async () => {
    const mint = await scriptedServer((socket) => respond(socket, 200, JSON.stringify({ signatures: [] })))
    let calls = 0
    const refusingOnce: typeof globalThis.fetch = (input, init) => {
      calls++
      if (calls === 1) {
        const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })
        return Promise.reject(new TypeError("fetch failed", { cause: refused }))
      }
      return globalThis.fetch(input, init)
    }
    const c = await clientOver(refusingOnce, FAST)
    await run(c.swap(mint.url, JSON.stringify({ inputs: [], outputs: [] })))
    expect(calls).toBe(2)
    expect(mint.requests).toEqual(["POST /v1/swap"])
  })
})
