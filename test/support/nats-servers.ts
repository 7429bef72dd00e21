/**
 * Real NATS servers (JetStream) for tests, started by the project's own `scripts/nats.sh` on free loopback ports
 * in a fresh temp dir: one server or a 3-node cluster.
 *
 * The helper runs the script rather than spawning nats-server itself, so that tests, CI and a person at a shell
 * start servers one way (the same configuration files, port-race retries and /healthz readiness), and `kill(i)`
 * / `restart(i)` act on exactly what `scripts/nats.sh start` wrote (node i's pid file, and its server.conf for
 * the restart: same ports, same JetStream store). `--owner-pid` makes the script stop the servers and remove
 * their dir when this test process exits, even by SIGKILL, so a crashed worker leaves no server behind.
 *
 * Without the binary it fails at once with the script's message: run `bash scripts/nats.sh install`.
 *
 * No vitest here (the simulations start servers too); `./nats.ts` adds the test-scoped closers.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const SCRIPT = resolve(import.meta.dirname, "../../scripts/nats.sh")

export interface NatsServers {
  /** Client URLs, one per node (`nats://127.0.0.1:PORT`), in node order. */
  readonly servers: ReadonlyArray<string>
  /** The dir holding each node's config, pid file, log and JetStream store (removed by `stop`). */
  readonly dir: string
  /** Stops every node (SIGTERM, then waits) and removes the dir; idempotent. */
  readonly stop: () => Promise<void>
  /** SIGKILLs node `i` (0-based, as in `servers`) and waits until it is gone. */
  readonly kill: (i: number) => Promise<void>
  /** Starts node `i` again after `kill(i)`: same ports, same store; waits until it is healthy. */
  readonly restart: (i: number) => Promise<void>
}

export interface StartNatsOptions {
  /** 1 (default): one server; 3: a cluster of three with routes between them. */
  readonly cluster?: 1 | 3
}

const run = (args: ReadonlyArray<string>, timeoutMs = 90_000): Promise<string> =>
  new Promise((ok, fail) => {
    execFile("bash", [SCRIPT, ...args], { timeout: timeoutMs, encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) return ok(stdout)
      // Without the binary, the script's message says to run `bash scripts/nats.sh install`.
      fail(new Error(`scripts/nats.sh ${args.join(" ")} failed: ${stderr.trim() || error.message}`))
    })
  })

/** A process that exists and is not a zombie. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts one NATS server, or a 3-node cluster, with JetStream; resolves once every node is healthy. */
export const startNats = async (options: StartNatsOptions = {}): Promise<NatsServers> => {
  const cluster = options.cluster ?? 1
  const dir = mkdtempSync(join(tmpdir(), "corecashu-nats-"))
  const out = await run([
    "start",
    "--cluster",
    String(cluster),
    "--dir",
    dir,
    "--owner-pid",
    String(process.pid),
  ]).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw e
  })
  const url = /^NATS_URL=(.+)$/m.exec(out)?.[1]
  if (url === undefined) throw new Error(`scripts/nats.sh start printed no NATS_URL: ${out}`)
  const servers = url.split(",")
  const node = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= servers.length) throw new Error(`no NATS node ${i}`)
    return join(dir, `n${i + 1}`)
  }
  let stopped: Promise<void> | undefined
  return {
    servers,
    dir,
    stop: () => {
      stopped ??= run(["stop", "--dir", dir]).then(() => undefined)
      return stopped
    },
    kill: async (i) => {
      const pid = Number(readFileSync(join(node(i), "launch.pid"), "utf8").trim())
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        return // already gone
      }
      for (let t = 0; alive(pid); t++) {
        if (t > 200) throw new Error(`NATS node ${i} (pid ${pid}) still alive 10 s after SIGKILL`)
        await sleep(50)
      }
    },
    restart: async (i) => {
      node(i)
      await run(["restart-node", String(i + 1), "--dir", dir])
    },
  }
}
