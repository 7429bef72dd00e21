/**
 * fast-check arbitraries derived from the catalogue's Effect schemas, by walking their AST: hex fields from
 * their `isPattern` refinement, integers and bigints from their ranges (edges included), optional keys
 * sometimes absent, free text including non-ASCII and lone surrogates. Struct-level refinements (e.g. an
 * output's counter-xor-secret rule) are met by filtering with Effect's own validator.
 */
import { fc } from "@fast-check/vitest"
import { Schema, type SchemaAST } from "effect"
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  HEX_ANNOTATION,
  type WalletEvent,
} from "../../src/events/catalogue.js"

type Rep = { readonly id?: string; readonly payload?: Record<string, unknown> }

const representations = (ast: SchemaAST.AST): Rep[] => {
  const out: Rep[] = []
  const walk = (c: SchemaAST.Check<unknown>): void => {
    if (c._tag !== "Filter") for (const x of c.checks) walk(x)
    else if (c.annotations?.[HEX_ANNOTATION] !== undefined) {
      out.push({ id: "hex", payload: c.annotations[HEX_ANNOTATION] as Record<string, unknown> })
    } else out.push((c.annotations?.representation ?? {}) as Rep)
  }
  for (const c of ast.checks ?? []) walk(c)
  return out
}

const find = (reps: Rep[], id: string): Record<string, unknown> | undefined =>
  reps.find((r) => r.id === `effect/schema/${id}` || r.id === id)?.payload

const hexArb = (length: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length })

const textArb = (minLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ minLength, maxLength: 24 }),
    fc.string({ unit: "binary", minLength, maxLength: 12 }),
    fc.string({ unit: "grapheme", minLength, maxLength: 8 }),
  )

/** An arbitrary of the type side of `ast`. */
export const arbitraryOf = (ast: SchemaAST.AST): fc.Arbitrary<unknown> => {
  const reps = representations(ast)
  switch (ast._tag) {
    case "String": {
      const hex = find(reps, "hex") as { lengths: number[]; prefixes: string[] } | undefined
      if (hex !== undefined) {
        const prefixes = hex.prefixes.length === 0 ? [""] : hex.prefixes
        return fc
          .tuple(fc.constantFrom(...prefixes), fc.constantFrom(...hex.lengths))
          .chain(([p, n]) => hexArb(n - p.length).map((h) => p + h))
      }
      const pattern = find(reps, "isPattern")
      if (pattern !== undefined) {
        // Keep generated text short: the URL pattern allows 2 KB, which adds nothing but time.
        const source = String(pattern.source).replace("{0,2040}", "{0,30}")
        return fc.stringMatching(new RegExp(source, String(pattern.flags)))
      }
      return textArb(Number(find(reps, "isMinLength")?.minLength ?? 0))
    }
    case "Number": {
      const range = find(reps, "isBetween")
      const min = Number(range?.minimum ?? Number.MIN_SAFE_INTEGER)
      const max = Number(range?.maximum ?? Number.MAX_SAFE_INTEGER)
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }))
    }
    case "BigInt": {
      const range = find(reps, "isBetweenBigInt")
      const min = BigInt(String(range?.minimum ?? "0"))
      const max = BigInt(String(range?.maximum ?? "18446744073709551615"))
      const safe = BigInt(Number.MAX_SAFE_INTEGER)
      return fc.oneof(
        fc.constantFrom(min, max),
        fc.bigInt({ min, max: max < 1000n ? max : 1000n }),
        fc.bigInt({ min: safe - 2n < min ? min : safe - 2n, max: safe + 2n > max ? max : safe + 2n }),
        fc.bigInt({ min, max }),
      )
    }
    case "Boolean":
      return fc.boolean()
    case "Literal":
      return fc.constant(ast.literal)
    case "Union":
      return fc.oneof(...ast.types.map(arbitraryOf))
    case "Arrays": {
      const elements = ast.elements.map(arbitraryOf)
      const rest = ast.rest[0]
      const minLength = Number(find(reps, "isMinLength")?.minLength ?? 0)
      const restArb =
        rest === undefined ? fc.constant([]) : fc.array(arbitraryOf(rest), { minLength, maxLength: 4 })
      return fc.tuple(fc.tuple(...elements), restArb).map(([head, tail]) => [...head, ...tail])
    }
    case "Objects": {
      const model: Record<string, fc.Arbitrary<unknown>> = {}
      const required: string[] = []
      for (const p of ast.propertySignatures) {
        const name = String(p.name)
        model[name] = arbitraryOf(p.type)
        if (!(p.type.context?.isOptional ?? false)) required.push(name)
      }
      const record = fc.record(model, { requiredKeys: required })
      if (ast.checks === undefined) return record
      const is = Schema.is(Schema.make(ast))
      return record.filter((v) => is(v))
    }
    default:
      throw new Error(`no arbitrary for ${ast._tag}`)
  }
}

/** Arbitrary valid events of one type. */
export const eventArbitrary = <T extends EventType>(
  type: T,
): fc.Arbitrary<Extract<WalletEvent, { _tag: T }>> =>
  arbitraryOf(EVENT_SCHEMAS[type].ast) as fc.Arbitrary<Extract<WalletEvent, { _tag: T }>>

/** Arbitrary valid events of any type. */
export const anyEventArbitrary: fc.Arbitrary<WalletEvent> = fc.oneof(...EVENT_TYPES.map(eventArbitrary))
