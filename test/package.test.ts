/**
 * What the published package holds: `npm run build` (`tsc -p tsconfig.build.json`) into a temp directory,
 * then `npm pack --json` over a copy of the package manifest with that build as its `dist`, so the tarball is
 * exactly what `npm publish` would ship from a clean build (a stale local `dist` plays no part).
 *
 * Nothing test- or demo-only may be in it: no demo, no reference-mint starter, no test support (the weak-KDF
 * vault options), no test files; and the shipped code must not import anything the package does not ship. Its
 * source maps resolve (the sources are inlined: `src/` is not shipped), its public declarations are the checked-in
 * API report (`api/corecashu.api.md`, `npm run api:update`), and the tarball installs into an empty project whose
 * plain-JavaScript script imports the three entry points, decodes a token, opens an engine and gets a tagged
 * `InvalidArgument` for every JS-wrong argument.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { apiReport, REPORT_PATH } from "../scripts/api-report.js"

const root = fileURLToPath(new URL("../", import.meta.url))

interface Packed {
  readonly dir: string
  readonly files: ReadonlyArray<string>
  /** The packed tarball (in `dir`). */
  readonly tarball: string
}

/** Builds into `<tmp>/dist`, packs the tarball there and returns it with the list of what it holds. */
const buildAndPack = (): Packed => {
  const dir = mkdtempSync(join(tmpdir(), "corecashu-pack-"))
  const tsc = join(root, "node_modules/typescript/bin/tsc")
  const build = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", join(dir, "dist")],
    {
      cwd: root,
      encoding: "utf8",
    },
  )
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`)
  for (const f of ["package.json", "README.md", "LICENSE"]) copyFileSync(join(root, f), join(dir, f))
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  })
  const [report] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>
  return { dir, files: report!.files.map((f) => f.path), tarball: join(dir, report!.filename) }
}

let packed: Packed

beforeAll(() => {
  packed = buildAndPack()
}, 120_000)

afterAll(() => {
  if (packed !== undefined) rmSync(packed.dir, { recursive: true, force: true })
})

/** Specifiers of static and dynamic relative imports in emitted JavaScript or declarations. */
const relativeImports = (code: string): string[] =>
  [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!)

describe("the published package", () => {
  it("ships the build, the manifest, the README and the licence, and nothing else", () => {
    expect(packed.files).toContain("package.json")
    expect(packed.files).toContain("LICENSE")
    expect(packed.files).toContain("dist/index.js")
    expect(packed.files).toContain("dist/index.d.ts")
    for (const f of packed.files)
      expect(f === "package.json" || f === "README.md" || f === "LICENSE" || f.startsWith("dist/")).toBe(true)
  })

  it("holds no demo, no reference-mint starter and no test code", () => {
    const offending = packed.files.filter((f) =>
      /(^|\/)(demo|real-mint|test|tests|support|bench|simulations)(\/|\.|$)|\.test\.|\.spec\./i.test(f),
    )
    expect(offending).toEqual([])
  })

  it("holds no test-only names in any shipped code", () => {
    const banned = ["INSECURE", "startRealMint", "MintStartFailure", "externalInvoice"]
    const hits: string[] = []
    for (const f of packed.files.filter((x) => x.startsWith("dist/"))) {
      const text = readFileSync(join(packed.dir, f), "utf8")
      for (const b of banned) if (text.includes(b)) hits.push(`${f}: ${b}`)
    }
    expect(hits).toEqual([])
  })

  it("imports nothing it does not ship", () => {
    const shipped = new Set(packed.files)
    const outside: string[] = []
    for (const f of packed.files) {
      if (!/\.(js|d\.ts)$/.test(f)) continue
      for (const spec of relativeImports(readFileSync(join(packed.dir, f), "utf8"))) {
        const target = normalize(join(dirname(f), spec))
        const candidates = f.endsWith(".d.ts") ? [target, target.replace(/\.js$/, ".d.ts")] : [target]
        if (!candidates.some((c) => shipped.has(c))) outside.push(`${f} → ${spec}`)
      }
    }
    expect(outside).toEqual([])
  })

  it("ships every entry point the manifest names", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      main: string
      types: string
      bin: Record<string, string>
      exports: Record<string, { types: string; import: string }>
    }
    const targets = [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.bin),
      ...Object.values(pkg.exports).flatMap((e) => [e.types, e.import]),
    ]
    for (const t of targets) expect(packed.files).toContain(normalize(t))
  })
})

describe("the published package's source maps and declarations", () => {
  it("every shipped source map resolves: each .js names a shipped map, and each map carries its sources", () => {
    const shipped = new Set(packed.files)
    const problems: string[] = []
    let maps = 0
    for (const f of packed.files.filter((x) => x.endsWith(".js"))) {
      const code = readFileSync(join(packed.dir, f), "utf8")
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1]
      if (url === undefined) continue
      const map = normalize(join(dirname(f), url))
      if (!shipped.has(map)) {
        problems.push(`${f}: ${url} is not shipped`)
        continue
      }
      const m = JSON.parse(readFileSync(join(packed.dir, map), "utf8")) as {
        sources: string[]
        sourcesContent?: Array<string | null>
      }
      maps++
      // `src/` is not in the package: a map resolves only with its sources inlined (tsconfig.build.json).
      m.sources.forEach((source, i) => {
        if (typeof m.sourcesContent?.[i] !== "string") problems.push(`${map}: no content for ${source}`)
      })
    }
    expect(problems).toEqual([])
    expect(maps).toBeGreaterThan(100)
  })

  it("the public declarations are api/corecashu.api.md (after an intended change: npm run api:update)", () => {
    const current = existsSync(REPORT_PATH) ? readFileSync(REPORT_PATH, "utf8") : ""
    const report = apiReport(packed.dir)
    if (current !== report) {
      const a = current.split("\n")
      const b = report.split("\n")
      let i = 0
      while (i < a.length && a[i] === b[i]) i++
      expect.fail(
        `the public API differs from api/corecashu.api.md from line ${i + 1}:\n` +
          `  report: ${a[i] ?? "(end)"}\n  build:  ${b[i] ?? "(end)"}\n` +
          "if the change is intended, run npm run api:update and commit the report with it (docs/versioning.md)",
      )
    }
  })
})

/** A NUT-00 v4 test vector (test/vectors/00-tokens-v4.json, "Single keyset"): one proof of 1 sat, a memo. */
const VECTOR = JSON.parse(readFileSync(join(root, "test/vectors/00-tokens-v4.json"), "utf8")) as {
  serialization: Array<{ serialized: string }>
}

/**
 * The consumer's script: plain JavaScript, run by node from an empty project that installed the tarball. It
 * prints one JSON line: what it decoded, what the engine did, and for each JS-wrong call the error it got.
 */
const CONSUMER_SCRIPT = `
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as cc from "corecashu"
import * as crypto from "corecashu/crypto"
import * as protocol from "corecashu/protocol"

