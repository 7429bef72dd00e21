/**
 * A minimal wallet for the test-mint suites, built only from the project's protocol core: requests encoded
 * with our schemas, responses decoded with them, outputs from `createOutputs`, proofs from
 * `unblindSignatures({ requireDleq: true })`.
 */
import { expect } from "vitest"
import { createOutputs, type PreparedOutput, unblindSignatures } from "../../src/crypto/bdhke.js"
import type { Amount, BlindSignature, Keyset, Proof } from "../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../src/protocol/decode.js"
import { parseJson } from "../../src/protocol/json.js"
import { keysetFromWire } from "../../src/protocol/keysets.js"
import { KeysResponseSchema } from "../../src/protocol/schemas/keys.js"
import {
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  MintRequestSchema,
  MintResponseSchema,
} from "../../src/protocol/schemas/mint.js"
import { SwapRequestSchema } from "../../src/protocol/schemas/swap.js"
import { splitAmount } from "../../src/protocol/split.js"
import type { TestMint } from "../support/mint/index.js"

/** POSTs `body` through the mint's `fetch`. */
export const post = (mint: TestMint, path: string, body: string, init: RequestInit = {}): Promise<Response> =>
  mint.fetch(`${mint.baseUrl}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    ...init,
  })

/** GETs `path` through the mint's `fetch`. */
export const get = (mint: TestMint, path: string): Promise<Response> => mint.fetch(`${mint.baseUrl}${path}`)

/** Reads a 200 answer with `schema`, failing the test on any other status. */
export const ok = async <T, E>(
  res: Response,
  schema: Parameters<typeof decodeMintResponse<T, E>>[0],
): Promise<T> => {
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return decodeMintResponse(schema, text)
}

/** The Cashu error code of an error answer (asserting HTTP 400 and a `detail`). */
export const errorCode = async (res: Response): Promise<number> => {
  expect(res.status).toBe(400)
  const body = parseJson(await res.text()) as { code: number; detail: string }
  expect(typeof body.detail).toBe("string")
  return body.code
}

/** The active keyset of `unit` as a wallet sees it (id verified against the keys). */
export const activeKeyset = async (mint: TestMint, unit = "sat"): Promise<Keyset> => {
  const res = await ok(await get(mint, "/v1/keys"), KeysResponseSchema)
  const wire = res.keysets.find((k) => k.unit === unit)
  if (wire === undefined) throw new Error("no active keyset")
  return keysetFromWire(wire)
}

/** Outputs for `amounts` at `keyset`. */
export const outputsFor = (keyset: Keyset, amounts: ReadonlyArray<Amount>, secrets?: ReadonlyArray<string>) =>
  createOutputs(
    amounts.map((amount, i) => ({ amount, id: keyset.id, ...(secrets?.[i] ? { secret: secrets[i] } : {}) })),
  )

/** Proofs from signatures answering `outputs`, with DLEQ required. */
export const unblind = (
  outputs: ReadonlyArray<PreparedOutput>,
  sigs: ReadonlyArray<BlindSignature>,
  keyset: Keyset,
) => unblindSignatures(outputs, sigs, keyset, { requireDleq: true })

/** Mints `amount` through a quote; returns the proofs. */
export const mintProofs = async (mint: TestMint, amount: Amount, unit = "sat"): Promise<Proof[]> => {
  const keyset = await activeKeyset(mint, unit)
  const quote = await ok(
    await post(
      mint,
      "/v1/mint/quote/bolt11",
      encodeMintRequest(MintQuoteBolt11RequestSchema, { amount, unit }),
    ),
    MintQuoteBolt11ResponseSchema,
  )
  const outputs = outputsFor(keyset, splitAmount(amount, keyset.keys))
  const res = await ok(
    await post(
      mint,
      "/v1/mint/bolt11",
      encodeMintRequest(MintRequestSchema, { quote: quote.quote, outputs }),
    ),
    MintResponseSchema,
  )
  return unblind(outputs, res.signatures, keyset)
}

/** The body of a swap of `inputs` into `outputs`. */
export const swapBody = (inputs: ReadonlyArray<Proof>, outputs: ReadonlyArray<PreparedOutput>): string =>
  encodeMintRequest(SwapRequestSchema, { inputs, outputs })

/** Σ amounts. */
export const total = (items: ReadonlyArray<{ readonly amount: Amount }>): Amount =>
  items.reduce((s, p) => s + p.amount, 0n)
