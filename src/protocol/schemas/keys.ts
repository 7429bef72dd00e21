/**
 * NUT-01 / NUT-02 key exchange: `GET /v1/keys`, `GET /v1/keys/{keyset_id}` and `GET /v1/keysets`.
 *
 * A keyset's `keys` object (`{"<amount>": "<pubkey hex>"}`) decodes to a `ReadonlyMap<bigint, string>` — the
 * model's `KeysetKeys` — because amounts reach 2^63 (NUT-01 vector) and JSON object keys are strings. Keys must
 * be canonical decimals (`"01"` would otherwise alias `"1"`); the key values are only checked to be hex here:
 * whether each is a valid compressed secp256k1 point is `keysets.ts`'s job, so one `02…` (BLS) keyset with
 * different key encodings cannot make a whole `/v1/keys` answer undecodable.
 *
 * @module
 */
import { Schema, SchemaTransformation } from "effect"
import type { KeysetKeys } from "../../model/index.js"
import { parseAmountKey, Uint64Schema } from "../amount.js"
import { KeysetIdSchema, nullableKey, UnitSchema } from "./common.js"

type KeyRecord = { readonly [amount: string]: string }

const KeyRecordSchema = Schema.Record(
  Schema.String,
  Schema.String.check(Schema.isPattern(/^[0-9a-fA-F]+$/, { expected: "a public key as hex" })),
).check(
  Schema.makeFilter((record: KeyRecord) => {
    for (const key of Object.keys(record)) {
      if (parseAmountKey(key) === undefined)
        return { path: [key], issue: "a canonical decimal amount in [0, 2^64)" }
    }
    return true
  }),
)

/** A keyset's key map: canonical-decimal amount keys → pubkey hex, decoded to `ReadonlyMap<bigint, string>`. */
export const KeysetKeysSchema = KeyRecordSchema.pipe(
  Schema.decodeTo(
    Schema.ReadonlyMap(Schema.BigInt, Schema.String),
    SchemaTransformation.transform<KeysetKeys, KeyRecord>({
      // Keys were validated by the filter above, so BigInt() cannot see a non-canonical form here. Pubkeys are
      // lowercased because NUT-02 v2 ids hash the lowercase hex.
      decode: (record) =>
        new Map(Object.entries(record).map(([amount, key]) => [BigInt(amount), key.toLowerCase()] as const)),
      // Ascending amounts: a deterministic, spec-like order.
      encode: (keys) => {
        const out: Record<string, string> = {}
        for (const amount of [...keys.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
          out[amount.toString()] = keys.get(amount)!
        }
        return out
      },
    }),
  ),
)

/**
 * One keyset with its keys (NUT-01 `GET /v1/keys`, NUT-02 `GET /v1/keys/{id}`). `active` is optional here (the
 * single-keyset endpoint of some mints omits it); a missing `input_fee_ppk` means 0 (NUT-02), a missing
 * `final_expiry` means none.
 */
export const KeysResponseKeysetSchema = Schema.Struct({
  id: KeysetIdSchema,
  unit: UnitSchema,
  active: Schema.optionalKey(Schema.Boolean),
  input_fee_ppk: nullableKey(Uint64Schema),
  final_expiry: nullableKey(Uint64Schema),
  keys: KeysetKeysSchema,
})
/** Decoded {@link KeysResponseKeysetSchema}. */
export type KeysResponseKeyset = typeof KeysResponseKeysetSchema.Type

/** `GET /v1/keys` and `GET /v1/keys/{keyset_id}` response: `{keysets: [...]}`. */
export const KeysResponseSchema = Schema.Struct({ keysets: Schema.Array(KeysResponseKeysetSchema) })
/** Decoded {@link KeysResponseSchema}. */
export type KeysResponse = typeof KeysResponseSchema.Type

/** One entry of `GET /v1/keysets` (all keysets, active and inactive, without keys). */
export const KeysetInfoSchema = Schema.Struct({
  id: KeysetIdSchema,
  unit: UnitSchema,
  active: Schema.Boolean,
  input_fee_ppk: nullableKey(Uint64Schema),
  final_expiry: nullableKey(Uint64Schema),
})
/** Decoded {@link KeysetInfoSchema}. */
export type KeysetInfo = typeof KeysetInfoSchema.Type

/** `GET /v1/keysets` response: `{keysets: [...]}`. */
export const KeysetsResponseSchema = Schema.Struct({ keysets: Schema.Array(KeysetInfoSchema) })
/** Decoded {@link KeysetsResponseSchema}. */
export type KeysetsResponse = typeof KeysetsResponseSchema.Type
