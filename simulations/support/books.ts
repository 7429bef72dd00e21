/**
 * The books of a real-mint simulation, kept against the mint itself. After a run, {@link settleAll} brings
 * every wallet's operations to an end with the mint reachable (claim the mint quotes it recorded, recovery
 * passes, checkPending), and {@link keepBooks} compares what the wallets hold with what the MINT says happened:
 *
 * - **minted**: Σ `amount` of every mint quote the wallets ever recorded (read from the log itself) that the
 *   mint reports `ISSUED` (or `PENDING`, stuck, with the wallet's claim completed from restored signatures);
 * - **melted**: Σ `amount` + the Lightning fee of every melt quote the mint reports `PAID` (nutshell's
 *   FakeWallet charges 1 sat to pay an external invoice; the rest of the reserve comes back as change);
 * - **held**: Σ of the proofs the wallets hold (unspent, reserved, pending: tokens sent and not yet claimed),
 *   each counted once by `Y`, and each checked against the mint (`/v1/checkstate`): a proof the mint calls
 *   spent or pending is *stale*, a `Y` held twice is a *duplicate*.
 *
 * With no input fee (the harness default, checked against `/v1/keysets`) the identity is
 * `held = minted − melted`: a shortfall is value lost, an excess is value counted twice. Nothing may be stuck:
 * no operation in flight or in doubt, no proof reserved or incoming, no paid mint quote left unclaimed. The
 * wallet's own records only name the quotes; every amount and state is the mint's answer.
 *
 * @module
 */
import { Effect, Stream } from "effect"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore, walletRuntime } from "../../src/engine/internal.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { outcome } from "./workload.js"

/** What the books found. Amounts are decimal strings (bigint). */
export interface Books {
  /** Σ issued mint quotes, by the mint. */
  readonly minted: string
  /** Σ paid melts (amount + Lightning fee), by the mint. */
  readonly melted: string
  /** Σ distinct proofs the wallets hold. */
  readonly held: string
  /** `minted − melted − held` when positive: value that vanished. */
  readonly satsLost: string
  /** `held − (minted − melted)` when positive: value counted twice. */
  readonly doubleCounted: string
  /** Proofs held by two wallets (or twice). */
  readonly duplicates: number
  /** Proofs a wallet holds that the mint calls spent or pending. */
  readonly stale: number
  /** Stale proofs by their state, the mint's state and the last event that moved them (with its operation). */
  readonly staleBy: Record<string, number>
  /** The operations that last moved a stale proof. */
  readonly staleOperations: ReadonlyArray<string>
  /** Everything left unfinished after the final recovery (each must be 0). */
  readonly stuck: {
    /** Operations neither completed nor compensated (melt quotes never paid excepted: they hold nothing). */
    readonly inFlight: number
    /** Of those, in doubt (`pending`, ambiguous). */
    readonly inDoubt: number
    readonly reserved: number
    readonly incoming: number
    /** Mint quotes the mint holds `PAID` and never issued. */
    readonly paidUnclaimed: number
    /** Melt quotes the mint still reports `PENDING`. */
    readonly meltsPending: number
  }
  /** The inflight operations, for the report (`kind:status:lastRecovery`). */
  readonly openOperations: ReadonlyArray<string>
  readonly quotes: { readonly mint: number; readonly melt: number }
  readonly audit: boolean
  readonly auditViolation?: string
  readonly events: number
  /** Every check holds. */
  readonly ok: boolean
}

/** The lightning fee nutshell's FakeWallet charges for an external invoice. */
export const FAKE_WALLET_LIGHTNING_FEE = 1n

const isOpen = (op: { readonly status: string }) => op.status !== "completed" && op.status !== "compensated"
/** A melt quote never acted on holds nothing (the wallet could not or did not pay it). */
const isIdleMeltQuote = (op: { readonly kind: string; readonly status: string }) =>
  op.kind === "melt" && op.status === "started"

/** Operations of `w` that are still in flight. */
export const inFlightOf = (w: Wallet) => w.history().filter((op) => isOpen(op) && !isIdleMeltQuote(op))

/**
 * Brings every operation of every wallet to an end, the mint reachable: claims the mint quotes (the fake
 * backend has paid them), recovery passes and checkPending, until nothing is in flight (at least `passes`
 * passes back to back; then, while something is still in flight, a pass a second for up to `patienceMs`,
 * which the soaks against a real mint give).
 * The patience is for the mint, not for us: a request of a killed process may still be running at the mint
 * (nutshell under load waits seconds on its SQLite lock), and its inputs read PENDING until it ends — an
 * operator would look again later, and so does this. Returns the failures on the way (kind: tag), for the
 * report.
 */
