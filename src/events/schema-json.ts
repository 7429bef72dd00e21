/**
 * Compiles the subset of Effect `Schema` that the event catalogue uses into fast, exact converters between the
 * catalogue's in-memory values and plain JSON values (what `JSON.parse` returns and `JSON.stringify` accepts).
 *
 * Why not Effect's own decoder: interpreting the schema costs more than the `JSON.parse` of the same payload,
 * and the projection rebuild must stay within 1/0.6 of a raw scan + `JSON.parse`. Why generated code rather
 * than composed closures: closures share their code across every field, so each property access and nested
 * call site sees every shape and type of the catalogue (megamorphic) and nothing inlines; one generated
 * function per event type reads and writes literal property names and calls only its own helpers. The
 * schema stays the single source of truth: fields, optional keys, literal unions and every refinement (hex
 * patterns, amount ranges, lengths, struct-level rules) are applied exactly as declared, and a property test
 * checks that the result accepts exactly what Effect's own validator accepts.
 *
 * The generated source contains only structure: property names (as JSON string literals), numbers, and
 * references to values held by the compiler (regular expressions, literal sets, filters). No data being
 * converted ever becomes code.
 *
 * JSON form: `bigint` is a JSON number when it is a safe integer and a decimal string otherwise, so amounts up
 * to 2^64−1 stay exact while `JSON.parse` stays native. Objects keep only declared keys, in declaration order
 * (deterministic bytes), and absent optional keys are omitted.
 *
 * Supported nodes: String, Number (finite), Boolean, BigInt, Null, Literal (not bigint), Union, Arrays
 * (required elements + at most one rest element), Objects (property signatures only) and their checks.
 * Anything else (transformations, index signatures, suspensions, declarations) is rejected when compiling,
 * which is a programming error caught by the catalogue tests.
 *
 * @module
 */
import { Schema, type SchemaAST } from "effect"

/** A value did not match the schema. `path` names fields and indexes only; no value is ever included. */
export class SchemaMismatch extends Error {
  override readonly name = "SchemaMismatch"
  readonly path: Array<string | number>
  constructor(
    readonly reason: string,
    path: Array<string | number> = [],
  ) {
    super(reason)
    this.path = path
  }
  /** `reason at a.b.3` — safe to log: names and positions only. */
  describe(): string {
    return this.path.length === 0 ? this.reason : `${this.reason} at ${this.path.join(".")}`
  }
}

/** Converters between a schema's values and their JSON form. Both validate and throw {@link SchemaMismatch}. */
export interface JsonConverter<T> {
  readonly decode: (json: unknown) => T
  readonly encode: (value: T) => unknown
}

/** Options for {@link compileJson}. */
export interface CompileOptions {
  /**
   * Literal-valued keys of the top-level object (or of each top-level union member) that the JSON form
   * leaves out because the container already records them (the event type lives in the envelope). Decoding
   * puts the literal back; encoding skips the key after checking its value.
   */
  readonly omitLiteralKeys?: ReadonlyArray<string>
}

/** `text`: encode straight to JSON text (the bytes `JSON.stringify` would give for `encode`'s result). */
type Mode = "decode" | "encode" | "text"

/** The annotation under which {@link predicateFilter} keeps its plain predicate. */
const PREDICATE = "corecashu/predicate"

/**
 * Annotation of a string refinement (`true`) that admits only printable ASCII other than `"` and `\`: the
 * text encoder then writes the checked string between quotes without scanning it again for escapes (hex
 * fields, identifiers and units are most of an event's text, and that scan cost as much as their check).
 * Claiming it for a refinement that admits anything else would write invalid JSON: the tests of the
 * catalogue check every annotated refinement against that rule.
 */
export const JSON_SAFE = "corecashu/jsonSafe"

/**
 * A refinement whose plain boolean predicate the compiled code calls directly (Effect's `run` wraps the same
 * predicate, so both validators agree by construction). For hot checks such as hex fields, where a
 * hand-written loop beats a regular expression.
 */
