import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesToHex } from "../../src/crypto/bytes.js"
import {
  createHtlcSecret,
  htlcHash,
  htlcWitness,
  signHtlcProof,
  verifyHtlcPreimage,
  withHtlcPreimage,
} from "../../src/crypto/htlc.js"
import { encodeSecret, parseWellKnownSecret } from "../../src/crypto/nut10.js"
import {
  checkSpendingConditions,
  parseSpendingConditions,
  parseWitness,
  type SignedOutput,
  type SpendContext,
  signP2pkProof,
  signSigAllSwap,
} from "../../src/crypto/p2pk.js"
import { publicKeyHex } from "../../src/crypto/schnorr.js"
import { isCorecashuError, type Proof } from "../../src/model/index.js"
import { expectTagged } from "../support/errors.js"
import { loadVector } from "../support/vectors.js"

const v = loadVector("14-htlc.json")
const NOW = 1_700_000_000

// biome-ignore lint/suspicious/noExplicitAny: vector JSON
const swapCtx = (req: any, now: number): SpendContext => ({
  // biome-ignore lint/suspicious/noExplicitAny: vector JSON
  inputs: req.inputs.map((p: any) => ({ ...p, amount: BigInt(p.amount) })),
  // biome-ignore lint/suspicious/noExplicitAny: vector JSON
  outputs: req.outputs.map((o: any) => ({ ...o, amount: BigInt(o.amount) })),
  now,
})

const outcome = (ctx: SpendContext): "valid" | "invalid" => {
  const err = checkSpendingConditions(ctx)
  if (err === undefined) return "valid"
  expect(err._tag).toBe("VerificationError")
  return "invalid"
}

const key = (n: number): Uint8Array => {
  const k = new Uint8Array(32)
  k[0] = 0x17
  k[31] = n
  return k
}

describe("NUT-14 hash lock example", () => {
  const ex = v.hash_lock_example
  it("SHA256(preimage) is the example's data", () => {
    expect(htlcHash(ex.witness_preimage)).toBe(ex.secret_data)
    expect(verifyHtlcPreimage(ex.secret_data, ex.witness_preimage)).toBe(ex.expected === "match")
    expect(verifyHtlcPreimage(ex.secret_data.toUpperCase(), ex.witness_preimage)).toBe(true)
  })

  it("wrong, non-lowercase or non-32-byte preimages do not match", () => {
    expect(verifyHtlcPreimage(ex.secret_data, "00".repeat(32))).toBe(false)
    expect(verifyHtlcPreimage(ex.secret_data, ex.witness_preimage.slice(2))).toBe(false)
    expect(verifyHtlcPreimage(ex.secret_data, ex.witness_preimage + "00")).toBe(false)
    const upper = "AB".repeat(32)
    expect(verifyHtlcPreimage(htlcHash(upper.toLowerCase()), upper)).toBe(false)
    expect(verifyHtlcPreimage("zz", ex.witness_preimage)).toBe(false)
  })

  it("htlcHash needs exactly 32 bytes", () => {
    expectTagged(() => htlcHash(new Uint8Array(31)), "DecodeError")
    expectTagged(() => htlcHash("0011"), "DecodeError")
    expectTagged(() => htlcHash("xyz"), "DecodeError")
  })
})

