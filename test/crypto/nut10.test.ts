import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  encodeSecret,
  MAX_SECRET_LENGTH,
  MAX_TAG_ITEMS,
  MAX_TAGS,
  parseSecret,
  parseWellKnownSecret,
  sameTags,
  type Tag,
  tagsWithKey,
} from "../../src/crypto/nut10.js"
import { isCorecashuError } from "../../src/model/index.js"
import { expectTagged } from "../support/errors.js"
import { loadVector } from "../support/vectors.js"

/** Every proof secret found in the NUT-11, NUT-14 and NUT-28 vector files. */
const vectorSecrets = (): string[] => {
  const out: string[] = []
  const walk = (u: unknown): void => {
    if (Array.isArray(u)) u.forEach(walk)
    else if (typeof u === "object" && u !== null) {
      for (const [k, val] of Object.entries(u)) {
        if (k === "secret" && typeof val === "string") out.push(val)
        else walk(val)
      }
    }
  }
  for (const f of ["11-p2pk.json", "14-htlc.json", "28-p2bk.json"]) walk(loadVector(f))
  return out
}

describe("NUT-10 well-known secrets from the vectors", () => {
  const secrets = vectorSecrets()

  it("finds the vector secrets", () => {
    expect(secrets.length).toBeGreaterThan(20)
  })

  it("parses every one as P2PK or HTLC and re-encodes it byte for byte", () => {
    for (const s of secrets) {
      const parsed = parseWellKnownSecret(s)
      expect(["P2PK", "HTLC"]).toContain(parsed.kind)
      expect(encodeSecret(parsed)).toBe(s)
    }
  })

  it("parses the 11.md example into the spec's JSON", () => {
    const ex = loadVector("11-p2pk.json").inline_examples_11md
    const parsed = parseWellKnownSecret(ex.proof.secret)
    const [kind, body] = ex.secret_json
    expect(parsed).toEqual({ type: "well-known", kind, nonce: body.nonce, data: body.data, tags: body.tags })
    expect(tagsWithKey(parsed, "sigflag")).toEqual([["sigflag", "SIG_INPUTS"]])
  })

  it("keeps an empty tag list (NUT-28 example proof)", () => {
    const proof = loadVector("28-p2bk.json").example_p2bk_proof.proof
    expect(parseWellKnownSecret(proof.secret).tags).toEqual([])
  })
})

describe("plain secrets", () => {
  it("anything not starting with `[` is plain", () => {
    for (const s of [
      "",
      "407915bc212be61a77e3e6d2aeb4c727980bda51cd06a6afc29e2861768a7837",
      "123",
      '{"a":1}',
      '"x"',
    ]) {
      expect(parseSecret(s)).toEqual({ type: "plain" })
    }
  })

  it("parseWellKnownSecret rejects a plain secret", () => {
    expectTagged(() => parseWellKnownSecret("deadbeef"), "DecodeError", "schema")
  })
})

