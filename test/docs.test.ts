/**
 * The documentation points only at what is in the repository (issue #14): every relative Markdown link and
 * every backticked repository path (`src/…`, `test/…`, `docs/…`, `scripts/…`, `simulations/…`, `bench/…`,
 * `demo/…`) in `README.md` and `docs/*.md` names a file or directory that exists, every `#anchor` names a
 * heading of the file it points into, and no link leaves the repository.
 *
 * Paths are taken from inline code spans, token by token (so `bash scripts/mint.sh start` checks
 * `scripts/mint.sh`); a `#anchor` or a `:line` suffix is stripped, and globs and placeholders (anything with
 * `<`, `*` or `…`) are skipped. Fenced code blocks are left out: they show commands, not references.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..")

const DOCS: ReadonlyArray<string> = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
]

const PREFIXES = ["src/", "test/", "docs/", "scripts/", "simulations/", "bench/", "demo/"]

/** The text without fenced code blocks (kept line for line, so line numbers stay right). */
const withoutFences = (text: string): string => {
  let fenced = false
  return text
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced
        return ""
      }
      return fenced ? "" : line
    })
    .join("\n")
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get `-1`, `-2`… */
const anchorsOf = (text: string): Set<string> => {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const line of withoutFences(text).split("\n")) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (m === null) continue
    const base = m[1]!
      .replace(/`/g, "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-")
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

interface Ref {
  readonly doc: string
  readonly line: number
  readonly target: string
}

const lineAt = (text: string, index: number): number => text.slice(0, index).split("\n").length

/** Relative Markdown links `[text](target)` (and images), with the line they are on. */
const linksOf = (doc: string, text: string): Ref[] => {
  const body = withoutFences(text)
  const refs: Ref[] = []
  for (const m of body.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:
    refs.push({ doc, line: lineAt(body, m.index), target })
  }
  return refs
}

/** Repository paths in inline code spans, with the line they are on. */
const codePathsOf = (doc: string, text: string): Ref[] => {
  const body = withoutFences(text)
  const refs: Ref[] = []
  for (const m of body.matchAll(/`([^`]+)`/g)) {
    for (const raw of m[1]!.split(/\s+/)) {
      const token = raw.replace(/^[("'[]+/, "").replace(/[)"',;.\]]+$/, "")
      if (!PREFIXES.some((p) => token.startsWith(p))) continue
      if (/[<*…]/.test(token)) continue
      refs.push({ doc, line: lineAt(body, m.index), target: token })
    }
  }
  return refs
}

const strip = (target: string): string => target.replace(/#.*$/, "").replace(/:\d+(?:-\d+)?$/, "")

describe("documentation", () => {
  it("the architecture document is in the repository, and the README links to it", () => {
    expect(existsSync(join(ROOT, "docs/architecture.md"))).toBe(true)
    expect(
      linksOf("README.md", readFileSync(join(ROOT, "README.md"), "utf8")).map((r) => r.target),
    ).toContain("docs/architecture.md")
  })

  describe.each(DOCS)("%s", (doc) => {
    const text = readFileSync(join(ROOT, doc), "utf8")
    const dir = dirname(join(ROOT, doc))

    it("every relative link names a file or directory in the repository, and every anchor a heading", () => {
      const broken: string[] = []
      for (const ref of linksOf(doc, text)) {
        const path = ref.target.replace(/#.*$/, "")
        const anchor = ref.target.includes("#") ? ref.target.slice(ref.target.indexOf("#") + 1) : undefined
        const file = path === "" ? join(ROOT, doc) : resolve(dir, decodeURI(strip(path)))
        const inside = !relative(ROOT, file).startsWith("..")
        if (!inside || !existsSync(file)) {
          broken.push(`${doc}:${ref.line} ${ref.target}${inside ? "" : " (outside the repository)"}`)
          continue
        }
        if (
          anchor !== undefined &&
          file.endsWith(".md") &&
          !anchorsOf(readFileSync(file, "utf8")).has(anchor)
        ) {
          broken.push(`${doc}:${ref.line} ${ref.target} (no such heading)`)
        }
      }
      expect(broken).toEqual([])
    })

    it("every backticked repository path exists", () => {
      const missing = codePathsOf(doc, text)
        .filter((ref) => !existsSync(join(ROOT, strip(ref.target))))
        .map((ref) => `${doc}:${ref.line} ${ref.target}`)
      expect(missing).toEqual([])
    })

    it("points nowhere outside the repository", () => {
      const outside = text
        .split("\n")
        .flatMap((line, i) => (/\.\.\/shared\b/.test(line) ? [`${doc}:${i + 1} ${line.trim()}`] : []))
      expect(outside).toEqual([])
    })
  })
})
