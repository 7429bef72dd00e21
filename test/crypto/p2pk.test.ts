import { schnorr } from "@noble/curves/secp256k1.js"
import fc from "fast-check"
import { describe, expect, it, vi } from "vitest"
import { getBackend } from "../../src/crypto/backend.js"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { encodeSecret, parseWellKnownSecret } from "../../src/crypto/nut10.js"
import {
  assertSigAllInputs,
  checkSpendingConditions,
  createP2pkSecret,
  encodeWitness,
  MAX_LOCK_KEYS,
  MAX_WITNESS_SIGNATURES,
  parseSpendingConditions,
  parseWitness,
  type SignedOutput,
  type SpendContext,
  sigAllMessage,
  signP2pkProof,
  signSigAllMelt,
  signSigAllSwap,
  verifyP2pkSpend,
  verifySpendingConditions,
} from "../../src/crypto/p2pk.js"
import { publicKeyHex, sha256Utf8, signDigest } from "../../src/crypto/schnorr.js"
import { isCorecashuError, type Proof } from "../../src/model/index.js"
import { expectTagged } from "../support/errors.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("11-p2pk.json")

/** "The mint's current time" of the vectors: after locktimes 1 and 21, before 4854185133 and 99999999999. */
const NOW = 1_700_000_000

// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const proofOf = (p: any): Proof => ({ ...p, amount: BigInt(p.amount) })
// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const outputOf = (o: any): SignedOutput & { id: string } => ({ ...o, amount: BigInt(o.amount) })

const outcome = (ctx: SpendContext): "valid" | "invalid" => {
  const err = checkSpendingConditions(ctx)
  if (err === undefined) return "valid"
  expect(err._tag).toBe("VerificationError")
  return "invalid"
}

const single = (p: unknown, now: number | bigint = NOW): SpendContext => ({ inputs: [proofOf(p)], now })

// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const swapCtx = (req: any, now: number | bigint = NOW): SpendContext => ({
  inputs: req.inputs.map(proofOf),
  outputs: req.outputs.map(outputOf),
  now,
})

// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const meltCtx = (req: any, now: number | bigint = NOW): SpendContext => ({
  ...swapCtx(req, now),
  quoteId: req.quote,
})

const key = (seed: number): Uint8Array => {
  const k = new Uint8Array(32)
  k[31] = seed
  k[0] = 0x42
  return k
}

describe("NUT-11 multisig vectors (locktime 21, n_sigs 2, two refund keys)", () => {
  const base = v.multisig.base_proof.proof

  it("parses the base proof's conditions", () => {
    const c = parseSpendingConditions(parseWellKnownSecret(base.secret))
    expect(c.kind).toBe("P2PK")
    expect(c.sigflag).toBe("SIG_INPUTS")
    expect(c.locktime).toBe(21n)
    expect(c.mainKeys).toHaveLength(3)
    expect(c.nSigs).toBe(2)
    expect(c.refundKeys).toHaveLength(2)
    expect(c.nSigsRefund).toBe(1)
  })

  for (const vec of v.multisig.vectors) {
    it(`${vec.name}: ${vec.expected}`, () => {
      expect(vec.proof.secret).toBe(base.secret)
      expect(outcome(single(vec.proof))).toBe(vec.expected)
    })
  }

  it("locktime multisig spends on the main pathway whatever the time", () => {
    const vec = v.multisig.vectors.find((x: { pathway: string }) => x.pathway === "locktime_multisig")
    for (const now of [0, 20, 21, NOW]) expect(outcome(single(vec.proof, now))).toBe("valid")
  })

  it("refund multisig only spends once the lock has expired (now ≥ locktime)", () => {
    const vec = v.multisig.vectors.find((x: { pathway: string }) => x.pathway === "refund_multisig")
    expect(outcome(single(vec.proof, 0))).toBe("invalid")
    expect(outcome(single(vec.proof, 20))).toBe("invalid")
    expect(outcome(single(vec.proof, 21))).toBe("valid")
    expect(outcome(single(vec.proof, 21n))).toBe("valid")
  })
})

