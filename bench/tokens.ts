/**
 * Token codec benchmark: ours vs cashu-ts 4.8, in one process, interleaved round by round so both sides see
 * the same machine state (JIT, GC, other load).
 *
 * Workload: an 8-proof v4 token from one v2 keyset (ids written short by both encoders), each proof with a
 * 64-hex secret and a full DLEQ (`e`, `s`, `r`) — the shape a wallet sends. Measured: `cashuB` decode (both
 * sides resolve the short ids against the known keyset list, as a receiving wallet must), `cashuB` encode,
 * and `cashuA` (v3) decode of the same proofs.
 *
 * Returns throughput ratios ours/cashu-ts under `tokenDecode`, `tokenEncode`, `tokenDecodeV3`, plus our
 * absolute operations per second under `*.opsPerSec`. Run alone: `node --import tsx bench/tokens.ts [--quick]`.
 */
import { randomBytes } from "node:crypto"
import { pathToFileURL } from "node:url"
import { type Token as CtsToken, getDecodedToken, getEncodedToken } from "@cashu/cashu-ts"
import type { Token } from "../src/model/index.js"
import { decodeToken, encodeToken } from "../src/protocol/token.js"

const hex = (n: number): string => randomBytes(n).toString("hex")
const point = (): string => (randomBytes(1)[0]! & 1 ? "02" : "03") + hex(32)

const buildFixture = () => {
  const keysetId = "01" + hex(32)
  const amounts = [1n, 2n, 4n, 8n, 16n, 32n, 64n, 128n]
  const proofs = amounts.map((amount) => ({
    amount,
    id: keysetId,
    secret: hex(32),
    C: point(),
    dleq: { e: hex(32), s: hex(32), r: hex(32) },
  }))
  const ours: Token = {
    version: 4,
    entries: [{ mint: "https://mint.example.com", proofs }],
    unit: "sat",
    memo: "bench",
  }
  const theirs: CtsToken = {
    mint: "https://mint.example.com",
    unit: "sat",
    memo: "bench",
    proofs: proofs.map((p) => ({ ...p, amount: Number(p.amount) })) as unknown as CtsToken["proofs"],
  }
  // Both encoders shorten nothing on their own for ours; write the ids short like cashu-ts does, so both
  // decoders face the same string and the same resolution work.
  const shortOurs: Token = {
    ...ours,
    entries: [
      { mint: ours.entries[0]!.mint, proofs: proofs.map((p) => ({ ...p, id: keysetId.slice(0, 16) })) },
    ],
  }
  const v4 = encodeToken(shortOurs)
  const v3 = encodeToken({ ...ours, version: 3 }, { version: 3 })
  return { keysetId, ours, theirs, v4, v3 }
}

interface Pair {
  readonly name: string
  readonly ours: () => unknown
  readonly theirs: () => unknown
}

let sink = 0
const consume = (v: unknown): void => {
  sink = (sink + (typeof v === "string" ? v.length : v === undefined ? 0 : 1)) | 0
}

/** Operations per second of `f` over at least `ms` milliseconds. */
const throughput = (f: () => unknown, ms: number): number => {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  do {
    for (let k = 0; k < 64; k++) consume(f())
    n += 64
    elapsed = performance.now() - start
  } while (elapsed < ms)
  return (n / elapsed) * 1000
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Runs the token benchmark; `quick` keeps it under ~15 s. */
export async function runTokenBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const fx = buildFixture()
  const known = [fx.keysetId]
  // Sanity: both sides agree on what the strings hold before anything is timed.
  const mine = decodeToken(fx.v4, { keysetIds: known })
  const theirs = getDecodedToken(fx.v4, known)
  if (mine.entries[0]!.proofs.length !== theirs.proofs.length || theirs.proofs[0]!.id !== fx.keysetId)
    throw new Error("benchmark fixture does not round-trip")

  const pairs: Pair[] = [
    {
      name: "tokenDecode",
      ours: () => decodeToken(fx.v4, { keysetIds: known }),
      theirs: () => getDecodedToken(fx.v4, known),
    },
    { name: "tokenEncode", ours: () => encodeToken(fx.ours), theirs: () => getEncodedToken(fx.theirs) },
    { name: "tokenDecodeV3", ours: () => decodeToken(fx.v3), theirs: () => getDecodedToken(fx.v3, known) },
  ]
  const rounds = opts.quick ? 6 : 16
  const slice = opts.quick ? 150 : 400
  // Warm-up so neither side is measured while still interpreted.
  for (const p of pairs) {
    throughput(p.ours, opts.quick ? 100 : 300)
    throughput(p.theirs, opts.quick ? 100 : 300)
  }
  const out: Record<string, number> = {}
  for (const p of pairs) {
    const ratios: number[] = []
    const oursOps: number[] = []
    const theirsOps: number[] = []
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first so drift in machine load does not favour one.
      const a = r % 2 === 0 ? throughput(p.ours, slice) : 0
      const b = throughput(p.theirs, slice)
      const c = r % 2 === 1 ? throughput(p.ours, slice) : a
      ratios.push(c / b)
      oursOps.push(c)
      theirsOps.push(b)
    }
    out[p.name] = Number(median(ratios).toFixed(2))
    out[`${p.name}.opsPerSec`] = Math.round(median(oursOps))
    out[`${p.name}.cashuTsOpsPerSec`] = Math.round(median(theirsOps))
  }
  if (sink === 42) console.log("")
  return out
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes("--quick")
  const started = performance.now()
  const result = await runTokenBench({ quick })
  for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(30)} ${v}`)
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`)
}
