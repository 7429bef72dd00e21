/**
 * NUT-00 building blocks shared by every endpoint schema: hex fields, keyset ids, `BlindedMessage`,
 * `BlindSignature`, `Proof` (as sent to a mint), DLEQ, and the "optional or null" key helper.
 *
 * Decoded types are structurally the records of `../models.ts`, so a decoded `BlindSignature` is a
 * `models.BlindSignature`. Structs ignore (and drop) unknown keys — nutshell and CDK add fields freely.
 *
 * @module
 */
import { Option, Schema, SchemaTransformation } from "effect"
import { AmountSchema } from "../amount.js"

/**
 * An optional key that the wire may also send as `null` (pydantic/serde emit `null` for unset optionals). Both
 * absent and `null` decode to an absent key, so decoded records match the models' `field?: T`; encoding writes
 * the key only when it is present.
 */
export const nullableKey = <S extends Schema.Top>(schema: S) =>
  Schema.optionalKey(Schema.NullOr(schema)).pipe(
    Schema.decodeTo(
      Schema.optionalKey(Schema.toType(schema)),
      SchemaTransformation.transformOptional<S["Type"], S["Type"] | null>({
        decode: (o) => Option.filter(o, (v): v is S["Type"] => v !== null),
        encode: (o) => o,
      }),
    ),
  )

const lowerHex = (pattern: RegExp, what: string) =>
  Schema.String.check(Schema.isPattern(pattern, { expected: what })).pipe(
    Schema.decodeTo(Schema.String, SchemaTransformation.toLowerCase()),
  )

/**
 * A compressed secp256k1 point (`B_`, `C_`, `C`, `Y`): 33 bytes as hex, prefix `02`/`03`. Either case is
 * accepted and normalised to lowercase, because points are later compared as strings (restore matching,
 * checkstate `Y`s). Curve membership is checked by the crypto layer when the point is used.
 */
export const PointHexSchema = lowerHex(/^0[23][0-9a-fA-F]{64}$/, "a 33-byte compressed point as hex")

/** A 32-byte scalar as hex (DLEQ `e`, `s`, `r`), normalised to lowercase. */
export const ScalarHexSchema = lowerHex(/^[0-9a-fA-F]{64}$/, "a 32-byte scalar as hex")

/** A 64-byte BIP340 signature as hex (NUT-20 `signature`), normalised to lowercase. */
export const SchnorrSignatureHexSchema = lowerHex(/^[0-9a-fA-F]{128}$/, "a 64-byte signature as hex")

/**
 * A keyset id as it travels in `BlindedMessage`/`BlindSignature`/`Proof`/keyset lists: lowercase hex, 1–66
 * bytes. Deliberately not narrowed to the `00`/`01` versions: a mint that also serves `02…` (BLS) keysets must
 * still decode, and `keyset-id.ts` decides what the wallet can use.
 */
export const KeysetIdSchema = Schema.String.check(
  Schema.isPattern(/^(?:[0-9a-f]{2}){1,66}$/, { expected: "a keyset id (lowercase hex)" }),
)

/** A payment method name (NUT-04/05: MUST match `[a-z0-9_-]+`). */
export const MethodSchema = Schema.String.check(
  Schema.isPattern(/^[a-z0-9_-]+$/, { expected: "a payment method name [a-z0-9_-]+" }),
)

/** A currency unit (`sat`, `msat`, `usd`, `auth`, …): non-empty. */
export const UnitSchema = Schema.String.check(Schema.isNonEmpty())

/** NUT-12 DLEQ proof attached to a `BlindSignature`: `{e, s}`. */
export const BlindSignatureDleqSchema = Schema.Struct({ e: ScalarHexSchema, s: ScalarHexSchema })

/** NUT-12 DLEQ proof attached to a `Proof` handed to another wallet: `{e, s, r}` (`r` optional on the wire). */
export const ProofDleqSchema = Schema.Struct({
  e: ScalarHexSchema,
  s: ScalarHexSchema,
  r: Schema.optionalKey(ScalarHexSchema),
})

/**
 * NUT-00 `BlindedMessage` (an output). `amount` may be 0: NUT-08 blank outputs carry a placeholder amount the
 * mint overwrites.
 */
export const BlindedMessageSchema = Schema.Struct({
  amount: AmountSchema,
  id: KeysetIdSchema,
  B_: PointHexSchema,
})

/** NUT-00 `BlindSignature` (a promise), with the optional NUT-12 `dleq` (absent or `null` → absent). */
export const BlindSignatureSchema = Schema.Struct({
  amount: AmountSchema,
  id: KeysetIdSchema,
  C_: PointHexSchema,
  dleq: nullableKey(BlindSignatureDleqSchema),
})

/**
 * A `Proof` as a wallet sends it to a mint as an input (NUT-03 swap, NUT-05 melt): `{amount, id, secret, C,
 * witness?}`. Encoding a full model `Proof` through this schema drops `dleq` (its `r` must never reach the mint,
 * NUT-12) and `p2pk_e` (NUT-28 removes it before spending) — unknown keys are not written.
 */
export const MintInputProofSchema = Schema.Struct({
  amount: AmountSchema,
  id: KeysetIdSchema,
  secret: Schema.String.check(Schema.isNonEmpty()),
  C: PointHexSchema,
  witness: Schema.optionalKey(Schema.String),
})

/** A full NUT-00 `Proof` with the wallet-to-wallet extras (NUT-12 `dleq`, NUT-28 `p2pk_e`). */
export const ProofSchema = Schema.Struct({
  amount: AmountSchema,
  id: KeysetIdSchema,
  secret: Schema.String.check(Schema.isNonEmpty()),
  C: PointHexSchema,
  witness: nullableKey(Schema.String),
  dleq: nullableKey(ProofDleqSchema),
  p2pk_e: nullableKey(PointHexSchema),
})

/** The common `{signatures: [BlindSignature]}` answer of NUT-03 swap, NUT-04 mint and NUT-29 batch mint. */
export const SignaturesResponseSchema = Schema.Struct({ signatures: Schema.Array(BlindSignatureSchema) })

/** A mint quote id as sent in requests/paths: non-empty (UUID v7 in current mints; older ones differ). */
export const QuoteIdSchema = Schema.String.check(Schema.isNonEmpty())
