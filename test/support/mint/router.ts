/**
 * Routes `method path` to the test mint's handlers and turns their outcome into an HTTP answer: 200 with the
 * JSON body, 400 `{detail, code}` for a refusal (as nutshell), 422 `{detail}` for a request that does not decode,
 * 404/405 for unknown routes.
 *
 * @module
 */
import { DecodeError } from "../../../src/model/index.js"
import { stringifyJson } from "../../../src/protocol/json.js"
import { MintRefusal } from "./errors.js"
import { getInfo } from "./handlers/info.js"
import { getKeys, getKeysById, getKeysets } from "./handlers/keys.js"
import { getMeltQuote, postMelt, postMeltQuote } from "./handlers/melt.js"
import { getMintQuote, postMint, postMintQuote } from "./handlers/mint.js"
import { postCheckState, postRestore } from "./handlers/state.js"
import { postSwap } from "./handlers/swap.js"
import type { MintContext } from "./state.js"

/** An HTTP answer of the test mint. */
export interface MintHttpResponse {
  readonly status: number
  readonly body: string
  readonly headers?: Record<string, string>
}

interface Route {
  readonly method: "GET" | "POST"
  readonly pattern: RegExp
  /** The route's name in stats, e.g. `GET /v1/keys/{id}`. */
  readonly name: string
  readonly run: (ctx: MintContext, param: string, body: string) => string
}

const route = (method: Route["method"], path: string, run: Route["run"]): Route => ({
  method,
  name: `${method} ${path}`,
  pattern: new RegExp(`^${path.replace(/\{[a-z]+\}/, "([^/]+)")}$`),
  run,
})

const ROUTES: ReadonlyArray<Route> = [
  route("GET", "/v1/info", (ctx) => getInfo(ctx)),
  route("GET", "/v1/keys", (ctx) => getKeys(ctx)),
  route("GET", "/v1/keys/{id}", (ctx, id) => getKeysById(ctx, id)),
  route("GET", "/v1/keysets", (ctx) => getKeysets(ctx)),
  route("POST", "/v1/mint/quote/bolt11", (ctx, _, body) => postMintQuote(ctx, body)),
  route("GET", "/v1/mint/quote/bolt11/{id}", (ctx, id) => getMintQuote(ctx, id)),
  route("POST", "/v1/mint/bolt11", (ctx, _, body) => postMint(ctx, body)),
  route("POST", "/v1/melt/quote/bolt11", (ctx, _, body) => postMeltQuote(ctx, body)),
  route("GET", "/v1/melt/quote/bolt11/{id}", (ctx, id) => getMeltQuote(ctx, id)),
  route("POST", "/v1/melt/bolt11", (ctx, _, body) => postMelt(ctx, body)),
  route("POST", "/v1/swap", (ctx, _, body) => postSwap(ctx, body)),
  route("POST", "/v1/checkstate", (ctx, _, body) => postCheckState(ctx, body)),
  route("POST", "/v1/restore", (ctx, _, body) => postRestore(ctx, body)),
]

const JSON_HEADERS = { "content-type": "application/json" }

/** A JSON answer. */
export const jsonResponse = (status: number, body: string): MintHttpResponse => ({
  status,
  body,
  headers: JSON_HEADERS,
})

/** The stats name of `method path` (`GET /v1/keys/{id}`), or `undefined` for an unknown route. */
export const routeName = (method: string, path: string): string | undefined =>
  ROUTES.find((r) => r.method === method && r.pattern.test(path))?.name

/** Runs the handler of `method path` against `ctx`. */
export const dispatch = (ctx: MintContext, method: string, path: string, body: string): MintHttpResponse => {
  let r: Route | undefined
  let match: RegExpExecArray | null = null
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue
    match = candidate.pattern.exec(path)
    if (match !== null) {
      r = candidate
      break
    }
  }
  if (r === undefined) {
    const other = ROUTES.some((r) => r.pattern.test(path))
    return jsonResponse(
      other ? 405 : 404,
      stringifyJson({ detail: other ? "Method Not Allowed" : "Not Found" }),
    )
  }
  let param: string
  try {
    param = decodeURIComponent(match?.[1] ?? "")
  } catch {
    return jsonResponse(404, stringifyJson({ detail: "Not Found" }))
  }
  try {
    return jsonResponse(200, r.run(ctx, param, body))
  } catch (e) {
    if (e instanceof MintRefusal)
      return jsonResponse(e.status, stringifyJson({ detail: e.detail, code: e.code }))
    if (e instanceof DecodeError) return jsonResponse(422, stringifyJson({ detail: e.message }))
    throw e
  }
}
