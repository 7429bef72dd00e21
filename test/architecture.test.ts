/**
 * The layer rules, checked over the real import graph of `src/` (every static `import … from`, `export … from`
 * and `import("…")`, type-only imports included: a type import is still a dependency a reader must follow).
 *
 * - Each layer imports only the layers listed for it in {@link ALLOWED} (and itself).
 * - No module imports itself through a cycle, except the cycles listed in {@link ALLOWED_CYCLES}.
 * - The pure layers do no I/O: none imports the file system, the network, a child process or LevelDB.
 *
 * A new layer or a new edge is a design decision: make it here, with the reason, not by accident.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src")

/** Who may import whom. `index` is the package's entry point (`src/index.ts`). Bottom first. */
const ALLOWED: Readonly<Record<string, ReadonlyArray<string>>> = {
  // The data model and every error class: imports no other layer.
  model: [],
  crypto: ["model"],
  protocol: ["model", "crypto"],
  events: ["model", "protocol", "crypto"],
  // Service contracts (event store, mint client, vault): what the engine needs, not how it is done.
  ports: ["model", "protocol", "events"],
  machines: ["model", "events", "protocol", "ports"],
  projections: ["model", "events", "machines", "protocol", "crypto", "ports"],
  // Implementations of the ports: LevelDB, HTTP, the vault, checkpoint files.
  infra: ["model", "crypto", "protocol", "events", "ports", "projections"],
  engine: ["model", "crypto", "protocol", "events", "ports", "machines", "projections", "infra"],
  // The CLI is a user of the package: it may also go through the public entry point.
  cli: [
    "model",
    "crypto",
    "protocol",
    "events",
    "ports",
    "machines",
    "projections",
    "infra",
    "engine",
    "index",
  ],
  index: ["model", "crypto", "protocol", "events", "ports", "machines", "projections", "infra", "engine"],
}

/** Layers that must stay pure: no I/O modules. */
const PURE = ["model", "crypto", "protocol", "events", "ports", "machines", "projections"]
const IO_MODULES = [
  /^(node:)?fs(\/promises)?$/,
  /^(node:)?net$/,
  /^(node:)?http2?$/,
  /^(node:)?child_process$/,
]
const IO_PACKAGES = [/^classic-level/, /^undici/, /^ws$/]

/** Cycles still allowed, each a sorted list of the files in it (relative to `src/`). Empty is the goal. */
const ALLOWED_CYCLES: ReadonlyArray<ReadonlyArray<string>> = []

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return walk(path)
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : []
  })

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g

/** The specifiers a file imports. */
const importsOf = (source: string): string[] => {
  const found: string[] = []
  for (const m of source.matchAll(IMPORT)) found.push((m[1] ?? m[2])!)
  return found
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file)
  return rel.includes("/") ? rel.split("/")[0]! : rel.replace(/\.ts$/, "")
}

/** Resolves a relative specifier (`./x.js`) to the `.ts` file it names. */
const resolveLocal = (from: string, spec: string): string =>
  resolve(dirname(from), spec.replace(/\.js$/, ".ts"))

interface Graph {
  readonly files: ReadonlyArray<string>
  readonly local: ReadonlyMap<string, ReadonlyArray<string>>
  readonly external: ReadonlyMap<string, ReadonlyArray<string>>
}

const buildGraph = (): Graph => {
  const files = walk(SRC)
  const local = new Map<string, string[]>()
  const external = new Map<string, string[]>()
  for (const f of files) {
    const specs = importsOf(readFileSync(f, "utf8"))
    local.set(
      f,
      specs.filter((s) => s.startsWith(".")).map((s) => resolveLocal(f, s)),
    )
    external.set(
      f,
      specs.filter((s) => !s.startsWith(".")),
    )
  }
  return { files, local, external }
}

/** Strongly connected components with more than one file (or a self-import): Tarjan's algorithm. */
const cyclesOf = (graph: Graph): string[][] => {
  let index = 0
  const indices = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const out: string[][] = []
  const visit = (v: string): void => {
    indices.set(v, index)
    low.set(v, index)
    index++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.local.get(v) ?? []) {
      if (!graph.local.has(w)) continue
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!))
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.local.get(v) ?? []).includes(v))
        out.push(component.map((f) => relative(SRC, f)).sort())
    }
  }
  for (const f of graph.files) if (!indices.has(f)) visit(f)
  return out
}

describe("architecture", () => {
  const graph = buildGraph()

  it("finds the source and its imports (the parser is not blind)", () => {
    expect(graph.files.length).toBeGreaterThan(50)
    const engine = graph.files.find((f) => f.endsWith("engine/engine.ts"))!
    expect(graph.local.get(engine)!.some((f) => f.endsWith("model/index.ts"))).toBe(true)
    expect(graph.external.get(engine)).toContain("effect")
  })

  it("every file is in a known layer", () => {
    const unknown = [...new Set(graph.files.map(layerOf))].filter((l) => !(l in ALLOWED))
    expect(unknown).toEqual([])
  })

  it("each layer imports only the layers below it", () => {
    const broken: string[] = []
    for (const [file, targets] of graph.local) {
      const from = layerOf(file)
      for (const t of targets) {
        const to = layerOf(t)
        if (to !== from && !ALLOWED[from]!.includes(to))
          broken.push(`${relative(SRC, file)} → ${relative(SRC, t)} (${from} may not import ${to})`)
      }
    }
    expect(broken).toEqual([])
  })

  it("no import cycles beyond the allowed ones", () => {
    const allowed = new Set(ALLOWED_CYCLES.map((c) => [...c].sort().join(" ")))
    const cycles = cyclesOf(graph).filter((c) => !allowed.has(c.join(" ")))
    expect(cycles).toEqual([])
  })

  it("the pure layers do no I/O", () => {
    const broken: string[] = []
    for (const [file, specs] of graph.external) {
      if (!PURE.includes(layerOf(file))) continue
      for (const s of specs)
        if ([...IO_MODULES, ...IO_PACKAGES].some((re) => re.test(s)))
          broken.push(`${relative(SRC, file)} → ${s}`)
    }
    expect(broken).toEqual([])
  })

  it("the cycle finder finds a cycle (self-check on a made-up graph)", () => {
    const a = join(SRC, "x/a.ts")
    const b = join(SRC, "x/b.ts")
    const c = join(SRC, "x/c.ts")
    const made: Graph = {
      files: [a, b, c],
      local: new Map([
        [a, [b]],
        [b, [a, c]],
        [c, []],
      ]),
      external: new Map(),
    }
    expect(cyclesOf(made)).toEqual([["x/a.ts", "x/b.ts"]])
  })
})
