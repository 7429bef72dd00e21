import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { EVENT_TYPES, type WalletEvent } from "../../src/events/catalogue.js"
import { currentSchemaVersion, decodeEvent, encodeEvent } from "../../src/events/codec.js"
import { SCHEMA_VERSIONS, UPCASTERS } from "../../src/events/upcast.js"
import { EventCodecError } from "../../src/model/index.js"
import { anyEventArbitrary } from "../support/event-arbitrary.js"

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

const codecError = (f: () => unknown): EventCodecError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(EventCodecError)
    return e as EventCodecError
  }
  throw new Error("expected an EventCodecError")
}

const SECRET = "a7f3c0ffee5ec7e7a7f3c0ffee5ec7e7a7f3c0ffee5ec7e7a7f3c0ffee5ec7e7"
const point = (c: string) => "02" + c.repeat(64)

const issued: WalletEvent = {
  _tag: "ProofsIssued",
  mintUrl: "https://mint.example.com",
  unit: "sat",
  operationId: "op-1",
  proofs: [
    {
      amount: 18446744073709551615n,
      id: "009a1f293253e41e",
      secret: SECRET,
      C: point("a"),
      Y: point("b"),
      dleq: { e: "1".repeat(64), s: "2".repeat(64), r: "3".repeat(64) },
    },
  ],
}

describe("encodeEvent / decodeEvent", () => {
  test.prop([anyEventArbitrary], { numRuns: 300 })("round-trip every catalogue event exactly", (event) => {
    const encoded = encodeEvent(event)
    expect(encoded.type).toBe(event._tag)
    expect(encoded.schemaVersion).toBe(SCHEMA_VERSIONS[event._tag])
    expect(decodeEvent(encoded.type, encoded.schemaVersion, encoded.bytes)).toEqual(event)
    // Deterministic bytes, whatever the key order of the value handed in.
    const shuffled = Object.fromEntries(Object.entries(event).reverse()) as WalletEvent
    expect(encodeEvent(shuffled).bytes).toEqual(encoded.bytes)
  })

  it("writes compact JSON without the tag, amounts exact", () => {
    const { bytes } = encodeEvent(issued)
    const json = JSON.parse(text(bytes))
    expect(json._tag).toBeUndefined()
    expect(Object.keys(json)).toEqual(["mintUrl", "unit", "operationId", "proofs"])
    expect(json.proofs[0].amount).toBe("18446744073709551615")
    expect(text(bytes)).not.toMatch(/\s/)
  })

  it("refuses to encode an event that breaks its schema, without echoing it", () => {
    const proof = (issued as Extract<WalletEvent, { _tag: "ProofsIssued" }>).proofs[0]!
    const bad = { ...issued, proofs: [{ ...proof, amount: -1n }] } as WalletEvent
    const e = codecError(() => encodeEvent(bad))
    expect(e.type).toBe("ProofsIssued")
    expect(e.message).toContain("proofs.0.amount")
    expect(e.message).not.toContain(SECRET)
    expect(codecError(() => encodeEvent({ _tag: "Nope" } as unknown as WalletEvent)).message).toBe(
      "unknown event type",
    )
  })

  it("rejects unknown types and versions, and bytes that are not UTF-8 JSON", () => {
    const { bytes } = encodeEvent(issued)
    expect(codecError(() => decodeEvent("Nope", 1, bytes)).message).toBe("unknown event type")
    expect(codecError(() => decodeEvent("<script>", 1, bytes)).type).toBe("<invalid>")
    for (const v of [0, -1, 1.5, currentSchemaVersion("ProofsIssued") + 1]) {
      expect(codecError(() => decodeEvent("ProofsIssued", v, bytes)).message).toMatch(
        /unsupported schema version/,
      )
    }
    expect(codecError(() => decodeEvent("ProofsIssued", 1, Uint8Array.of(0xff, 0xfe))).message).toBe(
      "payload is not UTF-8 JSON",
    )
    expect(codecError(() => decodeEvent("ProofsIssued", 1, utf8('{"mintUrl":'))).message).toBe(
      "payload is not UTF-8 JSON",
    )
  })

  it("validates every field on read and names the place, never the value", () => {
    const json = JSON.parse(text(encodeEvent(issued).bytes))
    const cases: Array<[unknown, string]> = [
      [{ ...json, proofs: [{ ...json.proofs[0], C: SECRET }] }, "proofs.0.C"],
      [{ ...json, proofs: [{ ...json.proofs[0], amount: "18446744073709551616" }] }, "proofs.0.amount"],
      [{ ...json, proofs: [{ ...json.proofs[0], amount: 1.5 }] }, "proofs.0.amount"],
      [{ ...json, proofs: [] }, "proofs"],
      [{ ...json, unit: undefined }, "unit"],
      [{ ...json, mintUrl: `https://x/${SECRET}/` }, "mintUrl"],
      [[json], ""],
    ]
    for (const [payload, where] of cases) {
      const e = codecError(() => decodeEvent("ProofsIssued", 1, utf8(JSON.stringify(payload))))
      expect(e.message).toMatch(/^payload does not match the schema/)
      expect(e.message.endsWith(where === "" ? "expected an object" : ` at ${where}`)).toBe(true)
      expect(e.message).not.toContain(SECRET)
    }
  })

  it("in trusted mode skips only the per-character string checks", () => {
    const json = JSON.parse(text(encodeEvent(issued).bytes))
    const upper = { ...json, proofs: [{ ...json.proofs[0], C: json.proofs[0].C.toUpperCase() }] }
    const bytes = utf8(JSON.stringify(upper))
    expect(() => decodeEvent("ProofsIssued", 1, bytes)).toThrow(EventCodecError)
    expect(decodeEvent("ProofsIssued", 1, bytes, { trusted: true })).toMatchObject({
      proofs: [{ C: upper.proofs[0].C }],
    })
    const structural: unknown[] = [
      { ...json, proofs: [{ ...json.proofs[0], C: 7 }] },
      { ...json, proofs: [{ ...json.proofs[0], amount: "18446744073709551616" }] },
      { ...json, proofs: [] },
      { ...json, unit: undefined },
    ]
    for (const payload of structural) {
      expect(() => decodeEvent("ProofsIssued", 1, utf8(JSON.stringify(payload)), { trusted: true })).toThrow(
        EventCodecError,
      )
    }
  })

  test.prop([anyEventArbitrary], { numRuns: 100 })(
    "trusted decoding of what encodeEvent wrote is exact",
    (event) => {
      const encoded = encodeEvent(event)
      expect(decodeEvent(encoded.type, encoded.schemaVersion, encoded.bytes, { trusted: true })).toEqual(
        event,
      )
    },
  )

  it("decodes each kind of an operation family to its own member", () => {
    const started: WalletEvent = {
      _tag: "OperationStarted",
      kind: "receive",
      operationId: "op-2",
      mintUrl: "https://mint.example.com",
      unit: "sat",
      token: "cashuBtoken",
      amount: 21n,
    }
    const encoded = encodeEvent(started)
    expect(JSON.parse(text(encoded.bytes)).kind).toBe("receive")
    const back = decodeEvent(encoded.type, encoded.schemaVersion, encoded.bytes)
    expect(back).toEqual(started)
    // A payload of one kind with another kind's fields is rejected.
    const wrong = { ...JSON.parse(text(encoded.bytes)), kind: "mint" }
    expect(codecError(() => decodeEvent("OperationStarted", 1, utf8(JSON.stringify(wrong)))).message).toMatch(
      /at (method|quoteId|request)$/,
    )
  })
})

