/**
 * A real Prometheus for tests, started by the project's own `scripts/prometheus.sh` (Debian's `prometheus`
 * binary) on a free loopback port, scraping one target every second, with its TSDB in a fresh temp dir.
 * `--owner-pid` makes the script stop it and remove the dir when this test process exits, even by SIGKILL.
 *
 * Without the binary it fails at once with the script's message: run `bash scripts/prometheus.sh install`.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const SCRIPT = resolve(import.meta.dirname, "../../scripts/prometheus.sh")

const run = (args: ReadonlyArray<string>, timeoutMs = 90_000): Promise<string> =>
  new Promise((ok, fail) => {
    execFile("bash", [SCRIPT, ...args], { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) return ok(stdout)
      fail(new Error(`scripts/prometheus.sh ${args.join(" ")} failed: ${stderr.trim() || error.message}`))
    })
  })

/** One sample of an instant vector: its labels and value. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>
  readonly value: number
}

export interface Prometheus {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly dir: string
  /** An instant query through `/api/v1/query`; throws unless Prometheus answers `success` with a vector. */
  readonly query: (promql: string) => Promise<ReadonlyArray<PromSample>>
  /** A GET of `/api/v1/<path>`, its `data`. */
  readonly api: (path: string) => Promise<unknown>
  /** Stops it (SIGTERM, then waits) and removes its dir; idempotent. */
  readonly stop: () => Promise<void>
}

/** Starts Prometheus scraping `target` (`HOST:PORT`, path `/metrics`); resolves once it is ready. */
export const startPrometheus = async (target: string): Promise<Prometheus> => {
  const dir = mkdtempSync(join(tmpdir(), "corecashu-prometheus-"))
  const out = await run([
    "start",
    "--target",
    target,
    "--dir",
    dir,
    "--owner-pid",
    String(process.pid),
  ]).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw e
  })
  const url = /^PROMETHEUS_URL=(.+)$/m.exec(out)?.[1]
  if (url === undefined) throw new Error(`scripts/prometheus.sh start printed no PROMETHEUS_URL: ${out}`)
  const api = async (path: string): Promise<unknown> => {
    const res = await fetch(`${url}/api/v1/${path}`, { signal: AbortSignal.timeout(10_000) })
    const body = (await res.json()) as { status: string; data?: unknown; error?: string }
    if (res.status !== 200 || body.status !== "success")
      throw new Error(`Prometheus /api/v1/${path}: HTTP ${res.status} ${body.error ?? JSON.stringify(body)}`)
    return body.data
  }
  let stopped: Promise<void> | undefined
  return {
    url,
    dir,
    api,
    query: async (promql) => {
      const data = (await api(`query?query=${encodeURIComponent(promql)}`)) as {
        resultType: string
        result: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }>
      }
      if (data.resultType !== "vector") throw new Error(`${promql}: a ${data.resultType}, not a vector`)
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }))
    },
    stop: () => {
      stopped ??= run(["stop", "--dir", dir]).then(() => undefined)
      return stopped
    },
  }
}
