/**
 * NUT-06 mint info: `GET /v1/info`, including the `nuts` settings the engine gates features on (4, 5, 7, 8, 9,
 * 10, 11, 12, 14, 15, 17, 19, 20, 29).
 *
 * Robustness choices (a wallet must still talk to a slightly-off mint):
 * - every top-level field is optional and may be `null` (pydantic emits `null` for unset fields);
 * - a NUT's settings that fail to decode are dropped — the wallet then treats that NUT as unsupported — instead
 *   of making the whole info response (and its `motd`) unreadable;
 * - `contact` accepts the current `{method, info}` objects and the legacy `[method, info]` pairs;
 * - unknown NUTs and unknown fields are ignored.
 *
 * @module
 */
import { Effect, Schema, SchemaTransformation } from "effect"
import { AmountSchema, SafeUintSchema } from "../amount.js"
import { MethodSchema, nullableKey, UnitSchema } from "./common.js"

/** A NUT setting that decodes to "absent" when malformed (see module notes). */
const lenient = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S) =>
  Schema.optionalKey(schema.pipe(Schema.catchDecoding(() => Effect.succeedNone)))

/** `options` of a mint/melt method setting: bolt11 `description` (NUT-23 mint), `amountless` (NUT-23 melt), NUT-30 `confirmations`. */
export const MethodOptionsSchema = Schema.Struct({
  description: Schema.optionalKey(Schema.Boolean),
  amountless: Schema.optionalKey(Schema.Boolean),
  confirmations: Schema.optionalKey(SafeUintSchema),
})

/** NUT-04 `MintMethodSetting` / NUT-05 `MeltMethodSetting`. */
export const MethodSettingSchema = Schema.Struct({
  method: MethodSchema,
  unit: UnitSchema,
  method_name: nullableKey(Schema.String),
  min_amount: nullableKey(AmountSchema),
  max_amount: nullableKey(AmountSchema),
  options: nullableKey(MethodOptionsSchema),
})
/** Decoded {@link MethodSettingSchema}. */
export type MethodSetting = typeof MethodSettingSchema.Type

/** NUT-04 / NUT-05 settings: `{methods, disabled}` (`disabled` missing ⇒ enabled). */
export const MintMeltSettingsSchema = Schema.Struct({
  methods: Schema.Array(MethodSettingSchema),
  disabled: Schema.optionalKey(Schema.Boolean),
})

/** The `{supported: bool}` settings of NUT-07, 08, 09, 10, 11, 12, 14 and 20. */
export const SupportedFlagSchema = Schema.Struct({ supported: Schema.Boolean })

/** NUT-15 settings: `{methods: [{method, unit}]}`. */
export const Nut15SettingsSchema = Schema.Struct({
  methods: Schema.Array(Schema.Struct({ method: MethodSchema, unit: UnitSchema })),
})

/** NUT-17 settings: `{supported: [{method, unit, commands: [subscription kinds]}]}`. */
export const Nut17SettingsSchema = Schema.Struct({
  supported: Schema.Array(
    Schema.Struct({ method: MethodSchema, unit: UnitSchema, commands: Schema.Array(Schema.String) }),
  ),
})

/** An HTTP endpoint as listed by NUT-19 (`cached_endpoints`). */
export const EndpointSchema = Schema.Struct({ method: Schema.String, path: Schema.String })

/** NUT-19 settings: `{ttl: seconds | null (null = cached indefinitely), cached_endpoints: [{method, path}]}`. */
export const Nut19SettingsSchema = Schema.Struct({
  ttl: nullableKey(SafeUintSchema),
  cached_endpoints: Schema.Array(EndpointSchema),
})

/** NUT-29 settings: `{max_batch_size?, methods?}` (methods missing ⇒ every NUT-04 method). */
export const Nut29SettingsSchema = Schema.Struct({
  max_batch_size: nullableKey(SafeUintSchema),
  methods: nullableKey(Schema.Array(MethodSchema)),
})

