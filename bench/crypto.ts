/**
 * Crypto core benchmark: our NUT-00/NUT-12 paths on every available secp256k1 backend against
 * `@cashu/cashu-ts` 4.8, in one process, interleaved (every round runs each side once per op, in rotating order,
 * after a warm-up round), reporting throughput and the ratio ours / cashu-ts.
 *
 * Ops and the cashu-ts function used as the peer for each (its closest public equivalent):
 * - `hashToCurve` — `hashToCurve(bytes)` vs ours `hashToCurve(bytes)`.
 * - `createOutput` (random secret → hash_to_curve → blind) — `OutputData.createSingleRandomData(1, id)` vs ours
 *   `createOutputs([{ amount, id }])`.
 * - `unblind` — `unblindSignature(C_, r, K)` on pre-decoded points vs ours `unblind(C_, r, K)` on bytes + a
 *   prepared key.
 * - `dleqVerify` (blind signature) — `verifyDLEQProof({e, s}, B_, C_, A)` on pre-decoded points vs ours
 *   `verifyBlindSignatureDleq(A, B_, C_, {e, s})`.
 * - `proofDleqVerify` (proof with r) — `hasValidDleq(proof, keyset)` vs ours `verifyProofDleq(proof, A)`.
 * - `walletPath` (64 outputs): create 64 outputs, then — after an untimed mint signs them with DLEQ — verify
 *   each DLEQ and unblind each. cashu-ts: 64 × `OutputData.createSingleRandomData` then 64 × `toProof`
 *   (which verifies the DLEQ and unblinds); ours: `createOutputs` then `unblindSignatures`. Throughput is
 *   outputs per second of wallet time.
 *
 * Run alone: `node --import tsx bench/crypto.ts [--quick] [--json]`.
 */
import { pathToFileURL } from "node:url"
import {
  Amount,
  hashToCurve as ctsHashToCurve,
  hasValidDleq as ctsHasValidDleq,
  pointFromHex as ctsPoint,
  unblindSignature as ctsUnblind,
  verifyDLEQProof as ctsVerifyDleq,
  OutputData,
} from "@cashu/cashu-ts"
import { sha256 } from "@noble/hashes/sha2.js"
import { availableBackends, getBackend, loadBackend } from "../src/crypto/backend.js"
import type { BackendName } from "../src/crypto/backends/types.js"
import {
  createOutputs,
  type PreparedOutput,
  signBlinded,
  unblind,
  unblindSignatures,
  verifyProof,
} from "../src/crypto/bdhke.js"
import { bytesToHex, hexToBytes } from "../src/crypto/bytes.js"
import { createDleq, verifyBlindSignatureDleq, verifyProofDleq } from "../src/crypto/dleq.js"
import { hashToCurve } from "../src/crypto/hash-to-curve.js"
import { keyPoint } from "../src/crypto/keys.js"
import type { BlindSignature, Proof } from "../src/model/index.js"

const OPS = ["hashToCurve", "createOutput", "unblind", "dleqVerify", "proofDleqVerify", "walletPath"] as const
type Op = (typeof OPS)[number]
type Side = BackendName | "cashuTs"

const WALLET_OUTPUTS = 64
const KEYSET_ID = "00bd0bb9f5c3a3d4"

/** A deterministic 64-key test mint (amounts 2^0 … 2^63), signing with our default backend. */
const makeMint = () => {
  const priv = new Map<bigint, Uint8Array>()
  const keys = new Map<bigint, string>()
  const ctsKeys: Record<string, string> = {}
  const signer = getBackend()
  for (let i = 0; i < 64; i++) {
    const amount = 1n << BigInt(i)
    const k = sha256(new TextEncoder().encode(`corecashu bench mint key ${i}`))
    priv.set(amount, k)
    const K = bytesToHex(signer.mulBase(k))
    keys.set(amount, K)
    ctsKeys[amount.toString()] = K
  }
  const sign = (amount: bigint, B_: string): BlindSignature => {
    const k = priv.get(amount)!
    const C_ = bytesToHex(signBlinded(B_, k, signer))
    return { amount, id: KEYSET_ID, C_, dleq: createDleq(k, B_, C_, signer) }
  }
  return { priv, keys, ctsKeyset: { id: KEYSET_ID, keys: ctsKeys }, sign }
}

const amountAt = (i: number): bigint => 1n << BigInt(i % 64)

/** Runs `f` repeatedly for at least `ms` (and at least once); returns [iterations, elapsed ms]. */
const timed = (ms: number, f: () => void): [number, number] => {
  const start = performance.now()
  let n = 0
  let now = start
  do {
    f()
    n++
    now = performance.now()
  } while (now - start < ms)
  return [n, now - start]
}

