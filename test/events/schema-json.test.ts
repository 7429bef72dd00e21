import { fc, test } from "@fast-check/vitest"
import { Schema, SchemaAST } from "effect"
import { describe, expect, it } from "vitest"
import { EVENT_SCHEMAS, EVENT_TYPES, type EventType } from "../../src/events/catalogue.js"
import {
  compileJson,
  compileJsonText,
  compileTrustedDecoder,
  JSON_SAFE,
  predicateFilter,
  quote,
  SchemaMismatch,
} from "../../src/events/schema-json.js"
import { anyEventArbitrary, eventArbitrary } from "../support/event-arbitrary.js"

const mismatch = (f: () => unknown): SchemaMismatch => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(SchemaMismatch)
    return e as SchemaMismatch
  }
  throw new Error("expected a SchemaMismatch")
}

describe("compileJson: bigint", () => {
  const conv = compileJson(Schema.Struct({ n: Schema.BigInt }))

  it("writes safe integers as numbers and larger ones as exact decimal strings", () => {
    expect(conv.encode({ n: 42n })).toEqual({ n: 42 })
    expect(conv.encode({ n: 9007199254740991n })).toEqual({ n: 9007199254740991 })
    expect(conv.encode({ n: 9007199254740992n })).toEqual({ n: "9007199254740992" })
    expect(conv.encode({ n: -9007199254740992n })).toEqual({ n: "-9007199254740992" })
    expect(conv.encode({ n: 18446744073709551615n })).toEqual({ n: "18446744073709551615" })
  })

  it("reads both forms back exactly", () => {
    expect(conv.decode({ n: 7 })).toEqual({ n: 7n })
    expect(conv.decode({ n: "18446744073709551615" })).toEqual({ n: 18446744073709551615n })
    expect(conv.decode(JSON.parse(JSON.stringify(conv.encode({ n: 2n ** 63n }))))).toEqual({ n: 2n ** 63n })
  })

  it("rejects fractions, unsafe numbers and non-canonical text", () => {
    for (const n of [1.5, 2 ** 53, Number.NaN, "01", "+1", "1e3", " 1", "", "0x10", true, null]) {
      expect(mismatch(() => conv.decode({ n })).describe()).toBe("expected an integer at n")
    }
    expect(mismatch(() => conv.encode({ n: 1 as unknown as bigint })).describe()).toBe(
      "expected a bigint at n",
    )
  })

  test.prop([fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })])("round-trips through JSON text", (n) => {
    expect(conv.decode(JSON.parse(JSON.stringify(conv.encode({ n }))))).toEqual({ n })
  })
})