export const predicateFilter = <T>(
  predicate: (value: T) => boolean,
  annotations: Schema.Annotations.Filter = {},
): SchemaAST.Filter<T> => Schema.makeFilter(predicate, { ...annotations, [PREDICATE]: predicate })

const fail = (reason: string): never => {
  throw new SchemaMismatch(reason)
}

/** Prepends a path segment to a mismatch on its way out of a container; other errors pass unchanged. */
const prependPath = (e: unknown, segment: string | number): void => {
  if (e instanceof SchemaMismatch) e.path.unshift(segment)
}

const unsupported = (ast: SchemaAST.AST, why: string): never => {
  throw new Error(`schema-json: unsupported schema node ${ast._tag} (${why})`)
}

const PARSE_OPTIONS: SchemaAST.ParseOptions = {}
const BIGINT_TEXT = /^-?(0|[1-9][0-9]{0,77})$/
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

const bigintFromJson = (v: unknown): bigint => {
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : fail("expected an integer")
  if (typeof v === "string" && BIGINT_TEXT.test(v)) return BigInt(v)
  return fail("expected an integer")
}

const bigintToJson = (v: unknown): number | string => {
  if (typeof v !== "bigint") return fail("expected a bigint")
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString()
}

/** `bigintToJson` as JSON text. */
const bigintToJsonText = (v: unknown): string => {
  if (typeof v !== "bigint") return fail("expected a bigint")
  return v <= MAX_SAFE && v >= -MAX_SAFE ? v.toString() : `"${v.toString()}"`
}

/** Any character but printable ASCII, or `"` or `\\` (a regular expression scans faster than a JS loop). */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/

/**
 * A string as JSON text, exactly as `JSON.stringify` writes it. Strings of plain printable ASCII (every hex
 * field, id and unit) need no escaping, which one scan decides; anything else goes through `JSON.stringify`.
 * Exported for the other hot paths that write small fixed-shape JSON (record fields, payload AADs).
 */
