import { fc, test } from "@fast-check/vitest"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { bech32, bech32m, createBase58check } from "@scure/base"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  hexToBytes,
  utf8,
} from "../../src/crypto/bytes.js"
import { AmountError, DecodeError } from "../../src/model/index.js"
import {
  BOLT11_DEFAULT_EXPIRY_SECONDS,
  BOLT11_DEFAULT_MAX_LENGTH,
  BOLT11_DEFAULT_MAX_TAGGED_FIELDS,
  BOLT11_DEFAULT_MIN_FINAL_CLTV_EXPIRY,
  BOLT11_MAX_AMOUNT_MSAT,
  type Bolt11DecodeOptions,
  type Bolt11Fallback,
  type Bolt11Invoice,
  type Bolt11RouteHop,
  bolt11AmountSat,
  bolt11AmountSatEffect,
  decodeBolt11,
  decodeBolt11Effect,
  isBolt11Expired,
} from "../../src/protocol/bolt11.js"
import {
  type Bolt11Model,
  bolt11ModelArb,
  type ModelHop,
  privateKeyArb,
} from "../support/bolt11-arbitrary.js"
import {
  be,
  bytesWords,
  CHARSET,
  DECI_MSAT_PER_UNIT,
  featureWords,
  field,
  NETWORK_PREFIX,
  type SignOptions,
  signatureWords,
  uintWords,
  writeInvoice as writeSignedInvoice,
} from "../support/bolt11-encode.js"
import { loadVector } from "../support/vectors.js"

const vectors = loadVector("bolt11.json")
const PRIV = hexToBytes(vectors.priv_key as string)
const N = secp256k1.Point.CURVE().n

// ---------------------------------------------------------------------------------------------------------
// Test-side writer (test/support/bolt11-encode.ts): BOLT #11 encoding and signing, independent of the decoder.
// ---------------------------------------------------------------------------------------------------------

const hopBytes = (h: ModelHop): Uint8Array =>
  concatBytes(
    h.pubkey,
    be(h.block, 3),
    be(h.tx, 3),
    be(h.output, 2),
    be(h.feeBase, 4),
    be(h.feeProportional, 4),
    be(h.cltvDelta, 2),
  )

/** hrp + timestamp + fields, signed by `priv` (the spec's key by default), bech32 without a length limit. */
const writeInvoice = (
  hrp: string,
  timestamp: number,
  fields: ReadonlyArray<ReadonlyArray<number>>,
  priv: Uint8Array = PRIV,
  o: SignOptions = {},
): string => writeSignedInvoice(hrp, timestamp, fields, priv, o)

const HASH = new Uint8Array(32).fill(0xab)
const SECRET = new Uint8Array(32).fill(0xcd)
const HASH_HEX = bytesToHex(HASH)
const SECRET_HEX = bytesToHex(SECRET)
const P = field("p", bytesWords(HASH))
const S = field("s", bytesWords(SECRET))
const D = field("d", bytesWords(utf8("coffee")))
const H = field("h", bytesWords(new Uint8Array(32).fill(7)))
const TS = 1_700_000_000

/** A minimal valid invoice (p, s, d) plus `extra` fields, or exactly `fields` when given. */
const simple = (extra: ReadonlyArray<ReadonlyArray<number>> = [], hrp = "lnbc10u") =>
  writeInvoice(hrp, TS, [P, S, D, ...extra])