/** The `nuts` object of the info response, keyed by NUT number as a string (JSON object keys). */
export const NutsSettingsSchema = Schema.Struct({
  "4": lenient(MintMeltSettingsSchema),
  "5": lenient(MintMeltSettingsSchema),
  "7": lenient(SupportedFlagSchema),
  "8": lenient(SupportedFlagSchema),
  "9": lenient(SupportedFlagSchema),
  "10": lenient(SupportedFlagSchema),
  "11": lenient(SupportedFlagSchema),
  "12": lenient(SupportedFlagSchema),
  "14": lenient(SupportedFlagSchema),
  "15": lenient(Nut15SettingsSchema),
  "17": lenient(Nut17SettingsSchema),
  "19": lenient(Nut19SettingsSchema),
  "20": lenient(SupportedFlagSchema),
  "29": lenient(Nut29SettingsSchema),
})
/** Decoded {@link NutsSettingsSchema}. */
export type NutsSettings = typeof NutsSettingsSchema.Type

const ContactObjectSchema = Schema.Struct({ method: Schema.String, info: Schema.String })
type Contact = typeof ContactObjectSchema.Type

/** A contact entry: `{method, info}`, or the legacy `[method, info]` pair decoded to the same record. */
export const ContactSchema = Schema.Union([
  ContactObjectSchema,
  Schema.Tuple([Schema.String, Schema.String]).pipe(
    Schema.decodeTo(
      Schema.toType(ContactObjectSchema),
      SchemaTransformation.transform<Contact, readonly [string, string]>({
        decode: ([method, info]) => ({ method, info }),
        encode: (c) => [c.method, c.info] as const,
      }),
    ),
  ),
])

/** NUT-06 `GetInfoResponse`. */
export const InfoResponseSchema = Schema.Struct({
  name: nullableKey(Schema.String),
  pubkey: nullableKey(Schema.String),
  version: nullableKey(Schema.String),
  description: nullableKey(Schema.String),
  description_long: nullableKey(Schema.String),
  contact: nullableKey(Schema.Array(ContactSchema)),
  motd: nullableKey(Schema.String),
  icon_url: nullableKey(Schema.String),
  urls: nullableKey(Schema.Array(Schema.String)),
  time: nullableKey(SafeUintSchema),
  tos_url: nullableKey(Schema.String),
  nuts: nullableKey(NutsSettingsSchema),
})
/** Decoded {@link InfoResponseSchema}. */
export type InfoResponse = typeof InfoResponseSchema.Type

/** NUTs whose settings are a `{supported: bool}` flag. */
export type FlagNut = "7" | "8" | "9" | "10" | "11" | "12" | "14" | "20"

/** True when the mint advertises `{supported: true}` for a flag-style NUT. */
export const supportsNut = (info: InfoResponse, nut: FlagNut): boolean => info.nuts?.[nut]?.supported === true

/**
 * The human-readable name of a payment method (NUT-04/05): `method_name` when given, else derived from `method`
 * by turning `_`/`-` into spaces and title-casing each word (`apple-pay` → `Apple Pay`).
 */
export const methodDisplayName = (setting: Pick<MethodSetting, "method" | "method_name">): string =>
  setting.method_name ??
  setting.method
    .split(/[-_]/)
    .filter((w) => w.length > 0)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ")

/**
 * NUT-19: whether `httpMethod path` is a cached endpoint, and for how long. Returns `undefined` when the
 * endpoint is not listed (replaying it is not safe), else `{ttlSeconds}` with `null` meaning "indefinitely".
 */
export const cachedEndpoint = (
  info: InfoResponse,
  httpMethod: string,
  path: string,
): { readonly ttlSeconds: number | null } | undefined => {
  const nut19 = info.nuts?.["19"]
  if (nut19 === undefined) return undefined
  const listed = nut19.cached_endpoints.some(
    (e) => e.method.toUpperCase() === httpMethod.toUpperCase() && e.path === path,
  )
  return listed ? { ttlSeconds: nut19.ttl ?? null } : undefined
}