describe("NUT-11 SIG_INPUTS vectors", () => {
  v.sig_inputs.vectors.forEach(
    (vec: { description: string; expected: string; proof: unknown }, i: number) => {
      it(`#${i} ${vec.expected}: ${vec.description}`, () => {
        expect(outcome(single(vec.proof))).toBe(vec.expected)
        if (vec.expected === "valid") expect(() => verifyP2pkSpend(proofOf(vec.proof), NOW)).not.toThrow()
      })
    },
  )

  it("the refund vectors flip on the other side of their locktime", () => {
    const [, , , , past, future] = v.sig_inputs.vectors
    expect(parseSpendingConditions(parseWellKnownSecret(past.proof.secret)).locktime).toBe(21n)
    expect(outcome(single(past.proof, 20))).toBe("invalid")
    expect(parseSpendingConditions(parseWellKnownSecret(future.proof.secret)).locktime).toBe(99999999999n)
    expect(outcome(single(future.proof, 99999999998))).toBe("invalid")
    expect(outcome(single(future.proof, 99999999999))).toBe("valid")
  })

  it("one signature repeated does not make 2-of-n: a witness listing a signature twice is malformed", () => {
    const failing = v.sig_inputs.vectors[3].proof
    const sig = parseWitness(failing.witness).signatures[0]!
    const doubled = { ...failing, witness: encodeWitness({ signatures: [sig, sig] }) }
    expectTagged(() => verifySpendingConditions(single(doubled)), "DecodeError", "duplicate")
    const upper = { ...failing, witness: encodeWitness({ signatures: [sig, sig.toUpperCase()] }) }
    expectTagged(() => verifySpendingConditions(single(upper)), "DecodeError", "duplicate")
  })

  it("the 11.md inline example is valid", () => {
    const ex = v.inline_examples_11md
    expect(outcome(single(ex.proof))).toBe(ex.expected)
  })
})

describe("NUT-11 SIG_ALL vectors", () => {
  it("swap msg_to_sign and its SHA-256", () => {
    const m = v.sig_all.swap_msg_to_sign
    const msg = sigAllMessage(m.swap_request.inputs.map(proofOf), m.swap_request.outputs.map(outputOf))
    expect(msg).toBe(m.msg_to_sign)
    expect(bytesToHex(sha256Utf8(msg))).toBe(m.msg_sha256_hex)
  })

  it("melt msg_to_sign (with the quote id) and its SHA-256", () => {
    const m = v.sig_all.melt_msg_to_sign
    const r = m.melt_request
    const msg = sigAllMessage(r.inputs.map(proofOf), r.outputs.map(outputOf), r.quote)
    expect(msg).toBe(m.msg_to_sign)
    expect(bytesToHex(sha256Utf8(msg))).toBe(m.msg_sha256_hex)
  })

  v.sig_all.swap_vectors.forEach(
    (vec: { description: string; expected: string; swap_request: unknown }, i: number) => {
      it(`swap #${i} ${vec.expected}: ${vec.description}`, () => {
        expect(outcome(swapCtx(vec.swap_request))).toBe(vec.expected)
      })
    },
  )

  v.sig_all.melt_vectors.forEach(
    (vec: { description: string; expected: string; melt_request: unknown }, i: number) => {
      it(`melt #${i} ${vec.expected}: ${vec.description}`, () => {
        expect(outcome(meltCtx(vec.melt_request))).toBe(vec.expected)
      })
    },
  )

  it("the refund SIG_ALL swap (locktime 1) is invalid before its locktime", () => {
    const vec = v.sig_all.swap_vectors[3]
    expect(vec.swap_request.inputs[0].secret).toContain('["locktime","1"]')
    expect(outcome(swapCtx(vec.swap_request, 0))).toBe("invalid")
    expect(outcome(swapCtx(vec.swap_request, 1))).toBe("valid")
  })

  it("the SIG_ALL signature commits to outputs, amounts and quote id", () => {
    const swap = v.sig_all.swap_vectors[0].swap_request
    const ctx = swapCtx(swap)
    const out = ctx.outputs![0]!
    expect(outcome({ ...ctx, outputs: [{ ...out, amount: out.amount + 1n }] })).toBe("invalid")
    expect(outcome({ ...ctx, outputs: [] })).toBe("invalid")
    expect(outcome({ ...ctx, quoteId: "q" })).toBe("invalid")
    const melt = meltCtx(v.sig_all.melt_vectors[0].melt_request)
    expect(outcome({ ...melt, quoteId: melt.quoteId + "x" })).toBe("invalid")
    const { quoteId: _, ...withoutQuote } = melt
    expect(outcome(withoutQuote)).toBe("invalid")
  })

  it("mismatching tags across inputs are rejected as a SIG_ALL violation", () => {
    const vec = v.sig_all.swap_vectors[1]
    const err = checkSpendingConditions(swapCtx(vec.swap_request))
    expect(err?._tag).toBe("VerificationError")
    expect((err as { check?: string }).check).toBe("spending-condition")
  })

  it("SIG_INPUTS signatures do not satisfy SIG_ALL", () => {
    const sk = key(7)
    const secret = createP2pkSecret(publicKeyHex(sk), { sigflag: "SIG_ALL" })
    const proof: Proof = { amount: 1n, id: "00bfa73302d12ffd", secret, C: publicKeyHex(key(8)) }
    const sig = bytesToHex(schnorr.sign(sha256Utf8(secret), sk))
    const ctx = {
      inputs: [{ ...proof, witness: encodeWitness({ signatures: [sig] }) }],
      outputs: [],
      now: NOW,
    }
    expect(outcome(ctx)).toBe("invalid")
  })
})

