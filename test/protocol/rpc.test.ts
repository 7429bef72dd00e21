/**
 * The routed-call wire format (`src/protocol/rpc.ts`): values round-trip exactly (bigints, undefined, `$`
 * keys), every error class comes back as an instance of itself with its fields, and untrusted text fails
 * only with a `DecodeError` (version, size, shape, unknown tag, bare big integers).
 */
import { describe, expect, it } from "vitest"
import * as model from "../../src/model/index.js"
import {
  CORECASHU_ERROR_TAGS,
  DecodeError,
  InsufficientFunds,
  isCorecashuError,
  OperationInDoubt,
  WalletNotOwned,
} from "../../src/model/index.js"
import {
  decodeRpcReply,
  decodeRpcRequest,
  encodeRpcReply,
  encodeRpcRequest,
  RPC_MAX_CHARS,
} from "../../src/protocol/rpc.js"

const decodeFails = (f: () => unknown, reason?: string) => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    if (reason !== undefined) expect((e as DecodeError).reason).toBe(reason)
    return
  }
  throw new Error("expected a DecodeError")
}

describe("rpc wire format", () => {
  it("a request round-trips: bigints, undefined, nested options, $ keys", () => {
    const args = [
      { mintUrl: "http://m", amount: 2n ** 64n - 1n, lock: { pubkey: "02ab", $x: 1 } },
      undefined,
      -3n,
    ]
    const text = encodeRpcRequest({ wallet: "w.1", method: "send", args })
    expect(text).toContain('"$bigint":"18446744073709551615"')
    expect(decodeRpcRequest(text)).toStrictEqual({ wallet: "w.1", method: "send", args })
  })

  it("a result round-trips with bigints as bigints and undefined fields kept", () => {
    const value = {
      operationId: "op",
      amount: 5n,
      feeReserve: 0n,
      unit: "sat",
      expiry: undefined,
      list: [1, "a", null, true],
    }
    const back = decodeRpcReply(encodeRpcReply({ ok: true, value }))
    expect(back).toStrictEqual({ ok: true, value })
  })

  it("every error class comes back as an instance of itself, fields and message included", () => {
    const e = new OperationInDoubt({
      operationId: "op1",
      kind: "send",
      reason: "ambiguous",
      code: undefined,
      message: "in doubt",
    })
    const r = decodeRpcReply(encodeRpcReply({ ok: false, error: e }))
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error).toBeInstanceOf(OperationInDoubt)
    expect(isCorecashuError(r.error)).toBe(true)
    expect(r.error).toStrictEqual(e)
    expect(r.error.message).toBe("in doubt")
    const f = new InsufficientFunds({
      mintUrl: "m",
      unit: "sat",
      needed: 10n,
      available: 3n,
      message: "short",
    })
    const g = decodeRpcReply(encodeRpcReply({ ok: false, error: f }))
    expect(g).toStrictEqual({ ok: false, error: f })
    if (!g.ok) expect((g.error as InsufficientFunds).needed).toBe(10n)
    // Every tag the guard knows has its class on the wire.
    for (const tag of CORECASHU_ERROR_TAGS) {
      const Class = (model as unknown as Record<string, new (f: object) => Error & { _tag: string }>)[tag]!
      const back = decodeRpcReply(encodeRpcReply({ ok: false, error: new Class({ message: tag }) as never }))
      expect(back.ok).toBe(false)
      if (!back.ok) {
        expect(back.error).toBeInstanceOf(Class)
        expect(back.error._tag).toBe(tag)
      }
    }
  })

  it("untrusted replies fail with DecodeError", () => {
    decodeFails(() => decodeRpcReply("not json"), "json")
    decodeFails(() => decodeRpcReply("[]"), "schema")
    decodeFails(() => decodeRpcReply('{"v":2,"ok":true,"value":1}'), "version")
    decodeFails(() => decodeRpcReply('{"ok":true,"value":1}'), "version")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":"yes","value":1}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true,"value":1,"extra":2}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true,"value":12345678901234567890}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true,"value":{"$bigint":"1.5"}}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true,"value":{"$evil":1}}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":true,"value":1,"value":2}'), "duplicate")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":false,"error":{"_tag":"Nope","message":"x"}}'), "schema")
    decodeFails(() => decodeRpcReply('{"v":1,"ok":false,"error":{"_tag":"WalletNotOwned"}}'), "schema")
    decodeFails(
      () =>
        decodeRpcReply('{"v":1,"ok":false,"error":{"_tag":"WalletNotOwned","message":"m","walletId":[1]}}'),
      "schema",
    )
    decodeFails(() => decodeRpcReply(`{"v":1,"ok":true,"value":"${"a".repeat(RPC_MAX_CHARS)}"}`), "too-large")
    const ok = decodeRpcReply(
      '{"v":1,"ok":false,"error":{"_tag":"WalletNotOwned","message":"m","walletId":"w"}}',
    )
    expect(ok.ok === false && ok.error instanceof WalletNotOwned).toBe(true)
  })

  it("untrusted requests fail with DecodeError; values that cannot travel are refused", () => {
    decodeFails(() => decodeRpcRequest('{"v":1,"wallet":"w","method":"mnemonic","args":[]}'), "schema")
    decodeFails(() => decodeRpcRequest('{"v":1,"wallet":"w","method":"toString","args":[]}'), "schema")
    decodeFails(() => decodeRpcRequest('{"v":1,"wallet":"","method":"send","args":[]}'), "schema")
    decodeFails(() => decodeRpcRequest('{"v":1,"wallet":"w","method":"send","args":[1,2,3,4,5]}'), "schema")
    decodeFails(() => encodeRpcRequest({ wallet: "w", method: "send", args: [new Map()] }), "schema")
    decodeFails(() => encodeRpcRequest({ wallet: "w", method: "send", args: [() => 1] }), "schema")
    decodeFails(() => encodeRpcRequest({ wallet: "w", method: "send", args: [Number.NaN] }), "schema")
    decodeFails(
      () => encodeRpcRequest({ wallet: "w", method: "receive", args: ["x".repeat(RPC_MAX_CHARS)] }),
      "too-large",
    )
  })
})
