/**
 * The in-process test mint: `createTestMint(options)` builds a Cashu mint (NUT-00…12, 14, 19, 20 over bolt11
 * with fake invoices) that answers `handle({method, path, body})` and a `fetch`-compatible function for a base
 * URL, so any HTTP client can talk to it without sockets. Real BDHKE signatures with DLEQ, a spent set by Y,
 * signed outputs by B_, keysets with fees and rotation, a NUT-19 cache and fault hooks.
 *
 * Test support for unit tests and simulations — not the proof that the wallet works (the nutshell reference
 * mint is the integration peer).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { getBackend } from "../../../src/crypto/backend.js"
import { bytesToHex, utf8 } from "../../../src/crypto/bytes.js"
import type { Amount } from "../../../src/model/index.js"
import { type JsonValue, parseJson, stringifyJson } from "../../../src/protocol/json.js"
import { isCachedEndpoint, ResponseCache } from "./cache.js"
import { Faults, networkError } from "./faults.js"
import { settleFailed, settlePaid } from "./handlers/melt.js"
import { fakeInvoice } from "./invoice.js"
import { KeysetStore, type MintKeyset } from "./keysets.js"
import { Ledger } from "./ledger.js"
import { dispatch, jsonResponse, type MintHttpResponse, routeName } from "./router.js"
import type { MeltOutcome, MeltQuote, MintConfig, MintContext, MintQuote } from "./state.js"

/** A request to {@link TestMint.handle}: `path` is relative to the mint root (`/v1/swap`). */
export interface MintHttpRequest {
  readonly method: string
  readonly path: string
  readonly body?: string
}

/** Options of {@link createTestMint}; every field has a default. */
export interface TestMintOptions {
  /** Where `fetch` answers (default `http://mint.test`); a path prefix is allowed. */
  readonly baseUrl?: string
  /** Seed of every key (default `"corecashu-test-mint"`): same seed, same keysets. */
  readonly seed?: string
  /** Units with a keyset (default `["sat"]`). */
  readonly units?: ReadonlyArray<string>
  /** `input_fee_ppk` of the first keysets (default 0). */
  readonly inputFeePpk?: bigint
  /** Denominations per keyset, 2^0…2^(n−1) (default 64, as nutshell). */
  readonly denominations?: number
  /** Keyset id version (default 2, as nutshell 0.20). */
  readonly keysetIdVersion?: 1 | 2
  /** NUT-19 cache ttl in seconds (default 300); `null` turns caching off (and NUT-19 out of `/v1/info`). */
  readonly cacheTtlSeconds?: number | null
  /** Clock in milliseconds (default `Date.now`). */
  readonly nowMs?: () => number
  readonly name?: string
  /** Initial knobs (see {@link MintConfig}); change them later through `mint.config`. */
  readonly config?: Partial<MintConfig>
}

/** Counters for tests. */
export interface MintStats {
  /** Requests seen per route (`POST /v1/swap`), including faulted and cached ones. */
  readonly requests: Readonly<Record<string, number>>
  readonly cacheHits: number
  readonly faultsFired: number
  readonly spent: number
  readonly pending: number
  readonly signed: number
  /** Σ amounts signed. */
  readonly issued: Amount
  /** Σ amounts spent. */
  readonly redeemed: Amount
  /** `issued − redeemed`: the value still in circulation (held by wallets, or restorable by them). */
  readonly outstanding: Amount
}