const out = { entries: { root: Object.keys(cc).length, crypto: Object.keys(crypto).length, protocol: Object.keys(protocol).length } }
const token = cc.decodeToken(process.argv[2])
out.token = {
  version: token.version,
  mint: token.entries[0].mint,
  unit: token.unit,
  memo: token.memo,
  amountType: typeof token.entries[0].proofs[0].amount,
  amount: String(token.entries[0].proofs[0].amount),
  again: cc.decodeToken(cc.encodeToken(token)).entries[0].proofs[0].secret === token.entries[0].proofs[0].secret,
}
try {
  cc.decodeToken("cashuBnot-a-token")
} catch (e) {
  out.badToken = { tag: e._tag, guard: cc.isCorecashuError(e) }
}

// Every error tag the guard knows has an exported class whose instances it recognises.
out.errors = [...cc.CORECASHU_ERROR_TAGS].map((tag) => {
  const C = cc[tag]
  const ok = typeof C === "function" && cc.isCorecashuError(new C({ message: "m" })) && new C({ message: "m" })._tag === tag
  return ok ? tag : "MISSING " + tag
})

const dataDir = mkdtempSync(join(tmpdir(), "corecashu-consumer-"))
const engine = await cc.Engine.open({ dataDir, passphrase: "consumer passphrase", vault: { scrypt: { N: 16384, r: 8, p: 1 } } })
try {
  const wallet = await engine.createWallet({ walletId: "consumer" })
  out.walletIds = engine.walletIds()
  out.balance = String(await wallet.balance())
  const url = "https://mint.example"
  const calls = {
    "send: a number for the bigint amount": () => wallet.send({ mintUrl: url, amount: 5 }),
    "mintQuote: a string for the bigint amount": () => wallet.mintQuote({ mintUrl: url, amount: "5" }),
    "swap: a float for the bigint amount": () => wallet.swap({ mintUrl: url, amount: 1.5 }),
    "meltQuote: a number for the bigint fee cap": () => wallet.meltQuote({ mintUrl: url, request: "lnbc1", maxFeeReserve: 5 }),
    "restore: a string for the number batchSize": () => wallet.restore({ mintUrl: url, batchSize: "10" }),
    "health: a string for the number maxProjectionLag": () => engine.health({ maxProjectionLag: "5" }),
    "send: the amount missing": () => wallet.send({ mintUrl: url }),
    "send: the mint URL missing": () => wallet.send({ amount: 5n }),
    "meltQuote: the invoice missing": () => wallet.meltQuote({ mintUrl: url }),
    "send: no request at all": () => wallet.send(),
    "receive: a number for the token": () => wallet.receive(5),
    "createWallet: a number for the wallet id": () => engine.createWallet({ walletId: 5 }),
    "wallet: an object for the wallet id": () => engine.wallet({}),
    "the Effect API too: effect.send with a number amount": () => wallet.effect.send({ mintUrl: url, amount: 5 }),
  }
  out.calls = {}
  for (const [name, call] of Object.entries(calls)) {
    try {
      const r = call()
      // An Effect (wallet.effect.*) is run here; a Promise is awaited.
      if (r !== null && typeof r === "object" && typeof r.then !== "function") await (await import("effect")).Effect.runPromise(r)
      else await r
      out.calls[name] = "no error"
    } catch (e) {
      out.calls[name] = {
        tag: e?._tag,
        guard: cc.isCorecashuError(e),
        exported: typeof cc[e?._tag] === "function" && e instanceof cc[e._tag],
        argument: e?.argument,
      }
    }
  }
} finally {
  await engine.close()
  rmSync(dataDir, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
`

describe("the tarball installed into an empty project, used from plain JavaScript", () => {
  let consumer: string
  let result: {
    entries: Record<string, number>
    token: Record<string, unknown>
    badToken: { tag: string; guard: boolean }
    errors: string[]
    walletIds: string[]
    balance: string
    calls: Record<string, { tag: string; guard: boolean; exported: boolean; argument: string } | "no error">
  }

  beforeAll(() => {
    consumer = mkdtempSync(join(tmpdir(), "corecashu-consumer-project-"))
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    )
    // The package's dependencies come from the registry (or npm's cache); its own install scripts are not run.
    execFileSync(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--ignore-scripts",
        "--loglevel=error",
        packed.tarball,
      ],
      { cwd: consumer, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    )
    writeFileSync(join(consumer, "script.mjs"), CONSUMER_SCRIPT)
    const run = spawnSync(process.execPath, ["script.mjs", VECTOR.serialization[0]!.serialized], {
      cwd: consumer,
      encoding: "utf8",
    })
    if (run.status !== 0) throw new Error(`the consumer script failed:\n${run.stdout}${run.stderr}`)
    result = JSON.parse(run.stdout.trim().split("\n").pop()!)
  }, 300_000)

  afterAll(() => {
    if (consumer !== undefined) rmSync(consumer, { recursive: true, force: true })
  })

  it("imports the three entry points and decodes a token, amounts as bigint", () => {
    expect(result.entries.root).toBeGreaterThan(50)
    expect(result.entries.crypto).toBeGreaterThan(20)
    expect(result.entries.protocol).toBeGreaterThan(20)
    expect(result.token).toEqual({
      version: 4,
      mint: "http://localhost:3338",
      unit: "sat",
      memo: "Thank you",
      amountType: "bigint",
      amount: "1",
      again: true,
    })
    expect(result.badToken).toEqual({ tag: "DecodeError", guard: true })
  })

  it("every error class the guard knows is exported from the package entry", () => {
    expect(result.errors.length).toBeGreaterThanOrEqual(30)
    expect(result.errors.filter((e) => e.startsWith("MISSING"))).toEqual([])
  })

  it("opens an engine in a temp dir and creates a wallet", () => {
    expect(result.walletIds).toEqual(["consumer"])
    expect(result.balance).toBe("0")
  })

  it("a JS-wrong argument (number for bigint, string for number, a missing field) is a tagged InvalidArgument", () => {
    expect(Object.keys(result.calls)).toHaveLength(14)
    for (const [name, got] of Object.entries(result.calls)) {
      expect(got, name).not.toBe("no error")
      if (got === "no error") continue
      expect({ name, tag: got.tag, guard: got.guard, exported: got.exported }).toEqual({
        name,
        tag: "InvalidArgument",
        guard: true,
        exported: true,
      })
      expect(typeof got.argument, name).toBe("string")
    }
    expect(result.calls["send: a number for the bigint amount"]).toMatchObject({ argument: "request.amount" })
    expect(result.calls["restore: a string for the number batchSize"]).toMatchObject({
      argument: "request.batchSize",
    })
  })
})