describe("signing", () => {
  const sk = key(1)
  const pub = publicKeyHex(sk)
  const C = publicKeyHex(key(99))
  const outputs: SignedOutput[] = [
    { amount: 2n, B_: publicKeyHex(key(50)) },
    { amount: 8n, B_: publicKeyHex(key(51)) },
  ]

  it("signP2pkProof makes a SIG_INPUTS proof spendable and merges into an existing witness", () => {
    const sk2 = key(2)
    const secret = createP2pkSecret(pub, { pubkeys: [publicKeyHex(sk2)], nSigs: 2 })
    const proof: Proof = { amount: 4n, id: "009a1f293253e41e", secret, C }
    const once = signP2pkProof(proof, sk)
    expect(outcome({ inputs: [once], now: NOW })).toBe("invalid")
    const twice = signP2pkProof(once, sk2)
    expect(parseWitness(twice.witness!).signatures).toHaveLength(2)
    expect(outcome({ inputs: [twice], now: NOW })).toBe("valid")
    // A second signature by the same key is a different string (random aux) but still one signer.
    const sameKeyTwice = signP2pkProof(once, sk)
    expect(parseWitness(sameKeyTwice.witness!).signatures).toHaveLength(2)
    expect(outcome({ inputs: [sameKeyTwice], now: NOW })).toBe("invalid")
  })

  it("signSigAllSwap signs only the first input and covers every input and output", () => {
    const secret = createP2pkSecret(pub, { sigflag: "SIG_ALL" })
    const inputs: Proof[] = [
      { amount: 2n, id: "00bfa73302d12ffd", secret, C },
      { amount: 8n, id: "00bfa73302d12ffd", secret, C: publicKeyHex(key(98)) },
    ]
    const signed = signSigAllSwap(inputs, outputs, sk)
    expect(signed[0]!.witness).toBeDefined()
    expect(signed[1]!.witness).toBeUndefined()
    expect(outcome({ inputs: signed, outputs, now: NOW })).toBe("valid")
    expect(outcome({ inputs: signed, outputs: [...outputs].reverse(), now: NOW })).toBe("invalid")
    expect(outcome({ inputs: [signed[0]!], outputs, now: NOW })).toBe("invalid")
    // A witness on a later input is ignored.
    const moved = [
      { ...signed[0]!, witness: undefined },
      { ...signed[1]!, witness: signed[0]!.witness },
    ]
    expect(outcome({ inputs: moved as Proof[], outputs, now: NOW })).toBe("invalid")
  })

  it("signSigAllMelt includes the quote id", () => {
    const secret = createP2pkSecret(pub, { sigflag: "SIG_ALL" })
    const inputs: Proof[] = [{ amount: 2n, id: "00bfa73302d12ffd", secret, C }]
    const signed = signSigAllMelt(inputs, outputs, "quote-1", sk)
    expect(outcome({ inputs: signed, outputs, quoteId: "quote-1", now: NOW })).toBe("valid")
    expect(outcome({ inputs: signed, outputs, now: NOW })).toBe("invalid")
  })

  it("refuses to sign what cannot be spent that way", () => {
    const sigAll = createP2pkSecret(pub, { sigflag: "SIG_ALL" })
    const proof: Proof = { amount: 1n, id: "00bfa73302d12ffd", secret: sigAll, C }
    expectTagged(() => signP2pkProof(proof, sk), "VerificationError")
    expectTagged(() => verifyP2pkSpend(proof, NOW), "VerificationError")
    const other = { ...proof, secret: createP2pkSecret(publicKeyHex(key(3)), { sigflag: "SIG_ALL" }) }
    expectTagged(() => signSigAllSwap([proof, other], outputs, sk), "VerificationError")
    const plain = { ...proof, secret: "ab".repeat(32) }
    expectTagged(() => signSigAllSwap([proof, plain], outputs, sk), "VerificationError")
    expectTagged(() => assertSigAllInputs([plain]), "VerificationError")
    expectTagged(() => signP2pkProof(proof, new Uint8Array(32)), "VerificationError")
    const ordinary = { ...proof, secret: createP2pkSecret(pub) }
    expectTagged(() => signP2pkProof(ordinary, new Uint8Array(32)), "CryptoError", "invalid-scalar")
  })
})

