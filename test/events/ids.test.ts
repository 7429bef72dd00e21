import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import {
  ENGINE_STREAM,
  eventId,
  newOperationId,
  operationEventId,
  walletEventId,
  walletIdOfStream,
  walletStream,
} from "../../src/events/ids.js"

describe("stream ids", () => {
  it("names one stream per wallet and recognises it", () => {
    expect(walletStream("w1")).toBe("wallet/w1")
    expect(walletIdOfStream(walletStream("w1"))).toBe("w1")
    expect(walletIdOfStream(ENGINE_STREAM)).toBeUndefined()
    expect(walletIdOfStream("wallet/")).toBeUndefined()
  })
})

describe("event ids", () => {
  test.prop([
    fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
    fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
  ])("map distinct part lists to distinct ids", (a, b) => {
    if (JSON.stringify(a) === JSON.stringify(b)) expect(eventId(...a)).toBe(eventId(...b))
    else expect(eventId(...a)).not.toBe(eventId(...b))
  })

  it("are deterministic per operation step, index and attempt", () => {
    expect(operationEventId("op1", "prepared")).toBe("op:op1:prepared:0")
    expect(operationEventId("op1", "prepared", 2)).toBe("op:op1:prepared:2")
    expect(operationEventId("op1", "requested", 0, 3)).toBe("op:op1:requested:3:0")
    expect(operationEventId("op1", "requested", 0, 3)).toBe(operationEventId("op1", "requested", 0, 3))
    expect(operationEventId("op1", "requested", 3)).not.toBe(operationEventId("op1", "requested", 0, 3))
    expect(walletEventId("w1", "mint", "https://m.example")).toBe("wallet:w1:mint:https%3A//m.example")
    expect(walletEventId("w1", "created")).not.toBe(operationEventId("w1", "started"))
  })
})

describe("newOperationId", () => {
  it("is 32 hex chars, sorts by creation time and does not repeat", () => {
    const ids = [newOperationId(1_000), newOperationId(2_000), newOperationId(1_700_000_000_000)]
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect([...ids].sort()).toEqual(ids)
    const many = new Set(Array.from({ length: 1000 }, () => newOperationId(5)))
    expect(many.size).toBe(1000)
  })
})