/** Model → invoice text and the decoder's expected answer. */
const encodeModel = (m: Bolt11Model): { invoice: string; expected: Bolt11Invoice } => {
  type Entry = { words: number[]; route?: Bolt11RouteHop[]; fallback?: Bolt11Fallback }
  const entries: Entry[] = [
    { words: field("p", bytesWords(m.paymentHash)) },
    { words: field("s", bytesWords(m.paymentSecret)) },
    {
      words:
        m.description.kind === "d"
          ? field("d", bytesWords(utf8(m.description.text)))
          : field("h", bytesWords(m.description.hash)),
    },
  ]
  if (m.expiry !== undefined) entries.push({ words: field("x", uintWords(m.expiry)) })
  if (m.minFinalCltv !== undefined) entries.push({ words: field("c", uintWords(m.minFinalCltv)) })
  if (m.features.length > 0) entries.push({ words: field("9", featureWords(m.features)) })
  if (m.metadata !== undefined) entries.push({ words: field("m", bytesWords(m.metadata)) })
  for (const route of m.routeHints)
    entries.push({
      words: field("r", bytesWords(concatBytes(...route.map(hopBytes)))),
      route: route.map((h) => ({
        pubkey: bytesToHex(h.pubkey),
        shortChannelId: `${h.block}x${h.tx}x${h.output}`,
        feeBaseMsat: BigInt(h.feeBase),
        feeProportionalMillionths: h.feeProportional,
        cltvExpiryDelta: h.cltvDelta,
      })),
    })
  for (const f of m.fallbacks)
    entries.push({
      words: field("f", [f.version, ...bytesWords(f.program)]),
      ...(f.version <= 18 ? { fallback: { version: f.version, program: bytesToHex(f.program) } } : {}),
    })
  for (const u of m.unknownFields) entries.push({ words: field(u.type, u.words) })
  const payee = secp256k1.getPublicKey(m.privateKey, true)
  if (m.withPayeeKey) entries.push({ words: field("n", bytesWords(payee)) })
  const ordered = entries
    .map((e, i) => ({ e, k: m.order[i] ?? 0, i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.e)

  const amountText = m.amount === undefined ? "" : `${m.amount.digits}${m.amount.multiplier}`
  const hrp = `ln${NETWORK_PREFIX[m.network]}${amountText}`
  const invoice = writeInvoice(
    hrp,
    m.timestamp,
    ordered.map((e) => e.words),
    m.privateKey,
  )
  const expiry = m.expiry ?? BOLT11_DEFAULT_EXPIRY_SECONDS
  const expected: Bolt11Invoice = {
    network: m.network,
    amountMsat:
      m.amount === undefined ? undefined : (m.amount.digits * DECI_MSAT_PER_UNIT[m.amount.multiplier]) / 10n,
    timestamp: m.timestamp,
    expirySeconds: expiry,
    expiresAt: m.timestamp + expiry,
    paymentHash: bytesToHex(m.paymentHash),
    paymentSecret: bytesToHex(m.paymentSecret),
    ...(m.description.kind === "d"
      ? { description: m.description.text }
      : { descriptionHash: bytesToHex(m.description.hash) }),
    payeePubkey: bytesToHex(payee),
    minFinalCltvExpiry: m.minFinalCltv ?? BOLT11_DEFAULT_MIN_FINAL_CLTV_EXPIRY,
    features: m.features,
    ...(m.metadata !== undefined ? { metadata: bytesToHex(m.metadata) } : {}),
    routeHints: ordered.flatMap((e) => (e.route === undefined ? [] : [e.route])),
    fallbacks: ordered.flatMap((e) => (e.fallback === undefined ? [] : [e.fallback])),
  }
  return { invoice, expected }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for failures
// ---------------------------------------------------------------------------------------------------------

/** The DecodeError `f` throws; fails the test on any other outcome. */
const decodeError = (f: () => unknown): DecodeError => {
  let thrown: unknown
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown, "expected a DecodeError").toBeInstanceOf(DecodeError)
  return thrown as DecodeError
}
const failure = (invoice: string, options?: Bolt11DecodeOptions) => {
  const e = decodeError(() => decodeBolt11(invoice, options))
  return { reason: e.reason, path: e.path }
}
/** Decodes, or returns the DecodeError; anything else thrown fails the test. */
const attempt = (invoice: string, options?: Bolt11DecodeOptions): Bolt11Invoice | DecodeError => {
  try {
    return decodeBolt11(invoice, options)
  } catch (e) {
    if (!(e instanceof DecodeError)) throw new Error(`untyped throw: ${String(e)}`)
    return e
  }
}

/** The error names no invoice text (no 12-character window of it), no payment hash and no secret. */
const expectNoSecrets = (e: DecodeError, invoice: string, secrets: ReadonlyArray<string>) => {
  const texts = [e.message, e.path ?? "", String(e)].map((t) => t.toLowerCase())
  const lower = invoice.toLowerCase()
  for (const t of texts) {
    for (const s of secrets) expect(t.includes(s.toLowerCase())).toBe(false)
    for (let i = 0; i + 12 <= lower.length; i += 3) expect(t.includes(lower.slice(i, i + 12))).toBe(false)
  }
}

// ---------------------------------------------------------------------------------------------------------
// The spec's examples
// ---------------------------------------------------------------------------------------------------------

interface VectorHop {
  pubkey: string
  short_channel_id: string
  fee_base_msat: string
  fee_proportional_millionths: number
  cltv_expiry_delta: number
}
interface ValidVector {
  title: string
  invoice: string
  expected: {
    network: Bolt11Invoice["network"]
    timestamp: number
    payment_hash: string
    payment_secret: string
    payee_pubkey: string
    expiry_seconds: number
    min_final_cltv_expiry: number
    features: number[]
    route_hints: VectorHop[][]
    fallback_addresses: string[]
    amount_msat: string | null
    description?: string
    description_hash?: string
    metadata?: string
    decode_options?: Bolt11DecodeOptions
    invalid_by_default?: { reason: string; path: string }
  }
}
interface InvalidVector {
  title: string
  invoice: string
  reason: string
  path: string
}
const valid = vectors.valid as ValidVector[]
const invalid = vectors.invalid as InvalidVector[]
const knownIssues = vectors.known_issues as string[]

/** An on-chain address → the `f` field it stands for (version + program), decoded here independently. */
const base58check = createBase58check(sha256)
const addressFallback = (address: string): Bolt11Fallback => {
  const lower = address.toLowerCase()
  if (lower.startsWith("bc1") || lower.startsWith("tb1")) {
    const q = lower[lower.indexOf("1") + 1]
    const { words } = (q === "q" ? bech32 : bech32m).decode(lower as `${string}1${string}`)
    return { version: words[0]!, program: bytesToHex(bech32.fromWords(words.slice(1))) }
  }
  const raw = base58check.decode(address)
  const version = { 0: 17, 111: 17, 5: 18, 196: 18 }[raw[0]!]
  if (version === undefined) throw new Error("unexpected address version")
  return { version, program: bytesToHex(raw.subarray(1)) }
}

const expectedOf = (x: ValidVector["expected"]): Bolt11Invoice => ({
  network: x.network,
  amountMsat: x.amount_msat === null ? undefined : BigInt(x.amount_msat),
  timestamp: x.timestamp,
  expirySeconds: x.expiry_seconds,
  expiresAt: x.timestamp + x.expiry_seconds,
  paymentHash: x.payment_hash,
  paymentSecret: x.payment_secret,
  ...(x.description !== undefined ? { description: x.description } : {}),
  ...(x.description_hash !== undefined ? { descriptionHash: x.description_hash } : {}),
  payeePubkey: x.payee_pubkey,
  minFinalCltvExpiry: x.min_final_cltv_expiry,
  features: x.features,
  ...(x.metadata !== undefined ? { metadata: x.metadata } : {}),
  routeHints: x.route_hints.map((r) =>
    r.map((h) => ({
      pubkey: h.pubkey,
      shortChannelId: h.short_channel_id,
      feeBaseMsat: BigInt(h.fee_base_msat),
      feeProportionalMillionths: h.fee_proportional_millionths,
      cltvExpiryDelta: h.cltv_expiry_delta,
    })),
  ),
  fallbacks: x.fallback_addresses.map(addressFallback),
})

describe("BOLT #11 examples (test/vectors/bolt11.json)", () => {
  it("the vector file names its source, commit and licence", () => {
    expect(vectors.spec_repo).toBe("https://github.com/lightning/bolts")
    expect(vectors.spec_commit).toMatch(/^[0-9a-f]{40}$/)
    expect(vectors.licence).toContain("CC BY 4.0")
    expect(valid.length).toBe(16)
    expect(invalid.length).toBe(10)
  })

  it.each(valid.map((x) => [x.title.slice(0, 70), x] as const))("valid: %s", (_t, x) => {
    const expected = expectedOf(x.expected)
    if (x.expected.invalid_by_default !== undefined) {
      // known_issues[0]: only the pre-#1243 rule (skip wrong-length p/h/s/n) accepts it.
      expect(failure(x.invoice)).toEqual(x.expected.invalid_by_default)
      expect(decodeBolt11(x.invoice, x.expected.decode_options)).toStrictEqual(expected)
      return
    }
    expect(decodeBolt11(x.invoice)).toStrictEqual(expected)
    expect(decodeBolt11(x.invoice, { wrongLengthFields: "skip" })).toStrictEqual(expected)
    expect(Effect.runSync(decodeBolt11Effect(x.invoice))).toStrictEqual(expected)
    // Either letter case decodes to the same invoice (the signed prefix is the lowercase one).
    expect(decodeBolt11(x.invoice.toUpperCase())).toStrictEqual(expected)
    expect(decodeBolt11(x.invoice.toLowerCase())).toStrictEqual(expected)
  })

  it.each(invalid.map((x) => [x.title, x] as const))("invalid: %s", (_t, x) => {
    expect(failure(x.invoice)).toEqual({ reason: x.reason, path: x.path })
    expect(failure(x.invoice, { wrongLengthFields: "skip" })).toEqual({ reason: x.reason, path: x.path })
    const e = Effect.runSync(Effect.flip(decodeBolt11Effect(x.invoice)))
    expect(e).toBeInstanceOf(DecodeError)
    expect(e.reason).toBe(x.reason)
  })

  it("the description hash is sha256 of the description the spec gives", () => {
    const text =
      "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon"
    const hashed = valid.filter((x) => x.expected.description_hash !== undefined)
    expect(hashed.length).toBe(7)
    for (const x of hashed)
      expect(decodeBolt11(x.invoice).descriptionHash).toBe(bytesToHex(sha256(utf8(text))))
  })

  it("every example is signed by priv_key, whose public key is the payee (recovered, no n field)", () => {
    const pub = bytesToHex(secp256k1.getPublicKey(PRIV, true))
    expect(pub).toBe("03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad")
    for (const x of valid.filter((v) => !v.title.startsWith("Public-key recovery with high-S")))
      expect(decodeBolt11(x.invoice, { wrongLengthFields: "skip" }).payeePubkey).toBe(pub)
  })

  it("the test writer reproduces the first example byte for byte (RFC 6979 signature)", () => {
    const x = valid[0]!
    const { words } = bech32.decode(x.invoice as `${string}1${string}`, false)
    const data = words.slice(0, -104)
    expect(bech32.encode("lnbc", [...data, ...signatureWords("lnbc", data, PRIV)], false)).toBe(x.invoice)
  })

  describe("known_issues", () => {
    it("documents three issues", () => {
      expect(knownIssues.length).toBe(3)
      expect(knownIssues[0]).toContain("wrongLengthFields")
      expect(knownIssues[1]).toContain("high-S")
      expect(knownIssues[2]).toContain("two identical s fields")
    })

    it("[0] the 'fields which must be ignored' example: fails by default, decodes with wrongLengthFields skip", () => {
      const x = valid.find((v) => v.title === "Same, but including fields which must be ignored.")!
      expect(failure(x.invoice)).toEqual({ reason: "schema", path: "tagged.p" })
      expect(failure(x.invoice, { wrongLengthFields: "fail" })).toEqual({
        reason: "schema",
        path: "tagged.p",
      })
      const skipped = decodeBolt11(x.invoice, { wrongLengthFields: "skip" })
      // The same invoice as 'Please send $30 for coffee beans …' apart from the ignored fields.
      const base = valid.find((v) => v.title.startsWith("Please send $30 for coffee beans"))!
      expect(skipped).toStrictEqual(decodeBolt11(base.invoice))
    })

    it("[1] high-S recovery: (r, n-s, id 1) recovers 02d0139c…, and (r, n-s, id 0) the examples' key", () => {
      const first = valid[0]!
      const highS = valid.find((v) => v.title === "Public-key recovery with high-S signature")!
      // Same data as the first example; s replaced by n - s, same recovery id.
      const a = bech32.decode(first.invoice as `${string}1${string}`, false).words
      const b = bech32.decode(highS.invoice as `${string}1${string}`, false).words
      expect(b.slice(0, -104)).toEqual(a.slice(0, -104))
      const sigA = bech32.fromWords(a.slice(-104))
      const sigB = bech32.fromWords(b.slice(-104))
      expect(sigB.subarray(0, 32)).toEqual(sigA.subarray(0, 32))
      expect(bytesToBigInt(sigB.subarray(32, 64))).toBe(N - bytesToBigInt(sigA.subarray(32, 64)))
      expect(sigA[64]).toBe(1)
      expect(sigB[64]).toBe(1)
      expect(decodeBolt11(highS.invoice).payeePubkey).toBe(
        "02d0139ce7427d6dfffd26a326c18be754ef1e64672b42694ba5b23ef6e6e7803d",
      )
      // With recovery id 0 the same high-S signature recovers the examples' key: high-S is accepted.
      const fixed = bech32.encode(
        "lnbc",
        [...b.slice(0, -104), ...bytesWords(concatBytes(sigB.subarray(0, 64), Uint8Array.of(0)))],
        false,
      )
      expect(decodeBolt11(fixed)).toStrictEqual(decodeBolt11(first.invoice))
    })

    it("[2] the high-S example with n: the signature is checked before the duplicate s", () => {
      const x = invalid.find((v) => v.title.startsWith("Non canonical signature (high-S)"))!
      expect(failure(x.invoice)).toEqual({ reason: "signature", path: "signature" })
      // Normalising s to n - s (low-S) makes the signature valid for n: then the duplicate s is the error.
      const { prefix, words } = bech32.decode(x.invoice as `${string}1${string}`, false)
      const sig = bech32.fromWords(words.slice(-104))
      const lowS = concatBytes(sig.subarray(0, 32), bigIntToBytes(N - bytesToBigInt(sig.subarray(32, 64))))
      const normalised = bech32.encode(
        prefix,
        [...words.slice(0, -104), ...bytesWords(concatBytes(lowS, Uint8Array.of(sig[64]! ^ 1)))],
        false,
      )
      expect(failure(normalised)).toEqual({ reason: "duplicate", path: "tagged.s" })
    })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------------------

describe("round trip: what the test writer encodes, the decoder returns", () => {
  test.prop([bolt11ModelArb], { numRuns: 200 })("random invoices", (m) => {
    const { invoice, expected } = encodeModel(m)
    expect(decodeBolt11(invoice)).toStrictEqual(expected)
    expect(decodeBolt11(invoice.toUpperCase())).toStrictEqual(expected)
    expect(decodeBolt11(invoice, { maxLength: invoice.length })).toStrictEqual(expected)
  })

  test.prop([bolt11ModelArb, fc.array(fc.boolean(), { minLength: 8, maxLength: 8 })], { numRuns: 100 })(
    "mixed letter case is refused (bech32, input)",
    (m, flips) => {
      const { invoice } = encodeModel(m)
      // Upper-case some letters, keeping at least one lower-case letter.
      const chars = [...invoice]
      let changed = false
      flips.forEach((f, i) => {
        const at = Math.floor(((i + 1) * chars.length) / 10)
        if (f && /[a-z]/.test(chars[at]!)) {
          chars[at] = chars[at]!.toUpperCase()
          changed = true
        }
      })
      if (!changed) chars[0] = "L"
      expect(failure(chars.join(""))).toEqual({ reason: "bech32", path: "input" })
    },
  )

  it("amounts: each multiplier, the 21M BTC bound, and whole millisatoshis in p", () => {
    const amount = (a: string) => decodeBolt11(simple([], `lnbc${a}`)).amountMsat
    expect(amount("1")).toBe(100_000_000_000n)
    expect(amount("1m")).toBe(100_000_000n)
    expect(amount("1u")).toBe(100_000n)
    expect(amount("1n")).toBe(100n)
    expect(amount("10p")).toBe(1n)
    expect(amount("21000000")).toBe(BOLT11_MAX_AMOUNT_MSAT)
    expect(amount("21000000000m")).toBe(BOLT11_MAX_AMOUNT_MSAT)
    expect(amount("21000000000000000000p")).toBe(BOLT11_MAX_AMOUNT_MSAT)
    expect(decodeBolt11(simple([], "lnbc")).amountMsat).toBeUndefined()
    for (const bad of ["21000001", "21000000001m", "21000000000000000010p", "0", "0m", "01u", "1p", "15p"])
      expect(failure(simple([], `lnbc${bad}`))).toEqual({ reason: "amount", path: "hrp.amount" })
    expect(failure(simple([], "lnbc1000000000000000000000000m"))).toEqual({
      reason: "amount",
      path: "hrp.amount",
    })
    expect(failure(simple([], "lnbc25x"))).toEqual({ reason: "amount", path: "hrp.amount" })
    expect(failure(simple([], "lnbc2m5"))).toEqual({ reason: "amount", path: "hrp.amount" })
  })

  it("networks: each prefix, and unknown ones refused (prefix, hrp)", () => {
    expect(decodeBolt11(simple([], "lnbc")).network).toBe("bitcoin")
    expect(decodeBolt11(simple([], "lntb1m")).network).toBe("testnet")
    expect(decodeBolt11(simple([], "lntbs")).network).toBe("signet")
    expect(decodeBolt11(simple([], "lntbs1m")).network).toBe("signet")
    expect(decodeBolt11(simple([], "lnbcrt5u")).network).toBe("regtest")
    expect(decodeBolt11(simple([], "lnsb")).network).toBe("simnet")
    for (const hrp of ["lnxy1m", "lnbcx", "lnbcm", "ln", "ln1m", "bc1m", "lbc", "xnbc"])
      expect(failure(simple([], hrp))).toEqual({ reason: "prefix", path: "hrp" })
  })

  it("an n field: the signature is verified against it (low-S required), and it must be a point", () => {
    const other = secp256k1.utils.randomSecretKey()
    const payee = secp256k1.getPublicKey(PRIV, true)
    const n = field("n", bytesWords(payee))
    expect(decodeBolt11(simple([n])).payeePubkey).toBe(bytesToHex(payee))
    // n names a key that did not sign.
    const wrong = field("n", bytesWords(secp256k1.getPublicKey(other, true)))
    expect(failure(simple([wrong]))).toEqual({ reason: "signature", path: "signature" })
    // A valid but high-S signature: fine by recovery, refused with n.
    expect(decodeBolt11(writeInvoice("lnbc", TS, [P, S, D], PRIV, { highS: true })).payeePubkey).toBe(
      bytesToHex(payee),
    )
    expect(failure(writeInvoice("lnbc", TS, [P, S, D, n], PRIV, { highS: true }))).toEqual({
      reason: "signature",
      path: "signature",
    })
    // n is not a curve point (x = 0 is not on secp256k1; prefix 0x05 is no key encoding).
    const notPoint = field("n", bytesWords(concatBytes(Uint8Array.of(2), new Uint8Array(32))))
    expect(failure(simple([notPoint]))).toEqual({ reason: "signature", path: "tagged.n" })
    const badPrefix = field("n", bytesWords(concatBytes(Uint8Array.of(5), payee.subarray(1))))
    expect(failure(simple([badPrefix]))).toEqual({ reason: "signature", path: "tagged.n" })
    expect(failure(simple([n, n]))).toEqual({ reason: "duplicate", path: "tagged.n" })
  })

  it("signatures: wrong recovery id, out-of-range r/s and data changed after signing", () => {
    const invoice = simple()
    expect(failure(writeInvoice("lnbc10u", TS, [P, S, D], PRIV, { recovery: 4 }))).toEqual({
      reason: "signature",
      path: "signature",
    })
    for (const raw of [
      new Uint8Array(65), // r = s = 0
      concatBytes(bigIntToBytes(N), bigIntToBytes(1n), Uint8Array.of(0)), // r = n
      concatBytes(bigIntToBytes(1n), bigIntToBytes(N), Uint8Array.of(0)), // s = n
    ])
      expect(failure(writeInvoice("lnbc10u", TS, [P, S, D], PRIV, { raw }))).toEqual({
        reason: "signature",
        path: "signature",
      })
    // A wrong recovery id recovers some other key: without n the decoder cannot tell, so the key differs.
    const right = decodeBolt11(invoice).payeePubkey
    const recovered = attempt(writeInvoice("lnbc10u", TS, [P, S, D], PRIV, { recovery: 0 }))
    const recovered1 = attempt(writeInvoice("lnbc10u", TS, [P, S, D], PRIV, { recovery: 1 }))
    const keys = [recovered, recovered1].map((r) => (r instanceof DecodeError ? r.reason : r.payeePubkey))
    expect(keys).toContain(right)
    expect(keys.filter((k) => k !== right).length).toBe(1)
    // Signed under one prefix, presented under another: the recovered key is not the signer's.
    const { words } = bech32.decode(invoice as `${string}1${string}`, false)
    const moved = attempt(bech32.encode("lnbc20u", words, false))
    expect(moved instanceof DecodeError ? moved.reason : moved.payeePubkey).not.toBe(right)
  })

  test.prop([privateKeyArb, fc.integer({ min: 0, max: 2 ** 35 - 1 }), fc.boolean()], { numRuns: 50 })(
    "any key and timestamp; high-S signatures recover the signer too",
    (priv, ts, highS) => {
      const inv = decodeBolt11(writeInvoice("lnbc", ts, [P, S, D], priv, { highS }))
      expect(inv.payeePubkey).toBe(bytesToHex(secp256k1.getPublicKey(priv, true)))
      expect(inv.timestamp).toBe(ts)
    },
  )
})

// ---------------------------------------------------------------------------------------------------------
// Field rules, one by one
// ---------------------------------------------------------------------------------------------------------

describe("tagged field rules", () => {
  it("required fields: p, s, and exactly one of d and h", () => {
    expect(failure(writeInvoice("lnbc", TS, [S, D]))).toEqual({ reason: "schema", path: "tagged.p" })
    expect(failure(writeInvoice("lnbc", TS, [P, D]))).toEqual({ reason: "schema", path: "tagged.s" })
    expect(failure(writeInvoice("lnbc", TS, [P, S]))).toEqual({ reason: "schema", path: "tagged.d" })
    expect(failure(writeInvoice("lnbc", TS, [P, S, D, H]))).toEqual({ reason: "schema", path: "tagged.h" })
    expect(decodeBolt11(writeInvoice("lnbc", TS, [P, S, H])).descriptionHash).toBe("07".repeat(32))
    // An empty description is a description.
    expect(decodeBolt11(writeInvoice("lnbc", TS, [P, S, field("d", [])])).description).toBe("")
  })

  it("single-valued fields appearing twice are refused (duplicate), even with equal values", () => {
    const x = field("x", uintWords(60))
    const c = field("c", uintWords(40))
    const f9 = field("9", featureWords([8, 14]))
    const m = field("m", bytesWords(Uint8Array.of(1, 2)))
    const cases: Array<[string, number[][]]> = [
      ["p", [P, P, S, D]],
      ["s", [P, S, S, D]],
      ["d", [P, S, D, D]],
      ["h", [P, S, H, H]],
      ["x", [P, S, D, x, x]],
      ["c", [P, S, D, c, c]],
      ["9", [P, S, D, f9, f9]],
      ["m", [P, S, D, m, m]],
    ]
    for (const [letter, fields] of cases)
      expect(failure(writeInvoice("lnbc", TS, fields))).toEqual({
        reason: "duplicate",
        path: `tagged.${letter}`,
      })
    // r and f may repeat.
    const hop = bytesWords(new Uint8Array(51).fill(3))
    const inv = decodeBolt11(
      simple([field("r", hop), field("r", hop), field("f", [17, ...bytesWords(HASH.subarray(0, 20))])]),
    )
    expect(inv.routeHints.length).toBe(2)
    expect(inv.fallbacks.length).toBe(1)
  })

  it("fixed lengths: p, s, h (52 words) and n (53) fail with another length, or are skipped on request", () => {
    const short = (letter: string, n: number) => field(letter, new Array<number>(n).fill(0))
    for (const [letter, len] of [
      ["p", 51],
      ["p", 53],
      ["s", 51],
      ["h", 53],
      ["n", 52],
      ["n", 54],
    ] as const) {
      const invoice = writeInvoice("lnbc", TS, [P, S, D, short(letter, len)])
      expect(failure(invoice)).toEqual({ reason: "schema", path: `tagged.${letter}` })
      // Skipped as if absent: the rest decodes (the h one is ignored, so d alone stays).
      const inv = decodeBolt11(invoice, { wrongLengthFields: "skip" })
      expect(inv.paymentHash).toBe(HASH_HEX)
      expect(inv.paymentSecret).toBe(SECRET_HEX)
      expect(inv.description).toBe("coffee")
    }
    // Skipping the only s leaves none.
    expect(failure(writeInvoice("lnbc", TS, [P, short("s", 50), D]), { wrongLengthFields: "skip" })).toEqual({
      reason: "schema",
      path: "tagged.s",
    })
  })

  it("padding bits must be zero", () => {
    const p = [...bytesWords(HASH)]
    p[51] = p[51]! | 1 // 260 bits hold 256: the last 4 are padding
    expect(failure(writeInvoice("lnbc", TS, [field("p", p), S, D]))).toEqual({
      reason: "schema",
      path: "tagged.p",
    })
    const d = bytesWords(utf8("ab")) // 16 bits in 4 words: 4 padding bits
    d[3] = d[3]! | 1
    expect(failure(writeInvoice("lnbc", TS, [P, S, field("d", d)]))).toEqual({
      reason: "schema",
      path: "tagged.d",
    })
    const n = bytesWords(secp256k1.getPublicKey(PRIV, true))
    n[52] = n[52]! | 1
    expect(failure(writeInvoice("lnbc", TS, [P, S, D, field("n", n)]))).toEqual({
      reason: "schema",
      path: "tagged.n",
    })
  })

  it("x, c and 9 must be minimally encoded", () => {
    expect(decodeBolt11(simple([field("x", uintWords(3600 * 24))])).expirySeconds).toBe(86400)
    expect(decodeBolt11(simple([field("c", uintWords(144))])).minFinalCltvExpiry).toBe(144)
    expect(failure(simple([field("x", [0, ...uintWords(60)])]))).toEqual({
      reason: "schema",
      path: "tagged.x",
    })
    expect(failure(simple([field("c", [0, 1])]))).toEqual({ reason: "schema", path: "tagged.c" })
    expect(failure(simple([field("9", [0, ...featureWords([8])])]))).toEqual({
      reason: "schema",
      path: "tagged.9",
    })
    // Longer than 10 words (>= 2^50) is refused, 10 words is read exactly.
    expect(failure(simple([field("x", [1, ...new Array<number>(10).fill(0)])]))).toEqual({
      reason: "schema",
      path: "tagged.x",
    })
    const big = 2 ** 50 - 1
    const inv = decodeBolt11(simple([field("x", uintWords(big))]))
    expect(inv.expirySeconds).toBe(big)
    expect(inv.expiresAt).toBe(TS + big)
  })

  it("features: odd unknown bits are kept, even unknown bits fail, known even bits pass", () => {
    expect(decodeBolt11(simple([field("9", featureWords([8, 14, 101, 255]))])).features).toEqual([
      8, 14, 101, 255,
    ])
    for (const bit of [8, 14, 16, 24, 36, 48])
      expect(decodeBolt11(simple([field("9", featureWords([bit]))])).features).toEqual([bit])
    for (const bit of [0, 2, 10, 12, 100, 254])
      expect(failure(simple([field("9", featureWords([bit, 9]))]))).toEqual({
        reason: "schema",
        path: "tagged.9",
      })
  })

  it("d must be UTF-8; its text is kept exactly (a leading byte-order mark included)", () => {
    for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]])
      expect(
        failure(writeInvoice("lnbc", TS, [P, S, field("d", bytesWords(Uint8Array.from(bytes)))])),
      ).toEqual({
        reason: "schema",
        path: "tagged.d",
      })
    for (const text of ["\uFEFF", "\uFEFFhello", "nul\u0000inside", "ナンセンス", "😀"])
      expect(
        decodeBolt11(writeInvoice("lnbc", TS, [P, S, field("d", bytesWords(utf8(text)))])).description,
      ).toBe(text)
  })

  it("f: versions 0-18 with valid programs are read, 19-31 skipped, bad layouts refused", () => {
    const f = (version: number, program: Uint8Array) => field("f", [version, ...bytesWords(program)])
    const inv = decodeBolt11(
      simple([
        f(19, new Uint8Array(3)),
        f(0, HASH),
        f(31, new Uint8Array(0)),
        f(16, HASH.subarray(0, 2)),
        f(18, HASH.subarray(0, 20)),
      ]),
    )
    expect(inv.fallbacks).toEqual([
      { version: 0, program: HASH_HEX },
      { version: 16, program: "abab" },
      { version: 18, program: "ab".repeat(20) },
    ])
    for (const bad of [
      field("f", []),
      f(0, HASH.subarray(0, 21)),
      f(17, HASH.subarray(0, 21)),
      f(18, HASH.subarray(0, 19)),
      f(1, HASH.subarray(0, 1)),
      f(1, new Uint8Array(41)),
    ])
      expect(failure(simple([bad]))).toEqual({ reason: "schema", path: "tagged.f" })
  })

  it("r: whole 51-byte hops only", () => {
    for (const n of [0, 50, 52, 101])
      expect(failure(simple([field("r", bytesWords(new Uint8Array(n)))]))).toEqual({
        reason: "schema",
        path: "tagged.r",
      })
    const hops = decodeBolt11(simple([field("r", bytesWords(new Uint8Array(153).fill(0xff)))])).routeHints
    expect(hops).toEqual([
      new Array(3).fill({
        pubkey: "ff".repeat(33),
        shortChannelId: "16777215x16777215x65535",
        feeBaseMsat: 4294967295n,
        feeProportionalMillionths: 4294967295,
        cltvExpiryDelta: 65535,
      }),
    ])
  })

  it("m: payment metadata as hex, empty allowed", () => {
    expect(decodeBolt11(simple([field("m", bytesWords(Uint8Array.of(1, 0xfa, 0xfa, 0xf0)))])).metadata).toBe(
      "01fafaf0",
    )
    expect(decodeBolt11(simple([field("m", [])])).metadata).toBe("")
    expect(decodeBolt11(simple()).metadata).toBeUndefined()
  })

  it("unknown field types are skipped, even long ones", () => {
    const base = decodeBolt11(simple())
    for (const t of [0, 2, 4, 7, 8, 31])
      expect(decodeBolt11(simple([field(t, new Array<number>(1023).fill(31))]))).toStrictEqual(base)
  })

  it("framing: short data and fields running into the signature (schema, data)", () => {
    // Fewer words than timestamp + signature.
    const tooShort = bech32.encode("lnbc", new Array<number>(110).fill(0), false)
    expect(failure(tooShort)).toEqual({ reason: "schema", path: "data" })
    // A header cut short, and a length beyond the signature: written without the writer's framing.
    expect(failure(writeInvoice("lnbc", TS, [P, S, D, [1, 0]]))).toEqual({ reason: "schema", path: "data" })
    expect(failure(writeInvoice("lnbc", TS, [P, S, D, [1, 0, 5, 0, 0]]))).toEqual({
      reason: "schema",
      path: "data",
    })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Text-level rules and limits
// ---------------------------------------------------------------------------------------------------------

describe("text and limits", () => {
  it("bech32 text rules", () => {
    const inv = simple()
    expect(failure(inv.slice(0, -1) + (inv.endsWith("q") ? "p" : "q"))).toEqual({
      reason: "bech32",
      path: "checksum",
    })
    expect(failure("lnbc1qqqqq")).toEqual({ reason: "bech32", path: "checksum" })
    expect(failure(inv.replace("lnbc", "lnbc "))).toEqual({ reason: "bech32", path: "input" })
    expect(failure(`${inv}\n`)).toEqual({ reason: "bech32", path: "input" })
    // "lightning:lnbc…" is printable and has a 1: its prefix is "lightning:lnbc10u", so the checksum fails.
    expect(failure(`lightning:${inv}`)).toEqual({ reason: "bech32", path: "checksum" })
    expect(failure(inv.replace(/q/, "é"))).toEqual({ reason: "bech32", path: "input" })
    expect(failure(`${inv.slice(0, -7)}b${inv.slice(-6)}`)).toEqual({ reason: "bech32", path: "input" })
    expect(failure("")).toEqual({ reason: "bech32", path: "input" })
    expect(failure("1qqqqqqqqq")).toEqual({ reason: "bech32", path: "input" })
    for (const notText of [42, null, undefined, {}, ["lnbc"]])
      expect(failure(notText as unknown as string)).toEqual({ reason: "bech32", path: "input" })
  })

  it("maxLength: longer than the limit is too-large, before anything else is read", () => {
    const inv = simple()
    expect(decodeBolt11(inv, { maxLength: inv.length }).paymentHash).toBe(HASH_HEX)
    expect(failure(inv, { maxLength: inv.length - 1 })).toEqual({ reason: "too-large", path: "input" })
    expect(failure("x".repeat(BOLT11_DEFAULT_MAX_LENGTH + 1))).toEqual({ reason: "too-large", path: "input" })
    expect(failure("é".repeat(BOLT11_DEFAULT_MAX_LENGTH))).toEqual({ reason: "bech32", path: "input" })
    // An invoice longer than the default is refused by default and read with a larger limit.
    const unknown = new Array<number>(1023).fill(1)
    const long = simple(new Array(12).fill(field(0, unknown)))
    expect(long.length).toBeGreaterThan(BOLT11_DEFAULT_MAX_LENGTH)
    expect(failure(long)).toEqual({ reason: "too-large", path: "input" })
    expect(decodeBolt11(long, { maxLength: long.length }).paymentHash).toBe(HASH_HEX)
  })

  it("a limit option that is not a non-negative integer is refused, never taken as no limit", () => {
    const inv = simple()
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, 2 ** 60]) {
      expect(failure(inv, { maxLength: bad })).toEqual({ reason: "limit", path: "options.maxLength" })
      expect(failure(inv, { maxTaggedFields: bad })).toEqual({
        reason: "limit",
        path: "options.maxTaggedFields",
      })
    }
    expect(failure("x".repeat(BOLT11_DEFAULT_MAX_LENGTH + 1), { maxLength: Number.NaN })).toEqual({
      reason: "limit",
      path: "options.maxLength",
    })
  })

  test.prop([fc.integer({ min: 3, max: 40 }), fc.integer({ min: 0, max: 3 })], { numRuns: 30 })(
    "maxTaggedFields: one field more than the limit is a limit error (path tagged)",
    (count, cut) => {
      const extra = new Array(count - 3).fill(field(0, [1, 2]))
      const inv = simple(extra)
      expect(decodeBolt11(inv, { maxTaggedFields: count }).paymentHash).toBe(HASH_HEX)
      expect(decodeBolt11(inv, { maxTaggedFields: count + cut }).paymentHash).toBe(HASH_HEX)
      // (A negative limit is a bad option, refused as such: see the test above.)
      const under = Math.max(0, count - 1 - cut)
      expect(failure(inv, { maxTaggedFields: under })).toEqual({ reason: "limit", path: "tagged" })
    },
  )

  it("maxTaggedFields default", () => {
    const at = simple(new Array(BOLT11_DEFAULT_MAX_TAGGED_FIELDS - 3).fill(field(0, [])))
    expect(decodeBolt11(at).paymentHash).toBe(HASH_HEX)
    const over = simple(new Array(BOLT11_DEFAULT_MAX_TAGGED_FIELDS - 2).fill(field(0, [])))
    expect(failure(over)).toEqual({ reason: "limit", path: "tagged" })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Hostile input: only DecodeErrors
// ---------------------------------------------------------------------------------------------------------

const someValid = [
  ...valid.filter((x) => x.expected.invalid_by_default === undefined).map((x) => x.invoice),
  simple(),
  simple([field("n", bytesWords(secp256k1.getPublicKey(PRIV, true)))]),
]
const bech32Chars = [...CHARSET]

describe("hostile input never throws anything but a DecodeError", () => {
  test.prop(
    [
      fc.constantFrom(...someValid),
      fc.nat(),
      fc.oneof(
        fc.constantFrom(...bech32Chars, "1", "b", "i", "o", "Q", " ", "é", "\u0000"),
        fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
      ),
    ],
    { numRuns: 600 },
  )("one character changed", (invoice, at, c) => {
    const i = at % invoice.length
    if (invoice[i] === c) return
    const changed = invoice.slice(0, i) + c + invoice.slice(i + 1)
    const r = attempt(changed)
    if (r instanceof DecodeError) {
      expectNoSecrets(r, changed, [])
    } else {
      // bech32 detects any single substitution; only a case change of a letter keeps the same invoice.
      expect(changed.toLowerCase()).toBe(invoice.toLowerCase())
    }
  })

  test.prop([fc.constantFrom(...someValid), fc.nat(), fc.integer({ min: 1, max: 8 })], { numRuns: 500 })(
    "a slice cut out, or the text truncated",
    (invoice, at, len) => {
      const i = at % invoice.length
      // A DecodeError, or (bech32 lets a "q" before a final "p" go) a decode: never an untyped throw.
      for (const cut of [invoice.slice(0, i) + invoice.slice(i + len), invoice.slice(0, i)]) {
        const r = attempt(cut)
        if (r instanceof DecodeError) expectNoSecrets(r, cut, [])
        else expect(r.paymentHash).toMatch(/^[0-9a-f]{64}$/)
      }
    },
  )

  test.prop([fc.string({ unit: "binary", maxLength: 300 })], { numRuns: 1000 })("random text", (s) => {
    expect(attempt(s)).toBeInstanceOf(DecodeError)
  })

  test.prop([fc.string({ unit: fc.constantFrom(...bech32Chars, "1", "l", "n"), maxLength: 400 })], {
    numRuns: 1000,
  })("random text over the bech32 alphabet", (s) => {
    expect(attempt(`lnbc${s}`)).toBeInstanceOf(DecodeError)
  })

  test.prop(
    [
      fc.constantFrom(
        "lnbc",
        "lntb",
        "lnbcrt",
        "lnsb",
        "lntbs",
        "lnbc1",
        "lnbc25m",
        "lnbc10p",
        "lnbc0",
        "lnx",
        "ln",
        "xy",
      ),
      fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 700 }),
    ],
    { numRuns: 1000 },
  )("random bech32 data with a valid checksum", (hrp, words) => {
    const r = attempt(bech32.encode(hrp, words, false))
    if (!(r instanceof DecodeError)) expect(r.paymentHash).toMatch(/^[0-9a-f]{64}$/)
  })

  // Random tagged fields (any type, any length, any content), correctly signed: the field parsers see it all.
  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.tuple(
            fc.integer({ min: 0, max: 31 }),
            fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 120 }),
          ),
          fc.tuple(
            fc.constantFrom(1, 16, 23),
            fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 52, maxLength: 52 }),
          ),
          fc.tuple(
            fc.constant(19),
            fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 53, maxLength: 53 }),
          ),
        ),
        { maxLength: 12 },
      ),
      fc.boolean(),
      fc.constantFrom<"fail" | "skip">("fail", "skip"),
    ],
    { numRuns: 400 },
  )("signed invoices with random fields", (fields, withRequired, wrongLengthFields) => {
    const all = [...(withRequired ? [P, S, D] : []), ...fields.map(([t, w]) => field(t, w))]
    const invoice = writeInvoice("lnbc", TS, all)
    const r = attempt(invoice, { wrongLengthFields })
    if (r instanceof DecodeError) expectNoSecrets(r, invoice, [HASH_HEX, SECRET_HEX])
    else {
      expect(r.paymentHash).toMatch(/^[0-9a-f]{64}$/)
      expect(r.payeePubkey).toMatch(/^0[23][0-9a-f]{64}$/)
    }
  })
})