describe("locktime pathways", () => {
  const owner = key(10)
  const refunder = key(11)
  const C = publicKeyHex(key(12))
  const mk = (secret: string): Proof => ({ amount: 1n, id: "009a1f293253e41e", secret, C })

  it("expired without refund keys: anyone can spend, no witness needed", () => {
    const proof = mk(createP2pkSecret(publicKeyHex(owner), { locktime: 100 }))
    expect(outcome({ inputs: [proof], now: 100 })).toBe("valid")
    expect(outcome({ inputs: [{ ...proof, witness: "garbage" }], now: 100 })).toBe("valid")
    expect(outcome({ inputs: [proof], now: 99 })).toBe("invalid")
    expect(outcome({ inputs: [signP2pkProof(proof, owner)], now: 99 })).toBe("valid")
  })

  it("expired with refund keys: main OR refund pathway, never a mix", () => {
    const owner2 = key(13)
    const secret = createP2pkSecret(publicKeyHex(owner), {
      pubkeys: [publicKeyHex(owner2)],
      nSigs: 2,
      locktime: 100n,
      refund: [publicKeyHex(refunder), publicKeyHex(key(14))],
      nSigsRefund: 2,
    })
    const proof = mk(secret)
    expect(outcome({ inputs: [proof], now: 1000 })).toBe("invalid")
    const mixed = signP2pkProof(signP2pkProof(proof, owner), refunder)
    expect(outcome({ inputs: [mixed], now: 1000 })).toBe("invalid")
    const refund = signP2pkProof(signP2pkProof(proof, refunder), key(14))
    expect(outcome({ inputs: [refund], now: 99 })).toBe("invalid")
    expect(outcome({ inputs: [refund], now: 100 })).toBe("valid")
    const main = signP2pkProof(signP2pkProof(proof, owner), owner2)
    expect(outcome({ inputs: [main], now: 99 })).toBe("valid")
    expect(outcome({ inputs: [main], now: 1000 })).toBe("valid")
  })

  it("an absent, non-numeric, zero or negative locktime is a permanent lock", () => {
    for (const lt of ["abc", "0", "-5", "1.5", "1e3", " 5"]) {
      const secret = encodeSecret({
        kind: "P2PK",
        nonce: "n",
        data: publicKeyHex(owner),
        tags: [
          ["locktime", lt],
          ["refund", publicKeyHex(refunder)],
        ],
      })
      const cond = parseSpendingConditions(parseWellKnownSecret(secret))
      expect(cond.locktime).toBeUndefined()
      const proof = signP2pkProof(mk(secret), refunder)
      expect(outcome({ inputs: [proof], now: Number.MAX_SAFE_INTEGER })).toBe("invalid")
      expect(outcome({ inputs: [signP2pkProof(mk(secret), owner)], now: 0 })).toBe("valid")
    }
  })

  it("`now` must be integer seconds", () => {
    const proof = mk(createP2pkSecret(publicKeyHex(owner)))
    expectTagged(() => verifySpendingConditions({ inputs: [proof], now: 1.5 }), "DecodeError")
    expectTagged(() => verifySpendingConditions({ inputs: [proof], now: Number.NaN }), "DecodeError")
  })
})

