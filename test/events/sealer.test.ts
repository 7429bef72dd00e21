import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { groupAadText, identitySealer, payloadAad, payloadAadText } from "../../src/events/sealer.js"

describe("payload sealer helpers", () => {
  it("the identity sealer keeps bytes as they are", () => {
    const b = Uint8Array.of(1, 2, 3)
    expect(identitySealer.open(identitySealer.seal(b, new Uint8Array()), new Uint8Array())).toEqual(b)
  })

  const fields = fc.record({
    eventId: fc.string(),
    streamId: fc.string(),
    type: fc.string(),
    schemaVersion: fc.integer({ min: 0, max: 1000 }),
  })

  test.prop([fields, fields])("binds every envelope field: distinct fields give distinct AAD", (a, b) => {
    const same =
      a.eventId === b.eventId &&
      a.streamId === b.streamId &&
      a.type === b.type &&
      a.schemaVersion === b.schemaVersion
    expect(Buffer.from(payloadAad(a)).equals(Buffer.from(payloadAad(b)))).toBe(same)
  })

  const anyText = fc.string({ unit: "binary", maxLength: 20 })
  const anyFields = fc.record({ eventId: anyText, streamId: anyText, type: anyText, schemaVersion: fc.nat() })

  test.prop([anyFields])("writes exactly JSON.stringify's text, also for strings that need escaping", (f) => {
    expect(payloadAadText(f)).toBe(JSON.stringify([f.eventId, f.streamId, f.type, f.schemaVersion]))
  })

  test.prop([fc.array(anyFields, { minLength: 1, maxLength: 4 })])(
    "a group's AAD is the JSON array of its members' AADs, in order",
    (members) => {
      expect(groupAadText(members)).toBe(
        JSON.stringify(members.map((f) => [f.eventId, f.streamId, f.type, f.schemaVersion])),
      )
    },
  )

  test.prop([fields])("is the UTF-8 JSON array [eventId, streamId, type, schemaVersion]", (f) => {
    expect(JSON.parse(new TextDecoder().decode(payloadAad(f)))).toEqual([
      f.eventId,
      f.streamId,
      f.type,
      f.schemaVersion,
    ])
  })
})
