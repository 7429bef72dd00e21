/**
 * What the published package holds: `npm run build` (`tsc -p tsconfig.build.json`) into a temp directory,
 * then `npm pack --dry-run --json` over a copy of the package manifest with that build as its `dist`, so the
 * list is exactly what `npm publish` would ship from a clean build (a stale local `dist` plays no part).
 *
 * Nothing test- or demo-only may be in it: no demo, no reference-mint starter, no test support (the weak-KDF
 * vault options), no test files; and the shipped code must not import anything the package does not ship.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../", import.meta.url))

interface Packed {
  readonly dir: string
  readonly files: ReadonlyArray<string>
}

/** Builds into `<tmp>/dist` and returns what `npm pack` would put in the tarball. */
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
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  })
  const [report] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>
  return { dir, files: report!.files.map((f) => f.path) }
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
