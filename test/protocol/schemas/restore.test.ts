import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse } from "../../../src/protocol/decode.js"
import { RestoreRequestSchema, RestoreResponseSchema } from "../../../src/protocol/schemas/restore.js"

const OUT =
  '{"amount":1,"id":"009a1f293253e41e","B_":"03327fc4fa333909b70f08759e217ce5c94e6bf1fc2382562f3c560c5580fa69f4"}'
const SIG =
  '{"amount":1,"id":"009a1f293253e41e","C_":"0224f1c4c564230ad3d96c5033efdc425582397a5a7691d600202732edc6d4b1ec","dleq":null}'

describe("restore (NUT-09)", () => {
  it("decodes paired outputs and signatures, and an empty answer", () => {
    const r = decodeMintResponse(
      RestoreResponseSchema,
      `{"outputs":[${OUT}],"signatures":[${SIG}],"promises":[${SIG}]}`,
    )
    expect(r.outputs).toHaveLength(1)
    expect(r.signatures[0]!.amount).toBe(1n)
    expect("promises" in r).toBe(false)
    expect(decodeMintResponse(RestoreResponseSchema, '{"outputs":[],"signatures":[]}').outputs).toEqual([])
    expect(decodeMintResponse(RestoreRequestSchema, `{"outputs":[${OUT}]}`).outputs).toHaveLength(1)
  })

  it("rejects arrays of different lengths", () => {
    try {
      decodeMintResponse(RestoreResponseSchema, `{"outputs":[${OUT},${OUT}],"signatures":[${SIG}]}`)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError)
      expect((e as DecodeError).path).toBe("signatures")
    }
  })
})
