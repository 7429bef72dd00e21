/**
 * fast-check arbitraries for valid tokens in the engine's model (shared by the token property, fuzz and
 * interop tests). Proofs of one keyset are contiguous so a v4 round trip (which groups by keyset) keeps
 * their order; secrets are unique; text is well-formed Unicode.
 */
import { fc } from "@fast-check/vitest"
import type { Dleq, Proof, Token } from "../../src/model/index.js"

const LONE_SURROGATE = /\p{Cs}/u

export const hexArb = (bytes: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString("hex"))

/** A compressed point's shape (02/03 + 32 bytes); the codecs only check the length. */
export const pointArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom("02", "03"), hexArb(32))
  .map(([prefix, x]) => prefix + x)

/** v1 ids (`00` + 7 bytes), full v2 ids (`01` + 32 bytes), or short ids (first 8 bytes of a v2 id). */
export const keysetIdArb: fc.Arbitrary<string> = fc.oneof(
  hexArb(7).map((h) => "00" + h),
  hexArb(32).map((h) => "01" + h),
  hexArb(7).map((h) => "01" + h),
)

/** Text that has a UTF-8 form (no lone surrogates), including non-ASCII. */
export const textArb = (opts: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> =>
  fc
    .oneof(
      fc.string({ unit: "grapheme", ...opts }),
      fc.string({ unit: "binary", ...opts }),
      fc.string({ unit: "grapheme-ascii", ...opts }),
    )
    .filter((s) => !LONE_SURROGATE.test(s))

export const secretArb: fc.Arbitrary<string> = fc.oneof(
  hexArb(32),
  textArb({ minLength: 1, maxLength: 80 }),
  // NUT-10 shaped secrets: JSON with quotes and escapes inside the string.
  fc.tuple(hexArb(16), pointArb).map(([nonce, data]) => JSON.stringify(["P2PK", { nonce, data, tags: [] }])),
)

export const amountArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, (1n << 64n) - 1n),
  fc.integer({ min: 0, max: 1 << 20 }).map(BigInt),
)

export const dleqArb: fc.Arbitrary<Dleq> = fc
  .record({ e: hexArb(32), s: hexArb(32), r: fc.option(hexArb(32), { nil: undefined }) })
  .map(({ e, s, r }) => (r === undefined ? { e, s } : { e, s, r }))

/** A proof without its id (assigned by the token arbitrary). */
export const proofBodyArb = (opts: { dleqR?: boolean } = {}): fc.Arbitrary<Omit<Proof, "id">> =>
  fc
    .record({
      amount: amountArb,
      secret: secretArb,
      C: pointArb,
      dleq: fc.option(
        opts.dleqR === true ? dleqArb.map((d) => ({ ...d, r: d.r ?? "11".repeat(32) })) : dleqArb,
        {
          nil: undefined,
        },
      ),
      witness: fc.option(
        fc.oneof(
          textArb({ maxLength: 40 }),
          fc.array(hexArb(64)).map((s) => JSON.stringify({ signatures: s })),
        ),
        { nil: undefined },
      ),
      p2pk_e: fc.option(pointArb, { nil: undefined }),
    })
    .map((p) => {
      const out: { -readonly [K in keyof Proof]?: Proof[K] } = { amount: p.amount, secret: p.secret, C: p.C }
      if (p.dleq !== undefined) out.dleq = p.dleq
      if (p.witness !== undefined) out.witness = p.witness
      if (p.p2pk_e !== undefined) out.p2pk_e = p.p2pk_e
      return out as Omit<Proof, "id">
    })

/** Proofs with unique secrets, grouped contiguously by keyset id. */
export const proofsArb = (
  opts: { maxProofs?: number; ids?: fc.Arbitrary<string>; dleqR?: boolean } = {},
): fc.Arbitrary<Proof[]> =>
  fc
    .tuple(
      fc.uniqueArray(opts.ids ?? keysetIdArb, { minLength: 1, maxLength: 4 }),
      fc.uniqueArray(proofBodyArb(opts), {
        minLength: 1,
        maxLength: opts.maxProofs ?? 10,
        selector: (p) => p.secret,
      }),
    )
    .chain(([ids, bodies]) =>
      fc.array(fc.nat(ids.length - 1), { minLength: bodies.length, maxLength: bodies.length }).map((groups) =>
        bodies
          .map((b, k) => ({ b, g: groups[k]! }))
          .sort((x, y) => x.g - y.g)
          .map(({ b, g }) => ({ ...b, id: ids[g]! }) as Proof),
      ),
    )

export const mintArb: fc.Arbitrary<string> = fc
  .oneof(
    fc.webUrl(),
    fc.constantFrom("http://localhost:3338", "https://mint.example.com/cashu"),
    textArb({ minLength: 1, maxLength: 30 }),
  )
  .map((u) => u.replace(/\/+$/, ""))
  .filter((u) => u.length > 0)

const optionalText = fc.option(textArb({ maxLength: 40 }), { nil: undefined })

const withOptional = (
  token: { version: 3 | 4; entries: Token["entries"] },
  unit: string | undefined,
  memo: string | undefined,
): Token => {
  const out: { -readonly [K in keyof Token]: Token[K] } = { ...token }
  if (unit !== undefined) out.unit = unit
  if (memo !== undefined) out.memo = memo
  return out
}

/** A valid v4 token: one mint, a unit (required on the wire), maybe a memo. */
export const tokenV4Arb = (
  opts: { maxProofs?: number; ids?: fc.Arbitrary<string>; dleqR?: boolean } = {},
): fc.Arbitrary<Token> =>
  fc
    .record({
      mint: mintArb,
      proofs: proofsArb(opts),
      unit: fc.oneof(fc.constantFrom("sat", "msat", "usd", "eur", "auth"), textArb({ maxLength: 10 })),
      memo: optionalText,
    })
    .map(({ mint, proofs, unit, memo }) =>
      withOptional({ version: 4, entries: [{ mint, proofs }] }, unit, memo),
    )

/** A valid v3 token: one or more mints, optional unit and memo, secrets unique across entries. */
export const tokenV3Arb = (opts: { maxProofs?: number } = {}): fc.Arbitrary<Token> =>
  fc
    .record({
      entries: fc.array(fc.record({ mint: mintArb, proofs: proofsArb(opts) }), {
        minLength: 1,
        maxLength: 3,
      }),
      unit: optionalText,
      memo: optionalText,
    })
    .filter(({ entries }) => {
      const secrets = entries.flatMap((e) => e.proofs.map((p) => p.secret))
      return new Set(secrets).size === secrets.length
    })
    .map(({ entries, unit, memo }) => withOptional({ version: 3, entries }, unit, memo))