describe("HTLC SIG_ALL swap vectors (from tests/11-test.md)", () => {
  const vectors = v.htlc_swap_vectors_from_tests_11.vectors
  vectors.forEach((vec: { description: string; expected: string; swap_request: unknown }, i: number) => {
    it(`#${i} ${vec.expected}: ${vec.description}`, () => {
      expect(outcome(swapCtx(vec.swap_request, NOW))).toBe(vec.expected)
    })
  })

  it("the same vectors appear in 11-p2pk.json", () => {
    const inP2pk = JSON.stringify(loadVector("11-p2pk.json").sig_all.swap_vectors)
    for (const vec of vectors) expect(inP2pk).toContain(JSON.stringify(vec.swap_request))
  })

  it("#1 (refund-key signature, locktime 4854185133) becomes valid once the lock expires", () => {
    const vec = vectors[1]
    expect(outcome(swapCtx(vec.swap_request, 4854185132))).toBe("invalid")
    expect(outcome(swapCtx(vec.swap_request, 4854185133))).toBe("valid")
  })

  it("#2 (2-of-2 refund signatures, locktime 1) is only valid after the lock", () => {
    const vec = vectors[2]
    expect(outcome(swapCtx(vec.swap_request, 0))).toBe("invalid")
    expect(outcome(swapCtx(vec.swap_request, 1))).toBe("valid")
  })

  it("#0 needs its preimage", () => {
    const ctx = swapCtx(vectors[0].swap_request, NOW)
    const first = ctx.inputs[0]!
    const sigs = parseWitness(first.witness!).signatures
    const noPreimage = { ...first, witness: JSON.stringify({ signatures: sigs }) }
    expect(outcome({ ...ctx, inputs: [noPreimage] })).toBe("invalid")
    const wrong = { ...first, witness: htlcWitness("00".repeat(32), sigs) }
    expect(outcome({ ...ctx, inputs: [wrong] })).toBe("invalid")
  })
})

describe("HTLC pathways", () => {
  const preimage = "5a".repeat(32)
  const hash = htlcHash(preimage)
  const receiver = key(1)
  const sender = key(2)
  const mk = (secret: string): Proof => ({
    amount: 8n,
    id: "009a1f293253e41e",
    secret,
    C: publicKeyHex(key(3)),
  })

  it("without pubkeys the preimage alone spends", () => {
    const proof = mk(createHtlcSecret(hash))
    expect(outcome({ inputs: [withHtlcPreimage(proof, preimage)], now: NOW })).toBe("valid")
    expect(outcome({ inputs: [proof], now: NOW })).toBe("invalid")
    expect(outcome({ inputs: [withHtlcPreimage(proof, "00".repeat(32))], now: NOW })).toBe("invalid")
    const uppercase = { ...proof, witness: JSON.stringify({ preimage: preimage.toUpperCase() }) }
    expect(outcome({ inputs: [uppercase], now: NOW })).toBe("invalid")
  })

  it("with pubkeys the receiver needs the preimage and the signatures", () => {
    const proof = mk(createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver)] }))
    expect(outcome({ inputs: [signHtlcProof(proof, preimage, receiver)], now: NOW })).toBe("valid")
    expect(outcome({ inputs: [signHtlcProof(proof, preimage)], now: NOW })).toBe("invalid")
    expect(outcome({ inputs: [signP2pkProof(proof, receiver)], now: NOW })).toBe("invalid")
    expect(outcome({ inputs: [signHtlcProof(proof, preimage, sender)], now: NOW })).toBe("invalid")
  })

  it("the sender's refund pathway opens at the locktime and needs no preimage", () => {
    const proof = mk(
      createHtlcSecret(hash, {
        pubkeys: [publicKeyHex(receiver)],
        locktime: 500,
        refund: [publicKeyHex(sender)],
      }),
    )
    const refund = signP2pkProof(proof, sender)
    expect(outcome({ inputs: [refund], now: 499 })).toBe("invalid")
    expect(outcome({ inputs: [refund], now: 500 })).toBe("valid")
    // The receiver pathway stays open after the locktime.
    expect(outcome({ inputs: [signHtlcProof(proof, preimage, receiver)], now: 10_000 })).toBe("valid")
  })

  it("an expired HTLC without refund keys is anyone-can-spend; without locktime it is hash-only forever", () => {
    const expiring = mk(createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver)], locktime: 500 }))
    expect(outcome({ inputs: [expiring], now: 500 })).toBe("valid")
    expect(outcome({ inputs: [expiring], now: 499 })).toBe("invalid")
    const permanent = mk(createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver)] }))
    expect(outcome({ inputs: [permanent], now: Number.MAX_SAFE_INTEGER })).toBe("invalid")
  })

  it("n_sigs applies to the receivers", () => {
    const r2 = key(4)
    const proof = mk(
      createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver), publicKeyHex(r2)], nSigs: 2 }),
    )
    const one = signHtlcProof(proof, preimage, receiver)
    expect(outcome({ inputs: [one], now: NOW })).toBe("invalid")
    const two = signP2pkProof(one, r2)
    expect(parseWitness(two.witness!).preimage).toBe(preimage)
    expect(outcome({ inputs: [two], now: NOW })).toBe("valid")
  })

  it("SIG_ALL HTLCs read the preimage from the first input", () => {
    const secret = createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver)], sigflag: "SIG_ALL" })
    const outputs: SignedOutput[] = [{ amount: 8n, B_: publicKeyHex(key(9)) }]
    const inputs = [withHtlcPreimage(mk(secret), preimage), { ...mk(secret), C: publicKeyHex(key(8)) }]
    const signed = signSigAllSwap(inputs, outputs, receiver)
    expect(outcome({ inputs: signed, outputs, now: NOW })).toBe("valid")
    expect(parseWitness(signed[0]!.witness!).preimage).toBe(preimage)
  })

  it("withHtlcPreimage keeps existing signatures", () => {
    const proof = mk(createHtlcSecret(hash, { pubkeys: [publicKeyHex(receiver)] }))
    const signed = signP2pkProof(proof, receiver)
    const both = withHtlcPreimage(signed, preimage)
    expect(parseWitness(both.witness!)).toEqual({
      preimage,
      signatures: parseWitness(signed.witness!).signatures,
    })
    expect(outcome({ inputs: [both], now: NOW })).toBe("valid")
  })
})

