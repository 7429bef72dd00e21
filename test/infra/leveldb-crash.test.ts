import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Cause, Effect, Exit, Stream } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { openLevelDbEventStore } from "../../src/infra/leveldb-store.js"

const root = fileURLToPath(new URL("../../", import.meta.url))
const fixture = fileURLToPath(new URL("./fixtures/leveldb-appender.ts", import.meta.url))
/** Same bytes as the fixture's key. */
const KEY = new Uint8Array(32).fill(5)

interface Child {
  readonly proc: ChildProcess
  readonly lines: string[]
  /** Resolves when a line satisfies `pred` (or rejects when the child exits first). */
  readonly waitFor: (pred: (lines: ReadonlyArray<string>) => boolean) => Promise<void>
  readonly exited: Promise<number | string | null>
}

const children: ChildProcess[] = []
const dirs: string[] = []

const start = (dir: string, mode: string, round = 0): Child => {
  const proc = spawn(process.execPath, ["--import", "tsx", fixture, dir, mode, String(round)], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  })
  children.push(proc)
  const lines: string[] = []
  const waiters: Array<() => void> = []
  let buffered = ""
  let stderr = ""
  proc.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk
    const parts = buffered.split("\n")
    buffered = parts.pop()!
    lines.push(...parts)
    for (const w of waiters.splice(0)) w()
  })
  proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<number | string | null>((resolve) =>
    proc.on("exit", (code, signal) => {
      for (const w of waiters.splice(0)) w()
      resolve(signal ?? code)
    }),
  )
  const waitFor = (pred: (lines: ReadonlyArray<string>) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pred(lines)) resolve()
        else if (proc.exitCode !== null || proc.signalCode !== null)
          reject(
            new Error(`child exited early (${proc.exitCode ?? proc.signalCode}): ${stderr.slice(-2000)}`),
          )
        else waiters.push(check)
      }
      check()
    })
  return { proc, lines, waitFor, exited }
}

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const freshDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "corecashu-crash-"))
  dirs.push(dir)
  return dir
}

describe("LevelDB event store: kill -9", () => {
  it("keeps every acknowledged append, intact and chained, across repeated SIGKILLs", async () => {
    const dir = await freshDir()
    const acked = new Map<number, { streamId: string; eventId: string }>()
    for (let round = 1; round <= 3; round++) {
      const child = start(dir, "append", round)
      // Kill mid-stream, at a different depth each round.
      const target = 100 + round * 70
      await child.waitFor((lines) => lines.filter((l) => l.startsWith("ack ")).length >= target)
      child.proc.kill("SIGKILL")
      expect(await child.exited).toBe("SIGKILL")
      for (const line of child.lines) {
        if (!line.startsWith("ack ")) continue
        const [, streamId, first, last, ids] = line.split(" ")
        const list = ids!.split(",")
        expect(Number(last) - Number(first) + 1).toBe(list.length)
        for (const [k, eventId] of list.entries())
          acked.set(Number(first) + k, { streamId: streamId!, eventId })
      }

      await run(
        Effect.scoped(
          Effect.gen(function* () {
            const store = yield* openLevelDbEventStore({ dataDir: dir, key: KEY })
            const head = yield* store.head
            expect(head).toBeGreaterThanOrEqual(Math.max(...acked.keys()))
            // The whole chain verifies, and every acknowledged event is there, decodable, where it was acked.
            expect(yield* store.verifyChain).toEqual({ head, verified: head })
            const all = Array.from(yield* Stream.runCollect(store.readAll()))
            expect(all).toHaveLength(head)
            for (const [sequence, { streamId, eventId }] of acked) {
              const e = all[sequence - 1]!
              expect(e.envelope).toMatchObject({ sequence, streamId, eventId })
              expect(e.event._tag).toBe("ProofsReceived")
            }
          }),
        ),
      )
    }
    expect(acked.size).toBeGreaterThan(300)
  })
})

describe("LevelDB event store: lock across processes", () => {
  it("fails an opener in another process with StoreLocked, and frees the directory when the holder dies", async () => {
    const dir = await freshDir()
    const holder = start(dir, "hold")
    await holder.waitFor((lines) => lines.includes("opened"))
    const exit = await Effect.runPromiseExit(Effect.scoped(openLevelDbEventStore({ dataDir: dir, key: KEY })))
    expect(Exit.isFailure(exit) && Cause.findErrorOption(exit.cause)).toMatchObject({
      _tag: "Some",
      value: { _tag: "StoreLocked", dataDir: dir },
    })
    expect(holder.proc.exitCode).toBeNull()
    holder.proc.kill("SIGKILL")
    expect(await holder.exited).toBe("SIGKILL")
    await run(Effect.scoped(Effect.flatMap(openLevelDbEventStore({ dataDir: dir, key: KEY }), (s) => s.head)))

    // And the other way round: while this process holds it, a child cannot open it.
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          yield* openLevelDbEventStore({ dataDir: dir, key: KEY })
          const child = start(dir, "try")
          const code = yield* Effect.promise(() => child.exited)
          expect(code).toBe(0)
          expect(child.lines).toEqual(["StoreLocked"])
        }),
      ),
    )
  })
})

describe("LevelDB event store: the lock survives a refused second opener in the same process", () => {
  it("a second open in this process is refused without releasing the OS lock another process tests", async () => {
    const dir = (await mkdtemp(join(tmpdir(), "corecashu-lock-"))) as string
    dirs.push(dir)
    await run(
      Effect.scoped(
        Effect.gen(function* () {
          const first = yield* openLevelDbEventStore({ dataDir: dir, key: KEY })
          // The refused second opener: before the fix, LevelDB's failing open closed its own descriptor of
          // LOCK, and POSIX then dropped the first handle's lock too.
          const second = yield* Effect.exit(Effect.scoped(openLevelDbEventStore({ dataDir: dir, key: KEY })))
          expect(Exit.isFailure(second) && Cause.findErrorOption(second.cause)).toMatchObject({
            _tag: "Some",
            value: { _tag: "StoreLocked" },
          })
          const child = start(dir, "try")
          expect(yield* Effect.promise(() => child.exited)).toBe(0)
          expect(child.lines).toEqual(["StoreLocked"])
          // The first handle still writes, and nothing else did.
          expect(yield* first.head).toBe(0)
        }),
      ),
    )
  })
})
