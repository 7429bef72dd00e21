/**
 * The reference-mint harness lives in `demo/real-mint.ts` (the demo uses it too); tests import it here, with
 * the two reference mints the integration suites run against and what each does differently.
 *
 * Both mints run a fake Lightning backend that pays every invoice it creates and charges 1 sat to pay an
 * external one. Where they differ, the profile says so, and the suites hold each mint to its own exact answer:
 *
 * | | nutshell 0.20.3 (`scripts/mint.sh`) | cdk-mintd 0.18.3 (`scripts/cdk-mint.sh`) |
 * |---|---|---|
 * | unbalanced swap | HTTP 400, code 11000 (its generic TransactionError) | HTTP 400, code 11005 (NUT-00 TransactionUnbalanced) |
 * | melt quote for a non-invoice | HTTP 400, code 0 | HTTP 400, code 50000 |
 * | melt fee reserve | max(2 sat, 1 % of the amount), rounded up | max(reserve_fee_min = 2, ⌊fee_percent (0.02, f32) · amount⌋) |
 * | NUT-19 | not advertised (it needs redis) | `[info.http_cache] backend = "memory"`: swap, mint and melt answers cached, ttl 300 s |
 */
import { type MintKind, type RealMint, type RealMintOptions, startRealMint } from "../../demo/real-mint.js"

export * from "../../demo/real-mint.js"

/** A reference mint the integration suites run against, and its differences as data. */
export interface MintProfile {
  readonly kind: MintKind
  /** For test names: `nutshell 0.20.3`, `cdk-mintd 0.18.3`. */
  readonly name: string
  /** What `GET /v1/info` says in `version`. */
  readonly version: RegExp
  /** Starts a fresh mint of this kind (fresh database, free port on 127.0.0.1). */
  readonly start: (opts?: Omit<RealMintOptions, "kind">) => Promise<RealMint>
  /** The error of a swap whose outputs exceed its inputs minus fees: its code, and its detail for these sums. */
  readonly unbalanced: {
    readonly code: number
    readonly detail: (sums: { inputs: bigint; outputs: bigint; fee: bigint }) => string
  }
  /** The error code of a melt quote for a request that is not a bolt11 invoice (HTTP 400 on both mints). */
  readonly refusedMeltQuoteCode: number
  /** The `fee_reserve` of a bolt11 melt quote for `amount` sat (an external invoice). */
  readonly meltFeeReserve: (amount: bigint) => bigint
  /** What the fake backend charges to pay an external invoice. */
  readonly lightningFee: bigint
  /**
   * Whether the mint, as the harness runs it, answers a replayed swap / mint / melt request from its NUT-19
   * cache (and advertises so in `/v1/info`). Recovery then settles a lost answer by replay, not by restore.
   */
  readonly nut19: boolean
}

/** ceil(a / b) for positive bigints. */
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b

/** nutshell: max(LIGHTNING_RESERVE_FEE_MIN = 2000 msat, amount · LIGHTNING_FEE_PERCENT 1.0 %), rounded up to sat. */
const nutshellReserve = (amount: bigint): bigint => {
  const msat = amount * 1000n
  const percent = ceilDiv(msat, 100n)
  return ceilDiv(percent > 2000n ? percent : 2000n, 1000n)
}

/** The fake wallet settings `scripts/cdk-mint.sh` writes by default (CDK_MINT_FEE_PERCENT, _RESERVE_FEE_MIN). */
const CDK_FEE_PERCENT = 0.02
const CDK_RESERVE_FEE_MIN = 2n

/**
 * cdk-fake-wallet `fee_for_amount`: `(percent_fee_reserve * amount as f32) as u64`, at least `min_fee_reserve` —
 * an f32 product, truncated; `Math.fround` reproduces the f32 arithmetic exactly.
 */
const cdkReserve = (amount: bigint): bigint => {
  const relative = BigInt(Math.floor(Math.fround(Math.fround(CDK_FEE_PERCENT) * Math.fround(Number(amount)))))
  return relative > CDK_RESERVE_FEE_MIN ? relative : CDK_RESERVE_FEE_MIN
}

export const NUTSHELL: MintProfile = {
  kind: "nutshell",
  name: "nutshell 0.20.3",
  version: /^Nutshell\/0\.20\.3$/,
  start: (opts = {}) => startRealMint({ ...opts, kind: "nutshell" }),
  // NUT-00 names 11005; nutshell 0.20.3 raises its generic TransactionError (11000) with the text
  // "inputs (…) - fees (…) vs outputs (…) are not balanced".
  unbalanced: {
    code: 11000,
    detail: ({ inputs, outputs, fee }) =>
      `inputs (${inputs}) - fees (${fee}) vs outputs (${outputs}) are not balanced.`,
  },
  refusedMeltQuoteCode: 0, // its catch-all: "Bech32 string is not valid."
  meltFeeReserve: nutshellReserve,
  lightningFee: 1n,
  nut19: false,
}

export const CDK: MintProfile = {
  kind: "cdk",
  name: "cdk-mintd 0.18.3",
  version: /^cdk-mintd\/0\.18\.3$/,
  start: (opts = {}) => startRealMint({ ...opts, kind: "cdk" }),
  // cdk-common `ErrorResponse::from(Error::TransactionUnbalanced)`.
  unbalanced: {
    code: 11005,
    detail: ({ inputs, outputs, fee }) =>
      `Inputs: ${inputs}, Outputs: ${outputs}, expected_fee: ${fee}. Transaction inputs should equal outputs less fee`,
  },
  refusedMeltQuoteCode: 50000, // its catch-all: "Invalid payment method"
  meltFeeReserve: cdkReserve,
  lightningFee: 1n,
  nut19: true,
}

/** Every reference mint: the integration suites run once per entry (`describe.each(MINTS)`). */
export const MINTS: ReadonlyArray<MintProfile> = [NUTSHELL, CDK]
