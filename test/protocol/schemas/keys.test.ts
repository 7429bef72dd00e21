import { describe, expect, it } from "vitest"
import { DecodeError } from "../../../src/model/index.js"
import { decodeMintResponse, encodeMintRequest } from "../../../src/protocol/decode.js"
import {
  KeysetKeysSchema,
  KeysetsResponseSchema,
  KeysResponseSchema,
} from "../../../src/protocol/schemas/keys.js"
import { loadVector } from "../../support/vectors.js"

const big = (loadVector("01-keysets.json").valid[1] as { keys: Record<string, string> }).keys

const decodeError = (f: () => unknown): DecodeError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return e as DecodeError
  }
  throw new Error("expected a DecodeError")
}

// NUT-01 "Example response" (keys truncated in the spec; four real keys from 01.md) + a nutshell-style extra field.
const NUT01 = `{
  "keysets": [
    {
      "id": "009a1f293253e41e",
      "unit": "sat",
      "active": true,
      "input_fee_ppk": 100,
      "final_expiry": 1896187313,
      "keys": {
          "1": "02194603ffa36356f4a56b7df9371fc3192472351453ec7398b8da8117e7c3e104",
          "2": "03b0f36d6d47ce14df8a7be9137712c42bcdd960b19dd02f1d4a9703b1f31d7513",
          "4": "0366be6e026e42852498efb82014ca91e89da2e7a5bd3761bdad699fa2aec9fe09",
          "8": "0253de5237f189606f29d8a690ea719f74d65f617bb1cb6fbea34f2bc4f930016d"
      },
      "derivation_path": "m/0'/0'/0'"
    }
  ]
}`

// NUT-02 "Example response" of GET /v1/keysets.
const NUT02 = `{
  "keysets": [
    {"id": "015ba18a8adcd02e715a58358eb618da4a4b3791151a4bee5e968bb88406ccf76a", "unit": "sat", "active": true, "input_fee_ppk": 100, "final_expiry": 2059210353},
    {"id": "012fbb01a4e200c76df911eeba3b8fe1831202914b24664f4bccbd25852a6708f8", "unit": "sat", "active": false, "input_fee_ppk": 0, "final_expiry": null}
  ]
}`

describe("GET /v1/keys", () => {
  it("decodes the NUT-01 example into bigint-keyed maps and drops unknown fields", () => {
    const r = decodeMintResponse(KeysResponseSchema, NUT01)
    const ks = r.keysets[0]!
    expect(ks).toMatchObject({
      id: "009a1f293253e41e",
      unit: "sat",
      active: true,
      input_fee_ppk: 100n,
      final_expiry: 1896187313n,
    })
    expect([...ks.keys.keys()]).toEqual([1n, 2n, 4n, 8n])
    expect(ks.keys.get(8n)).toBe("0253de5237f189606f29d8a690ea719f74d65f617bb1cb6fbea34f2bc4f930016d")
    expect("derivation_path" in ks).toBe(false)
  })

  it("keeps amount keys up to 2^63 exact", () => {
    const r = decodeMintResponse(
      KeysResponseSchema,
      `{"keysets":[{"id":"000f01df73ea149a","unit":"sat","active":true,"keys":${JSON.stringify(big)}}]}`,
    )
    expect(r.keysets[0]!.keys.get(9223372036854775808n)).toBe(big["9223372036854775808"])
    expect(r.keysets[0]!.input_fee_ppk).toBeUndefined()
  })

  it("refuses non-canonical amount keys with their path", () => {
    const e = decodeError(() =>
      decodeMintResponse(KeysResponseSchema, `{"keysets":[{"id":"00aa","unit":"sat","keys":{"01":"02ab"}}]}`),
    )
    expect(e.path).toBe("keysets.0.keys.01")
  })

  it.each([
    ['{"keysets":[{"id":"00aa","unit":"sat","keys":{"1":"xyz"}}]}', "keysets.0.keys.1"],
    ['{"keysets":[{"id":"00aa","unit":"sat","keys":{"-1":"02"}}]}', "keysets.0.keys.-1"],
    ['{"keysets":[{"id":"00aa","unit":"sat","keys":[]}]}', "keysets.0.keys"],
    ['{"keysets":[{"id":"00aa","unit":"","keys":{}}]}', "keysets.0.unit"],
    ['{"keysets":[{"id":"00AA","unit":"sat","keys":{}}]}', "keysets.0.id"],
    ['{"keysets":[{"id":"00aa","unit":"sat","input_fee_ppk":1.5,"keys":{}}]}', "keysets.0.input_fee_ppk"],
  ])("rejects %s at %s", (text, path) => {
    expect(decodeError(() => decodeMintResponse(KeysResponseSchema, text)).path).toBe(path)
  })

  it("encodes key maps back with ascending decimal keys", () => {
    const keys = new Map([
      [2n ** 63n, "03ab"],
      [1n, "02cd"],
    ])
    expect(encodeMintRequest(KeysetKeysSchema, keys)).toBe('{"1":"02cd","9223372036854775808":"03ab"}')
  })
})

describe("GET /v1/keysets", () => {
  it("decodes the NUT-02 example, reading null final_expiry as absent", () => {
    const r = decodeMintResponse(KeysetsResponseSchema, NUT02)
    expect(r.keysets[0]).toMatchObject({ active: true, input_fee_ppk: 100n, final_expiry: 2059210353n })
    expect(r.keysets[1]).toEqual({
      id: "012fbb01a4e200c76df911eeba3b8fe1831202914b24664f4bccbd25852a6708f8",
      unit: "sat",
      active: false,
      input_fee_ppk: 0n,
    })
  })

  it("requires active", () => {
    expect(
      decodeError(() => decodeMintResponse(KeysetsResponseSchema, '{"keysets":[{"id":"00aa","unit":"sat"}]}'))
        .path,
    ).toBe("keysets.0.active")
  })
})
