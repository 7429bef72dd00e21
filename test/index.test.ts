import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as api from "../src/index.js"
import {
  DEFAULT_TOKEN_LIMITS,
  DecodeError,
  decodeToken,
  decodeTokenBytes,
  decodeTokenBytesEffect,
  decodeTokenEffect,
  encodeToken,
  encodeTokenBytes,
  encodeTokenEffect,
  isCorecashuError,
  KeysetError,
  MAX_AMOUNT,
  resolveShortKeysetIds,
  type Token,
} from "../src/index.js"
import { loadVector } from "./support/vectors.js"

const v4 = loadVector("00-tokens-v4.json")
const single: string = v4.serialization[0].serialized

describe("public entry point", () => {
  it("exports the token API, the errors, the guard and the model constants", () => {
    for (const name of [
      "decodeToken",
      "decodeTokenBytes",
      "decodeTokenEffect",
      "decodeTokenBytesEffect",
      "encodeToken",
      "encodeTokenBytes",
      "encodeTokenEffect",
      "resolveShortKeysetIds",
      "isCorecashuError",
      "DecodeError",
      "CryptoError",
      "VerificationError",
      "KeysetError",
      "AmountError",
    ])
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function")
    expect(MAX_AMOUNT).toBe((1n << 64n) - 1n)
    expect(DEFAULT_TOKEN_LIMITS.maxBytes).toBe(1024 * 1024)
  })

  it("decodes and re-encodes a NUT-00 vector through the public functions", () => {
    const token: Token = decodeToken(single)
    expect(token.entries[0]!.proofs[0]!.amount).toBe(1n)
    expect(encodeToken(token, { pad: true })).toBe(single)
    expect(decodeTokenBytes(encodeTokenBytes(token))).toEqual(token)
  })

  it("plain functions throw only tagged errors, even for nonsense arguments", () => {
    for (const input of ["", "cashuB", "cashuBAAAA", "cashuA!!", "x".repeat(2_000_000), 5, null, undefined]) {
      try {
        decodeToken(input as string)
        expect.unreachable()
      } catch (e) {
        expect(isCorecashuError(e)).toBe(true)
        expect(e).toBeInstanceOf(DecodeError)
      }
    }
    for (const token of [
      null,
      5,
      {},
      { entries: null },
      { entries: [{}] },
      { entries: [{ mint: "m", proofs: [null] }] },
    ]) {
      expect(() => encodeToken(token as unknown as Token)).toThrow(DecodeError)
      expect(() => encodeToken(token as unknown as Token, { version: 3 })).toThrow(DecodeError)
    }
  })

  it("the Effect twins succeed with the value and fail in the error channel", () => {
    const token = Effect.runSync(decodeTokenEffect(single))
    expect(token).toEqual(decodeToken(single))
    expect(Effect.runSync(encodeTokenEffect(token, { pad: true }))).toBe(single)
    expect(Effect.runSync(decodeTokenBytesEffect(encodeTokenBytes(token)))).toEqual(token)

    const exit = Effect.runSyncExit(decodeTokenEffect("cashuX"))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Effect.runSync(Effect.flip(decodeTokenEffect("cashuBAA=A")))
    expect(error).toBeInstanceOf(DecodeError)
    expect(error._tag === "DecodeError" && error.reason).toBe("base64")
    const bytesError = Effect.runSync(Effect.flip(decodeTokenBytesEffect(new Uint8Array(3))))
    expect(bytesError._tag).toBe("DecodeError")
  })

  it("short ids resolve through the public API and fail with KeysetError", () => {
    const full = "01" + "ab".repeat(32)
    const token: Token = {
      version: 4,
      entries: [
        {
          mint: "https://m",
          proofs: [{ amount: 1n, id: full.slice(0, 16), secret: "s", C: "02" + "11".repeat(32) }],
        },
      ],
      unit: "sat",
    }
    expect(resolveShortKeysetIds(token, [full]).entries[0]!.proofs[0]!.id).toBe(full)
    const error = Effect.runSync(Effect.flip(decodeTokenEffect(encodeToken(token), { keysetIds: [] })))
    expect(error).toBeInstanceOf(KeysetError)
  })
})
