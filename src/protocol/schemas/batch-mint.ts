/**
 * NUT-29 batch-mint request rules, checked by the wallet before it sends (and persists) a batch, so a request
 * the mint must reject as a whole is never built: non-empty, unique quotes (mint error 11016), within
 * `max_batch_size` (11017), one method matching the endpoint and one unit, `quote_amounts` / `signatures`
 * aligned with `quotes`, NUT-20 signatures exactly for the locked quotes, unique outputs (11008), and output
 * sum = Σ quote amounts (bolt11) or ≤ it (bolt12-like methods, which also require `quote_amounts`).
 *
 * Messages name positions, never quote ids (bearer secrets).
 *
 * @module
 */
import { type Amount, DecodeError } from "../../model/index.js"
import type { BatchMintRequest } from "./mint.js"

/** What the wallet knows about one quote of the batch (from its quote record). */
export interface BatchQuoteInfo {
  readonly method: string
  readonly unit: string
  /** The quote carries a NUT-20 `pubkey`, so the batch needs its signature. */
  readonly locked: boolean
  /** The quoted (bolt11) or mintable (bolt12) amount, when known. */
  readonly amount?: Amount
}

/** Context for {@link validateBatchMintRequest}. */
export interface BatchMintContext {
  /** The `{method}` of `POST /v1/mint/{method}/batch`. */
  readonly method: string
  /** Per-quote knowledge, by quote id. When given, every quote of the request must be in it. */
  readonly quotes?: ReadonlyMap<string, BatchQuoteInfo>
  /** NUT-06 `nuts["29"].max_batch_size`. */
  readonly maxBatchSize?: number
  /**
   * How outputs relate to the quote amounts: `exact` (bolt11: Σ outputs = Σ amounts) or `at-most` (bolt12-like:
   * Σ outputs ≤ Σ amounts, and `quote_amounts` is required). Default: `exact` for `bolt11`, else `at-most`.
   */
  readonly amountRule?: "exact" | "at-most"
}

const reject = (reason: "schema" | "duplicate" | "limit", message: string, path: string): never => {
  throw new DecodeError({ reason, message, path })
}

/**
 * Checks a batch-mint request against NUT-29's validation list (see module notes).
 *
 * @throws {DecodeError} `schema` (empty batch, misaligned arrays, mixed methods/units, signature/lock mismatch,
 *   unbalanced amounts, unknown quote), `duplicate` (repeated quote or output), `limit` (batch too large).
 */
export const validateBatchMintRequest = (request: BatchMintRequest, context: BatchMintContext): void => {
  const { quotes, outputs } = request
  const n = quotes.length
  if (n === 0) reject("schema", "batch mint needs at least one quote", "quotes")
  const seen = new Set<string>()
  quotes.forEach((q, i) => {
    if (seen.has(q)) reject("duplicate", "quote appears twice in the batch (mint error 11016)", `quotes.${i}`)
    seen.add(q)
  })
  if (context.maxBatchSize !== undefined && n > context.maxBatchSize) {
    reject(
      "limit",
      `batch of ${n} quotes exceeds the mint's max_batch_size ${context.maxBatchSize}`,
      "quotes",
    )
  }
  if (outputs.length === 0) reject("schema", "batch mint needs at least one output", "outputs")
  const blinded = new Set<string>()
  outputs.forEach((o, i) => {
    if (blinded.has(o.B_))
      reject("duplicate", "output appears twice in the batch (mint error 11008)", `outputs.${i}.B_`)
    blinded.add(o.B_)
  })

  const rule = context.amountRule ?? (context.method === "bolt11" ? "exact" : "at-most")
  const amounts = request.quote_amounts
  if (amounts !== undefined && amounts.length !== n) {
    reject("schema", `quote_amounts has ${amounts.length} entries for ${n} quotes`, "quote_amounts")
  }
  if (amounts === undefined && rule === "at-most") {
    reject("schema", `quote_amounts is required for method ${context.method}`, "quote_amounts")
  }
  const signatures = request.signatures
  if (signatures !== undefined && signatures.length !== n) {
    reject("schema", `signatures has ${signatures.length} entries for ${n} quotes`, "signatures")
  }

  let known: Amount | undefined = 0n
  if (context.quotes !== undefined) {
    let unit: string | undefined
    for (let i = 0; i < n; i++) {
      const info = context.quotes.get(quotes[i]!)
      if (info === undefined) {
        reject("schema", "quote is not known to the wallet", `quotes.${i}`)
        continue
      }
      if (info.method !== context.method) {
        reject(
          "schema",
          `quote uses method ${info.method}, the batch endpoint is ${context.method}`,
          `quotes.${i}`,
        )
      }
      if (unit !== undefined && info.unit !== unit)
        reject("schema", "quotes of different units in one batch", `quotes.${i}`)
      unit = info.unit
      const signature = signatures?.[i] ?? null
      if (info.locked && signature === null) {
        reject(
          "schema",
          "locked (NUT-20) quote has no signature",
          signatures === undefined ? "signatures" : `signatures.${i}`,
        )
      }
      if (!info.locked && signature !== null)
        reject("schema", "unlocked quote must have a null signature", `signatures.${i}`)
      if (
        rule === "exact" &&
        amounts !== undefined &&
        info.amount !== undefined &&
        amounts[i] !== info.amount
      ) {
        reject("schema", "quote_amounts entry differs from the quoted amount", `quote_amounts.${i}`)
      }
      known = info.amount === undefined || known === undefined ? undefined : known + info.amount
    }
  } else {
    known = undefined
  }

  const expected = amounts !== undefined ? amounts.reduce((a, b) => a + b, 0n) : known
  if (expected !== undefined) {
    const total = outputs.reduce((a, o) => a + o.amount, 0n)
    if (rule === "exact" ? total !== expected : total > expected) {
      reject(
        "schema",
        `outputs sum to ${total}, quotes ${rule === "exact" ? "require exactly" : "allow at most"} ${expected}`,
        "outputs",
      )
    }
  }
}