describe("upcasting", () => {
  it("has an upcaster for every older version of every type", () => {
    for (const type of EVENT_TYPES) {
      for (let v = 1; v < SCHEMA_VERSIONS[type]; v++) expect(UPCASTERS[type]?.[v]).toBeTypeOf("function")
    }
  })

  it("reads a v1 MintTrusted (one unit) as the current shape (a list of units)", () => {
    const v1 = utf8(JSON.stringify({ mintUrl: "https://mint.example.com", unit: "sat", name: "Example" }))
    expect(currentSchemaVersion("MintTrusted")).toBe(2)
    expect(decodeEvent("MintTrusted", 1, v1)).toEqual({
      _tag: "MintTrusted",
      mintUrl: "https://mint.example.com",
      units: ["sat"],
      name: "Example",
    })
    const current = encodeEvent({
      _tag: "MintTrusted",
      mintUrl: "https://mint.example.com",
      units: ["sat", "usd"],
    })
    expect(current.schemaVersion).toBe(2)
    expect(decodeEvent("MintTrusted", 2, current.bytes)).toMatchObject({ units: ["sat", "usd"] })
  })

  it("fails a payload that is not a valid older version, and validates the upcast result", () => {
    const noUnit = utf8(JSON.stringify({ mintUrl: "https://mint.example.com" }))
    expect(codecError(() => decodeEvent("MintTrusted", 1, noUnit)).message).toBe(
      "cannot upcast the payload from version 1",
    )
    expect(codecError(() => decodeEvent("MintTrusted", 1, utf8("[]"))).message).toBe(
      "cannot upcast the payload from version 1",
    )
    const badUnit = utf8(JSON.stringify({ mintUrl: "https://mint.example.com", unit: "s a t" }))
    expect(codecError(() => decodeEvent("MintTrusted", 1, badUnit)).message).toMatch(/at units\.0$/)
    // A v2 payload presented as v1 is not silently accepted.
    const v2 = encodeEvent({ _tag: "MintTrusted", mintUrl: "https://mint.example.com", units: ["sat"] }).bytes
    expect(() => decodeEvent("MintTrusted", 1, v2)).toThrow(EventCodecError)
  })

  test.prop([fc.stringMatching(/^[a-z]{1,8}$/), fc.option(fc.string(), { nil: undefined })])(
    "lifts any v1 unit to a one-element list",
    (unit, name) => {
      const v1 = { mintUrl: "https://m.example", unit, ...(name === undefined ? {} : { name }) }
      expect(decodeEvent("MintTrusted", 1, utf8(JSON.stringify(v1)))).toEqual({
        _tag: "MintTrusted",
        mintUrl: "https://m.example",
        units: [unit],
        ...(name === undefined ? {} : { name }),
      })
    },
  )
})