describe("malformed HTLC secrets", () => {
  const hash = htlcHash("01".repeat(32))
  const htlc = (data: string, tags: string[][] = []): string =>
    encodeSecret({ kind: "HTLC", nonce: "n", data, tags: tags as never })

  it("data must be a 32-byte hash; n_sigs needs pubkeys", () => {
    expectTagged(() => parseSpendingConditions(parseWellKnownSecret(htlc("abc"))), "DecodeError")
    expectTagged(
      () => parseSpendingConditions(parseWellKnownSecret(htlc(publicKeyHex(key(1))))),
      "DecodeError",
    )
    expectTagged(
      () => parseSpendingConditions(parseWellKnownSecret(htlc(hash, [["n_sigs", "1"]]))),
      "DecodeError",
    )
    expect(parseSpendingConditions(parseWellKnownSecret(htlc(hash.toUpperCase()))).data).toBe(hash)
  })

  it("creation refuses what would not parse", () => {
    expectTagged(() => createHtlcSecret("abc"), "DecodeError")
    expectTagged(() => createHtlcSecret(hash, { nSigs: 2 }), "DecodeError")
    expectTagged(() => createHtlcSecret(hash, { refund: [publicKeyHex(key(1))] }), "DecodeError")
  })

  it("the secret's data is stored lowercase", () => {
    expect(parseWellKnownSecret(createHtlcSecret(hash.toUpperCase())).data).toBe(hash)
  })
})

describe("properties", () => {
  it("a random preimage opens its own hash and no mutated preimage does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 31 }), (pre, i) => {
        const hash = htlcHash(pre)
        expect(verifyHtlcPreimage(hash, bytesToHex(pre))).toBe(true)
        const mutated = Uint8Array.from(pre)
        mutated[i] = mutated[i]! ^ 1
        expect(verifyHtlcPreimage(hash, bytesToHex(mutated))).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it("arbitrary preimage witnesses end in a tagged error or a clean decision", () => {
    const proof: Proof = {
      amount: 1n,
      id: "009a1f293253e41e",
      secret: createHtlcSecret(htlcHash("01".repeat(32))),
      C: publicKeyHex(key(5)),
    }
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), (pre) => {
        const witness = JSON.stringify({ preimage: pre })
        const err = checkSpendingConditions({ inputs: [{ ...proof, witness }], now: NOW })
        if (err !== undefined) expect(isCorecashuError(err)).toBe(true)
      }),
      { numRuns: 200 },
    )
  })
})
