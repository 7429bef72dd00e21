/**
 * The crash child, started by `test/engine/crash/harness.ts` (as an esbuild bundle of this file, for start-up
 * speed; `node --import tsx test/support/crash-child.ts` runs it as well) with `CRASH_SPEC` (JSON
 * {@link CrashSpec}) and an IPC channel. Opens the engine on the prepared data directory with the real HTTP
 * mint client (wrapped so its calls are crash points), runs ONE operation and dies (SIGKILL) at crash point
 * `crashAt`. When the operation ends first, it reports the points it passed (`done`, or `failed` with the
 * error tag) and exits 0.
 *
 * @module
 */
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { Engine } from "../../src/engine/engine.js"
import { withHooks } from "../../src/engine/internal.js"
import { makeHttpMintClient } from "../../src/infra/mint-client/http.js"
import {
  type ChildMessage,
  CrashPoints,
  type CrashSpec,
  crashingMintClient,
  die,
  type ParentAck,
} from "./crash-points.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "./vault.js"

const spec = JSON.parse(process.env.CRASH_SPEC ?? "{}") as CrashSpec
const points = new CrashPoints(spec.crashAt)
let armed = false

const send = (msg: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve()
    process.send(msg, undefined, {}, () => resolve())
  })

const askDrop = (req: { readonly method: "GET" | "POST"; readonly path: string }): Promise<void> =>
  new Promise((resolve) => {
    const onMessage = (m: ParentAck) => {
      if (m.t !== "ok") return
      process.off("message", onMessage)
      resolve()
    }
    process.on("message", onMessage)
    void send({ t: "drop", ...req })
  })

const run = async (): Promise<string> => {
  const http = await Effect.runPromise(makeHttpMintClient().pipe(Effect.provide(FetchHttpClient.layer)))
  const engine = await Engine.open(
    withHooks(
      {
        dataDir: spec.dataDir,
        passphrase: "test passphrase",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: crashingMintClient(http, points, askDrop),
        options: { quotePollMs: 5 },
        // A recovery run counts the recovery's own crash points: it recovers explicitly, after arming.
        ...(spec.op.kind === "recover" ? { recover: false } : {}),
      },
      {
        beforeAppend: () => {
          if (armed && points.hit("before-append")) die()
        },
        afterAppend: () => {
          if (armed && points.hit("after-append")) die()
        },
      },
    ),
  )
  // Opening ran recovery (nothing was in flight); from here on, every point belongs to the operation.
  points.seen.length = 0
  armed = true
  const wallet = engine.wallet(spec.walletId)
  const op = spec.op
  const mintUrl = spec.mintUrl
  switch (op.kind) {
    case "mint": {
      const q = await wallet.mintQuote({ mintUrl, amount: BigInt(op.amount) })
      const r = await wallet.mint(q.operationId)
      return `minted ${r.amount}`
    }
    case "send": {
      const r = await wallet.send({
        mintUrl,
        amount: BigInt(op.amount),
        ...(op.forceSwap === true ? { forceSwap: true } : {}),
      })
      return `sent ${r.amount} offline=${r.offline}`
    }
    case "receive": {
      const r = await wallet.receive(op.token)
      return `received ${r.amount}`
    }
    case "melt": {
      const q = await wallet.meltQuote({ mintUrl, request: op.invoice })
      const r = await wallet.melt(q.operationId)
      return `melted ${r.amount} ${r.state}`
    }
    case "restore": {
      const r = await wallet.restore({ mintUrl, batchSize: op.batchSize, emptyBatches: op.emptyBatches })
      return `restored ${r.amount}`
    }
    case "reclaim": {
      const r = await wallet.reclaim(op.operationId)
      return `reclaimed ${r.amount}`
    }
    case "recover": {
      const r = await wallet.recover()
      return `recovered ${r.recovered}, compensated ${r.compensated}, pending ${r.pending}`
    }
  }
}

run().then(
  async (result) => {
    await send({ t: "done", points: points.seen, result })
    process.exit(0)
  },
  async (e: unknown) => {
    const tag = typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : String(e)
    const message = typeof e === "object" && e !== null && "message" in e ? String(e.message) : ""
    await send({ t: "failed", points: points.seen, error: `${tag}: ${message}` })
    process.exit(0)
  },
)
