/**
 * Crash points for the deterministic crash tests (`test/engine/crash`). A child process runs one wallet
 * operation and dies (SIGKILL, no cleanup) at crash point `k`, counted in the order the operation reaches them:
 *
 * - `before-append` / `after-append`: around every wallet append (engine hooks): before = the append is lost,
 *   after = it is durable (fsynced) and nothing after it happened;
 * - `request-lost`: the mint request reaches the mint, which applies it and drops the connection (the parent's
 *   mint is told over IPC to queue a `drop-response` fault); the child dies as soon as the client's call returns
 *   (after whatever retries or NUT-19 replays the client made), before anything is recorded;
 * - `response-unrecorded`: the mint answered, the child dies before anything of the answer is recorded.
 *
 * Every mint call of the operation has both request points, except `info`/`keys`/`keysets`: those change no
 * state at the mint or in the wallet, so a crash at them is the crash after the previous append.
 *
 * @module
 */
import { Effect } from "effect"
import type { MintClientShape } from "../../src/ports/mint-client.js"

/** What a crash child runs (passed as JSON in `CRASH_SPEC`). */
export interface CrashSpec {
  /** The data directory (prepared by the parent: the wallet exists and trusts the mint). */
  readonly dataDir: string
  readonly walletId: string
  /** The served mint (loopback). */
  readonly mintUrl: string
  readonly op: CrashOp
  /** 1-based crash point; 0 = run to completion (counting the points). */
  readonly crashAt: number
}

/** The operations under test, with their arguments. Tokens are test tokens (loopback mint). */
export type CrashOp =
  | { readonly kind: "mint"; readonly amount: string }
  | { readonly kind: "send"; readonly amount: string; readonly forceSwap?: boolean }
  | { readonly kind: "receive"; readonly token: string }
  | { readonly kind: "melt"; readonly invoice: string }
  | { readonly kind: "restore"; readonly batchSize: number; readonly emptyBatches: number }
  | { readonly kind: "reclaim"; readonly operationId: string }
  /** One recovery pass over whatever an earlier crash left in flight (engine opened without recovery). */
  | { readonly kind: "recover" }

/** Child → parent messages (IPC). */
export type ChildMessage =
  | { readonly t: "drop"; readonly method: "GET" | "POST"; readonly path: string }
  | { readonly t: "done"; readonly points: ReadonlyArray<string>; readonly result: string }
  | { readonly t: "failed"; readonly points: ReadonlyArray<string>; readonly error: string }

/** Parent → child: the fault is queued. */
export interface ParentAck {
  readonly t: "ok"
}

/** Counts crash points; `hit(label)` is true exactly at point `crashAt`. */
export class CrashPoints {
  readonly seen: string[] = []
  constructor(private readonly crashAt: number) {}
  hit(label: string): boolean {
    this.seen.push(label)
    return this.seen.length === this.crashAt
  }
}

/** Dies like `kill -9`: no exit handlers, no flush, no close of the store. */
export const die = (): never => {
  process.kill(process.pid, "SIGKILL")
  // SIGKILL is delivered at once; this line only satisfies the type checker.
  throw new Error("unreachable")
}

const enc = encodeURIComponent

/** The HTTP method and exact path of a mint call (what the parent's fault must match). */
const requestOf = (
  key: keyof MintClientShape,
  args: ReadonlyArray<unknown>,
): { readonly method: "GET" | "POST"; readonly path: string } | undefined => {
  const s = (i: number) => enc(String(args[i]))
  switch (key) {
    case "mintQuote":
      return { method: "POST", path: `/v1/mint/quote/${s(1)}` }
    case "mintQuoteState":
      return { method: "GET", path: `/v1/mint/quote/${s(1)}/${s(2)}` }
    case "mint":
      return { method: "POST", path: `/v1/mint/${s(1)}` }
    case "meltQuote":
      return { method: "POST", path: `/v1/melt/quote/${s(1)}` }
    case "meltQuoteState":
      return { method: "GET", path: `/v1/melt/quote/${s(1)}/${s(2)}` }
    case "melt":
      return { method: "POST", path: `/v1/melt/${s(1)}` }
    case "swap":
      return { method: "POST", path: "/v1/swap" }
    case "checkState":
      return { method: "POST", path: "/v1/checkstate" }
    case "restore":
      return { method: "POST", path: "/v1/restore" }
    default:
      return undefined
  }
}

/**
 * Wraps a mint client so that its calls are crash points (see the module comment). `askDrop` asks the parent
 * to make the mint drop the response of the next matching request.
 */
export const crashingMintClient = (
  inner: MintClientShape,
  points: CrashPoints,
  askDrop: (req: { readonly method: "GET" | "POST"; readonly path: string }) => Promise<void>,
): MintClientShape => {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(inner) as Array<keyof MintClientShape>) {
    const fn = inner[key] as (...args: unknown[]) => Effect.Effect<unknown, unknown>
    out[key] = (...args: unknown[]) => {
      const req = requestOf(key, args)
      if (req === undefined) return fn(...args)
      return Effect.suspend(() => {
        const lost = points.hit(`request-lost ${key}`)
        const unrecorded = points.hit(`response-unrecorded ${key}`)
        const call = fn(...args).pipe(
          Effect.onExit(() =>
            Effect.sync(() => {
              if (lost || unrecorded) die()
            }),
          ),
        )
        return lost ? Effect.promise(() => askDrop(req)).pipe(Effect.andThen(call)) : call
      })
    }
  }
  return out as unknown as MintClientShape
}
