import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../../src/protocol/decode.js"
import { parseJson } from "../../../src/protocol/json.js"
import { SwapRequestSchema, SwapResponseSchema } from "../../../src/protocol/schemas/swap.js"

// NUT-03 request example (first entries of each array).
const REQUEST = `{
  "inputs": [
    {"amount": 2, "id": "009a1f293253e41e", "secret": "407915bc212be61a77e3e6d2aeb4c727980bda51cd06a6afc29e2861768a7837",
     "C": "02bc9097997d81afb2cc7346b5e4345a9346bd2a506eb7958598a72f0cf85163ea"}
  ],
  "outputs": [
    {"amount": 2, "id": "009a1f293253e41e", "B_": "02634a2c2b34bec9e8a4aba4361f6bf202d7fa2365379b0840afe249a7a9d71239"}
  ]
}`

// Response as nutshell sends it: signatures with a NUT-12 dleq, one with "dleq": null, plus an unknown field.
const RESPONSE = `{
  "signatures": [
    {"id": "009a1f293253e41e", "amount": 2, "C_": "0224f1c4c564230ad3d96c5033efdc425582397a5a7691d600202732edc6d4b1ec",
     "dleq": {"e": "9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73d9", "s": "9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73da"}},
    {"id": "009a1f293253e41e", "amount": 8, "C_": "0277D1DE806ED177007E5B94A8139343B6382E472C752A74E99949D511F7194F6C", "dleq": null}
  ],
  "server_time": 1725304480
}`

describe("swap", () => {
  it("decodes the NUT-03 request example and re-encodes it to the same JSON value", () => {
    const req = decodeMintResponse(SwapRequestSchema, REQUEST)
    expect(req.inputs[0]!.amount).toBe(2n)
    expect(parseJson(encodeMintRequest(SwapRequestSchema, req))).toEqual(parseJson(REQUEST))
  })

  it("decodes signatures with and without DLEQ, lowercasing points and dropping unknown fields", () => {
    const r = decodeMintResponse(SwapResponseSchema, RESPONSE)
    expect(Object.keys(r)).toEqual(["signatures"])
    expect(r.signatures[0]!.dleq?.e).toBe("9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73d9")
    expect("dleq" in r.signatures[1]!).toBe(false)
    expect(r.signatures[1]!.C_).toBe("0277d1de806ed177007e5b94a8139343b6382e472c752a74e99949d511f7194f6c")
  })

  it.each([
    ['{"signatures":[{"id":"009a1f293253e41e","amount":2,"C_":"04bc"}]}', "signatures.0.C_"],
    ['{"signatures":[{"id":"009a1f293253e41e","amount":2}]}', "signatures.0.C_"],
    ['{"signatures":[{"id":"009a1f293253e41e","amount":"2","C_":"x"}]}', "signatures.0.amount"],
    ['{"signatures":{}}', "signatures"],
  ])("rejects %s", (text, path) => {
    try {
      decodeMintResponse(SwapResponseSchema, text)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError)
      expect((e as DecodeError).path).toBe(path)
    }
  })
})