describe("malformed P2PK secrets are rejected as unspendable", () => {
  const a = publicKeyHex(key(20))
  const b = publicKeyHex(key(21))
  const secretWith = (tags: string[][], data = a): string =>
    encodeSecret({ kind: "P2PK", nonce: "n", data, tags: tags as never })
  const malformed = (tags: string[][], data = a, reason?: string): void => {
    expectTagged(
      () => parseSpendingConditions(parseWellKnownSecret(secretWith(tags, data))),
      "DecodeError",
      reason,
    )
    const proof: Proof = { amount: 1n, id: "009a1f293253e41e", secret: secretWith(tags, data), C: b }
    expectTagged(() => verifySpendingConditions({ inputs: [proof], now: NOW }), "DecodeError", reason)
  }
  const flip = (k: string): string => (k.startsWith("02") ? "03" : "02") + k.slice(2)

  it("a known tag appearing twice", () => {
    malformed(
      [
        ["sigflag", "SIG_INPUTS"],
        ["sigflag", "SIG_INPUTS"],
      ],
      a,
      "duplicate",
    )
    malformed(
      [
        ["locktime", "1"],
        ["locktime", "2"],
      ],
      a,
      "duplicate",
    )
    malformed(
      [
        ["pubkeys", b],
        ["pubkeys", b],
      ],
      a,
      "duplicate",
    )
  })

  it("n_sigs / n_sigs_refund not positive or above the keys of their pathway", () => {
    malformed([["n_sigs", "0"]])
    malformed([["n_sigs", "2"]])
    malformed([
      ["pubkeys", b],
      ["n_sigs", "3"],
    ])
    malformed([["n_sigs", "abc"]])
    malformed([["n_sigs", "1", "2"]])
    malformed([["n_sigs"]])
    malformed([["n_sigs_refund", "1"]])
    malformed([
      ["locktime", "5"],
      ["refund", b],
      ["n_sigs_refund", "2"],
    ])
    const ok = parseSpendingConditions(
      parseWellKnownSecret(
        secretWith([
          ["pubkeys", b],
          ["n_sigs", "2"],
        ]),
      ),
    )
    expect(ok.nSigs).toBe(2)
  })

  it("the same key twice in one pathway, compared by x-coordinate (11.md examples)", () => {
    malformed([["pubkeys", flip(a)]], a, "duplicate")
    malformed([["pubkeys", a.toUpperCase()]], a, "duplicate")
    malformed(
      [
        ["locktime", "5"],
        ["refund", b, flip(b)],
      ],
      a,
      "duplicate",
    )
    // Allowed in both pathways.
    const both = parseSpendingConditions(
      parseWellKnownSecret(
        secretWith([
          ["locktime", "5"],
          ["refund", flip(a)],
        ]),
      ),
    )
    expect(both.refundKeys).toEqual([flip(a)])
  })

  it("an unknown sigflag or a key that is not a compressed point", () => {
    malformed([["sigflag", "SIG_FOO"]])
    malformed([["sigflag"]])
    malformed([], a.slice(2))
    malformed([], "04" + a.slice(2))
    malformed([], "02" + "ff".repeat(32))
    malformed([["pubkeys", "zz"]])
  })

  it("unknown tags are ignored", () => {
    const c = parseSpendingConditions(
      parseWellKnownSecret(
        secretWith([
          ["memo", "hi"],
          ["memo", "again"],
        ]),
      ),
    )
    expect(c.mainKeys).toEqual([a])
  })

  it("unknown kinds are not spendable here", () => {
    const proof: Proof = {
      amount: 1n,
      id: "009a1f293253e41e",
      secret: encodeSecret({ kind: "DLC", nonce: "n", data: "d" }),
      C: b,
    }
    expectTagged(() => verifySpendingConditions({ inputs: [proof], now: NOW }), "VerificationError")
    expectTagged(() => parseSpendingConditions(parseWellKnownSecret(proof.secret)), "DecodeError")
  })
})