describe("compileJson: objects, arrays and unions", () => {
  const S = Schema.Struct({
    a: Schema.String,
    b: Schema.optionalKey(Schema.Number),
    c: Schema.Array(Schema.Tuple([Schema.Boolean, Schema.Null])),
  })
  const conv = compileJson(S)

  it("keeps declared keys in declaration order and drops the others", () => {
    const json = conv.encode({ c: [], b: 1, a: "x", extra: 1 } as never)
    expect(JSON.stringify(json)).toBe('{"a":"x","b":1,"c":[]}')
    expect(conv.decode({ z: 1, c: [[true, null]], a: "y" })).toEqual({ a: "y", c: [[true, null]] })
  })

  it("treats an optional key as absent or present, never present as undefined", () => {
    expect(conv.encode({ a: "x", c: [] })).toEqual({ a: "x", c: [] })
    expect(mismatch(() => conv.encode({ a: "x", b: undefined, c: [] } as never)).describe()).toBe(
      "missing key at b",
    )
    expect(Schema.is(S)({ a: "x", b: undefined, c: [] })).toBe(false)
  })

  it("reports the path and the rule, never the value", () => {
    const e = mismatch(() =>
      conv.decode({
        a: "x",
        c: [
          [true, null],
          [false, "TOPSECRET"],
        ],
      }),
    )
    expect(e.describe()).toBe("expected null at c.1.1")
    expect(e.message).not.toContain("TOPSECRET")
    expect(mismatch(() => conv.decode({ c: [] })).describe()).toBe("missing key at a")
    expect(mismatch(() => conv.decode({ a: "x", c: [[true]] })).describe()).toBe(
      "wrong number of elements at c.0",
    )
    expect(mismatch(() => conv.decode([])).describe()).toBe("expected an object")
    expect(mismatch(() => conv.decode(null)).describe()).toBe("expected an object")
  })

  it("dispatches tagged unions on their discriminant and omits literal keys the container records", () => {
    const U = Schema.Union([
      Schema.TaggedStruct("T", { kind: Schema.Literal("x"), x: Schema.String }),
      Schema.TaggedStruct("T", { kind: Schema.Literal("y"), y: Schema.BigInt }),
    ])
    const u = compileJson(U, { omitLiteralKeys: ["_tag"] })
    expect(u.encode({ _tag: "T", kind: "y", y: 5n })).toEqual({ kind: "y", y: 5 })
    expect(u.decode({ kind: "x", x: "s" })).toEqual({ _tag: "T", kind: "x", x: "s" })
    expect(Object.keys(u.decode({ kind: "x", x: "s" }) as object)[0]).toBe("_tag")
    expect(mismatch(() => u.decode({ kind: "z" })).describe()).toBe("unknown kind at kind")
    expect(mismatch(() => u.encode({ _tag: "U", kind: "x", x: "s" } as never)).describe()).toBe(
      'expected the literal "T" at _tag',
    )
  })

  it("tries untagged union members in order", () => {
    const u = compileJson(Schema.Union([Schema.String, Schema.BigInt]))
    expect(u.decode("a")).toBe("a")
    expect(u.decode(3)).toBe(3n)
    expect(mismatch(() => u.decode(true)).describe()).toBe("no union member matched")
  })

  it("runs refinements, including ones it has no native form for", () => {
    const even = Schema.Number.check(
      Schema.makeFilter((n: number) => n % 2 === 0, { expected: "an even number" }),
    )
    const c = compileJson(Schema.Struct({ n: even, s: Schema.String.check(Schema.isMaxLength(2)) }))
    expect(c.decode({ n: 4, s: "ab" })).toEqual({ n: 4, s: "ab" })
    expect(mismatch(() => c.decode({ n: 3, s: "ab" })).describe()).toBe("expected an even number at n")
    expect(mismatch(() => c.encode({ n: 2, s: "abc" })).describe()).toContain("at s")
  })

  it("calls predicate filters directly, and trusted decoders skip only per-character string checks", () => {
    let calls = 0
    const lower = Schema.String.check(
      predicateFilter((s: string) => {
        calls++
        return s === s.toLowerCase()
      }),
    )
    const S = Schema.Struct({
      a: lower,
      p: Schema.String.check(Schema.isPattern(/^x+$/)),
      m: Schema.String.check(Schema.isMinLength(2)),
      n: Schema.Int,
    })
    expect(Schema.is(S)({ a: "A", p: "x", m: "mm", n: 1 })).toBe(false)
    const full = compileJson(S)
    const trusted = compileTrustedDecoder(S)
    expect(mismatch(() => full.decode({ a: "A", p: "x", m: "mm", n: 1 })).path).toEqual(["a"])
    expect(calls).toBeGreaterThan(0)
    const before = calls
    expect(trusted({ a: "A", p: "y", m: "mm", n: 1 })).toEqual({ a: "A", p: "y", m: "mm", n: 1 })
    expect(calls).toBe(before)
    expect(mismatch(() => trusted({ a: "a", p: "x", m: "m", n: 1 })).path).toEqual(["m"])
    expect(mismatch(() => trusted({ a: "a", p: "x", m: "mm", n: 1.5 })).path).toEqual(["n"])
    expect(mismatch(() => trusted({ a: 1, p: "x", m: "mm", n: 1 })).path).toEqual(["a"])
  })

  it("refuses schemas outside its subset when compiling", () => {
    expect(() => compileJson(Schema.Record(Schema.String, Schema.Number))).toThrow(/index signatures/)
    expect(() => compileJson(Schema.NumberFromString)).toThrow(/transformations/)
    expect(() => compileJson(Schema.Date)).toThrow(/unsupported/)
    expect(() => compileJson(Schema.Literal(1n))).toThrow(/bigint literals/)
  })
})

/** A value with one field changed, removed or added somewhere inside it. */
const mutate = (
  value: unknown,
  path: ReadonlyArray<string | number>,
  replacement: unknown,
  remove: boolean,
) => {
  const clone = structuredClone(value) as Record<string | number, unknown>
  if (path.length === 0) return replacement
  let at: Record<string | number, unknown> = clone
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  const last = path[path.length - 1]!
  if (remove && !Array.isArray(at)) delete at[last]
  else at[last] = replacement
  return clone
}

const pathsOf = (value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> => {
  if (typeof value !== "object" || value === null) return [prefix]
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value)
  return [
    prefix,
    ...keys.flatMap((k) => pathsOf((value as Record<string | number, unknown>)[k], [...prefix, k])),
  ]
}

const junk = fc.constantFrom<unknown>(
  undefined,
  null,
  "",
  "zz",
  "02" + "G".repeat(64),
  "02" + "AB".repeat(32),
  "https://mint.example.com/",
  -1,
  1.5,
  2 ** 32,
  Number.NaN,
  -1n,
  2n ** 64n,
  0n,
  7,
  true,
  [],
  {},
  "mint",
  "melt",
  "keep",
)

/** Every string refinement of `ast` annotated {@link JSON_SAFE}, with the string node it refines. */
const jsonSafeChecks = (ast: SchemaAST.AST, out: Array<SchemaAST.Filter<unknown>> = []) => {
  const flat = (c: SchemaAST.Check<unknown>): Array<SchemaAST.Filter<unknown>> =>
    c._tag === "Filter" ? [c] : c.checks.flatMap(flat)
  for (const f of (ast.checks ?? []).flatMap(flat)) if (f.annotations?.[JSON_SAFE] === true) out.push(f)
  if (SchemaAST.isObjects(ast)) for (const p of ast.propertySignatures) jsonSafeChecks(p.type, out)
  if (SchemaAST.isArrays(ast)) for (const e of [...ast.elements, ...ast.rest]) jsonSafeChecks(e, out)
  if (SchemaAST.isUnion(ast)) for (const t of ast.types) jsonSafeChecks(t, out)
  return out
}

