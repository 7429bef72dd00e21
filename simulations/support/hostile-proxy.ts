/**
 * A hostile mint: an HTTP proxy on 127.0.0.1 in front of a real mint. Each request is forwarded as it came
 * (or, for a 500 that applies nothing, not at all); with probability `rate` the answer is then spoiled in one
 * of the ways a broken or malicious mint or network spoils it ({@link HostileKind}). It starts as a plain
 * proxy; `setHostile(true)` turns it hostile, `setHostile(false)` plain again (the wallets know the mint by the
 * proxy's URL, so setup and the recovery at the end go through it).
 * Every spoiled answer is logged with the endpoint and the `tag` the caller set (the operation it belongs to).
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Dice } from "./prng.js"

/** How an answer is spoiled. */
export type HostileKind =
  /** The mint applied the request; the connection is closed without an answer. */
  | "drop-after-apply"
  /** HTTP 500 without forwarding (nothing applied). */
  | "error-500"
  /** HTTP 500 after the mint applied the request. */
  | "error-500-applied"
  /** Applied; nothing is sent back for longer than the client's idle bound, then the connection closes. */
  | "stall"
  /**
   * Held before forwarding for longer than the client's idle bound, then forwarded: the mint applies it after
   * the client gave up (a request queued at a slow mint, or held on the way); no answer.
   */
  | "late-apply"
  /** Applied; headers, then one byte at a time, each after longer than the idle bound. */
  | "drip"
  /** Applied; the whole answer in pieces, each within the idle bound (slow but alive: must succeed). */
  | "slow-drip"
  /** Applied; a prefix of the body, with a `content-length` that matches the prefix (valid HTTP, cut JSON). */
  | "truncate"
  /** Applied; the full `content-length` announced, half the body sent, then the connection closes. */
  | "close-mid-response"
  /** Applied; a 200 whose body is larger than the client's cap (declared or streamed). */
  | "oversized"
  /** Applied; a 200 whose body is not the answer (cut JSON, HTML, wrong types, duplicate keys, huge ints). */
  | "malformed-json"
  /** Applied; one hex digit of one signature's `C_` flipped. */
  | "flip-signature"
  /** Applied; one hex digit of one signature's DLEQ `e` or `s` flipped. */
  | "flip-dleq"

export const HOSTILE_KINDS: ReadonlyArray<HostileKind> = [
  "drop-after-apply",
  "error-500",
  "error-500-applied",
  "stall",
  "late-apply",
  "drip",
  "slow-drip",
  "truncate",
  "close-mid-response",
  "oversized",
  "malformed-json",
  "flip-signature",
  "flip-dleq",
]

/** One spoiled answer. */
export interface HostileEvent {
  readonly kind: HostileKind
  readonly endpoint: string
  /** Whether the mint saw the request. */
  readonly applied: boolean
  /** The caller's tag at the time (the operation it belongs to). */
  readonly tag: number
}

export interface HostileProxyOptions {
  /** The real mint, e.g. `http://127.0.0.1:3338`. */
  readonly target: string
  readonly dice: Dice
  /** Chance that an answer is spoiled. */
  readonly rate: number
  /** The client's idle bound (ms) per endpoint: stalls and drips go past it, slow drips stay within it. */
  readonly idleMs: (endpoint: string) => number
  /** The client's body cap (bytes): oversized answers go past it. */
  readonly maxBodyBytes: number
}

export interface HostileProxy {
  readonly url: string
  readonly events: HostileEvent[]
  /** Requests seen (spoiled or not). */
  readonly requests: () => number
  /**
   * Requests the mint answered only after the client had given up and closed the connection (it applied
   * them all the same): `endpoint` and the tag at the time.
   */
  readonly late: Array<{ readonly endpoint: string; readonly tag: number; readonly ms: number }>
  /** Tags the events logged from now on. */
  setTag(tag: number): void
  /** Hostile (spoils answers at `rate`) or plain (every answer as the mint gave it). */
  setHostile(on: boolean): void
  close(): Promise<void>
}

