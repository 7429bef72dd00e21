/**
 * NUT-17 WebSocket messages (JSON-RPC 2.0 over `<mint>/v1/ws`).
 *
 * Outgoing: {@link WsSubscribeRequestSchema} / {@link WsUnsubscribeRequestSchema}. Incoming: one of
 * {@link WsIncomingMessageSchema} — a result, an error, or a notification whose `payload` depends on the
 * subscription kind and is decoded in a second step with {@link notificationPayloadSchema}.
 *
 * `id` is an integer the wallet increments per request; the spec's error example shows it as a string, so
 * incoming ids accept both (and `null` on errors, as JSON-RPC allows).
 *
 * @module
 */
import { Schema } from "effect"
import { SafeUintSchema } from "../amount.js"
import { ProofStateEntrySchema } from "./checkstate.js"
import { MeltQuoteBolt11ResponseSchema } from "./melt.js"
import { MintQuoteBolt11ResponseSchema } from "./mint.js"

/** NUT-17 subscription kinds. */
export const WsSubscriptionKindSchema = Schema.Literals([
  "bolt11_mint_quote",
  "bolt11_melt_quote",
  "bolt12_mint_quote",
  "bolt12_melt_quote",
  "proof_state",
])
/** A subscription kind. */
export type WsSubscriptionKind = typeof WsSubscriptionKindSchema.Type

const JsonRpc = Schema.Literal("2.0")
const SubId = Schema.String.check(Schema.isNonEmpty())

/** `subscribe` request: `{jsonrpc, id, method: "subscribe", params: {kind, subId, filters}}`. */
export const WsSubscribeRequestSchema = Schema.Struct({
  jsonrpc: JsonRpc,
  id: SafeUintSchema,
  method: Schema.Literal("subscribe"),
  params: Schema.Struct({
    kind: WsSubscriptionKindSchema,
    subId: SubId,
    /** Quote ids or proof `Y`s, depending on `kind`. */
    filters: Schema.Array(Schema.String),
  }),
})
/** Decoded {@link WsSubscribeRequestSchema}. */
export type WsSubscribeRequest = typeof WsSubscribeRequestSchema.Type

/** `unsubscribe` request: `{jsonrpc, id, method: "unsubscribe", params: {subId}}`. */
export const WsUnsubscribeRequestSchema = Schema.Struct({
  jsonrpc: JsonRpc,
  id: SafeUintSchema,
  method: Schema.Literal("unsubscribe"),
  params: Schema.Struct({ subId: SubId }),
})
/** Decoded {@link WsUnsubscribeRequestSchema}. */
export type WsUnsubscribeRequest = typeof WsUnsubscribeRequestSchema.Type

/** Either outgoing request. */
export const WsRequestSchema = Schema.Union([WsSubscribeRequestSchema, WsUnsubscribeRequestSchema])
/** Decoded {@link WsRequestSchema}. */
export type WsRequest = typeof WsRequestSchema.Type

const IncomingId = Schema.Union([SafeUintSchema, Schema.String])

/** `WsResponse`: `{jsonrpc, result: {status: "OK", subId}, id}`. */
export const WsResponseSchema = Schema.Struct({
  jsonrpc: JsonRpc,
  result: Schema.Struct({ status: Schema.Literal("OK"), subId: SubId }),
  id: IncomingId,
})
/** Decoded {@link WsResponseSchema}. */
export type WsResponse = typeof WsResponseSchema.Type

/** `WsErrors`: `{jsonrpc, error: {code, message}, id}`. */
export const WsErrorResponseSchema = Schema.Struct({
  jsonrpc: JsonRpc,
  error: Schema.Struct({ code: Schema.Number.check(Schema.isInt()), message: Schema.String }),
  id: Schema.NullOr(IncomingId),
})
/** Decoded {@link WsErrorResponseSchema}. */
export type WsErrorResponse = typeof WsErrorResponseSchema.Type

/**
 * `WsNotification`: `{jsonrpc, method: "subscribe", params: {subId, payload}}`. `payload` is left as parsed
 * JSON; decode it with {@link notificationPayloadSchema} for the subscription's kind.
 */
export const WsNotificationSchema = Schema.Struct({
  jsonrpc: JsonRpc,
  method: Schema.Literal("subscribe"),
  params: Schema.Struct({ subId: SubId, payload: Schema.Unknown }),
})
/** Decoded {@link WsNotificationSchema}. */
export type WsNotification = typeof WsNotificationSchema.Type

/** Any message the mint sends over the socket. */
export const WsIncomingMessageSchema = Schema.Union([
  WsResponseSchema,
  WsErrorResponseSchema,
  WsNotificationSchema,
])
/** Decoded {@link WsIncomingMessageSchema}. */
export type WsIncomingMessage = typeof WsIncomingMessageSchema.Type

/**
 * The schema of a notification payload for a subscription kind: a bolt11 mint/melt quote (NUT-23) or one proof
 * state (NUT-07). Bolt12 kinds return `undefined` — this module has no NUT-25 schemas.
 */
export function notificationPayloadSchema(kind: "bolt11_mint_quote"): typeof MintQuoteBolt11ResponseSchema
export function notificationPayloadSchema(kind: "bolt11_melt_quote"): typeof MeltQuoteBolt11ResponseSchema
export function notificationPayloadSchema(kind: "proof_state"): typeof ProofStateEntrySchema
export function notificationPayloadSchema(
  kind: WsSubscriptionKind,
):
  | typeof MintQuoteBolt11ResponseSchema
  | typeof MeltQuoteBolt11ResponseSchema
  | typeof ProofStateEntrySchema
  | undefined
export function notificationPayloadSchema(kind: WsSubscriptionKind) {
  switch (kind) {
    case "bolt11_mint_quote":
      return MintQuoteBolt11ResponseSchema
    case "bolt11_melt_quote":
      return MeltQuoteBolt11ResponseSchema
    case "proof_state":
      return ProofStateEntrySchema
    default:
      return undefined
  }
}