describe("witness parsing", () => {
  const sk = key(30)
  const proof: Proof = {
    amount: 1n,
    id: "009a1f293253e41e",
    secret: createP2pkSecret(publicKeyHex(sk)),
    C: publicKeyHex(key(31)),
  }

  it("malformed witnesses are DecodeErrors", () => {
    for (const w of [
      "",
      "nope",
      "[]",
      "null",
      '"x"',
      '{"signatures":"x"}',
      '{"signatures":["zz"]}',
      '{"preimage":1}',
    ]) {
      expectTagged(
        () => verifySpendingConditions({ inputs: [{ ...proof, witness: w }], now: NOW }),
        "DecodeError",
      )
    }
    const many = encodeWitness({ signatures: Array.from({ length: 65 }, () => "00".repeat(64)) })
    expectTagged(() => parseWitness(many), "DecodeError", "limit")
    expectTagged(() => parseWitness(" ".repeat(16 * 1024 + 1)), "DecodeError", "too-large")
  })

  it("a missing witness or missing signatures is simply unsigned", () => {
    expect(outcome({ inputs: [proof], now: NOW })).toBe("invalid")
    expect(outcome({ inputs: [{ ...proof, witness: "{}" }], now: NOW })).toBe("invalid")
    expect(parseWitness('{"signatures":null}').signatures).toEqual([])
  })

  it("plain secrets need no witness", () => {
    const plain = { ...proof, secret: "cd".repeat(32) }
    expect(outcome({ inputs: [plain, plain], now: NOW })).toBe("valid")
    expectTagged(() => verifyP2pkSpend(plain, NOW), "VerificationError")
  })
})

