import { describe, expect, it } from "vitest"
import { decodeMintResponse, decodeMintValue, encodeMintRequest } from "../../../src/protocol/decode.js"
import { parseJson } from "../../../src/protocol/json.js"
import {
  notificationPayloadSchema,
  WsIncomingMessageSchema,
  WsRequestSchema,
  WsSubscribeRequestSchema,
  WsUnsubscribeRequestSchema,
} from "../../../src/protocol/schemas/ws.js"

// NUT-17 examples.
const SUBSCRIBE = `{
  "jsonrpc": "2.0",
  "id": 0,
  "method": "subscribe",
  "params": {
    "kind": "proof_state",
    "filters": ["02e208f9a78cd523444aadf854a4e91281d20f67a923d345239c37f14e137c7c3d"],
    "subId": "019e6d5a-2347-7000-8afa-051ae571f334"
  }
}`
const OK =
  '{"jsonrpc": "2.0", "result": {"status": "OK", "subId": "019e6d5a-2347-7000-8afa-051ae571f334"}, "id": 0}'
const NOTIFY_FIRST = `{"jsonrpc": "2.0", "method": "subscribe", "params": {"subId": "019e6d5a-2347-7000-8afa-051ae571f334", "payload": {"Y": "02e208f9a78cd523444aadf854a4e91281d20f67a923d345239c37f14e137c7c3d", "state": "UNSPENT", "witness": null}}}`
const NOTIFY_LATER = `{"jsonrpc": "2.0", "method": "subscribe", "params": {"subId": "019e6d5a-2347-7000-8afa-051ae571f334", "payload": {"Y": "02e208f9a78cd523444aadf854a4e91281d20f67a923d345239c37f14e137c7c3d", "state": "SPENT"}}}`
const ERROR =
  '{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Human readable error message"}, "id": "1"}'
const UNSUBSCRIBE =
  '{"jsonrpc": "2.0", "id": 1, "method": "unsubscribe", "params": { "subId": "019e6d5a-2347-7000-8afa-051ae571f334" }}'

describe("NUT-17 websocket messages", () => {
  it("round-trips the subscribe and unsubscribe requests", () => {
    const sub = decodeMintResponse(WsSubscribeRequestSchema, SUBSCRIBE)
    expect(sub.params.kind).toBe("proof_state")
    expect(parseJson(encodeMintRequest(WsSubscribeRequestSchema, sub))).toEqual(parseJson(SUBSCRIBE))
    const unsub = decodeMintResponse(WsRequestSchema, UNSUBSCRIBE)
    expect(unsub.method).toBe("unsubscribe")
    expect(
      parseJson(
        encodeMintRequest(
          WsUnsubscribeRequestSchema,
          decodeMintResponse(WsUnsubscribeRequestSchema, UNSUBSCRIBE),
        ),
      ),
    ).toEqual(parseJson(UNSUBSCRIBE))
  })

  it("tells results, errors and notifications apart", () => {
    const ok = decodeMintResponse(WsIncomingMessageSchema, OK)
    expect("result" in ok && ok.result.status).toBe("OK")
    const err = decodeMintResponse(WsIncomingMessageSchema, ERROR)
    expect("error" in err && err.error.code).toBe(-32601)
    expect("error" in err && err.id).toBe("1")
    const n = decodeMintResponse(WsIncomingMessageSchema, NOTIFY_FIRST)
    expect("params" in n && n.params.subId).toBe("019e6d5a-2347-7000-8afa-051ae571f334")
  })

  it("decodes payloads by subscription kind (witness may be absent)", () => {
    for (const text of [NOTIFY_FIRST, NOTIFY_LATER]) {
      const n = decodeMintResponse(WsIncomingMessageSchema, text)
      if (!("params" in n) || n.method !== "subscribe") throw new Error("not a notification")
      const state = decodeMintValue(notificationPayloadSchema("proof_state"), n.params.payload)
      expect(["UNSPENT", "SPENT"]).toContain(state.state)
    }
    const quote = decodeMintValue(notificationPayloadSchema("bolt11_mint_quote"), {
      quote: "q",
      request: "lnbc...",
      state: "PAID",
      amount: 5,
      unit: "sat",
      expiry: null,
    })
    expect(quote.amount).toBe(5n)
    expect(notificationPayloadSchema("bolt12_mint_quote")).toBeUndefined()
  })

  it("rejects a wrong jsonrpc version or an unknown kind", () => {
    expect(() => decodeMintResponse(WsIncomingMessageSchema, OK.replace('"2.0"', '"1.0"'))).toThrow()
    expect(() =>
      decodeMintResponse(WsSubscribeRequestSchema, SUBSCRIBE.replace("proof_state", "everything")),
    ).toThrow()
  })
})
