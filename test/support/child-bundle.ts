/**
 * Child processes that the crash tests and the simulations kill (`SIGKILL`) and start again, as ESM bundles.
 * Loading the engine through tsx's hooks costs ~3 s of CPU per process (Effect alone is hundreds of modules);
 * a bundle starts in ~0.4 s, and these suites start a process per crash. Native modules stay external, so the
 * bundle lives inside the repository's `node_modules/.cache` where they resolve. A bundle is rebuilt when any
 * file under its input folders is newer than it (written to a temporary name and renamed, so parallel test
 * files never read half a file).
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const REPO = fileURLToPath(new URL("../../", import.meta.url))

/** Newest modification time of the files under `dir` (a bundle's inputs). */
const newestMtime = (dir: string): number => {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

const bundles = new Map<string, Promise<string>>()

/**
 * The bundle of `entry` (an absolute path to a `.ts` file) named `name`, rebuilt when a file under `src/`,
 * `test/support/` or one of `inputs` (folders relative to the repository) is newer. One build per process and
 * name.
 */
export const childBundle = (
  name: string,
  entry: string,
  inputs: ReadonlyArray<string> = [],
): Promise<string> => {
  const held = bundles.get(name)
  if (held !== undefined) return held
  const made = (async () => {
    const dir = join(REPO, "node_modules", ".cache", "corecashu-crash")
    mkdirSync(dir, { recursive: true })
    const outfile = join(dir, `${name}.mjs`)
    const built = existsSync(outfile) ? statSync(outfile).mtimeMs : 0
    const newest = Math.max(
      ...["src", join("test", "support"), ...inputs].map((d) => newestMtime(join(REPO, d))),
    )
    if (built > newest) return outfile
    const tmp = join(dir, `${name}.${process.pid}.mjs`)
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: tmp,
      // NATS's client is CommonJS that requires Node built-ins at load (tweetnacl): bundled as ESM it fails,
      // so it stays a package import like the native modules.
      external: ["classic-level", "secp256k1", "tiny-secp256k1", "@nats-io/*"],
      // Smaller source parses faster; names are kept for readable stack traces.
      minifyWhitespace: true,
      minifySyntax: true,
      logLevel: "error",
    })
    renameSync(tmp, outfile)
    return outfile
  })()
  bundles.set(name, made)
  return made
}
