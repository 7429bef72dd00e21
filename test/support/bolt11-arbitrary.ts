import { fc } from "@fast-check/vitest"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { bigIntToBytes } from "../../src/crypto/bytes.js"
import type { Bolt11Network } from "../../src/protocol/bolt11.js"
import { DECI_MSAT_PER_UNIT, type Multiplier } from "./bolt11-encode.js"

export interface ModelHop {
  readonly pubkey: Uint8Array
  readonly block: number
  readonly tx: number
  readonly output: number
  readonly feeBase: number
  readonly feeProportional: number
  readonly cltvDelta: number
}

/**
 * A BOLT #11 invoice described by its parts, before encoding: what `test/protocol/bolt11.test.ts` writes
 * with the test-side encoder and signer (`./bolt11-encode.ts`), and what the decoder must give back.
 */
export interface Bolt11Model {
  readonly network: Bolt11Network
  /** The amount as written in the prefix: decimal digits (no leading zero) and a multiplier. */
  readonly amount: { readonly digits: bigint; readonly multiplier: Multiplier } | undefined
  readonly timestamp: number
  readonly paymentHash: Uint8Array
  readonly paymentSecret: Uint8Array
  readonly description:
    | { readonly kind: "d"; readonly text: string }
    | { readonly kind: "h"; readonly hash: Uint8Array }
  readonly expiry: number | undefined
  readonly minFinalCltv: number | undefined
  /** Ascending, distinct; even bits only from the ones the decoder knows, odd bits any. */
  readonly features: ReadonlyArray<number>
  readonly metadata: Uint8Array | undefined
  readonly routeHints: ReadonlyArray<ReadonlyArray<ModelHop>>
  /** Known versions (0–18, with a program of a length the decoder accepts) and unknown ones (19–31). */
  readonly fallbacks: ReadonlyArray<{ readonly version: number; readonly program: Uint8Array }>
  /** Fields of types the decoder does not know (it must skip them). */
  readonly unknownFields: ReadonlyArray<{ readonly type: number; readonly words: ReadonlyArray<number> }>
  readonly privateKey: Uint8Array
  /** Whether the invoice carries the payee key in an `n` field (else the decoder recovers it). */
  readonly withPayeeKey: boolean
  /** One sort key per field, to write the fields in a random order. */
  readonly order: ReadonlyArray<number>
}

const MAX_MSAT = 2_100_000_000_000_000_000n

/** Field types BOLT #11 defines and the decoder reads; every other 5-bit type is unknown to it. */
export const KNOWN_TYPES: ReadonlyArray<number> = [1, 3, 5, 6, 9, 13, 16, 19, 23, 24, 27]
const UNKNOWN_TYPES = Array.from({ length: 32 }, (_, i) => i).filter((t) => !KNOWN_TYPES.includes(t))
const KNOWN_EVEN_FEATURES = [8, 14, 16, 24, 36, 48]

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const word = fc.integer({ min: 0, max: 31 })

export const amountArb: fc.Arbitrary<{ digits: bigint; multiplier: Multiplier }> = fc
  .constantFrom<Multiplier>("", "m", "u", "n", "p")
  .chain((multiplier) => {
    const unit = DECI_MSAT_PER_UNIT[multiplier]
    // p: only whole millisatoshis, i.e. digits ending in 0.
    const digits =
      multiplier === "p"
        ? fc.bigInt({ min: 1n, max: MAX_MSAT }).map((k) => k * 10n)
        : fc.bigInt({ min: 1n, max: (MAX_MSAT * 10n) / unit })
    return fc.record({ digits, multiplier: fc.constant(multiplier) })
  })

export const privateKeyArb: fc.Arbitrary<Uint8Array> = fc
  .bigInt({ min: 1n, max: secp256k1.Point.CURVE().n - 1n })
  .map((k) => bigIntToBytes(k, 32))

const hopArb: fc.Arbitrary<ModelHop> = fc.record({
  pubkey: bytes(33),
  block: fc.integer({ min: 0, max: 2 ** 24 - 1 }),
  tx: fc.integer({ min: 0, max: 2 ** 24 - 1 }),
  output: fc.integer({ min: 0, max: 2 ** 16 - 1 }),
  feeBase: fc.nat({ max: 2 ** 32 - 1 }),
  feeProportional: fc.nat({ max: 2 ** 32 - 1 }),
  cltvDelta: fc.nat({ max: 2 ** 16 - 1 }),
})

const fallbackArb = fc.oneof(
  fc.record({ version: fc.constant(0), program: fc.oneof(bytes(20), bytes(32)) }),
  fc.record({
    version: fc.integer({ min: 1, max: 16 }),
    program: fc.uint8Array({ minLength: 2, maxLength: 40 }),
  }),
  fc.record({ version: fc.constantFrom(17, 18), program: bytes(20) }),
  // Unknown versions: the reader skips them whatever follows.
  fc.record({ version: fc.integer({ min: 19, max: 31 }), program: fc.uint8Array({ maxLength: 30 }) }),
)

const featuresArb = fc
  .tuple(
    fc.subarray(KNOWN_EVEN_FEATURES),
    fc.uniqueArray(
      fc.nat({ max: 127 }).map((n) => n * 2 + 1),
      { maxLength: 6 },
    ),
  )
  .map(([even, odd]) => [...even, ...odd].sort((a, b) => a - b))

/** Any valid invoice, as parts (amount, fields, key). Field contents are random within their rules. */
export const bolt11ModelArb: fc.Arbitrary<Bolt11Model> = fc.record({
  network: fc.constantFrom<Bolt11Network>("bitcoin", "testnet", "signet", "regtest", "simnet"),
  amount: fc.option(amountArb, { nil: undefined }),
  timestamp: fc.integer({ min: 0, max: 2 ** 35 - 1 }),
  paymentHash: bytes(32),
  paymentSecret: bytes(32),
  description: fc.oneof(
    // Any Unicode scalar values (a leading U+FEFF included); 100 of them stay under 639 bytes.
    fc.record({ kind: fc.constant("d" as const), text: fc.string({ unit: "binary", maxLength: 100 }) }),
    fc.record({ kind: fc.constant("h" as const), hash: bytes(32) }),
  ),
  expiry: fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
  minFinalCltv: fc.option(fc.integer({ min: 0, max: 2 ** 32 }), { nil: undefined }),
  features: featuresArb,
  metadata: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
  routeHints: fc.array(fc.array(hopArb, { minLength: 1, maxLength: 3 }), { maxLength: 2 }),
  fallbacks: fc.array(fallbackArb, { maxLength: 3 }),
  unknownFields: fc.array(
    fc.record({ type: fc.constantFrom(...UNKNOWN_TYPES), words: fc.array(word, { maxLength: 40 }) }),
    { maxLength: 3 },
  ),
  privateKey: privateKeyArb,
  withPayeeKey: fc.boolean(),
  order: fc.array(fc.nat(), { minLength: 32, maxLength: 32 }),
})
