/**
 * NUT-06 `GET /v1/info`: the NUTs the test mint implements, with NUT-19 `cached_endpoints` and `ttl` when its
 * cache is on.
 *
 * @module
 */
import { stringifyJson } from "../../../../src/protocol/json.js"
import { CACHED_ENDPOINTS } from "../cache.js"
import { type MintContext, nowSeconds } from "../state.js"

/** `GET /v1/info`. */
export const getInfo = (ctx: MintContext): string => {
  const methods = ctx.keysets.units().map((unit) => ({ method: "bolt11", unit }))
  const flag = { supported: true }
  const nuts: Record<string, unknown> = {
    "4": { methods: methods.map((m) => ({ ...m, options: { description: true } })), disabled: false },
    "5": { methods, disabled: false },
    "7": flag,
    "8": flag,
    "9": flag,
    "10": flag,
    "11": flag,
    "12": flag,
    "14": flag,
    "20": flag,
  }
  if (ctx.cacheTtlSeconds !== undefined)
    nuts["19"] = { ttl: ctx.cacheTtlSeconds, cached_endpoints: CACHED_ENDPOINTS }
  return stringifyJson({
    name: ctx.name,
    pubkey: ctx.pubkey,
    version: "corecashu-test-mint/0.1",
    time: nowSeconds(ctx),
    nuts,
  })
}
