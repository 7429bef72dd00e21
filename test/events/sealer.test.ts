import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import {
  type AadFields,
  groupAadText,
  identitySealer,
  payloadAad,
  payloadAadText,
} from "../../src/events/sealer.js"

describe("payload sealer helpers", () => {
  it("the identity sealer keeps bytes as they are", () => {
    const b = Uint8Array.of(1, 2, 3)
    expect(identitySealer.open(identitySealer.seal(b, new Uint8Array()), new Uint8Array())).toEqual(b)
  })

  const small = fc.integer({ min: 0, max: 3 })
  const fields = fc.record({
    eventId: fc.string({ maxLength: 2 }),
    streamId: fc.string({ maxLength: 2 }),
    type: fc.string({ maxLength: 2 }),
    schemaVersion: small,
    sequence: small,
    streamVersion: small,
    time: small,
  })
  const KEYS = ["eventId", "streamId", "type", "schemaVersion", "sequence", "streamVersion", "time"] as const
  const asArray = (f: AadFields) => KEYS.map((k) => f[k])

  test.prop([fields, fields])("binds every envelope field: distinct fields give distinct AAD", (a, b) => {
    const same = KEYS.every((k) => a[k] === b[k])
    expect(Buffer.from(payloadAad(a)).equals(Buffer.from(payloadAad(b)))).toBe(same)
  })

  it("binds the place: the same event at another sequence, stream version or time has another AAD", () => {
    const f: AadFields = {
      eventId: "e",
      streamId: "s",
      type: "T",
      schemaVersion: 1,
      sequence: 7,
      streamVersion: 3,
      time: 9,
    }
    const base = Buffer.from(payloadAad(f))
    for (const change of [{ sequence: 8 }, { streamVersion: 4 }, { time: 10 }])
      expect(base.equals(Buffer.from(payloadAad({ ...f, ...change })))).toBe(false)
  })

  const anyText = fc.string({ unit: "binary", maxLength: 20 })
  const anyFields = fc.record({
    eventId: anyText,
    streamId: anyText,
    type: anyText,
    schemaVersion: fc.nat(),
    sequence: fc.nat(),
    streamVersion: fc.nat(),
    time: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  })

  test.prop([anyFields])("writes exactly JSON.stringify's text, also for strings that need escaping", (f) => {
    expect(payloadAadText(f)).toBe(JSON.stringify(asArray(f)))
  })

  test.prop([fc.array(anyFields, { minLength: 1, maxLength: 4 })])(
    "a group's AAD is the JSON array of its members' AADs, in order",
    (members) => {
      expect(groupAadText(members)).toBe(JSON.stringify(members.map(asArray)))
    },
  )

  test.prop([fields])("is the UTF-8 JSON array of the envelope fields but the hashes", (f) => {
    expect(JSON.parse(new TextDecoder().decode(payloadAad(f)))).toEqual(asArray(f))
  })
})
