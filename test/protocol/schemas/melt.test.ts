import { describe, expect, it } from "vitest"
import { decodeMintResponse, encodeMintRequest } from "../../../src/protocol/decode.js"
import { parseJson } from "../../../src/protocol/json.js"
import {
  MeltQuoteBolt11RequestSchema,
  MeltQuoteBolt11ResponseSchema,
  MeltQuoteResponseSchema,
  MeltRequestSchema,
} from "../../../src/protocol/schemas/melt.js"
import { decodeErrorPath } from "../../support/errors.js"

const path = decodeErrorPath

// NUT-23 melt quote response example.
const NUT23_QUOTE = `{
  "quote": "019e6d5a-2347-7000-8449-370fefb42fed",
  "request": "lnbc100n1p3kdrv5sp5lpdxzghe5j67q...",
  "amount": 10,
  "unit": "sat",
  "fee_reserve": 2,
  "state": "UNPAID",
  "expiry": 1701704757
}`

// A nutshell melt response after payment: method field, null expiry, NUT-08 change (amounts set by the mint).
const NUTSHELL_PAID = `{"quote":"019e6d5a-2347-7000-813e-a11ea6e419e7","amount":100000,"unit":"sat","method":"bolt11","request":"lnbc1m1p...","fee_reserve":1000,"state":"PAID","expiry":null,"payment_preimage":"c5a1ae1f639e1f4a3872e81500fd028bece7bedc1152f740cba5c3417b748c1b","change":[{"id":"009a1f293253e41e","amount":512,"C_":"03c668f551855ddc792e22ea61d32ddfa6a45b1eb659ce66e915bf5127a8657be0","dleq":null},{"id":"009a1f293253e41e","amount":256,"C_":"0224f1c4c564230ad3d96c5033efdc425582397a5a7691d600202732edc6d4b1ec"}]}`

// NUT-08 melt request example (trailing commas of the spec removed).
const NUT08_REQUEST = `{
  "quote": "019e6d5a-2347-7000-813e-a11ea6e419e7",
  "inputs": [
    {"amount": 4, "id": "009a1f293253e41e", "secret": "429700b812a58436be2629af8731a31a37fce54dbf8cbbe90b3f8553179d23f5", "C": "03b01869f528337e161a6768b480fcf9f75fd248b649c382f5e352489fd84fd011"},
    {"amount": 8, "id": "009a1f293253e41e", "secret": "4f3155acef6481108fcf354f6d06e504ce8b441e617d30c88924991298cdbcad", "C": "0278ab1c1af35487a5ea903b693e96447b2034d0fd6bac529e753097743bf73ca9"}
  ],
  "outputs": [
    {"amount": 1, "id": "009a1f293253e41e", "B_": "03327fc4fa333909b70f08759e217ce5c94e6bf1fc2382562f3c560c5580fa69f4"}
  ]
}`

describe("melt quotes (NUT-05/23)", () => {
  it("decodes the NUT-23 example", () => {
    expect(decodeMintResponse(MeltQuoteBolt11ResponseSchema, NUT23_QUOTE)).toEqual({
      quote: "019e6d5a-2347-7000-8449-370fefb42fed",
      request: "lnbc100n1p3kdrv5sp5lpdxzghe5j67q...",
      amount: 10n,
      unit: "sat",
      fee_reserve: 2n,
      state: "UNPAID",
      expiry: 1701704757,
    })
  })

  it("decodes a paid nutshell response with NUT-08 change in order", () => {
    const r = decodeMintResponse(MeltQuoteBolt11ResponseSchema, NUTSHELL_PAID)
    expect(r.state).toBe("PAID")
    expect(r.expiry).toBeUndefined()
    expect(r.change?.map((c) => c.amount)).toEqual([512n, 256n])
    expect("method" in r).toBe(false)
  })

  it("accepts CDK's FAILED/UNKNOWN states and rejects others", () => {
    for (const s of ["PENDING", "PAID", "FAILED", "UNKNOWN"]) {
      expect(decodeMintResponse(MeltQuoteBolt11ResponseSchema, NUT23_QUOTE.replace("UNPAID", s)).state).toBe(
        s,
      )
    }
    expect(
      path(() => decodeMintResponse(MeltQuoteBolt11ResponseSchema, NUT23_QUOTE.replace("UNPAID", "ISSUED"))),
    ).toBe("state")
  })

  it("requires fee_reserve for bolt11 but not in the generic NUT-05 record", () => {
    const noReserve = NUT23_QUOTE.replace('"fee_reserve": 2,', "")
    expect(path(() => decodeMintResponse(MeltQuoteBolt11ResponseSchema, noReserve))).toBe("fee_reserve")
    expect(decodeMintResponse(MeltQuoteResponseSchema, noReserve).amount).toBe(10n)
  })

  it("encodes quote requests with the amountless and mpp options", () => {
    const text = encodeMintRequest(MeltQuoteBolt11RequestSchema, {
      request: "lnbc1...",
      unit: "sat",
      options: { amountless: { amount_msat: 10_000n }, mpp: { amount: 5000n } },
    })
    expect(parseJson(text)).toEqual({
      request: "lnbc1...",
      unit: "sat",
      options: { amountless: { amount_msat: 10000 }, mpp: { amount: 5000 } },
    })
  })
})

describe("melt (NUT-05/08)", () => {
  it("round-trips the NUT-08 request", () => {
    const req = decodeMintResponse(MeltRequestSchema, NUT08_REQUEST)
    expect(req.outputs).toHaveLength(1)
    expect(parseJson(encodeMintRequest(MeltRequestSchema, req))).toEqual(parseJson(NUT08_REQUEST))
  })

  it("accepts blank outputs of amount 0 and prefer_async", () => {
    const req = decodeMintResponse(MeltRequestSchema, NUT08_REQUEST.replace('"amount": 1,', '"amount": 0,'))
    const text = encodeMintRequest(MeltRequestSchema, { ...req, prefer_async: true })
    expect((parseJson(text) as { prefer_async: boolean }).prefer_async).toBe(true)
  })
})
