/**
 * The public API report: the declaration surface of every entry point in package.json's `exports`, read from a
 * build's `.d.ts` files, written to `api/corecashu.api.md`. `test/package.test.ts` builds the package and fails
 * when the report differs, so the public surface changes only on purpose: after an intended change, run
 * `npm run api:update` and commit the new report with the change (docs/versioning.md says what a change means).
 *
 *   node --import tsx scripts/api-report.ts            build into a temp dir, print whether the report is current
 *   node --import tsx scripts/api-report.ts --update   build into a temp dir and rewrite api/corecashu.api.md
 *
 * Why not api-extractor: it runs on these declarations (7.60 with its own bundled TypeScript), but one entry point
 * per configuration and report, and every undocumented release tag and TSDoc nit becomes a line of the report; the
 * surface here is three entry points in one file. What this report holds: each exported name of each entry point,
 * with the declarations that define it (overloads and merged declarations included), comments stripped, in name
 * order. What it does not hold: declarations that exported ones only refer to (their changes show up in
 * `tsc` errors of callers, not here).
 *
 * @module
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, posix, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
export const REPORT_PATH = join(root, "api/corecashu.api.md")

/** Removes comments, keeping string and template literals (a `//` inside a string type stays). */
const stripComments = (src: string): string => {
  let out = ""
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    const n = src[i + 1]
    if (c === "/" && n === "/") {
      while (i < src.length && src[i] !== "\n") i++
    } else if (c === "/" && n === "*") {
      const end = src.indexOf("*/", i + 2)
      i = end < 0 ? src.length : end + 2
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1
      while (j < src.length && src[j] !== c) j += src[j] === "\\" ? 2 : 1
      out += src.slice(i, j + 1)
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

const STATEMENT_START =
  /^(export|declare|import|interface|type|const|let|var|function|class|abstract|namespace|enum|module)\b/

/** Top-level statements of a declaration file: tsc starts each at column 0 and indents continuation lines. */
const statements = (src: string): string[] => {
  const out: string[] = []
  let current: string[] = []
  for (const raw of stripComments(src).split("\n")) {
    const line = raw.replace(/\s+$/, "")
    if (line === "") continue
    if (STATEMENT_START.test(line) && current.length > 0) {
      out.push(current.join("\n"))
      current = []
    }
    current.push(line)
  }
  if (current.length > 0) out.push(current.join("\n"))
  return out
}

const DECL =
  /^(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:const|let|var|function|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/

interface Spec {
  readonly imported: string
  readonly exported: string
}

/** `{ a, type b, c as d }` → specifiers. */
const specifiers = (list: string): Spec[] =>
  list
    .split(",")
    .map((s) => s.trim().replace(/^type\s+/, ""))
    .filter((s) => s !== "")
    .map((s) => {
      const m = /^([\w$]+)(?:\s+as\s+([\w$]+))?$/.exec(s)
      if (m === null) throw new Error(`api-report: cannot read the export specifier '${s}'`)
      return { imported: m[1]!, exported: m[2] ?? m[1]! }
    })

/** Where an exported name is defined: a declaration in a file, or a bare-specifier (external) re-export. */
type Target =
  | { readonly kind: "local"; readonly file: string; readonly name: string }
  | { readonly kind: "external"; readonly module: string; readonly name: string }
  | { readonly kind: "namespace"; readonly file: string }

interface ParsedModule {
  readonly stmts: ReadonlyArray<string>
  readonly imports: ReadonlyMap<string, { from: string; name: string }>
}

const parsed = new Map<string, ParsedModule>()
const parse = (file: string): ParsedModule => {
  const hit = parsed.get(file)
  if (hit !== undefined) return hit
  const stmts = statements(readFileSync(file, "utf8"))
  const imports = new Map<string, { from: string; name: string }>()
  for (const s of stmts) {
    const flat = s.replace(/\s+/g, " ")
    const named = /^import (?:type )?\{(.*)\} from "([^"]+)";?$/.exec(flat)
    if (named !== null)
      for (const sp of specifiers(named[1]!)) imports.set(sp.exported, { from: named[2]!, name: sp.imported })
    const star = /^import (?:type )?\* as ([\w$]+) from "([^"]+)";?$/.exec(flat)
    if (star !== null) imports.set(star[1]!, { from: star[2]!, name: "*" })
  }
  const m = { stmts, imports }
  parsed.set(file, m)
  return m
}

const resolveSpecifier = (from: string, spec: string): string | undefined =>
  spec.startsWith(".") ? resolve(dirname(from), spec.replace(/\.js$/, ".d.ts")) : undefined

const exportsMemo = new Map<string, Map<string, Target>>()

