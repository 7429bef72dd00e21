/**
 * Every error class the model defines is one the public guard recognises, and every tag the guard knows has
 * its class: `isCorecashuError` cannot silently miss a new error (issue #11: it used to miss the engine's
 * and the mint client's errors).
 */
import { describe, expect, it } from "vitest"
import * as model from "../../src/model/index.js"

/** The model's exported error classes (constructors whose instances are Errors with a `_tag`). */
const errorClasses = Object.entries(model).flatMap(([name, value]) => {
  if (typeof value !== "function" || !(value.prototype instanceof Error)) return []
  return [
    { name, make: value as unknown as new (fields: Record<string, unknown>) => Error & { _tag: string } },
  ]
})

describe("model errors", () => {
  it("finds the error classes (the scan is not blind)", () => {
    expect(errorClasses.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "DecodeError",
        "MintRejected",
        "StoreLocked",
        "OperationInDoubt",
        "InvalidArgument",
      ]),
    )
    expect(errorClasses.length).toBeGreaterThanOrEqual(30)
  })

  it("every class is recognised by isCorecashuError, under its own name as tag", () => {
    for (const { name, make } of errorClasses) {
      const e = new make({ message: "m" })
      expect(e._tag, name).toBe(name)
      expect(model.isCorecashuError(e), name).toBe(true)
      expect(model.CORECASHU_ERROR_TAGS.has(e._tag as never), name).toBe(true)
    }
  })

  it("every tag the guard knows has an exported class", () => {
    const names = new Set(errorClasses.map((c) => c.name))
    for (const tag of model.CORECASHU_ERROR_TAGS) expect(names.has(tag), tag).toBe(true)
  })

  it("refuses look-alikes", () => {
    for (const u of [undefined, null, 0, "DecodeError", { _tag: "Nope" }, new Error("x"), { _tag: 1 }])
      expect(model.isCorecashuError(u)).toBe(false)
  })
})