/** The endpoint of a path, as the mint client names it. */
export const endpointOf = (method: string, path: string): string => {
  const p = path.split("?")[0] ?? ""
  if (p === "/v1/swap") return "swap"
  if (p === "/v1/checkstate") return "checkstate"
  if (p === "/v1/restore") return "restore"
  if (p === "/v1/info") return "info"
  if (p === "/v1/keysets") return "keysets"
  if (p.startsWith("/v1/keys")) return "keys"
  if (/^\/v1\/mint\/quote\/[^/]+$/.test(p)) return "mint-quote"
  if (/^\/v1\/mint\/quote\/[^/]+\/[^/]+$/.test(p)) return "mint-quote-state"
  if (/^\/v1\/melt\/quote\/[^/]+$/.test(p)) return "melt-quote"
  if (/^\/v1\/melt\/quote\/[^/]+\/[^/]+$/.test(p)) return "melt-quote-state"
  if (/^\/v1\/mint\/[^/]+$/.test(p)) return "mint"
  if (/^\/v1\/melt\/[^/]+$/.test(p)) return "melt"
  return `${method} other`
}

/** Endpoints whose answers carry blind signatures (and DLEQ proofs). */
const SIGNING = new Set(["swap", "mint", "restore", "melt"])

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const readAll = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const HEX = "0123456789abcdef"

/** `s` with the hex digit at a random position changed to another hex digit. */
const flipHex = (s: string, dice: Dice): string => {
  const i = dice.int(0, s.length - 1)
  const c = s[i]!.toLowerCase()
  const other = HEX[(HEX.indexOf(c) + dice.int(1, 15)) % 16]!
  return s.slice(0, i) + other + s.slice(i + 1)
}

type Signature = { C_?: unknown; dleq?: { e?: unknown; s?: unknown } }

/** The answer's blind signatures (`signatures`, or a melt's `change`), or undefined. */
const signaturesOf = (body: unknown): Signature[] | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const o = body as { signatures?: unknown; change?: unknown }
  const list = Array.isArray(o.signatures) ? o.signatures : Array.isArray(o.change) ? o.change : undefined
  return list !== undefined && list.length > 0 ? (list as Signature[]) : undefined
}

/** The body with one signature's `C_` (or DLEQ `e`/`s`) flipped, or undefined when there is none to flip. */
const flipped = (text: string, what: "C_" | "dleq", dice: Dice): string | undefined => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  const sigs = signaturesOf(body)
  if (sigs === undefined) return undefined
  const sig = dice.pick(sigs)
  if (what === "C_") {
    if (typeof sig.C_ !== "string") return undefined
    // Not the 02/03 prefix: a point that may or may not be on the curve, never an unparsable length.
    const c = sig.C_
    sig.C_ = c.slice(0, 2) + flipHex(c.slice(2), dice)
  } else {
    const d = sig.dleq
    if (d === undefined) return undefined
    const field = dice.random() < 0.5 ? "e" : "s"
    const v = d[field]
    if (typeof v !== "string") return undefined
    d[field] = flipHex(v, dice)
  }
  return JSON.stringify(body)
}

const MALFORMED: ReadonlyArray<(body: string) => string> = [
  (b) => b.slice(0, Math.max(1, Math.floor(b.length / 2))),
  () => "<html><body><h1>502 Bad Gateway</h1></body></html>",
  () => '{"signatures": "not an array", "quote": 7}',
  () => '{"signatures": [], "signatures": [{"amount": 1}]}',
  () => `{"amount": ${"9".repeat(300)}, "signatures": []}`,
  () => "",
  () => "[1, 2, 3]",
  (b) => b.replace(/"amount":\s*(\d+)/, '"amount": -$1'),
  () => `${"[".repeat(5000)}${"]".repeat(5000)}`,
]

