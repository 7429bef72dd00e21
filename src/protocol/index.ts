/**
 * `corecashu/protocol` — the Cashu wire, pure and I/O-free: Effect `Schema`s for every mint request and
 * response (NUT-01…09, 12, 17, 19, 20, 23, 29), keyset ids and the keyset registry, NUT-02 fees, amount
 * splitting, coin selection, the mint error table (definitive vs ambiguous failures), tokens (v3 `cashuA`,
 * v4 `cashuB`, raw `crawB`), payment requests (NUT-18 `creqA`, NUT-26 `creqb`), and the bounded JSON/CBOR
 * decoders every untrusted input goes through.
 *
 * @module
 */

export * from "../model/models.js"
export * from "./amount.js"
export * from "./base64.js"
export * from "./cbor.js"
export * from "./coin-selection.js"
export * from "./decode.js"
export * from "./fees.js"
export * from "./json.js"
export * from "./keyset-id.js"
export * from "./keysets.js"
export * from "./limits.js"
export * from "./mint-errors.js"
export * from "./nip19.js"
export * from "./payment-request.js"
export * from "./payment-request-codec.js"
export * from "./payment-request-creqa.js"
export * from "./payment-request-creqb.js"
export * from "./payment-request-payload.js"
export * from "./schemas/index.js"
export * from "./split.js"
export * from "./token.js"
