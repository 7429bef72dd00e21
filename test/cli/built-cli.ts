/**
 * The `corecashu` binary as users get it: `tsc -p tsconfig.build.json` into `.cache/cli-build/<name>/dist` (a
 * copy of package.json beside it, so `version` reads it and `node_modules` resolves from the repository),
 * then run with `node dist/cli/main.js` as a child process, its output captured.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process"
import { copyFileSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../", import.meta.url))

/** Builds the package into a directory of its own; returns the path of its `dist/cli/main.js`. */
export const buildCli = (name: string): string => {
  const dir = join(root, ".cache", "cli-build", name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
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
  copyFileSync(join(root, "package.json"), join(dir, "package.json"))
  return join(dir, "dist", "cli", "main.js")
}

/** What one run of the binary did. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the binary with `args`, `env` added to a clean environment, `input` on standard input. */
export const runCli = (
  main: string,
  args: ReadonlyArray<string>,
  {
    env = {},
    input,
    timeoutMs = 120_000,
  }: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const base: Record<string, string> = {}
    for (const k of ["PATH", "HOME", "TMPDIR", "CORECASHU_LOG_LEVEL", "CORECASHU_LOG_FILE"]) {
      const v = process.env[k]
      if (v !== undefined) base[k] = v
    }
    const child = spawn(process.execPath, [main, ...args], {
      cwd: root,
      env: { ...base, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c
    })
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c
    })
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input ?? "")
  })

/** The one JSON document of a `--json` run's standard output (fails the test when there is anything else). */
export const jsonOf = (run: CliRun): Record<string, unknown> => {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>
  } catch {
    throw new Error(
      `standard output is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`,
    )
  }
}

/** An amount of a JSON document: a string of an integer, as a bigint. */
export const amount = (v: unknown): bigint => {
  if (typeof v !== "string" || !/^-?[0-9]+$/.test(v))
    throw new Error(`not an amount string: ${JSON.stringify(v)}`)
  return BigInt(v)
}
