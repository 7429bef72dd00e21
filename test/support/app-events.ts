/**
 * App-event test support: a realistic run through the engine against the in-process test mint (mint, send,
 * receive, a receive of a spent token, a swap, a melt left pending then paid, checkstate), every secret the
 * log holds, and the app events the pure fold derives from a log.
 */
import { Effect, Stream } from "effect"
import { bytesToHex } from "../../src/crypto/bytes.js"
import type { Engine } from "../../src/engine/engine.js"
import { engineStore, walletRuntime } from "../../src/engine/internal.js"
import { walletPrivateKey } from "../../src/engine/keys.js"
import type { Wallet } from "../../src/engine/wallet.js"
import type { RecordedEvent } from "../../src/ports/event-store.js"
import {
  type AppEvent,
  type AppEventState,
  deriveAppEvents,
  initialAppEventState,
} from "../../src/projections/app-events.js"
import type { TestMint } from "./mint/index.js"

/** What the run did, for the tests' expectations. */
export interface AppEventsRun {
  readonly alice: Wallet
  readonly bob: Wallet
  readonly carol: Wallet
  readonly mintOperationId: string
  readonly sendOperationId: string
  readonly receiveOperationId: string
  readonly meltOperationId: string
  readonly meltChange: bigint
  readonly token: string
}

/** The run: alice mints 200, sends 50 to bob, carol tries the spent token, alice swaps and melts 100. */
export const appEventsRun = async (engine: Engine, mint: TestMint): Promise<AppEventsRun> => {
  const alice = await engine.createWallet({ walletId: "alice" })
  const bob = await engine.createWallet({ walletId: "bob" })
  const carol = await engine.createWallet({ walletId: "carol" })
  for (const w of [alice, bob, carol]) await w.addMint(mint.baseUrl)
  const quote = await alice.mintQuote({ mintUrl: mint.baseUrl, amount: 200n })
  await alice.mint(quote.operationId)
  const sent = await alice.send({ mintUrl: mint.baseUrl, amount: 50n })
  const received = await bob.receive(sent.token)
  // The token is spent now: carol's receive ends without effect.
  await carol.receive(sent.token).catch(() => undefined)
  await alice.swap({ mintUrl: mint.baseUrl, amount: 20n })
  await alice.checkPending()
  mint.config.meltOutcome = "pending"
  const meltQuote = await alice.meltQuote({ mintUrl: mint.baseUrl, request: mint.invoice(100n) })
  const pending = await alice.melt(meltQuote.operationId)
  if (pending.state !== "pending") throw new Error("the melt should be pending")
  mint.settleMelt(await quoteIdOf(alice, meltQuote.operationId), "paid")
  mint.config.meltOutcome = "paid"
  await alice.recover()
  const paid = await alice.melt(meltQuote.operationId)
  if (paid.state !== "paid") throw new Error("the melt should be paid")
  return {
    alice,
    bob,
    carol,
    mintOperationId: quote.operationId,
    sendOperationId: sent.operationId,
    receiveOperationId: received.operationId,
    meltOperationId: meltQuote.operationId,
    meltChange: paid.change,
    token: sent.token,
  }
}

/** The quote id of a melt (a secret: read from the log). */
export const quoteIdOf = async (w: Wallet, operationId: string): Promise<string> => {
  const events = await Effect.runPromise(walletRuntime(w).operationEvents(operationId))
  for (const r of events)
    if (r.event._tag === "OperationStarted" && r.event.kind === "melt") return r.event.quoteId
  throw new Error("no melt quote recorded")
}

/** The whole log. */
export const logOf = async (engine: Engine): Promise<RecordedEvent[]> =>
  Array.from(await Effect.runPromise(Stream.runCollect(engineStore(engine).readAll(1))))

/** The app events the pure fold derives from `log`, from `state` (default: empty). */
export const derive = (
  log: ReadonlyArray<RecordedEvent>,
  state: AppEventState = initialAppEventState,
): AppEvent[] => {
  const out: AppEvent[] = []
  let s = state
  for (const rec of log) {
    const [next, events] = deriveAppEvents(s, rec)
    s = next
    out.push(...events)
  }
  return out
}

/** Payload keys whose string values are secret (or, like Ys and Cs, never for an app to see). */
const SECRET_KEYS = new Set([
  "mnemonic",
  "secret",
  "C",
  "Y",
  "C_",
  "B_",
  "r",
  "e",
  "s",
  "quoteId",
  "request",
  "body",
  "token",
  "preimage",
  "lockKey",
  "witness",
  "p2pk_e",
  "ys",
  "inputs",
  "data",
])

/**
 * Every secret of the log: the values under {@link SECRET_KEYS} in every payload, and each wallet's mnemonic,
 * seed and P2PK private key.
 */
export const secretsOf = (log: ReadonlyArray<RecordedEvent>, wallets: ReadonlyArray<Wallet>): Set<string> => {
  const found = new Set<string>()
  const walk = (v: unknown, key: string | undefined): void => {
    if (typeof v === "string") {
      if (key !== undefined && SECRET_KEYS.has(key)) found.add(v)
      return
    }
    if (Array.isArray(v)) {
      for (const item of v) walk(item, key)
      return
    }
    if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, k)
  }
  for (const rec of log) walk(rec.event, undefined)
  for (const w of wallets) {
    const seed = walletRuntime(w).seed
    found.add(w.mnemonic())
    found.add(bytesToHex(seed))
    found.add(walletPrivateKey(seed))
  }
  return found
}

/** JSON with bigints as strings. */
export const json = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x))
