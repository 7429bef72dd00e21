/**
 * Every error the public API can raise is one of the package's exported, tagged error classes (issue #14: "every
 * error class the API can raise is exported, and one guard recognises all of them").
 *
 * - The types: the error channel of every Effect- or Stream-returning method of `Engine`, `Wallet.effect` and
 *   `RemoteWallet.effect`, and of the entry's Effect functions, is a subtype of `CorecashuError` — the
 *   union `isCorecashuError` recognises. Checked by `tsc --noEmit` over the tests.
 * - The classes: every tagged error class defined in `src/` outside the CLI (a `bin`, not an entry of the
 *   package's `exports`) is either a model error (exported from the
 *   entry, its tag known to the guard) or one of the internal classes listed below with where it is turned into a
 *   public one; a new error class outside `src/model` fails here until it is one or the other.
 *
 * The same from plain JavaScript, through the installed tarball: `test/package.test.ts`.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import type { Effect, Stream } from "effect"
import { describe, expect, expectTypeOf, it } from "vitest"
import type * as Api from "../../src/index.js"
import * as Entry from "../../src/index.js"

/** The union of the error channels of an object's Effect- and Stream-returning methods. */
type ErrorsOf<T> = {
  [K in keyof T]: T[K] extends (...args: never) => infer R
    ? R extends Effect.Effect<infer _A, infer E, infer _R>
      ? E
      : R extends Stream.Stream<infer _A, infer E, infer _R>
        ? E
        : never
    : never
}[keyof T]

describe("the public API fails only with the package's tagged errors (types)", () => {
  it("Engine, Wallet.effect, RemoteWallet.effect and the entry's Effect functions", () => {
    expectTypeOf<ErrorsOf<Api.Engine>>().toExtend<Api.CorecashuError>()
    expectTypeOf<ErrorsOf<typeof Entry.Engine>>().toExtend<Api.CorecashuError>()
    expectTypeOf<ErrorsOf<Api.WalletEffects>>().toExtend<Api.CorecashuError>()
    expectTypeOf<ErrorsOf<Api.RemoteWalletEffects>>().toExtend<Api.CorecashuError>()
    type EntryEffects = Pick<
      typeof Entry,
      "decodeTokenEffect" | "decodeTokenBytesEffect" | "encodeTokenEffect" | "connectClusterEffect"
    >
    expectTypeOf<ErrorsOf<EntryEffects>>().toExtend<Api.CorecashuError>()
    expectTypeOf<Api.DecodeError>().toExtend<ErrorsOf<EntryEffects>>()
    // Not vacuous (expect-type refuses `never` as the actual type, too): the channels hold real errors.
    expectTypeOf<Api.InvalidArgument>().toExtend<ErrorsOf<Api.WalletEffects>>()
    expectTypeOf<Api.MintRejected>().toExtend<ErrorsOf<Api.WalletEffects>>()
  })
})

const root = fileURLToPath(new URL("../../", import.meta.url))

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  )

/** `class X extends Data.TaggedError("X")` and `class X extends Error` in src/ but the CLI, by file. */
const errorClasses = sources(join(root, "src")).flatMap((file) => {
  if (relative(join(root, "src"), file).startsWith("cli")) return []
  const text = readFileSync(file, "utf8")
  return [...text.matchAll(/class\s+(\w+)\s+extends\s+(?:Data\.TaggedError\(\s*"(\w+)"\s*\)|Error\b)/g)].map(
    (m) => ({ file: relative(root, file).split("\\").join("/"), name: m[1]!, tag: m[2] }),
  )
})

/** Error classes that never reach a caller, and where each is turned into a public error. */
const INTERNAL: Readonly<Record<string, string>> = {
  IllegalOperationStep: "src/engine/runtime.ts: a refused step becomes EngineInvariant or WalletNotOwned",
  SchemaMismatch: "src/events/codec.ts: a payload that does not fit its schema, rethrown as EventCodecError",
  MintSaidWait:
    "src/infra/mint-client/rate-limit.ts: a 429; reads wait and retry, any other call gets MintNotSent",
  BodyTooLarge: "src/infra/mint-client/http.ts: an over-long body, caught there and failed as a mint error",
}

describe("every error class in src/ is exported or internal (classes)", () => {
  it("the scan finds the model's classes (it is not blind)", () => {
    const model = errorClasses.filter((c) => c.file.startsWith("src/model/"))
    expect(model.length).toBeGreaterThanOrEqual(30)
    expect(model.map((c) => c.name)).toContain("InvalidArgument")
  })

  it("a model class is exported from the entry under its tag, and the guard knows it", () => {
    const exported = Entry as unknown as Record<string, unknown>
    for (const c of errorClasses.filter((x) => x.file.startsWith("src/model/"))) {
      expect(c.tag, c.name).toBe(c.name)
      expect(typeof exported[c.name], c.name).toBe("function")
      expect(Entry.CORECASHU_ERROR_TAGS.has(c.name as never), c.name).toBe(true)
    }
  })

  it("a class outside the model is listed as internal, and is neither exported nor known to the guard", () => {
    const outside = errorClasses.filter((x) => !x.file.startsWith("src/model/"))
    expect(
      outside.filter((c) => INTERNAL[c.name] === undefined).map((c) => `${c.file}: ${c.name}`),
      "an error class outside src/model: move it to the model (and export it) or list it here with its mapping",
    ).toEqual([])
    for (const c of outside) {
      expect(Object.hasOwn(Entry, c.name), c.name).toBe(false)
      expect(Entry.CORECASHU_ERROR_TAGS.has(c.name as never), c.name).toBe(false)
    }
    // Every listed class still exists (the list does not outlive the code).
    for (const name of Object.keys(INTERNAL)) expect(outside.map((c) => c.name)).toContain(name)
  })
})