/** Prints to stderr with --json (so stdout stays machine-readable), else to stdout. */
let log: (line: string) => void = (line) => console.log(line)

/** Runs the suite; returns `walletPath` and `dleqVerify` (ratios of the default backend) plus per-side detail. */
export async function runCryptoBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const backends = availableBackends()
  const defaultName = getBackend().name
  const mint = makeMint()
  const sides: Side[] = ["cashuTs", ...backends]

  // Shared fixtures: one signed output, as a blind signature and as a proof with DLEQ.
  const A1 = mint.keys.get(1n)!
  const [fixtureOut] = createOutputs([{ amount: 1n, id: KEYSET_ID }])
  const fixtureSig = mint.sign(1n, fixtureOut!.B_)
  const [fixtureProof] = unblindSignatures([fixtureOut!], [fixtureSig], { id: KEYSET_ID, keys: mint.keys })
  if (!verifyProof(fixtureProof!.secret, fixtureProof!.C, mint.priv.get(1n)!))
    throw new Error("bench fixture broken")
  const proof = fixtureProof!
  const ctsProof = { ...proof, amount: Amount.from(1), dleq: proof.dleq! }
  const fx = {
    A: keyPoint(A1),
    B_: hexToBytes(fixtureOut!.B_),
    C_: hexToBytes(fixtureSig.C_),
    r: fixtureOut!.r,
    e: hexToBytes(fixtureSig.dleq!.e),
    s: hexToBytes(fixtureSig.dleq!.s),
  }
  const ctsFx = {
    A: ctsPoint(A1),
    B_: ctsPoint(fixtureOut!.B_),
    C_: ctsPoint(fixtureSig.C_),
    r: BigInt("0x" + bytesToHex(fixtureOut!.r)),
    dleq: { e: fx.e, s: fx.s },
  }
  const messages = Array.from({ length: 256 }, (_, i) => sha256(new Uint8Array([i, 7])))
  let mi = 0
  const nextMessage = () => messages[mi++ & 255]!

  const micro: Record<Exclude<Op, "walletPath">, (side: Side) => () => void> = {
    hashToCurve: (side) => {
      if (side === "cashuTs") return () => void ctsHashToCurve(nextMessage())
      const b = loadBackend(side)!
      return () => void hashToCurve(nextMessage(), b)
    },
    createOutput: (side) => {
      if (side === "cashuTs") return () => void OutputData.createSingleRandomData(1, KEYSET_ID)
      const b = loadBackend(side)!
      const spec = [{ amount: 1n, id: KEYSET_ID }]
      return () => void createOutputs(spec, { backend: b })
    },
    unblind: (side) => {
      if (side === "cashuTs") return () => void ctsUnblind(ctsFx.C_, ctsFx.r, ctsFx.A)
      const b = loadBackend(side)!
      return () => void unblind(fx.C_, fx.r, fx.A, b)
    },
    dleqVerify: (side) => {
      if (side === "cashuTs")
        return () => {
          if (!ctsVerifyDleq(ctsFx.dleq, ctsFx.B_, ctsFx.C_, ctsFx.A)) throw new Error("cashu-ts DLEQ failed")
        }
      const b = loadBackend(side)!
      const dleq = { e: fx.e, s: fx.s }
      return () => {
        if (!verifyBlindSignatureDleq(fx.A, fx.B_, fx.C_, dleq, b)) throw new Error("DLEQ failed")
      }
    },
    proofDleqVerify: (side) => {
      if (side === "cashuTs")
        return () => {
          if (!ctsHasValidDleq(ctsProof, mint.ctsKeyset)) throw new Error("cashu-ts proof DLEQ failed")
        }
      const b = loadBackend(side)!
      return () => {
        if (!verifyProofDleq(proof, A1, b)) throw new Error("proof DLEQ failed")
      }
    },
  }

  // One wallet-path run: returns wallet seconds spent (mint signing excluded).
  const keyset = { id: KEYSET_ID, keys: mint.keys }
  const specs = Array.from({ length: WALLET_OUTPUTS }, (_, i) => ({ amount: amountAt(i), id: KEYSET_ID }))
  const walletRun = (side: Side): number => {
    if (side === "cashuTs") {
      const t0 = performance.now()
      const outs = specs.map((s) => OutputData.createSingleRandomData(s.amount, KEYSET_ID))
      const t1 = performance.now()
      const sigs = outs.map((o) => {
        const sig = mint.sign(BigInt(o.blindedMessage.amount.toString()), o.blindedMessage.B_)
        return { id: sig.id, amount: Amount.from(sig.amount), C_: sig.C_, dleq: sig.dleq! }
      })
      const t2 = performance.now()
      const proofs = outs.map((o, i) => o.toProof(sigs[i]!, mint.ctsKeyset))
      const t3 = performance.now()
      if (proofs.length !== WALLET_OUTPUTS) throw new Error("cashu-ts wallet path incomplete")
      return t1 - t0 + (t3 - t2)
    }
    const backend = loadBackend(side)!
    const t0 = performance.now()
    const outs: PreparedOutput[] = createOutputs(specs, { backend })
    const t1 = performance.now()
    const sigs = outs.map((o) => mint.sign(o.amount, o.B_))
    const t2 = performance.now()
    const proofs: Proof[] = unblindSignatures(outs, sigs, keyset, { backend })
    const t3 = performance.now()
    if (proofs.length !== WALLET_OUTPUTS) throw new Error("wallet path incomplete")
    return t1 - t0 + (t3 - t2)
  }

  const slice = opts.quick ? 100 : 500
  const rounds = opts.quick ? 3 : 6 // the first is warm-up
  const walletRounds = opts.quick ? 3 : 6
  const count = new Map<string, number>()
  const time = new Map<string, number>()
  const add = (k: string, n: number, ms: number) => {
    count.set(k, (count.get(k) ?? 0) + n)
    time.set(k, (time.get(k) ?? 0) + ms)
  }

  const fns = new Map<string, () => void>()
  for (const op of Object.keys(micro) as Array<keyof typeof micro>)
    for (const side of sides) fns.set(`${side}.${op}`, micro[op](side))

  // --quick must finish in 25 s even on a loaded machine: after the first timed round, stop at the deadline.
  const deadline = performance.now() + (opts.quick ? 14_000 : Number.POSITIVE_INFINITY)
  for (let round = 0; round < Math.max(rounds, walletRounds); round++) {
    if (round >= 2 && performance.now() > deadline) break
    const warm = round === 0
    // Rotate the order each round so no side always runs first (or right after the slowest one).
    const order = sides.map((_, i) => sides[(i + round) % sides.length]!)
    if (round < rounds)
      for (const op of Object.keys(micro))
        for (const side of order) {
          const [n, ms] = timed(warm ? slice / 4 : slice, fns.get(`${side}.${op}`)!)
          if (!warm) add(`${side}.${op}`, n, ms)
        }
    if (round < walletRounds)
      for (const side of order) {
        // Our warm-up runs twice: the noble ladder (noble, and wasm's secret-scalar path) builds a key's table
        // on its second use, a one-off per key that a long-lived wallet does not pay per batch.
        if (warm && side !== "cashuTs") walletRun(side)
        const ms = walletRun(side)
        if (!warm) add(`${side}.walletPath`, WALLET_OUTPUTS, ms)
      }
  }

  const rate = (side: Side, op: Op): number =>
    (count.get(`${side}.${op}`)! / time.get(`${side}.${op}`)!) * 1000
  const result: Record<string, number> = {}
  for (const op of OPS) result[`cashuTs.${op}.opsPerSec`] = rate("cashuTs", op)
  for (const b of backends)
    for (const op of OPS) {
      result[`${b}.${op}.opsPerSec`] = rate(b, op)
      result[`${b}.${op}.ratio`] = rate(b, op) / rate("cashuTs", op)
    }
  result.walletPath = result[`${defaultName}.walletPath.ratio`]!
  result.dleqVerify = result[`${defaultName}.dleqVerify.ratio`]!

  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1)).padStart(9)
  log(
    `crypto bench (${opts.quick ? "quick" : "full"}), default backend: ${defaultName}; ops/s and × cashu-ts 4.8`,
  )
  log(
    `${"op".padEnd(16)}${"cashu-ts".padStart(9)}${backends.map((b) => `${b.padStart(9)}${"×".padStart(7)}`).join("")}`,
  )
  for (const op of OPS)
    log(
      `${op.padEnd(16)}${fmt(rate("cashuTs", op))}${backends
        .map((b) => `${fmt(rate(b, op))}${(rate(b, op) / rate("cashuTs", op)).toFixed(1).padStart(7)}`)
        .join("")}`,
    )
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const json = args.includes("--json")
  if (json) log = (line) => console.error(line)
  const started = performance.now()
  const result = await runCryptoBench({ quick: args.includes("--quick") })
  log(`${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (json) console.log(JSON.stringify(result))
}
