/**
 * A `MintClientShape` wired straight to an in-process {@link TestMint} (no HTTP, no policies): every call is
 * one `mint.handle(...)`, decoded with the protocol schemas and classified exactly as the HTTP client does
 * (definitive refusal, ambiguous answer, dropped connection). For engine unit tests and simulations; the
 * HTTP client with its policies is tested on its own and in the real-mint suite.
 */
import { Effect } from "effect"
import {
  MintAmbiguous,
  type MintCallError,
  type MintEndpoint,
  MintRejected,
  MintUnreachable,
} from "../../src/model/index.js"
import type { MintClientShape } from "../../src/ports/mint-client.js"
import { decodeMintResponse, encodeMintRequest, type PureCodec } from "../../src/protocol/decode.js"
import { classifyHttpStatus, mintErrorFromResponse } from "../../src/protocol/mint-errors.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
  InfoResponseSchema,
  KeysetsResponseSchema,
  KeysResponseSchema,
  MeltQuoteBolt11RequestSchema,
  MeltQuoteBolt11ResponseSchema,
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  RestoreRequestSchema,
  RestoreResponseSchema,
  SignaturesResponseSchema,
} from "../../src/protocol/schemas/index.js"
import type { TestMint } from "./mint/index.js"

/** Mints by URL, so one client serves several in-process mints. */
export type MintDirectory = (mintUrl: string) => TestMint | undefined

const call = <T, E>(
  mints: MintDirectory,
  mintUrl: string,
  endpoint: MintEndpoint,
  method: "GET" | "POST",
  path: string,
  body: string | undefined,
  schema: PureCodec<T, E>,
): Effect.Effect<T, MintCallError> =>
  Effect.gen(function* () {
    const mint = mints(mintUrl)
    if (mint === undefined)
      return yield* new MintUnreachable({ mintUrl, endpoint, message: "no mint at this URL" })
    const base = new URL(mint.baseUrl).pathname.replace(/\/+$/, "")
    const res = yield* Effect.tryPromise({
      try: () =>
        mint.handle(body === undefined ? { method, path: base + path } : { method, path: base + path, body }),
      catch: () =>
        new MintUnreachable({ mintUrl, endpoint, message: `connection to the mint failed (${endpoint})` }),
    })
    if (res.status >= 200 && res.status < 300) {
      try {
        return decodeMintResponse(schema, res.body)
      } catch {
        return yield* new MintAmbiguous({
          mintUrl,
          endpoint,
          status: res.status,
          code: undefined,
          reason: "malformed",
          detail: "",
          message: `the mint's ${endpoint} answer did not decode`,
        })
      }
    }
    const err = mintErrorFromResponse(res.status, res.body)
    const kind = err?.kind ?? classifyHttpStatus(res.status)
    const fields = {
      mintUrl,
      endpoint,
      status: res.status,
      code: err?.code,
      detail: err?.detail ?? "",
      message: err?.message ?? `HTTP ${res.status} from ${endpoint}`,
    }
    return yield* kind === "definitive"
      ? new MintRejected(fields)
      : new MintAmbiguous({ ...fields, reason: err !== undefined && res.status < 500 ? "code" : "status" })
  })

/** A client for the in-process mints of `mints`. */
export const directMintClient = (mints: MintDirectory | TestMint): MintClientShape => {
  const dir: MintDirectory =
    typeof mints === "function" ? mints : (url) => (url === mints.baseUrl ? mints : undefined)
  const enc = encodeURIComponent
  return {
    info: (u) => call(dir, u, "info", "GET", "/v1/info", undefined, InfoResponseSchema),
    keysets: (u) => call(dir, u, "keysets", "GET", "/v1/keysets", undefined, KeysetsResponseSchema),
    keys: (u, id) =>
      call(
        dir,
        u,
        "keys",
        "GET",
        id === undefined ? "/v1/keys" : `/v1/keys/${enc(id)}`,
        undefined,
        KeysResponseSchema,
      ),
    mintQuote: (u, m, req) =>
      call(
        dir,
        u,
        "mint-quote",
        "POST",
        `/v1/mint/quote/${enc(m)}`,
        encodeMintRequest(MintQuoteBolt11RequestSchema, req),
        MintQuoteBolt11ResponseSchema,
      ),
    mintQuoteState: (u, m, q) =>
      call(
        dir,
        u,
        "mint-quote-state",
        "GET",
        `/v1/mint/quote/${enc(m)}/${enc(q)}`,
        undefined,
        MintQuoteBolt11ResponseSchema,
      ),
    mint: (u, m, body) => call(dir, u, "mint", "POST", `/v1/mint/${enc(m)}`, body, SignaturesResponseSchema),
    meltQuote: (u, m, req) =>
      call(
        dir,
        u,
        "melt-quote",
        "POST",
        `/v1/melt/quote/${enc(m)}`,
        encodeMintRequest(MeltQuoteBolt11RequestSchema, req),
        MeltQuoteBolt11ResponseSchema,
      ),
    meltQuoteState: (u, m, q) =>
      call(
        dir,
        u,
        "melt-quote-state",
        "GET",
        `/v1/melt/quote/${enc(m)}/${enc(q)}`,
        undefined,
        MeltQuoteBolt11ResponseSchema,
      ),
    melt: (u, m, body) =>
      call(dir, u, "melt", "POST", `/v1/melt/${enc(m)}`, body, MeltQuoteBolt11ResponseSchema),
    swap: (u, body) => call(dir, u, "swap", "POST", "/v1/swap", body, SignaturesResponseSchema),
    checkState: (u, ys) =>
      call(
        dir,
        u,
        "checkstate",
        "POST",
        "/v1/checkstate",
        encodeMintRequest(CheckStateRequestSchema, { Ys: [...ys] }),
        CheckStateResponseSchema,
      ),
    restore: (u, req) =>
      call(
        dir,
        u,
        "restore",
        "POST",
        "/v1/restore",
        encodeMintRequest(RestoreRequestSchema, req),
        RestoreResponseSchema,
      ),
  }
}