describe("properties", () => {
  const secretKey = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .filter((k) => k.some((b) => b !== 0) && k[0]! < 0xff)
  const nonce = fc.uint8Array({ minLength: 8, maxLength: 32 }).map(bytesToHex)

  it("sign → verify holds; a changed signature, secret or key never verifies", () => {
    fc.assert(
      fc.property(secretKey, secretKey, nonce, fc.nat({ max: 127 }), (sk, other, n, pos) => {
        fc.pre(bytesToHex(sk) !== bytesToHex(other))
        const secret = createP2pkSecret(publicKeyHex(sk), { nonce: n })
        const proof: Proof = { amount: 1n, id: "009a1f293253e41e", secret, C: publicKeyHex(other) }
        const signed = signP2pkProof(proof, sk)
        expect(() => verifyP2pkSpend(signed, NOW)).not.toThrow()
        const sig = parseWitness(signed.witness!).signatures[0]!
        const c = sig[pos]!
        const mutatedSig = sig.slice(0, pos) + (c === "0" ? "1" : "0") + sig.slice(pos + 1)
        const bad = { ...signed, witness: encodeWitness({ signatures: [mutatedSig] }) }
        expectTagged(() => verifyP2pkSpend(bad, NOW), "VerificationError")
        const otherSecret = createP2pkSecret(publicKeyHex(sk), { nonce: n + "00" })
        expectTagged(() => verifyP2pkSpend({ ...signed, secret: otherSecret }, NOW), "VerificationError")
        expectTagged(() => verifyP2pkSpend(signP2pkProof(proof, other), NOW), "VerificationError")
      }),
      { numRuns: 12 },
    )
  })

  it("arbitrary witnesses and secrets fail with a tagged error, never an untyped throw", () => {
    const sk = key(40)
    const base: Proof = {
      amount: 1n,
      id: "009a1f293253e41e",
      secret: createP2pkSecret(publicKeyHex(sk)),
      C: publicKeyHex(key(41)),
    }
    const witness = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
      fc
        .array(fc.string({ maxLength: 130 }), { maxLength: 3 })
        .map((signatures) => JSON.stringify({ signatures })),
    )
    const secret = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(["P2PK", j])),
      fc
        .array(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }), {
          maxLength: 4,
        })
        .map((tags) => JSON.stringify(["P2PK", { nonce: "n", data: publicKeyHex(sk), tags }])),
    )
    fc.assert(
      fc.property(secret, witness, (s, w) => {
        const err = checkSpendingConditions({ inputs: [{ ...base, secret: s, witness: w }], now: NOW })
        if (err !== undefined) expect(isCorecashuError(err)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

describe("bounded work under hostile witnesses (issue 10, item 8)", () => {
  /** Distinct valid private keys for up to 65535 signers. */
  const signer = (n: number): Uint8Array => {
    const k = new Uint8Array(32)
    k[0] = 0x24
    k[30] = n >> 8
    k[31] = n & 0xff
    return k
  }
  const pubs = (from: number, count: number): string[] =>
    Array.from({ length: count }, (_, i) => publicKeyHex(signer(from + i)))
  const C = publicKeyHex(key(77))
  const lockWith = (tags: string[][], data: string): Proof => ({
    amount: 1n,
    id: "009a1f293253e41e",
    secret: encodeSecret({ kind: "P2PK", nonce: "hostile", data, tags: tags as never }),
    C,
  })
  /** `count` signatures over the proof's secret by keys that are NOT in any lock below (seeds 5000+). */
  const junk = (proof: Proof, count: number): string[] =>
    Array.from({ length: count }, (_, i) => signDigest(sha256Utf8(proof.secret), signer(5000 + i)))
  const withSigs = (proof: Proof, signatures: string[]): Proof => ({
    ...proof,
    witness: encodeWitness({ signatures }),
  })

  /** Records every BIP340 check the verifier makes, as `signature:key` pairs. */
  const recordChecks = (): { pairs: string[]; restore: () => void } => {
    const backend = getBackend()
    const original = backend.verifySchnorr
    const pairs: string[] = []
    const spy = vi.spyOn(backend, "verifySchnorr").mockImplementation((sig, digest, x) => {
      pairs.push(`${bytesToHex(sig)}:${bytesToHex(x)}`)
      return original(sig, digest, x)
    })
    return { pairs, restore: () => spy.mockRestore() }
  }

  it("the 64-key, 64-signature proof of the issue is refused before any signature check", () => {
    const keys = pubs(1, 64)
    const proof = lockWith([["pubkeys", ...keys.slice(1)]], keys[0]!)
    const hostile = withSigs(proof, junk(proof, 64))
    const rec = recordChecks()
    try {
      expectTagged(() => verifySpendingConditions({ inputs: [hostile], now: NOW }), "DecodeError", "limit")
      const err = checkSpendingConditions({ inputs: [hostile], now: NOW })
      expect(err?._tag).toBe("DecodeError")
      expect(rec.pairs).toHaveLength(0)
    } finally {
      rec.restore()
    }
  })

  it("so is one main key with 63 expired refund keys (both pathways count towards the limit)", () => {
    const keys = pubs(100, 64)
    const proof = lockWith(
      [
        ["locktime", "1"],
        ["refund", ...keys.slice(1)],
      ],
      keys[0]!,
    )
    const hostile = withSigs(proof, junk(proof, 64))
    expectTagged(() => verifySpendingConditions({ inputs: [hostile], now: NOW }), "DecodeError", "limit")
    expectTagged(
      () => createP2pkSecret(keys[0]!, { locktime: 1, refund: keys.slice(1, 33) }),
      "DecodeError",
      "limit",
    )
    // 32 keys in all is still a lock.
    const ok = parseSpendingConditions(
      parseWellKnownSecret(createP2pkSecret(keys[0]!, { locktime: 1, refund: keys.slice(1, 32) })),
    )
    expect(ok.mainKeys.length + ok.refundKeys.length).toBe(MAX_LOCK_KEYS)
  })

  it("a witness with more than 32 signatures is malformed", () => {
    expect(MAX_WITNESS_SIGNATURES).toBe(32)
    const proof = lockWith([], publicKeyHex(signer(1)))
    expectTagged(() => parseWitness(encodeWitness({ signatures: junk(proof, 33) })), "DecodeError", "limit")
    expect(parseWitness(encodeWitness({ signatures: junk(proof, 32) })).signatures).toHaveLength(32)
  })

  it("at the limits, junk signatures cost at most one check per (signature, key) pair", () => {
    const keys = pubs(200, 32)
    const proof = lockWith([["pubkeys", ...keys.slice(1)]], keys[0]!)
    const hostile = withSigs(proof, junk(proof, 32))
    const rec = recordChecks()
    try {
      expectTagged(() => verifySpendingConditions({ inputs: [hostile], now: NOW }), "VerificationError")
      expect(rec.pairs.length).toBeLessThanOrEqual(32 * 32)
      expect(new Set(rec.pairs).size).toBe(rec.pairs.length)
    } finally {
      rec.restore()
    }
  })

  it("stops as soon as n_sigs is out of reach", () => {
    const keys = pubs(300, 32)
    const proof = lockWith(
      [
        ["pubkeys", ...keys.slice(1)],
        ["n_sigs", "32"],
      ],
      keys[0]!,
    )
    const rec = recordChecks()
    try {
      // 32 junk signatures for 32-of-32: the first fails against every key, then 32 are out of reach.
      expectTagged(
        () => verifySpendingConditions({ inputs: [withSigs(proof, junk(proof, 32))], now: NOW }),
        "VerificationError",
      )
      expect(rec.pairs.length).toBe(32)
      // Fewer signatures than n_sigs: nothing is checked at all.
      rec.pairs.length = 0
      expectTagged(
        () => verifySpendingConditions({ inputs: [withSigs(proof, junk(proof, 31))], now: NOW }),
        "VerificationError",
      )
      expect(rec.pairs).toHaveLength(0)
    } finally {
      rec.restore()
    }
  })

  it("stops as soon as n_sigs is reached, and signatures in key order cost one check each", () => {
    const seeds = Array.from({ length: 32 }, (_, i) => 400 + i)
    const keys = seeds.map((s) => publicKeyHex(signer(s)))
    const proof = lockWith(
      [
        ["pubkeys", ...keys.slice(1)],
        ["n_sigs", "32"],
      ],
      keys[0]!,
    )
    const sigs = seeds.map((s) => signDigest(sha256Utf8(proof.secret), signer(s)))
    const rec = recordChecks()
    try {
      expect(outcome({ inputs: [withSigs(proof, sigs)], now: NOW })).toBe("valid")
      expect(rec.pairs).toHaveLength(32)
      rec.pairs.length = 0
      // Any order still verifies, within keys × signatures checks.
      expect(outcome({ inputs: [withSigs(proof, [...sigs].reverse())], now: NOW })).toBe("valid")
      expect(rec.pairs.length).toBeLessThanOrEqual((32 * 33) / 2)
      rec.pairs.length = 0
      // 1-of-32 with every signer present: one check.
      const one = lockWith([["pubkeys", ...keys.slice(1)]], keys[0]!)
      const oneSigs = seeds.map((s) => signDigest(sha256Utf8(one.secret), signer(s)))
      expect(outcome({ inputs: [withSigs(one, oneSigs)], now: NOW })).toBe("valid")
      expect(rec.pairs).toHaveLength(1)
    } finally {
      rec.restore()
    }
  })

  it("a signature matched on the main pathway is not checked again for the refund pathway", () => {
    const [a, b, r] = [signer(600), signer(601), signer(602)]
    const proof = lockWith(
      [
        ["pubkeys", publicKeyHex(b)],
        ["n_sigs", "2"],
        ["locktime", "1"],
        ["refund", publicKeyHex(a), publicKeyHex(r)],
        ["n_sigs_refund", "2"],
      ],
      publicKeyHex(a),
    )
    const digest = sha256Utf8(proof.secret)
    const signed = withSigs(proof, [signDigest(digest, a), signDigest(digest, r)])
    const rec = recordChecks()
    try {
      // Main: a matches (1 check), r fails against b (1 check) → 1/2. Refund: a reused, r vs r (1 check).
      expect(outcome({ inputs: [signed], now: NOW })).toBe("valid")
      expect(rec.pairs).toHaveLength(3)
      expect(new Set(rec.pairs).size).toBe(3)
    } finally {
      rec.restore()
    }
  })
})
