/**
 * A real OTLP receiver for tests: Jaeger v2 started by the project's own `scripts/jaeger.sh` (built from the Go
 * module proxy into the per-user cache) on free loopback ports, traces in memory. `--owner-pid` makes the
 * script stop it and remove its dir when this test process exits, even by SIGKILL.
 *
 * Without the binary it fails at once with the script's message: run `bash scripts/jaeger.sh install`.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const SCRIPT = resolve(import.meta.dirname, "../../scripts/jaeger.sh")

const run = (args: ReadonlyArray<string>, timeoutMs = 90_000): Promise<string> =>
  new Promise((ok, fail) => {
    execFile("bash", [SCRIPT, ...args], { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) return ok(stdout)
      fail(new Error(`scripts/jaeger.sh ${args.join(" ")} failed: ${stderr.trim() || error.message}`))
    })
  })

/** One span as Jaeger's query API returns it. */
export interface JaegerSpan {
  readonly traceID: string
  readonly spanID: string
  readonly operationName: string
  readonly references: ReadonlyArray<{ readonly refType: string; readonly spanID: string }>
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: unknown }>
  readonly duration: number
}

export interface Jaeger {
  /** Where to send spans: `http://127.0.0.1:P/v1/traces`. */
  readonly otlpUrl: string
  /** The query API's base URL. */
  readonly queryUrl: string
  /** Every span of `service` Jaeger holds (the raw JSON too, for secret scans). */
  readonly spans: (service: string) => Promise<{ spans: JaegerSpan[]; raw: string }>
  /** Stops it and removes its dir; idempotent. */
  readonly stop: () => Promise<void>
}

/** Starts Jaeger; resolves once its query API answers. */
export const startJaeger = async (): Promise<Jaeger> => {
  const dir = mkdtempSync(join(tmpdir(), "corecashu-jaeger-"))
  const out = await run(["start", "--dir", dir, "--owner-pid", String(process.pid)]).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw e
  })
  const otlpUrl = /^JAEGER_OTLP_URL=(.+)$/m.exec(out)?.[1]
  const queryUrl = /^JAEGER_QUERY_URL=(.+)$/m.exec(out)?.[1]
  if (otlpUrl === undefined || queryUrl === undefined)
    throw new Error(`scripts/jaeger.sh start printed no URLs: ${out}`)
  let stopped: Promise<void> | undefined
  return {
    otlpUrl,
    queryUrl,
    spans: async (service) => {
      const res = await fetch(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=1000`, {
        signal: AbortSignal.timeout(10_000),
      })
      const raw = await res.text()
      if (res.status === 404) return { spans: [], raw } // the service is not known yet
      if (res.status !== 200) throw new Error(`Jaeger /api/traces: HTTP ${res.status} ${raw.slice(0, 300)}`)
      const body = JSON.parse(raw) as { data: ReadonlyArray<{ spans: JaegerSpan[] }> }
      return { spans: body.data.flatMap((t) => t.spans), raw }
    },
    stop: () => {
      stopped ??= run(["stop", "--dir", dir]).then(
        () => undefined,
        () => rmSync(dir, { recursive: true, force: true }),
      )
      return stopped
    },
  }
}