export const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`)

/** Keys that JavaScript objects enumerate before the others (array indexes): text mode cannot mimic that. */
const INDEX_KEY = /^(0|[1-9][0-9]*)$/

const isOptional = (ast: SchemaAST.AST): boolean => ast.context?.isOptional ?? false

/** True when one of the node's refinements is annotated {@link JSON_SAFE}. */
const isJsonSafe = (ast: SchemaAST.AST): boolean =>
  ast.checks !== undefined && flattenChecks(ast.checks).some((f) => f.annotations?.[JSON_SAFE] === true)

const literalOf = (ast: SchemaAST.AST): SchemaAST.LiteralValue | undefined =>
  ast._tag === "Literal" && ast.checks === undefined && !isOptional(ast) ? ast.literal : undefined

const flattenChecks = (checks: SchemaAST.Checks): Array<SchemaAST.Filter<unknown>> => {
  const out: Array<SchemaAST.Filter<unknown>> = []
  const walk = (c: SchemaAST.Check<unknown>): void => {
    if (c._tag === "Filter") out.push(c)
    else for (const x of c.checks) walk(x)
  }
  for (const c of checks) walk(c)
  return out
}

const propertyType = (ast: SchemaAST.Objects, name: string): SchemaAST.AST | undefined =>
  ast.propertySignatures.find((p) => p.name === name)?.type

/** A key every member declares as a required literal, with distinct values; never an omitted key. */
const discriminant = (
  members: ReadonlyArray<SchemaAST.AST>,
  omit: ReadonlyArray<string>,
): string | undefined => {
  if (members.length === 0 || !members.every((m) => m._tag === "Objects")) return undefined
  const first = members[0] as SchemaAST.Objects
  for (const p of first.propertySignatures) {
    if (typeof p.name !== "string" || omit.includes(p.name)) continue
    const name = p.name
    const values = members.map((m) => {
      const t = propertyType(m as SchemaAST.Objects, name)
      return t === undefined ? undefined : literalOf(t)
    })
    if (values.every((x) => x !== undefined) && new Set(values).size === values.length) return name
  }
  return undefined
}

const key = (name: string): string => JSON.stringify(name)

/** A string refinement that looks at every character: a pattern or a plain predicate. */
const isContentCheck = (f: SchemaAST.Filter<unknown>): boolean =>
  typeof f.annotations?.[PREDICATE] === "function" ||
  (f.annotations?.representation as { id?: unknown } | undefined)?.id === "effect/schema/isPattern"

/** Emits the statements of one converter function; values it needs are passed in as `R<n>` parameters. */
class Emitter {
  readonly lines: string[] = []
  readonly refs: unknown[] = []
  private n = 0

  /**
   * @param contentChecks when false, string refinements that inspect every character (`isPattern`,
   * {@link predicateFilter} on strings) are left out; everything else is still checked.
   */
  constructor(
    readonly mode: Mode,
    readonly contentChecks = true,
  ) {}

  ref(value: unknown): string {
    this.refs.push(value)
    return `R${this.refs.length - 1}`
  }

  fresh(prefix: string): string {
    return `${prefix}${this.n++}`
  }

  line(code: string): void {
    this.lines.push(code)
  }

  failIf(condition: string, reason: string): void {
    this.line(`if (${condition}) F(${this.ref(reason)});`)
  }

  /** Emits code converting the value in variable `src`; returns the variable holding the result. */
  node(ast: SchemaAST.AST, src: string, omit: ReadonlyArray<string>): string {
    if (ast.encoding !== undefined) unsupported(ast, "transformations are not supported")
    // Refinements are declared on the type side: on the decoded value, or on the input when encoding.
    if (this.mode !== "decode") {
      const out = this.base(ast, src, omit)
      this.checks(ast, src)
      return out
    }
    const out = this.base(ast, src, omit)
    this.checks(ast, out)
    return out
  }

  /**
   * Native code for Effect's built-in refinements, read from their `representation` (the data Effect also
   * exports to JSON Schema), and direct calls of {@link predicateFilter} predicates; any other refinement
   * calls its own `run`.
   */
  checks(ast: SchemaAST.AST, v: string): void {
    if (ast.checks === undefined) return
    for (const f of flattenChecks(ast.checks)) {
      if (!this.contentChecks && ast._tag === "String" && isContentCheck(f)) continue
      const e = f.annotations?.expected
      const reason = typeof e === "string" ? `expected ${e}` : "refinement failed"
      const native = this.nativeCheck(f, v)
      if (native !== undefined) this.failIf(`!(${native})`, reason)
      else
        this.failIf(
          `${this.ref(f)}.run(${v}, ${this.ref(ast)}, ${this.ref(PARSE_OPTIONS)}) !== undefined`,
          reason,
        )
    }
  }

  nativeCheck(f: SchemaAST.Filter<unknown>, v: string): string | undefined {
    const predicate = f.annotations?.[PREDICATE]
    if (typeof predicate === "function") return `${this.ref(predicate)}(${v})`
    const rep = f.annotations?.representation as { id?: unknown; payload?: unknown } | undefined
    const p = (rep?.payload ?? {}) as Record<string, unknown>
    const num = (x: unknown): string | undefined =>
      typeof x === "number" && Number.isFinite(x) ? String(x) : undefined
    const range = (lo: string, hi: string): string =>
      `${v} ${p.exclusiveMinimum === true ? ">" : ">="} ${lo} && ${v} ${p.exclusiveMaximum === true ? "<" : "<="} ${hi}`
    switch (rep?.id) {
      case "effect/schema/isPattern":
        if (typeof p.source !== "string" || typeof p.flags !== "string" || /[gy]/.test(p.flags))
          return undefined
        return `${this.ref(new RegExp(p.source, p.flags))}.test(${v})`
      case "effect/schema/isMinLength":
        return num(p.minLength) === undefined ? undefined : `${v}.length >= ${num(p.minLength)}`
      case "effect/schema/isMaxLength":
        return num(p.maxLength) === undefined ? undefined : `${v}.length <= ${num(p.maxLength)}`
      case "effect/schema/isInt":
        return `Number.isSafeInteger(${v})`
      case "effect/schema/isBetween": {
        const lo = num(p.minimum)
        const hi = num(p.maximum)
        return lo === undefined || hi === undefined ? undefined : range(lo, hi)
      }
      case "effect/schema/isBetweenBigInt":
        if (typeof p.minimum !== "string" || typeof p.maximum !== "string") return undefined
        return range(`${BigInt(p.minimum)}n`, `${BigInt(p.maximum)}n`)
      default:
        return undefined
    }
  }

  base(ast: SchemaAST.AST, src: string, omit: ReadonlyArray<string>): string {
    switch (ast._tag) {
      case "String":
        this.failIf(`typeof ${src} !== "string"`, "expected a string")
        if (this.mode !== "text") return src
        // Checked to need no escape (the checks follow, and throw before the text is used).
        return isJsonSafe(ast) ? `'"' + ${src} + '"'` : `${this.ref(quote)}(${src})`
      case "Number":
        this.failIf(`typeof ${src} !== "number" || !Number.isFinite(${src})`, "expected a finite number")
        // JSON writes a finite number as `String` does.
        return this.mode === "text" ? `String(${src})` : src
      case "Boolean":
        this.failIf(`typeof ${src} !== "boolean"`, "expected a boolean")
        return this.mode === "text" ? `(${src} ? "true" : "false")` : src
      case "Null":
        this.failIf(`${src} !== null`, "expected null")
        return this.mode === "text" ? `"null"` : src
      case "BigInt": {
        const out = this.fresh("b")
        const convert =
          this.mode === "decode" ? bigintFromJson : this.mode === "text" ? bigintToJsonText : bigintToJson
        this.line(`const ${out} = ${this.ref(convert)}(${src});`)
        return out
      }
      case "Literal": {
        if (typeof ast.literal === "bigint") return unsupported(ast, "bigint literals")
        this.failIf(
          `${src} !== ${this.ref(ast.literal)}`,
          `expected the literal ${JSON.stringify(ast.literal)}`,
        )
        return this.mode === "text" ? this.ref(JSON.stringify(ast.literal)) : src
      }
      case "Union":
        return this.union(ast, src, omit)
      case "Arrays":
        return this.arrays(ast, src)
      case "Objects":
        return this.objects(ast, src, omit)
      default:
        return unsupported(ast, "node kind")
    }
  }

  union(ast: SchemaAST.Union, src: string, omit: ReadonlyArray<string>): string {
    const members = ast.types
    const literals = members.map(literalOf)
    if (literals.every((l) => l !== undefined && typeof l !== "bigint")) {
      this.failIf(`!${this.ref(new Set(literals))}.has(${src})`, "expected one of the allowed literals")
      return this.mode === "text" ? `JSON.stringify(${src})` : src
    }
    const out = this.fresh("u")
    this.line(`let ${out};`)
    const tag = discriminant(members, omit)
    if (tag !== undefined) {
      // Tagged union: dispatch on the discriminant, then convert with that member only.
      this.objectGuard(src)
      const d = this.fresh("d")
      this.line(`const ${d} = ${src}[${key(tag)}];`)
      members.forEach((m, i) => {
        const lit = literalOf(propertyType(m as SchemaAST.Objects, tag)!)
        this.line(`${i === 0 ? "" : "else "}if (${d} === ${this.ref(lit)}) {`)
        this.line(`${out} = ${this.node(m, src, omit)};`)
        this.line("}")
      })
      this.line(`else throw new M(${this.ref(`unknown ${tag}`)}, [${key(tag)}]);`)
      return out
    }
    // General case: the first member that accepts the value wins, as in Effect's default union semantics.
    const done = this.fresh("ok")
    this.line(`let ${done} = false;`)
    for (const m of members) {
      this.line(`if (!${done}) try {`)
      this.line(`${out} = ${this.node(m, src, omit)}; ${done} = true;`)
      this.line("} catch (e) { if (!(e instanceof M)) throw e; }")
    }
    this.failIf(`!${done}`, "no union member matched")
    return out
  }

  objectGuard(src: string): void {
    this.failIf(
      `typeof ${src} !== "object" || ${src} === null || Array.isArray(${src})`,
      "expected an object",
    )
  }

  arrays(ast: SchemaAST.Arrays, src: string): string {
    if (ast.elements.some(isOptional)) return unsupported(ast, "optional tuple elements")
    if (ast.rest.length > 1) return unsupported(ast, "elements after a rest element")
    const n = ast.elements.length
    const rest = ast.rest[0]
    this.failIf(`!Array.isArray(${src})`, "expected an array")
    const len = this.fresh("n")
    const out = this.fresh("a")
    const i = this.fresh("i")
    this.line(`const ${len} = ${src}.length;`)
    this.failIf(rest === undefined ? `${len} !== ${n}` : `${len} < ${n}`, "wrong number of elements")
    this.line(`const ${out} = new Array(${len}); let ${i} = 0;`)
    this.line("try {")
    ast.elements.forEach((e, k) => {
      const el = this.fresh("e")
      this.line(`${i} = ${k}; const ${el} = ${src}[${k}];`)
      this.line(`${out}[${k}] = ${this.node(e, el, [])};`)
    })
    if (rest !== undefined) {
      const el = this.fresh("e")
      this.line(`for (${i} = ${n}; ${i} < ${len}; ${i}++) { const ${el} = ${src}[${i}];`)
      this.line(`${out}[${i}] = ${this.node(rest, el, [])};`)
      this.line("}")
    }
    this.line(`} catch (e) { P(e, ${i}); throw e; }`)
    if (this.mode !== "text") return out
    const text = this.fresh("t")
    this.line(`const ${text} = "[" + ${out}.join(",") + "]";`)
    return text
  }

  objects(ast: SchemaAST.Objects, src: string, omit: ReadonlyArray<string>): string {
    if (ast.indexSignatures.length > 0) return unsupported(ast, "index signatures")
    const fields = ast.propertySignatures.map((p) => {
      if (typeof p.name !== "string") return unsupported(ast, "non-string keys")
      if (p.name === "__proto__") return unsupported(ast, "a __proto__ key")
      const omitted = omit.includes(p.name)
      const fixed = omitted ? literalOf(p.type) : undefined
      if (omitted && fixed === undefined) return unsupported(ast, `omitted key ${p.name} is not a literal`)
      return { name: p.name, type: p.type, optional: isOptional(p.type), omitted, fixed }
    })
    this.objectGuard(src)
    const at = this.fresh("k")
    const vars = fields.map(() => this.fresh("f"))
    this.line(`let ${at} = ""; let ${vars.join(", ")};`)
    this.line("try {")
    fields.forEach((f, i) => {
      const x = this.fresh("x")
      const v = vars[i]!
      if (f.omitted && this.mode === "decode") {
        this.line(`${v} = ${this.ref(f.fixed)};`)
        return
      }
      this.line(`${at} = ${key(f.name)}; const ${x} = ${src}[${key(f.name)}];`)
      // An optional key may be absent, but (as with exact optional properties) never present as undefined.
      const absentOk =
        this.mode === "decode" ? "true" : `!Object.prototype.hasOwnProperty.call(${src}, ${key(f.name)})`
      this.line(
        `if (${x} === undefined) { if (!(${f.optional} && ${absentOk})) F(${this.ref("missing key")}); }`,
      )
      this.line("else {")
      if (f.omitted) {
        this.failIf(`${x} !== ${this.ref(f.fixed)}`, `expected the literal ${JSON.stringify(f.fixed)}`)
      } else {
        this.line(`${v} = ${this.node(f.type, x, [])};`)
      }
      this.line("}")
    })
    this.line(`} catch (e) { P(e, ${at}); throw e; }`)
    // Build the result in declaration order: an object literal for the leading required keys (one shape),
    // then the rest one by one, skipping absent optional keys (and omitted keys when encoding).
    const out = this.fresh("o")
    const written = fields
      .map((f, i) => ({ ...f, v: vars[i]! }))
      .filter((f) => !(f.omitted && this.mode !== "decode"))
    if (this.mode === "text") {
      // The text `JSON.stringify` gives for the object built in encode mode: the same keys, in the same order.
      if (written.some((f) => INDEX_KEY.test(f.name))) return unsupported(ast, "index-like keys in text mode")
      const sep = this.fresh("c")
      this.line(`let ${out} = "{"; let ${sep} = "";`)
      for (const f of written) {
        const append = `${out} += ${sep} + ${this.ref(`${JSON.stringify(f.name)}:`)} + ${f.v}; ${sep} = ",";`
        this.line(f.optional ? `if (${f.v} !== undefined) { ${append} }` : append)
      }
      this.line(`${out} += "}";`)
      return out
    }
    let lead = 0
    while (lead < written.length && !written[lead]!.optional) lead++
    this.line(
      `const ${out} = { ${written
        .slice(0, lead)
        .map((f) => `${key(f.name)}: ${f.v}`)
        .join(", ")} };`,
    )
    for (const f of written.slice(lead)) {
      const assign = `${out}[${key(f.name)}] = ${f.v};`
      this.line(f.optional ? `if (${f.v} !== undefined) ${assign}` : assign)
    }
    return out
  }
}

const compileFunction = (
  ast: SchemaAST.AST,
  mode: Mode,
  omit: ReadonlyArray<string>,
  contentChecks = true,
): ((v: unknown) => unknown) => {
  const emitter = new Emitter(mode, contentChecks)
  const result = emitter.node(ast, "input", omit)
  const names = emitter.refs.map((_, i) => `R${i}`)
  const body = `"use strict";\nreturn function ${mode}(input) {\n${emitter.lines.join("\n")}\nreturn ${result};\n};`
  const factory = new Function("F", "M", "P", ...names, body) as (
    ...args: unknown[]
  ) => (v: unknown) => unknown
  return factory(fail, SchemaMismatch, prependPath, ...emitter.refs)
}

/**
 * Compiles `schema` into JSON converters. Throws a plain `Error` at compile time when the schema uses a node
 * outside the supported subset (see the module comment).
 */
export const compileJson = <S extends Schema.Top>(
  schema: S,
  options: CompileOptions = {},
): JsonConverter<S["Type"]> => {
  const omit = options.omitLiteralKeys ?? []
  return {
    decode: compileFunction(schema.ast, "decode", omit) as (json: unknown) => S["Type"],
    encode: compileFunction(schema.ast, "encode", omit),
  }
}

/**
 * Compiles an encoder straight to JSON text: the same checks as {@link compileJson}'s `encode`, and exactly
 * the text `JSON.stringify` writes for its result, without building that intermediate value. Why: on the
 * append path the intermediate objects and the generic `JSON.stringify` walk cost more than the checks.
 */
export const compileJsonText = <S extends Schema.Top>(
  schema: S,
  options: CompileOptions = {},
): ((value: S["Type"]) => string) =>
  compileFunction(schema.ast, "text", options.omitLiteralKeys ?? []) as (value: S["Type"]) => string

/**
 * Compiles a decoder for JSON whose content is already known good — written by this schema's encoder and
 * protected since (an authenticated encryption and a verified hash chain): it still checks types, presence,
 * literals, integer ranges, lengths and struct-level rules, but skips string refinements that inspect every
 * character (hex and pattern checks), which cost about as much as parsing the JSON in the first place.
 */
export const compileTrustedDecoder = <S extends Schema.Top>(
  schema: S,
  options: CompileOptions = {},
): ((json: unknown) => S["Type"]) =>
  compileFunction(schema.ast, "decode", options.omitLiteralKeys ?? [], false) as (json: unknown) => S["Type"]