export const settleAll = async (
  engine: Engine,
  mintUrl: string,
  passes = 6,
  patienceMs = 0,
): Promise<string[]> => {
  const failures: string[] = []
  const note = (o: { readonly ok: boolean; readonly kind: string; readonly tag?: string }) => {
    if (!o.ok) failures.push(`${o.kind}: ${o.tag}`)
  }
  const wallets = engine.walletIds().map((id) => engine.wallet(id))
  const until = Date.now() + patienceMs
  for (let pass = 0; pass < passes || Date.now() < until; pass++) {
    if (pass >= passes) await new Promise((r) => setTimeout(r, 1000))
    for (const w of wallets) {
      for (const op of w.history()) {
        if (op.kind === "mint" && op.status === "started")
          note(await outcome("settle-mint", () => w.mint(op.operationId, { timeoutMs: 5_000 })))
      }
      note(await outcome("recover", () => w.recover()))
      note(await outcome("checkPending", () => w.checkPending(mintUrl)))
    }
    if (wallets.every((w) => inFlightOf(w).length === 0 && unclaimedCount(w) === 0)) break
  }
  return failures
}

const unclaimedCount = (w: Wallet) =>
  w.history().filter((op) => op.kind === "mint" && op.status === "started").length

/**
 * The mint and melt quote ids the log holds (every wallet, from its `OperationStarted` events), and for every
 * proof the last event that moved it (to explain a stale proof).
 */
const readLog = async (engine: Engine) => {
  const events = await Effect.runPromise(Stream.runCollect(engineStore(engine).readAll()))
  const mint = new Set<string>()
  /** Mint quote id → the operations that claimed it (a compensated one and its fresh claim, say). */
  const mintOps = new Map<string, string[]>()
  const melt = new Set<string>()
  const lastMove = new Map<string, { readonly tag: string; readonly operationId: string | undefined }>()
  for (const rec of events) {
    const e = rec.event
    if ("ys" in e && Array.isArray(e.ys))
      for (const y of e.ys as ReadonlyArray<string>)
        lastMove.set(y, {
          tag: e._tag,
          operationId: "operationId" in e ? (e.operationId as string) : undefined,
        })
    if ((e._tag === "ProofsIssued" || e._tag === "ProofsReceived") && Array.isArray(e.proofs))
      for (const p of e.proofs as ReadonlyArray<{ readonly Y?: string }>)
        if (typeof p.Y === "string") lastMove.set(p.Y, { tag: e._tag, operationId: e.operationId })
    if (e._tag !== "OperationStarted") continue
    if (e.kind === "mint") {
      mint.add(e.quoteId)
      mintOps.set(e.quoteId, [...(mintOps.get(e.quoteId) ?? []), e.operationId])
    } else if (e.kind === "melt") melt.add(e.quoteId)
  }
  return { mint, melt, lastMove, mintOps }
}

const getJson = async (url: string): Promise<Record<string, unknown>> => {
  const res = await fetch(url)
  const text = await res.text()
  if (!res.ok)
    throw new Error(`GET ${new URL(url).pathname.split("/").slice(0, 4).join("/")}: HTTP ${res.status}`)
  return JSON.parse(text) as Record<string, unknown>
}

const postJson = async (url: string, body: unknown): Promise<Record<string, unknown>> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`POST ${new URL(url).pathname}: HTTP ${res.status}: ${text.slice(0, 200)}`)
  return JSON.parse(text) as Record<string, unknown>
}

/** Runs `f` over `xs` with at most `n` at a time. */
const pool = async <T, R>(xs: ReadonlyArray<T>, n: number, f: (x: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array(xs.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++
        out[i] = await f(xs[i]!)
      }
    }),
  )
  return out
}

/**
 * Keeps the books (see the module comment) of every wallet in `engine` against the mint at `mintUrl` (asked
 * directly over HTTP, not through the engine's client, so a proxy the wallets talk through plays no part).
 */
