import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../../src/protocol/decode.js"
import {
  CheckStateRequestSchema,
  CheckStateResponseSchema,
  matchProofStates,
} from "../../../src/protocol/schemas/checkstate.js"

const Y1 = "02599b9ea0a1ad4143706c2a5a4a568ce442dd4313e1cf1f7f0b58a317c1a355ee"
const Y2 = "02e208f9a78cd523444aadf854a4e91281d20f67a923d345239c37f14e137c7c3d"

// NUT-07 response example.
const NUT07 = `{
  "states": [
    {
      "Y": "02599b9ea0a1ad4143706c2a5a4a568ce442dd4313e1cf1f7f0b58a317c1a355ee",
      "state": "SPENT",
      "witness": "{\\"signatures\\": [\\"b2cf120a49cb1ac3cb32e1bf5ccb6425e0a8372affdc1d41912ca35c13908062f269c0caa53607d4e1ac4c8563246c4c8a869e6ee124ea826fd4746f3515dc1e\\"]}"
    }
  ]
}`

const response = (entries: Array<[string, string]>) =>
  decodeMintResponse(
    CheckStateResponseSchema,
    JSON.stringify({ states: entries.map(([Y, state]) => ({ Y, state, witness: null })) }),
  )

const failure = (f: () => unknown): DecodeError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error("expected a DecodeError")
}

describe("checkstate (NUT-07)", () => {
  it("decodes the NUT-07 example with its witness", () => {
    const r = decodeMintResponse(CheckStateResponseSchema, NUT07)
    expect(r.states[0]!.state).toBe("SPENT")
    expect(JSON.parse(r.states[0]!.witness!).signatures).toHaveLength(1)
    expect(encodeMintRequest(CheckStateRequestSchema, { Ys: [Y1] })).toBe(`{"Ys":["${Y1}"]}`)
  })

  it("rejects unknown states", () => {
    expect(failure(() => response([[Y1, "BURNT"]])).path).toBe("states.0.state")
  })

  it("matches states by Y, tolerating order and case", () => {
    const m = matchProofStates(
      [Y1.toUpperCase().replace("0X", "0x"), Y2],
      response([
        [Y2, "UNSPENT"],
        [Y1, "PENDING"],
      ]),
    )
    expect(m.get(Y1)!.state).toBe("PENDING")
    expect(m.get(Y2)!.state).toBe("UNSPENT")
  })

  it("fails on missing, unasked or repeated Ys — an empty answer is never 'all spent'", () => {
    expect(failure(() => matchProofStates([Y1, Y2], response([]))).path).toBe("states")
    expect(failure(() => matchProofStates([Y1, Y2], response([[Y1, "SPENT"]]))).path).toBe("states")
    expect(
      failure(() =>
        matchProofStates(
          [Y1],
          response([
            [Y1, "SPENT"],
            [Y2, "SPENT"],
          ]),
        ),
      ).path,
    ).toBe("states.1.Y")
    expect(
      failure(() =>
        matchProofStates(
          [Y1, Y2],
          response([
            [Y1, "SPENT"],
            [Y1, "SPENT"],
          ]),
        ),
      ).reason,
    ).toBe("duplicate")
  })
})