const defaultConfig = (): MintConfig => ({
  autoPay: true,
  meltOutcome: "paid",
  feeReserve: (amount) => {
    const pct = (amount + 99n) / 100n
    return pct > 2n ? pct : 2n
  },
  lightningFee: () => 1n,
  quoteTtlSeconds: 3600,
  maxInputs: 1000,
  maxOutputs: 1000,
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** An in-process Cashu mint. Build one with {@link createTestMint}. */
export class TestMint {
  readonly baseUrl: string
  /** Mutable knobs: `mint.config.meltOutcome = "pending"` etc. */
  readonly config: MintConfig
  /** Fault hooks: `mint.faults.next({ path: "/v1/swap", kind: "drop-response" })`. */
  readonly faults = new Faults()
  private readonly ctx: MintContext
  private readonly cache: ResponseCache | undefined
  private readonly requests: Record<string, number> = {}
  private cacheHits = 0
  private readonly base: URL

  constructor(options: TestMintOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "http://mint.test").replace(/\/+$/, "")
    this.base = new URL(this.baseUrl)
    const seed = options.seed ?? "corecashu-test-mint"
    const nowMs = options.nowMs ?? Date.now
    const keysets = new KeysetStore({
      seed,
      denominations: options.denominations ?? 64,
      idVersion: options.keysetIdVersion ?? 2,
    })
    for (const unit of options.units ?? ["sat"]) keysets.rotate(unit, options.inputFeePpk ?? 0n)
    const ttl = options.cacheTtlSeconds === undefined ? 300 : options.cacheTtlSeconds
    this.cache = ttl === null ? undefined : new ResponseCache(ttl, nowMs)
    this.config = { ...defaultConfig(), ...options.config }
    this.ctx = {
      keysets,
      ledger: new Ledger(),
      mintQuotes: new Map(),
      meltQuotes: new Map(),
      config: this.config,
      pubkey: bytesToHex(getBackend().mulBase(sha256(utf8(`corecashu-test-mint/${seed}/pubkey`)))),
      name: options.name ?? "corecashu test mint",
      cacheTtlSeconds: ttl ?? undefined,
      nowMs,
    }
  }

  /**
   * Answers one HTTP request. Rejects (like a dropped connection) only under a `drop-*` fault; every other
   * outcome is a response.
   */
  async handle(req: MintHttpRequest): Promise<MintHttpResponse> {
    const method = req.method.toUpperCase()
    const name = routeName(method, req.path) ?? `${method} ?`
    this.requests[name] = (this.requests[name] ?? 0) + 1
    const fault = this.faults.take(method, req.path)
    if (fault?.kind === "delay") await sleep(fault.ms ?? 0)
    if (fault?.kind === "drop-request") throw networkError("connection refused")
    if (fault?.kind === "error-500" && fault.apply !== true)
      return jsonResponse(500, '{"detail":"Internal Server Error"}')
    const res = this.process(method, req.path, req.body ?? "")
    switch (fault?.kind) {
      case "drop-response":
        throw networkError("connection dropped after the request was applied")
      case "error-500":
        return jsonResponse(500, '{"detail":"Internal Server Error"}')
      case "malformed-200":
        return jsonResponse(200, res.body.slice(0, Math.floor(res.body.length / 2)))
      case "wrong-count":
      case "wrong-amount":
        return res.status === 200 ? jsonResponse(200, tamper(res.body, fault.kind)) : res
      default:
        return res
    }
  }

  /** Cache lookup, then the handler; successful answers of cached endpoints are stored. */
  private process(method: string, path: string, body: string): MintHttpResponse {
    const cacheable = this.cache !== undefined && isCachedEndpoint(method, path)
    if (cacheable) {
      const hit = this.cache!.get(method, path, body)
      if (hit !== undefined) {
        this.cacheHits++
        return jsonResponse(hit.status, hit.body)
      }
    }
    const res = dispatch(this.ctx, method, path, body)
    if (cacheable && res.status === 200) this.cache!.put(method, path, body, res)
    return res
  }

  /**
   * A `fetch` for this mint's base URL: any HTTP client can use it. Honours `signal` (an abort rejects the call
   * while the request, once started, is still applied — the timeout case). Other hosts fail like DNS errors.
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const url = new URL(request.url)
    const prefix = this.base.pathname.replace(/\/+$/, "")
    if (url.origin !== this.base.origin || !url.pathname.startsWith(prefix))
      throw networkError(`no mint at ${url.origin}`)
    const signal = request.signal
    signal.throwIfAborted()
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text()
    const path = url.pathname.slice(prefix.length) || "/"
    const pending = this.handle({ method: request.method, path, ...(body !== undefined ? { body } : {}) })
    const res = await new Promise<MintHttpResponse>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener("abort", onAbort, { once: true })
      pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort))
    })
    return new Response(res.body, {
      status: res.status,
      ...(res.headers !== undefined ? { headers: res.headers } : {}),
    })
  }

  /** The ids of every mint (or melt) quote, oldest first — tests stand in for the payer, who knows them. */
  quoteIds(kind: "mint" | "melt"): string[] {
    return [...(kind === "mint" ? this.ctx.mintQuotes : this.ctx.meltQuotes).keys()]
  }

  /** Marks a mint quote paid (when `config.autoPay` is off). */
  payQuote(quoteId: string): void {
    const q = this.ctx.mintQuotes.get(quoteId)
    if (q === undefined) throw new Error("test mint: unknown mint quote")
    if (q.state === "UNPAID") q.state = "PAID"
  }

  /** Settles a melt left pending (`config.meltOutcome = "pending"`) as paid (change signed) or failed. */
  settleMelt(quoteId: string, outcome: Exclude<MeltOutcome, "pending">): void {
    const q = this.ctx.meltQuotes.get(quoteId)
    if (q?.hold === undefined) throw new Error("test mint: no pending melt for this quote")
    if (outcome === "paid") settlePaid(this.ctx, q, q.hold)
    else settleFailed(this.ctx, q, q.hold)
  }

  /** Adds a new active keyset for `unit` (the previous one becomes inactive but still redeemable). */
  rotateKeyset(unit: string, inputFeePpk?: bigint): MintKeyset {
    const fee = inputFeePpk ?? this.ctx.keysets.active(unit)?.inputFeePpk ?? 0n
    return this.ctx.keysets.rotate(unit, fee)
  }

  /** The active keyset of `unit` (with its private keys: tests may forge with them). */
  activeKeyset(unit = "sat"): MintKeyset {
    const k = this.ctx.keysets.active(unit)
    if (k === undefined) throw new Error("test mint: no active keyset for this unit")
    return k
  }

  /** Every keyset, oldest first. */
  keysets(): ReadonlyArray<MintKeyset> {
    return this.ctx.keysets.all()
  }

  /** A fresh fake invoice this mint can "pay" in a melt. */
  invoice(amount: Amount): string {
    return fakeInvoice(amount)
  }

  mintQuote(id: string): Readonly<MintQuote> | undefined {
    return this.ctx.mintQuotes.get(id)
  }

  meltQuote(id: string): Readonly<MeltQuote> | undefined {
    return this.ctx.meltQuotes.get(id)
  }

  /** True when the proof with this `Y` (compressed hex) is spent. */
  isSpent(Y: string): boolean {
    return this.ctx.ledger.isSpent(Y)
  }

  isPending(Y: string): boolean {
    return this.ctx.ledger.isPending(Y)
  }

  /** True when this `B_` has been signed. */
  isSigned(B_: string): boolean {
    return this.ctx.ledger.isSigned(B_)
  }

  /** Drops every NUT-19 cache entry (e.g. to simulate a ttl lapse). */
  clearCache(): void {
    this.cache?.clear()
  }

  stats(): MintStats {
    const l = this.ctx.ledger
    return {
      requests: { ...this.requests },
      cacheHits: this.cacheHits,
      faultsFired: this.faults.fired,
      ...l.counts(),
      issued: l.issued,
      redeemed: l.redeemed,
      outstanding: l.issued - l.redeemed,
    }
  }
}

/** Rewrites a signatures answer: one signature fewer (`wrong-count`) or the first amount doubled. */
const tamper = (body: string, kind: "wrong-count" | "wrong-amount"): string => {
  const value = parseJson(body) as { [key: string]: JsonValue }
  const list = Array.isArray(value.signatures)
    ? value.signatures
    : Array.isArray(value.change)
      ? value.change
      : undefined
  if (list === undefined) return body
  if (kind === "wrong-count") list.pop()
  else {
    const first = list[0] as { [key: string]: JsonValue } | undefined
    if (first !== undefined) first.amount = BigInt(first.amount as number | bigint) * 2n
  }
  return stringifyJson(value)
}

/** Builds an in-process test mint. */
export const createTestMint = (options: TestMintOptions = {}): TestMint => new TestMint(options)