/** Starts the proxy on a free port of 127.0.0.1. */
export const startHostileProxy = async (opts: HostileProxyOptions): Promise<HostileProxy> => {
  const { dice } = opts
  const events: HostileEvent[] = []
  let tag = 0
  let hostile = false
  let requests = 0
  const open = new Set<import("node:net").Socket>()

  const forward = async (req: IncomingMessage, body: Buffer): Promise<{ status: number; text: string }> => {
    const res = await fetch(opts.target + (req.url ?? "/"), {
      method: req.method ?? "GET",
      headers: { "content-type": "application/json", accept: "application/json" },
      ...(req.method === "POST" ? { body: new Uint8Array(body) } : {}),
    })
    return { status: res.status, text: await res.text() }
  }

  const late: Array<{ readonly endpoint: string; readonly tag: number; readonly ms: number }> = []
  /** Forwards, and notes an answer that came after the client left. */
  const forwardNoting = async (req: IncomingMessage, body: Buffer, endpoint: string) => {
    const t0 = Date.now()
    const taggedAt = tag
    const a = await forward(req, body)
    if (req.socket.destroyed) late.push({ endpoint, tag: taggedAt, ms: Date.now() - t0 })
    return a
  }

  const send = (res: ServerResponse, status: number, text: string) => {
    const bytes = Buffer.from(text, "utf8")
    res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length })
    res.end(bytes)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++
    const body = await readAll(req)
    const endpoint = endpointOf(req.method ?? "GET", req.url ?? "/")
    if (!hostile || dice.random() >= opts.rate) {
      const a = await forwardNoting(req, body, endpoint)
      return send(res, a.status, a.text)
    }
    const kinds = HOSTILE_KINDS.filter(
      (k) => SIGNING.has(endpoint) || (k !== "flip-signature" && k !== "flip-dleq"),
    )
    let kind = dice.pick(kinds)
    const log = (applied: boolean) => events.push({ kind, endpoint, applied, tag })
    if (kind === "error-500") {
      log(false)
      return send(res, 500, '{"detail": "Internal Server Error"}')
    }
    const idle = opts.idleMs(endpoint)
    const socket = req.socket
    if (kind === "late-apply") {
      log(true)
      await sleep(Math.round(idle * 1.5))
      await forward(req, body)
      socket.destroy()
      return
    }
    const a = await forwardNoting(req, body, endpoint)
    switch (kind) {
      case "flip-signature":
      case "flip-dleq": {
        const text = flipped(a.text, kind === "flip-signature" ? "C_" : "dleq", dice)
        // Nothing to flip (an error answer, no DLEQ): the answer passes unspoiled and is not logged.
        if (text === undefined || a.status !== 200) return send(res, a.status, a.text)
        log(true)
        return send(res, 200, text)
      }
      case "drop-after-apply":
        log(true)
        socket.destroy()
        return
      case "error-500-applied":
        log(true)
        return send(res, 500, '{"detail": "Internal Server Error"}')
      case "stall":
        log(true)
        await Promise.race([sleep(idle * 3), new Promise((r) => socket.once("close", r))])
        socket.destroy()
        return
      case "drip":
      case "slow-drip": {
        const bytes = Buffer.from(a.text, "utf8")
        if (kind === "slow-drip" && bytes.length > 64 * 1024) kind = "drip"
        log(true)
        res.writeHead(a.status, { "content-type": "application/json", "content-length": bytes.length })
        const pieces = kind === "drip" ? bytes.length : Math.min(8, bytes.length)
        const size = Math.max(1, Math.ceil(bytes.length / Math.max(1, pieces)))
        const gap = kind === "drip" ? Math.round(idle * 1.5) : Math.max(1, Math.round(idle / 4))
        for (let at = 0; at < bytes.length && !socket.destroyed; at += size) {
          res.write(bytes.subarray(at, at + size))
          if (at + size < bytes.length) await sleep(gap)
        }
        if (!socket.destroyed) res.end()
        return
      }
      case "truncate": {
        log(true)
        const cut = Math.max(0, dice.int(0, Math.max(0, a.text.length - 1)))
        return send(res, a.status, a.text.slice(0, cut))
      }
      case "close-mid-response": {
        log(true)
        const bytes = Buffer.from(a.text, "utf8")
        res.writeHead(a.status, { "content-type": "application/json", "content-length": bytes.length })
        res.write(bytes.subarray(0, Math.floor(bytes.length / 2)))
        await sleep(5)
        socket.destroy()
        return
      }
      case "oversized": {
        log(true)
        const pad = Buffer.alloc(opts.maxBodyBytes + dice.int(1, opts.maxBodyBytes), 0x20)
        const bytes = Buffer.concat([Buffer.from(a.text, "utf8"), pad])
        if (dice.random() < 0.5) {
          res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length })
          res.end(bytes)
        } else {
          // Streamed (chunked, no length): the client must stop reading at its cap.
          res.writeHead(200, { "content-type": "application/json" })
          for (let at = 0; at < bytes.length && !socket.destroyed; at += 16 * 1024)
            res.write(bytes.subarray(at, at + 16 * 1024))
          if (!socket.destroyed) res.end()
        }
        return
      }
      case "malformed-json":
        log(true)
        return send(res, 200, dice.pick(MALFORMED)(a.text))
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The mint itself failed to answer (or the client went away): no answer is an answer too.
      req.socket.destroy()
    })
  })
  server.on("connection", (s) => {
    open.add(s)
    s.on("close", () => open.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    requests: () => requests,
    late,
    setTag: (t) => {
      tag = t
    },
    setHostile: (on) => {
      hostile = on
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  }
}
