import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../../src/protocol/decode.js"
import { parseJson } from "../../../src/protocol/json.js"
import {
  BatchMintRequestSchema,
  MintQuoteBolt11CheckResponseSchema,
  MintQuoteBolt11RequestSchema,
  MintQuoteBolt11ResponseSchema,
  MintRequestSchema,
  MintResponseSchema,
} from "../../../src/protocol/schemas/mint.js"
import { decodeErrorPath } from "../../support/errors.js"

const path = decodeErrorPath

// NUT-23 mint quote response example.
const NUT23_QUOTE = `{
  "quote": "019e6d5a-2347-7000-8322-05d51d498303",
  "request": "lnbc100n1pj4apw9...",
  "amount": 10,
  "unit": "sat",
  "state": "UNPAID",
  "expiry": 1701704757
}`

// A nutshell 0.20 quote response: extra fields, explicit nulls.
const NUTSHELL_QUOTE = `{"quote":"019e6d5a-2347-7000-8322-05d51d498303","request":"lnbc100n1pj4apw9...","amount":10,"unit":"sat","method":"bolt11","amount_paid":10,"amount_issued":0,"updated_at":1701704700,"state":"PAID","expiry":null,"pubkey":null}`

// NUT-20 response example: no amount/unit, a pubkey.
const NUT20_QUOTE = `{
  "quote": "9d745270-1405-46de-b5c5-e2762b4f5e00",
  "request": "lnbc100n1pj4apw9...",
  "state": "UNPAID",
  "expiry": 1701704757,
  "pubkey": "03d56ce4e446a85bbdaa547b4ec2b073d40ff802831352b8272b7dd7a4de5a7cac"
}`

// NUT-20 mint request and response examples.
const NUT20_MINT_REQUEST = `{
  "quote": "9d745270-1405-46de-b5c5-e2762b4f5e00",
  "outputs": [
    {"amount": 8, "id": "009a1f293253e41e", "B_": "035015e6d7ade60ba8426cefaf1832bbd27257636e44a76b922d78e79b47cb689d"},
    {"amount": 2, "id": "009a1f293253e41e", "B_": "0288d7649652d0a83fc9c966c969fb217f15904431e61a44b14999fabc1b5d9ac6"}
  ],
  "signature": "d9be080b33179387e504bb6991ea41ae0dd715e28b01ce9f63d57198a095bccc776874914288e6989e97ac9d255ac667c205fa8d90a211184b417b4ffdd24092"
}`
const NUT20_MINT_RESPONSE = `{
  "signatures": [
    {"id": "009a1f293253e41e", "amount": 2, "C_": "0224f1c4c564230ad3d96c5033efdc425582397a5a7691d600202732edc6d4b1ec"},
    {"id": "009a1f293253e41e", "amount": 8, "C_": "0277d1de806ed177007e5b94a8139343b6382e472c752a74e99949d511f7194f6c"}
  ]
}`

// NUT-29 check response example and the batch request example.
const NUT29_CHECK = `[
  {"quote": "019e6d5a-2347-7000-8037-b42dae20f1fe", "request": "lnbc...", "state": "PAID", "unit": "sat", "amount": 100, "expiry": 1234567890},
  {"quote": "019e6d5a-2347-7000-868a-08e59a1c6716", "request": "lnbc...", "state": "UNPAID", "unit": "sat", "amount": 50, "expiry": 1234567890}
]`
const NUT29_BATCH = `{
  "quotes": ["019e6d5a-2347-7000-8037-b42dae20f1fe", "019e6d5a-2347-7000-868a-08e59a1c6716"],
  "quote_amounts": [100, 50],
  "signatures": [
    "d9be080b33179387e504bb6991ea41ae0dd715e28b01ce9f63d57198a095bccc776874914288e6989e97ac9d255ac667c205fa8d90a211184b417b4ffdd24092",
    null
  ],
  "outputs": [
    {"amount": 128, "id": "009a1f293253e41e", "B_": "035015e6d7ade60ba8426cefaf1832bbd27257636e44a76b922d78e79b47cb689d"},
    {"amount": 16, "id": "009a1f293253e41e", "B_": "0288d7649652d0a83fc9c966c969fb217f15904431e61a44b14999fabc1b5d9ac6"},
    {"amount": 4, "id": "009a1f293253e41e", "B_": "03b85be0c0a9f51056375b632a2f2c8149831b9827fad677be9807455e7d84b584"},
    {"amount": 2, "id": "009a1f293253e41e", "B_": "0276bbcf69e1b1238e6d39fc14c84e7cdfd519fee07f3369d2b2b23045390e2efc"}
  ]
}`

