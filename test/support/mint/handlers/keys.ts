/**
 * NUT-01/02 handlers: `GET /v1/keys` (active keysets), `GET /v1/keys/{id}` (any keyset), `GET /v1/keysets`.
 *
 * @module
 */
import { encodeMintRequest } from "../../../../src/protocol/decode.js"
import { KeysetsResponseSchema, KeysResponseSchema } from "../../../../src/protocol/schemas/keys.js"
import { Code, refuse } from "../errors.js"
import type { MintKeyset } from "../keysets.js"
import type { MintContext } from "../state.js"

const wireKeys = (k: MintKeyset) => ({
  id: k.id,
  unit: k.unit,
  active: k.active,
  input_fee_ppk: k.inputFeePpk,
  keys: k.keys,
})

/** `GET /v1/keys`. */
export const getKeys = (ctx: MintContext): string =>
  encodeMintRequest(KeysResponseSchema, {
    keysets: ctx.keysets
      .all()
      .filter((k) => k.active)
      .map(wireKeys),
  })

/** `GET /v1/keys/{id}`. */
export const getKeysById = (ctx: MintContext, id: string): string => {
  const k = ctx.keysets.get(id)
  if (k === undefined) return refuse(Code.KeysetUnknown, "keyset is not known")
  return encodeMintRequest(KeysResponseSchema, { keysets: [wireKeys(k)] })
}

/** `GET /v1/keysets`. */
export const getKeysets = (ctx: MintContext): string =>
  encodeMintRequest(KeysetsResponseSchema, {
    keysets: ctx.keysets
      .all()
      .map((k) => ({ id: k.id, unit: k.unit, active: k.active, input_fee_ppk: k.inputFeePpk })),
  })