export const keepBooks = async (
  engine: Engine,
  mintUrl: string,
  opts: { readonly lightningFee?: bigint } = {},
): Promise<Books> => {
  const lightningFee = opts.lightningFee ?? FAKE_WALLET_LIGHTNING_FEE
  const keysets = (await getJson(`${mintUrl}/v1/keysets`)).keysets as ReadonlyArray<{
    readonly input_fee_ppk?: number
  }>
  if (keysets.some((k) => (k.input_fee_ppk ?? 0) !== 0))
    throw new Error("the books assume a mint without input fees (MINT_INPUT_FEE_PPK=0)")

  const { mint: mintQuotes, melt: meltQuotes, lastMove, mintOps } = await readLog(engine)
  const completed = new Set(
    engine
      .walletIds()
      .flatMap((id) => engine.wallet(id).history())
      .filter((op) => op.kind === "mint" && op.status === "completed")
      .map((op) => op.operationId),
  )
  let minted = 0n
  let paidUnclaimed = 0
  await pool([...mintQuotes], 4, async (id) => {
    const q = await getJson(`${mintUrl}/v1/mint/quote/bolt11/${encodeURIComponent(id)}`)
    if (q.state === "ISSUED") minted += BigInt(String(q.amount))
    else if (q.state === "PAID") paidUnclaimed++
    // Nutshell can leave a quote PENDING for good after signing (its request failed before marking it
    // issued): a wallet that restored those signatures holds them — and the checkstate below holds them to
    // UNSPENT, i.e. signed by the mint.
    else if (q.state === "PENDING" && (mintOps.get(id) ?? []).some((op) => completed.has(op)))
      minted += BigInt(String(q.amount))
  })
  let melted = 0n
  let meltsPending = 0
  await pool([...meltQuotes], 4, async (id) => {
    const q = await getJson(`${mintUrl}/v1/melt/quote/bolt11/${encodeURIComponent(id)}`)
    if (q.state === "PAID") melted += BigInt(String(q.amount)) + lightningFee
    else if (q.state === "PENDING") meltsPending++
  })

  const wallets = engine.walletIds().map((id) => engine.wallet(id))
  const byY = new Map<string, bigint>()
  const holder = new Map<string, { readonly wallet: Wallet; readonly state: string }>()
  let duplicates = 0
  let reserved = 0
  let incoming = 0
  for (const w of wallets) {
    for (const p of walletRuntime(w).view().proofs()) {
      if (p.state === "incoming") {
        incoming++
        continue
      }
      if (p.state === "reserved") reserved++
      if (byY.has(p.proof.Y)) duplicates++
      else {
        byY.set(p.proof.Y, p.proof.amount)
        holder.set(p.proof.Y, { wallet: w, state: p.state })
      }
    }
  }
  const ys = [...byY.keys()]
  let stale = 0
  const staleBy: Record<string, number> = {}
  const staleOperations: string[] = []
  for (let i = 0; i < ys.length; i += 200) {
    const batch = ys.slice(i, i + 200)
    const r = await postJson(`${mintUrl}/v1/checkstate`, { Ys: batch })
    const states = r.states as ReadonlyArray<{ readonly Y: string; readonly state: string }>
    const byAnswer = new Map(states.map((s) => [s.Y, s.state]))
    for (const y of batch) {
      const state = byAnswer.get(y)
      if (state === "UNSPENT") continue
      stale++
      const h = holder.get(y)
      const move = lastMove.get(y)
      const op =
        move?.operationId === undefined
          ? undefined
          : h === undefined
            ? undefined
            : walletRuntime(h.wallet).view().operation(move.operationId)
      const why =
        `${h?.state} (mint: ${state}) after ${move?.tag} of ` +
        `${op === undefined ? "-" : `${op.kind}:${op.status}:${op.compensation ?? ""}:${op.lastRecovery ?? ""}`}`
      staleBy[why] = (staleBy[why] ?? 0) + 1
      if (move?.operationId !== undefined && !staleOperations.includes(move.operationId))
        staleOperations.push(move.operationId)
    }
  }
  let held = 0n
  for (const a of byY.values()) held += a

  const open = wallets.flatMap((w) => inFlightOf(w))
  const inDoubt = open.filter((op) => op.status === "pending" && op.pendingReason === "ambiguous").length
  const audit = await engine.audit()
  const expected = minted - melted
  const satsLost = expected > held ? expected - held : 0n
  const doubleCounted = held > expected ? held - expected : 0n
  const stuck = {
    inFlight: open.length,
    inDoubt,
    reserved,
    incoming,
    paidUnclaimed,
    meltsPending,
  }
  const ok =
    satsLost === 0n &&
    doubleCounted === 0n &&
    duplicates === 0 &&
    stale === 0 &&
    Object.values(stuck).every((n) => n === 0) &&
    audit.ok
  return {
    minted: String(minted),
    melted: String(melted),
    held: String(held),
    satsLost: String(satsLost),
    doubleCounted: String(doubleCounted),
    duplicates,
    stale,
    staleBy,
    staleOperations,
    stuck,
    openOperations: open.map((op) => `${op.kind}:${op.status}:${op.lastRecovery ?? ""}`),
    quotes: { mint: mintQuotes.size, melt: meltQuotes.size },
    audit: audit.ok,
    ...(audit.ok
      ? {}
      : {
          auditViolation: JSON.stringify(audit, (_, v) => (typeof v === "bigint" ? String(v) : v)).slice(
            0,
            500,
          ),
        }),
    events: audit.events,
    ok,
  }
}