describe("mint quotes (NUT-04/20/23)", () => {
  it("decodes the NUT-23 example", () => {
    expect(decodeMintResponse(MintQuoteBolt11ResponseSchema, NUT23_QUOTE)).toEqual({
      quote: "019e6d5a-2347-7000-8322-05d51d498303",
      request: "lnbc100n1pj4apw9...",
      amount: 10n,
      unit: "sat",
      state: "UNPAID",
      expiry: 1701704757,
    })
  })

  it("decodes a nutshell response: extras dropped, nulls read as absent", () => {
    const q = decodeMintResponse(MintQuoteBolt11ResponseSchema, NUTSHELL_QUOTE)
    expect(q).toEqual({
      quote: "019e6d5a-2347-7000-8322-05d51d498303",
      request: "lnbc100n1pj4apw9...",
      amount: 10n,
      unit: "sat",
      state: "PAID",
      amount_paid: 10n,
      amount_issued: 0n,
    })
  })

  it("decodes the NUT-20 example (no amount/unit, with pubkey)", () => {
    const q = decodeMintResponse(MintQuoteBolt11ResponseSchema, NUT20_QUOTE)
    expect(q.pubkey).toBe("03d56ce4e446a85bbdaa547b4ec2b073d40ff802831352b8272b7dd7a4de5a7cac")
    expect(q.amount).toBeUndefined()
  })

  it("reads nutshell's empty pubkey of an unlocked quote as absent, and still rejects a malformed one", () => {
    const q = decodeMintResponse(
      MintQuoteBolt11ResponseSchema,
      NUTSHELL_QUOTE.replace('"pubkey":null', '"pubkey":""'),
    )
    expect(q.pubkey).toBeUndefined()
    expect("pubkey" in q).toBe(false)
    expect(() =>
      decodeMintResponse(
        MintQuoteBolt11ResponseSchema,
        NUTSHELL_QUOTE.replace('"pubkey":null', '"pubkey":"02ab"'),
      ),
    ).toThrow(DecodeError)
  })

  it("rejects unknown states and fractional or huge expiries", () => {
    expect(
      path(() => decodeMintResponse(MintQuoteBolt11ResponseSchema, NUT23_QUOTE.replace("UNPAID", "EXPIRED"))),
    ).toBe("state")
    expect(
      path(() => decodeMintResponse(MintQuoteBolt11ResponseSchema, NUT23_QUOTE.replace("1701704757", "1.5"))),
    ).toBe("expiry")
    expect(
      path(() =>
        decodeMintResponse(
          MintQuoteBolt11ResponseSchema,
          NUT23_QUOTE.replace("1701704757", "99999999999999999999"),
        ),
      ),
    ).toBe("expiry")
  })

  it("encodes quote requests, refusing a zero amount", () => {
    const text = encodeMintRequest(MintQuoteBolt11RequestSchema, {
      amount: 2n ** 60n,
      unit: "sat",
      pubkey: "03d56ce4e446a85bbdaa547b4ec2b073d40ff802831352b8272b7dd7a4de5a7cac",
    })
    expect(text).toBe(
      `{"amount":${2n ** 60n},"unit":"sat","pubkey":"03d56ce4e446a85bbdaa547b4ec2b073d40ff802831352b8272b7dd7a4de5a7cac"}`,
    )
    expect(path(() => encodeMintRequest(MintQuoteBolt11RequestSchema, { amount: 0n, unit: "sat" }))).toBe(
      "amount",
    )
  })
})

describe("mint (NUT-04/20)", () => {
  it("round-trips the NUT-20 mint request and decodes its response", () => {
    const req = decodeMintResponse(MintRequestSchema, NUT20_MINT_REQUEST)
    expect(req.signature).toHaveLength(128)
    expect(parseJson(encodeMintRequest(MintRequestSchema, req))).toEqual(parseJson(NUT20_MINT_REQUEST))
    const res = decodeMintResponse(MintResponseSchema, NUT20_MINT_RESPONSE)
    expect(res.signatures.map((s) => s.amount)).toEqual([2n, 8n])
  })

  it("rejects a malformed NUT-20 signature", () => {
    expect(
      path(() => decodeMintResponse(MintRequestSchema, NUT20_MINT_REQUEST.replace('"d9be', '"zzbe'))),
    ).toBe("signature")
  })
})

describe("NUT-29 batch", () => {
  it("decodes the check response (a bare array in request order)", () => {
    const r = decodeMintResponse(MintQuoteBolt11CheckResponseSchema, NUT29_CHECK)
    expect(r.map((q) => [q.state, q.amount])).toEqual([
      ["PAID", 100n],
      ["UNPAID", 50n],
    ])
  })

  it("round-trips the batch request example, with a null signature entry", () => {
    const req = decodeMintResponse(BatchMintRequestSchema, NUT29_BATCH)
    expect(req.quote_amounts).toEqual([100n, 50n])
    expect(req.signatures?.[1]).toBeNull()
    expect(parseJson(encodeMintRequest(BatchMintRequestSchema, req))).toEqual(parseJson(NUT29_BATCH))
  })

  it("rejects the 29.md response example's plain-string signatures (a spec quirk) with a path", () => {
    const bad = '{"signatures":["0208657b2917f469f275226cc931e5389451f6eed515d586ad16fa7a700eed4fb6"]}'
    expect(path(() => decodeMintResponse(MintResponseSchema, bad))).toBe("signatures.0")
  })
})