// ---------------------------------------------------------------------------------------------------------
// Secret hygiene
// ---------------------------------------------------------------------------------------------------------

describe("errors name no invoice text, payment hash or secret", () => {
  it("for every invalid example and many built failures", () => {
    const hashHexes = [
      HASH_HEX,
      SECRET_HEX,
      "0001020304050607080900010203040506070809000102030405060708090102",
      "11".repeat(32),
    ]
    const failing: Array<[string, Bolt11DecodeOptions | undefined]> = [
      ...invalid.map((x) => [x.invoice, undefined] as [string, undefined]),
      ...valid.map((x) => [x.invoice, { maxLength: 100 }] as [string, Bolt11DecodeOptions]),
      ...valid.map((x) => [x.invoice, { maxTaggedFields: 1 }] as [string, Bolt11DecodeOptions]),
      [writeInvoice("lnbc", TS, [P, S, D, D]), undefined],
      [writeInvoice("lnbc", TS, [P, P, S, D]), undefined],
      [writeInvoice("lnbc", TS, [P, S, S, D]), undefined],
      [writeInvoice("lnbc", TS, [P, S]), undefined],
      [writeInvoice("lnbc", TS, [P, D]), undefined],
      [writeInvoice("lnbc", TS, [P, S, D, field("9", featureWords([10]))]), undefined],
      [writeInvoice("lnbc", TS, [P, S, field("d", [31, 31])]), undefined],
      [
        writeInvoice("lnbc", TS, [
          P,
          S,
          D,
          field("n", bytesWords(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true))),
        ]),
        undefined,
      ],
      [writeInvoice("lnbc", TS, [P, S, D, field("p", bytesWords(HASH).slice(1))]), undefined],
      [writeInvoice("lnbc0", TS, [P, S, D]), undefined],
      [writeInvoice("lnzz", TS, [P, S, D]), undefined],
      [simple().toUpperCase().replace("LNBC", "lnbc"), undefined],
      [simple().slice(0, -1) + "x", undefined],
    ]
    const reasons = new Set<string>()
    for (const [invoice, options] of failing) {
      const e = decodeError(() => decodeBolt11(invoice, options))
      reasons.add(e.reason)
      expectNoSecrets(e, invoice, hashHexes)
      // No cause chained from a library that might quote the input.
      expect((e as { cause?: unknown }).cause).toBeUndefined()
    }
    expect([...reasons].sort()).toEqual([
      "amount",
      "bech32",
      "duplicate",
      "limit",
      "prefix",
      "schema",
      "signature",
      "too-large",
    ])
  })
})