describe("JSON text without escapes", () => {
  test.prop([fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.string())])(
    "quote writes exactly the text JSON.stringify writes",
    (s) => {
      expect(quote(s)).toBe(JSON.stringify(s))
    },
  )

  it("every catalogue refinement marked JSON-safe refuses each character that needs escaping", () => {
    const checks = new Set(EVENT_TYPES.flatMap((t) => jsonSafeChecks(EVENT_SCHEMAS[t].ast)))
    expect(checks.size).toBeGreaterThanOrEqual(4) // point, scalar, keyset id, identifier, unit, method
    // Strings each refinement accepts (at least one per refinement), then broken one character at a time.
    const samples = ["0".repeat(16), "0".repeat(64), `02${"a".repeat(64)}`, "w1", "sat", "bolt11"]
    const unsafe = ['"', "\\", "\n", "\u0000", "\u007f", "é", "\ud800", "€"]
    for (const f of checks) {
      const is = Schema.is(Schema.String.check(f))
      const valid = samples.filter(is)
      expect(valid.length, String(f.annotations?.expected)).toBeGreaterThan(0)
      for (const v of valid)
        for (let i = 0; i < v.length; i++)
          for (const c of unsafe) expect(is(v.slice(0, i) + c + v.slice(i + 1))).toBe(false)
    }
  })
})

describe("compileJson on the catalogue", () => {
  test.prop([anyEventArbitrary], { numRuns: 400 })("round-trips every event through JSON text", (event) => {
    const conv = compileJson(EVENT_SCHEMAS[event._tag as EventType], { omitLiteralKeys: ["_tag"] })
    expect(Schema.is(EVENT_SCHEMAS[event._tag as EventType])(event)).toBe(true)
    const text = JSON.stringify(conv.encode(event))
    // The text encoder writes exactly these bytes, without the intermediate value.
    expect(
      compileJsonText(EVENT_SCHEMAS[event._tag as EventType], { omitLiteralKeys: ["_tag"] })(event),
    ).toBe(text)
    expect(conv.decode(JSON.parse(text))).toEqual(event)
    expect(JSON.stringify(conv.encode(conv.decode(JSON.parse(text))))).toBe(text)
  })

  for (const type of EVENT_TYPES) {
    const schema = EVENT_SCHEMAS[type]
    const conv = compileJson(schema)
    const toText = compileJsonText(schema)
    const is = Schema.is(schema)
    const accepts = (v: unknown): boolean => {
      let json: unknown
      try {
        json = conv.encode(v as never)
      } catch (e) {
        if (!(e instanceof SchemaMismatch)) throw e
        // The text encoder refuses exactly what the value encoder refuses, naming the same place.
        expect(mismatch(() => toText(v as never)).describe()).toBe((e as SchemaMismatch).describe())
        return false
      }
      expect(toText(v as never)).toBe(JSON.stringify(json))
      return true
    }
    test.prop(
      [
        eventArbitrary(type).chain((event) =>
          fc.tuple(fc.constant(event), fc.constantFrom(...pathsOf(event)), junk, fc.boolean()),
        ),
      ],
      { numRuns: 60 },
    )(`accepts exactly what Effect's validator accepts: ${type}`, ([event, path, replacement, remove]) => {
      const mutant = mutate(event, path, replacement, remove)
      expect(accepts(mutant)).toBe(is(mutant))
    })
  }
})

describe("compileJsonText", () => {
  it("writes what JSON.stringify writes: escapes, numbers, literals, optional keys, arrays and unions", () => {
    const schema = Schema.Struct({
      s: Schema.String,
      n: Schema.Number,
      b: Schema.Boolean,
      z: Schema.Null,
      big: Schema.BigInt,
      lit: Schema.Literals(["a", "b"]),
      opt: Schema.optionalKey(Schema.String),
      list: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
    })
    const conv = compileJson(schema)
    const toText = compileJsonText(schema)
    const strings = [
      "",
      "plain",
      'q"uote',
      "back\\slash",
      "tab\tnew\nline\u0001",
      "é€😀",
      "\ud800 lone",
      "\u007f",
    ]
    const numbers = [0, -0, 1.5, -3, 1e21, 5e-7, Number.MAX_SAFE_INTEGER]
    for (const str of strings)
      for (const n of numbers)
        for (const opt of [undefined, str]) {
          const value = {
            s: str,
            n,
            b: n > 0,
            z: null,
            big: BigInt(n > 0 ? 2 ** 60 : -7),
            lit: n > 0 ? ("a" as const) : ("b" as const),
            ...(opt === undefined ? {} : { opt }),
            list: [str, n, "x"],
          }
          expect(toText(value)).toBe(JSON.stringify(conv.encode(value)))
        }
  })
})