/** Every name a declaration file exports, and where each is defined. */
const exportsOf = (file: string): Map<string, Target> => {
  const hit = exportsMemo.get(file)
  if (hit !== undefined) return hit
  const out = new Map<string, Target>()
  exportsMemo.set(file, out)
  const { stmts, imports } = parse(file)
  const viaImport = (local: string): Target => {
    const imp = imports.get(local)
    if (imp === undefined) return { kind: "local", file, name: local }
    const target = resolveSpecifier(file, imp.from)
    if (target === undefined) return { kind: "external", module: imp.from, name: imp.name }
    if (imp.name === "*") return { kind: "namespace", file: target }
    const t = exportsOf(target).get(imp.name)
    if (t === undefined) throw new Error(`api-report: ${imp.from} does not export ${imp.name} (from ${file})`)
    return t
  }
  const stars: string[] = []
  for (const s of stmts) {
    const flat = s.replace(/\s+/g, " ")
    if (/^export \{ ?\};?$/.test(flat)) continue
    let m = /^export (?:type )?\{(.*)\} from "([^"]+)";?$/.exec(flat)
    if (m !== null) {
      const target = resolveSpecifier(file, m[2]!)
      for (const sp of specifiers(m[1]!)) {
        if (target === undefined) {
          out.set(sp.exported, { kind: "external", module: m[2]!, name: sp.imported })
          continue
        }
        const t = exportsOf(target).get(sp.imported)
        if (t === undefined) throw new Error(`api-report: ${m[2]} does not export ${sp.imported} (from ${file})`)
        out.set(sp.exported, t)
      }
      continue
    }
    m = /^export \* as ([\w$]+) from "([^"]+)";?$/.exec(flat)
    if (m !== null) {
      const target = resolveSpecifier(file, m[2]!)
      out.set(
        m[1]!,
        target === undefined ? { kind: "external", module: m[2]!, name: "*" } : { kind: "namespace", file: target },
      )
      continue
    }
    m = /^export \* from "([^"]+)";?$/.exec(flat)
    if (m !== null) {
      stars.push(m[1]!)
      continue
    }
    m = /^export (?:type )?\{(.*)\};?$/.exec(flat)
    if (m !== null) {
      for (const sp of specifiers(m[1]!)) out.set(sp.exported, viaImport(sp.imported))
      continue
    }
    if (flat.startsWith("export ")) {
      const d = DECL.exec(flat)
      if (d === null) throw new Error(`api-report: cannot read the export in ${file}: ${flat.slice(0, 120)}`)
      out.set(d[1]!, { kind: "local", file, name: d[1]! })
    }
  }
  // `export *` never overrides a name the module exports itself, nor exports `default`.
  for (const spec of stars) {
    const target = resolveSpecifier(file, spec)
    if (target === undefined) throw new Error(`api-report: 'export * from "${spec}"' of an external module`)
    for (const [name, t] of exportsOf(target)) if (name !== "default" && !out.has(name)) out.set(name, t)
  }
  return out
}

/** The statements declaring `name` in `file` (overloads and merged declarations), `export` prefixes dropped. */
const declarationsOf = (file: string, name: string): string[] =>
  parse(file)
    .stmts.filter((s) => DECL.exec(s.replace(/\s+/g, " "))?.[1] === name)
    .map((s) => s.replace(/^export\s+/, "").replace(/^declare\s+/, ""))

/** The report for a build whose package root is `pkgDir` (holding package.json and dist/). */
export const apiReport = (pkgDir: string): string => {
  parsed.clear()
  exportsMemo.clear()
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as {
    name: string
    exports: Record<string, { types: string }>
  }
  const lines: string[] = [
    `# ${pkg.name}: public API report`,
    "",
    "<!-- Generated by `npm run api:update` (scripts/api-report.ts) from a clean build's declarations. Do not edit:",
    "     test/package.test.ts fails when this file differs from the build. A change here is a change of the public",
    "     API; docs/versioning.md says which version it needs. -->",
    "",
    "Every name each entry point of the package's `exports` map makes public, with the declarations that define it",
    "(comments stripped, `export`/`declare` dropped, names in order). A line under a name is where it is declared in",
    "`dist/`.",
  ]
  for (const [entry, { types }] of Object.entries(pkg.exports).sort(([a], [b]) => a.localeCompare(b))) {
    const entryFile = join(pkgDir, types)
    const specifier = entry === "." ? pkg.name : posix.join(pkg.name, entry)
    const names = [...exportsOf(entryFile)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    lines.push("", `## \`${specifier}\` (${types}, ${names.length} names)`, "", "```ts")
    for (const [name, target] of names) {
      if (target.kind === "external") {
        lines.push(`// ${name}: re-exported from "${target.module}" (${target.name})`, "")
        continue
      }
      if (target.kind === "namespace") {
        lines.push(`// ${name}: namespace of ${relative(pkgDir, target.file)}`, "")
        continue
      }
      const alias = target.name === name ? "" : ` (declared as ${target.name})`
      lines.push(`// ${name}${alias}: ${relative(pkgDir, target.file).split("\\").join("/")}`)
      const decls = declarationsOf(target.file, target.name)
      if (decls.length === 0) throw new Error(`api-report: no declaration of ${target.name} in ${target.file}`)
      lines.push(...decls, "")
    }
    if (lines[lines.length - 1] === "") lines.pop()
    lines.push("```")
  }
  return `${lines.join("\n")}\n`
}

/** Builds the package's declarations into a fresh temp dir (tsconfig.build.json) and returns that dir. */
export const buildIntoTemp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "corecashu-api-"))
  const tsc = join(root, "node_modules/typescript/bin/tsc")
  const build = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", join(dir, "dist")], {
    cwd: root,
    encoding: "utf8",
  })
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`)
  writeFileSync(join(dir, "package.json"), readFileSync(join(root, "package.json")))
  return dir
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = buildIntoTemp()
  try {
    const report = apiReport(dir)
    if (process.argv.includes("--update")) {
      writeFileSync(REPORT_PATH, report)
      console.log(`api-report: wrote ${relative(root, REPORT_PATH)} (${report.split("\n").length} lines)`)
    } else {
      let current = ""
      try {
        current = readFileSync(REPORT_PATH, "utf8")
      } catch {}
      if (current === report) console.log("api-report: api/corecashu.api.md is current")
      else {
        console.error("api-report: the public API differs from api/corecashu.api.md; run npm run api:update")
        process.exitCode = 1
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