// ---------------------------------------------------------------------------------------------------------
// Expiry and amounts in satoshis
// ---------------------------------------------------------------------------------------------------------

describe("isBolt11Expired", () => {
  it("x = 60: valid until timestamp + 59, expired from timestamp + 60", () => {
    const inv = decodeBolt11(valid[1]!.invoice)
    expect(inv.expirySeconds).toBe(60)
    expect(inv.expiresAt).toBe(1496314658 + 60)
    expect(isBolt11Expired(inv, 1496314658)).toBe(false)
    expect(isBolt11Expired(inv, 1496314658 + 59)).toBe(false)
    expect(isBolt11Expired(inv, 1496314658 + 60)).toBe(true)
    expect(isBolt11Expired(inv, 1496314658 + 61)).toBe(true)
  })

  it("no x field: 3600 seconds", () => {
    const inv = decodeBolt11(valid[0]!.invoice)
    expect(BOLT11_DEFAULT_EXPIRY_SECONDS).toBe(3600)
    expect(inv.expirySeconds).toBe(3600)
    expect(isBolt11Expired(inv, 1496314658 + 3599)).toBe(false)
    expect(isBolt11Expired(inv, 1496314658 + 3600)).toBe(true)
  })

  it("x = 0 (empty field): expired at its own timestamp", () => {
    const inv = decodeBolt11(simple([field("x", [])]))
    expect(inv.expirySeconds).toBe(0)
    expect(isBolt11Expired(inv, TS - 1)).toBe(false)
    expect(isBolt11Expired(inv, TS)).toBe(true)
  })

  test.prop(
    [
      fc.integer({ min: 0, max: 2 ** 35 - 1 }),
      fc.option(fc.integer({ min: 1, max: 2 ** 40 }), { nil: undefined }),
      fc.integer({ min: -5, max: 5 }),
    ],
    {
      numRuns: 100,
    },
  )("expired exactly from timestamp + expiry on", (ts, expiry, delta) => {
    const inv = decodeBolt11(
      writeInvoice("lnbc", ts, [P, S, D, ...(expiry === undefined ? [] : [field("x", uintWords(expiry))])]),
    )
    const end = ts + (expiry ?? 3600)
    expect(inv.expiresAt).toBe(end)
    expect(isBolt11Expired(inv, end + delta)).toBe(delta >= 0)
  })
})

