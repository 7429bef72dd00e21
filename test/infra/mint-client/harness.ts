/**
 * Shared set-up of the mint-client tests: a client over the in-process test mint's `fetch`, and helpers to run
 * its calls as promises.
 */
import { Effect, Exit } from "effect"
import { MintClientHttpLive, type MintClientHttpOptions } from "../../../src/infra/mint-client/http.js"
import type { MintCallError } from "../../../src/model/index.js"
import { MintClient, type MintClientShape } from "../../../src/ports/mint-client.js"
import { createTestMint, type TestMint, type TestMintOptions } from "../../support/mint/index.js"

/** Fast retries so failure paths take milliseconds. */
export const FAST: MintClientHttpOptions = {
  retry: { baseDelayMs: 1, maxDelayMs: 5 },
  rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
}

/** A client built with `options` (default {@link FAST}) over `fetch`. */
export const clientOver = (
  fetch: typeof globalThis.fetch,
  options: MintClientHttpOptions = FAST,
): Promise<MintClientShape> =>
  Effect.runPromise(
    Effect.provide(
      Effect.gen(function* () {
        return yield* MintClient
      }),
      MintClientHttpLive({ ...options, fetch }),
    ),
  )

/** A fresh test mint and a client talking to it. */
export const setup = async (
  mintOptions: TestMintOptions = {},
  options: MintClientHttpOptions = FAST,
): Promise<{ mint: TestMint; client: MintClientShape; url: string }> => {
  const mint = createTestMint(mintOptions)
  return { mint, client: await clientOver(mint.fetch, options), url: mint.baseUrl }
}

/** Runs a call, expecting success. */
export const run = <A>(effect: Effect.Effect<A, MintCallError>): Promise<A> => Effect.runPromise(effect)

/** Runs a call, expecting a typed failure, and returns it. */
export const fail = async <A>(effect: Effect.Effect<A, MintCallError>): Promise<MintCallError> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected the call to fail")
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined) throw new Error("expected a typed failure")
  return reason.error
}

/** Requests the mint saw for a route (`POST /v1/swap`). */
export const seen = (mint: TestMint, route: string): number => mint.stats().requests[route] ?? 0
