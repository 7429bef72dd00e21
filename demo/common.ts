/**
 * What the demos share: their one-line failures, and the reference mint started at a demo's fee with a start
 * failure as such a line.
 *
 * @module
 */
import { isCorecashuError } from "../src/index.js"
import { MintStartFailure, type RealMint, startRealMint } from "./real-mint.js"

/** A failure a demo explains in one line (no stack: the message says what went wrong). */
export class DemoFailure extends Error {}

/** One line for any failure: tagged errors carry no secrets; anything else is named, not dumped. */
export const explain = (e: unknown): string => {
  if (e instanceof DemoFailure) return e.message
  if (isCorecashuError(e)) return `${e._tag}: ${e.message}`
  if (typeof e === "object" && e !== null && "_tag" in e && "message" in e)
    return `${String((e as { _tag: unknown })._tag)}: ${String((e as { message: unknown }).message)}`
  return e instanceof Error ? `${e.name}: ${e.message}` : "unexpected failure"
}

/** The first run installs the mint's virtualenv (about a minute), then it needs a few seconds. */
const MINT_START_TIMEOUT_MS = 300_000

/** Starts the nutshell reference mint at `inputFeePpk`; a start failure becomes a {@link DemoFailure}. */
export const startDemoMint = (inputFeePpk: number): Promise<RealMint> =>
  startRealMint({ inputFeePpk, startupTimeoutMs: MINT_START_TIMEOUT_MS }).catch((e: unknown) => {
    if (!(e instanceof MintStartFailure)) throw e
    const tail = e.stderrTail.split("\n").slice(-8).join("\n")
    throw new DemoFailure(`the mint ${e.why}${tail !== "" ? `; its last log lines:\n${tail}` : ""}`)
  })