describe("bolt11AmountSat", () => {
  it("whole satoshis convert exactly; no amount is undefined", () => {
    expect(bolt11AmountSat(decodeBolt11(valid[1]!.invoice))).toBe(250_000n)
    expect(bolt11AmountSat({ amountMsat: BOLT11_MAX_AMOUNT_MSAT })).toBe(2_100_000_000_000_000n)
    expect(bolt11AmountSat({ amountMsat: 1000n })).toBe(1n)
    expect(bolt11AmountSat(decodeBolt11(valid[0]!.invoice))).toBeUndefined()
    expect(Effect.runSync(bolt11AmountSatEffect({ amountMsat: 5000n }))).toBe(5n)
    expect(Effect.runSync(bolt11AmountSatEffect({ amountMsat: undefined }))).toBeUndefined()
  })

  it("sub-satoshi amounts are refused (AmountError not-integer), never rounded", () => {
    const pico = decodeBolt11(valid.find((x) => x.invoice.startsWith("lnbc9678785340p"))!.invoice)
    expect(pico.amountMsat).toBe(967_878_534n)
    for (const inv of [
      pico,
      { amountMsat: 1n },
      { amountMsat: 999n },
      { amountMsat: 1001n },
      { amountMsat: 1500n },
    ]) {
      let thrown: unknown
      try {
        bolt11AmountSat(inv)
      } catch (e) {
        thrown = e
      }
      expect(thrown).toBeInstanceOf(AmountError)
      expect((thrown as AmountError).reason).toBe("not-integer")
      const e = Effect.runSync(Effect.flip(bolt11AmountSatEffect(inv)))
      expect(e).toBeInstanceOf(AmountError)
      expect(e.reason).toBe("not-integer")
    }
  })

  test.prop([
    fc.oneof(
      fc.bigInt({ min: 0n, max: BOLT11_MAX_AMOUNT_MSAT / 1000n }).map((sat) => sat * 1000n),
      fc.bigInt({ min: 0n, max: BOLT11_MAX_AMOUNT_MSAT }),
    ),
  ])("whole satoshis exactly, anything else refused", (msat) => {
    const r = Effect.runSync(Effect.result(bolt11AmountSatEffect({ amountMsat: msat })))
    if (msat % 1000n === 0n) {
      expect(r._tag).toBe("Success")
      expect(r._tag === "Success" ? r.success : undefined).toBe(msat / 1000n)
    } else {
      const e = r._tag === "Failure" ? r.failure : undefined
      expect(e).toBeInstanceOf(AmountError)
      expect(e?.reason).toBe("not-integer")
    }
  })
})

describe("decodeBolt11Effect", () => {
  it("succeeds with the invoice and fails with the typed DecodeError", () => {
    expect(Effect.runSync(decodeBolt11Effect(simple())).paymentSecret).toBe(SECRET_HEX)
    const e = Effect.runSync(Effect.flip(decodeBolt11Effect(simple(), { maxLength: 10 })))
    expect(e).toBeInstanceOf(DecodeError)
    expect(e._tag).toBe("DecodeError")
    expect([e.reason, e.path]).toEqual(["too-large", "input"])
    const exit = Effect.runSyncExit(decodeBolt11Effect("lnbc1"))
    expect(exit._tag).toBe("Failure")
  })
})