describe("malformed well-known secrets (10.md tag rules)", () => {
  const body = (tags: unknown): string => JSON.stringify(["P2PK", { nonce: "n", data: "d", tags }])

  it("accepts the spec's valid tag examples, including a key-only tag", () => {
    const parsed = parseWellKnownSecret(body([["pubkeys"], ["pubkeys", "021"], ["pubkeys", "021", "022"]]))
    expect(parsed.tags).toHaveLength(3)
    expect(parseWellKnownSecret(body(null)).tags).toEqual([])
    expect(parseWellKnownSecret(JSON.stringify(["P2PK", { nonce: "n", data: "d" }])).tags).toEqual([])
  })

  it("rejects the spec's invalid tag examples", () => {
    expectTagged(() => parseSecret(body([[]])), "DecodeError", "schema")
    expectTagged(() => parseSecret(body([["locktime", 1765300829]])), "DecodeError", "schema")
    expectTagged(() => parseSecret(body([["locktime", ""]])), "DecodeError", "schema")
    expectTagged(() => parseSecret(body([[""]])), "DecodeError", "schema")
    expectTagged(() => parseSecret(body("tags")), "DecodeError", "schema")
    expectTagged(() => parseSecret(body([["a", null]])), "DecodeError", "schema")
  })

  it("rejects invalid JSON and wrong shapes", () => {
    expectTagged(() => parseSecret("["), "DecodeError", "json")
    expectTagged(() => parseSecret('["P2PK",{"nonce":"n","data":"d"}'), "DecodeError", "json")
    for (const s of [
      "[]",
      '["P2PK"]',
      '["P2PK",{"nonce":"n","data":"d"},1]',
      '["",{"nonce":"n","data":"d"}]',
      '[1,{"nonce":"n","data":"d"}]',
      '["P2PK",[]]',
      '["P2PK",null]',
      '["P2PK",{"data":"d"}]',
      '["P2PK",{"nonce":"n"}]',
      '["P2PK",{"nonce":1,"data":"d"}]',
      '["P2PK",{"nonce":"n","data":{}}]',
    ]) {
      expectTagged(() => parseSecret(s), "DecodeError", "schema")
    }
  })

  it("bounds sizes", () => {
    expectTagged(() => parseSecret("a".repeat(MAX_SECRET_LENGTH + 1)), "DecodeError", "too-large")
    expect(parseSecret("a".repeat(MAX_SECRET_LENGTH))).toEqual({ type: "plain" })
    const many = Array.from({ length: MAX_TAGS + 1 }, () => ["k", "v"])
    expectTagged(() => parseSecret(body(many)), "DecodeError", "limit")
    expect(parseWellKnownSecret(body(many.slice(1))).tags).toHaveLength(MAX_TAGS)
    const wide = ["k", ...Array.from({ length: MAX_TAG_ITEMS }, () => "v")]
    expectTagged(() => parseSecret(body([wide])), "DecodeError", "limit")
  })

  it("ignores unknown body keys", () => {
    const parsed = parseWellKnownSecret('["HTLC",{"nonce":"n","data":"d","tags":[],"extra":5}]')
    expect(parsed.kind).toBe("HTLC")
  })
})

describe("encodeSecret", () => {
  it("writes the canonical compact form with tags always present", () => {
    expect(encodeSecret({ kind: "P2PK", nonce: "n", data: "d" })).toBe(
      '["P2PK",{"nonce":"n","data":"d","tags":[]}]',
    )
  })

  it("refuses fields that would not parse back", () => {
    expectTagged(() => encodeSecret({ kind: "", nonce: "n", data: "d" }), "DecodeError", "schema")
    const emptyValue = [["k", ""]] as unknown as Tag[]
    expectTagged(() => encodeSecret({ kind: "P2PK", nonce: "n", data: "d", tags: emptyValue }), "DecodeError")
    expectTagged(
      () => encodeSecret({ kind: "P2PK", nonce: "n", data: "x".repeat(MAX_SECRET_LENGTH) }),
      "DecodeError",
      "too-large",
    )
  })

  it("round-trips arbitrary valid fields", () => {
    const str = fc.string({ minLength: 1, maxLength: 12 })
    const tag = fc.array(str, { minLength: 1, maxLength: 5 }) as fc.Arbitrary<unknown> as fc.Arbitrary<Tag>
    fc.assert(
      fc.property(
        str,
        fc.string(),
        fc.string(),
        fc.array(tag, { maxLength: 6 }),
        (kind, nonce, data, tags) => {
          const parsed = parseWellKnownSecret(encodeSecret({ kind, nonce, data, tags }))
          expect(parsed).toEqual({ type: "well-known", kind, nonce, data, tags })
          expect(sameTags(parsed.tags, tags)).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("sameTags", () => {
  it("is order- and content-sensitive", () => {
    const a: Tag[] = [["a", "1"], ["b"]]
    expect(sameTags(a, [["a", "1"], ["b"]])).toBe(true)
    expect(sameTags(a, [["b"], ["a", "1"]])).toBe(false)
    expect(
      sameTags(a, [
        ["a", "1"],
        ["b", "2"],
      ]),
    ).toBe(false)
    expect(sameTags(a, [["a", "1"]])).toBe(false)
  })
})

describe("parseSecret never throws an untyped error", () => {
  const check = (s: string): void => {
    try {
      const r = parseSecret(s)
      expect(["plain", "well-known"]).toContain(r.type)
    } catch (e) {
      expect(isCorecashuError(e)).toBe(true)
    }
  }
  it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: 500 })
  })
  it("on arbitrary JSON arrays", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 3 }), (a) => check(JSON.stringify(a))),
      { numRuns: 500 },
    )
  })
  it("on well-known-shaped values with arbitrary bodies", () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue({ maxDepth: 4 }), (kind, b) => check(JSON.stringify([kind, b]))),
      { numRuns: 500 },
    )
  })
})
