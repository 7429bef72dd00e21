/**
 * What a wallet accepts in a melt quote, before anything is reserved: the fee reserve under a cap
 * (RELIABILITY T5: a mint that inflates the reserve to keep it is refused) and an amount that is the
 * invoice's.
 *
 * @module
 */

/**
 * The default fee-reserve cap: 10 % of the amount plus a base of 100 in the unit (100 000 for `msat`, i.e.
 * 100 sat). Why these numbers: honest mints reserve about 1–2 % with a small floor (nutshell: 1 %, at least
 * 2 sat; CDK: 2 %, at least 1–2 sat) and return what the route did not use as NUT-08 change, so this cap
 * never refuses them — while a mint that inflates the reserve to keep it (RELIABILITY T5) is refused before
 * any proof is reserved. The base keeps small payments payable, where the mint's floor dominates the ratio.
 */
export const DEFAULT_FEE_RESERVE_CAP = {
  /** Percent of the quoted amount. */
  percent: 10n,
  /** Flat allowance per unit (units not listed use `otherBase`). */
  base: { sat: 100n, msat: 100_000n } as Readonly<Record<string, bigint>>,
  otherBase: 100n,
} as const

/** The largest fee reserve accepted by default for a melt of `amount` in `unit` (see the cap's comment). */
export const defaultMaxFeeReserve = (amount: bigint, unit: string): bigint =>
  (amount * DEFAULT_FEE_RESERVE_CAP.percent) / 100n +
  (DEFAULT_FEE_RESERVE_CAP.base[unit] ?? DEFAULT_FEE_RESERVE_CAP.otherBase)

/** Millisatoshis per BOLT11 amount multiplier (the amount is in BTC without one). */
const MSAT_PER: Readonly<Record<string, bigint>> = {
  "": 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
}

/**
 * The amount (msat) a BOLT11 invoice's human-readable part states (`ln` + network + amount + multiplier),
 * or `undefined` for an amountless invoice or anything that is not BOLT11. Only the amount is read: the
 * signature and the rest are the mint's business; the wallet checks that the quote charges what it asks.
 */
export const bolt11AmountMsat = (invoice: string): bigint | undefined => {
  const s = invoice.trim().toLowerCase()
  const sep = s.lastIndexOf("1") // bech32 data never contains "1": the last one ends the HRP
  if (!s.startsWith("ln") || sep < 3) return undefined
  const m = /^[a-z]+?([0-9]+)([munp]?)$/.exec(s.slice(2, sep))
  if (m === null) return undefined
  const digits = m[1]!
  if (digits.length > 30 || (digits.length > 1 && digits.startsWith("0"))) return undefined
  const n = BigInt(digits)
  if (m[2] === "p") return n % 10n === 0n ? n / 10n : undefined // pico-BTC: a tenth of a msat
  return n * MSAT_PER[m[2]!]!
}

/** Whether a quote of `amount` in `unit` charges what an invoice of `msat` asks (checked for sat and msat). */
export const amountMatches = (amount: bigint, unit: string, msat: bigint): boolean => {
  if (unit === "msat") return amount === msat
  if (unit === "sat") return amount === msat / 1000n || amount === (msat + 999n) / 1000n
  return true // fiat units: the mint's exchange rate is not ours to check
}
