/**
 * An engine node in a process of its own, owning several wallets and busy with them, for the failover
 * benchmark (`bench/cluster.ts`): started through tsx with `NODE_SPEC` (JSON {@link NodeSpec}) and an IPC
 * channel, so the parent can SIGKILL it mid-traffic and time how soon another node serves its wallets.
 *
 * It opens node `nodeId` on the JetStream log with the real HTTP mint client (the parent serves its
 * in-process test mint over HTTP), creates the wallets `walletIds`, trusts the mint and mints `fund` into each,
 * reports `ready`, then keeps every wallet sending `sendAmount` in a loop (one send in flight per wallet), so a
 * kill lands with operations in flight. Each completed send is reported (`sent`, with the wallet) so the parent
 * knows traffic is running before it kills. `{ t: "close" }` closes the engine and exits 0.
 *
 * @module
 */
import { Engine } from "../../src/engine/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "./vault.js"

/** What the child is asked to do. */
export interface NodeSpec {
  readonly servers: ReadonlyArray<string>
  readonly stream: string
  readonly subjectPrefix: string
  readonly replicas: number
  readonly nodeId: string
  readonly leaseTtlMs: number
  readonly dataDir: string
  readonly passphrase: string
  readonly mintUrl: string
  readonly walletIds: ReadonlyArray<string>
  readonly fund: string
  readonly sendAmount: string
}

/** Parent → child. */
export type NodeCommand = { readonly t: "close" }

/** Child → parent. */
export type NodeReport =
  | { readonly t: "ready" }
  | { readonly t: "sent"; readonly walletId: string }
  | { readonly t: "failed"; readonly tag: string; readonly message: string }

const spec = JSON.parse(process.env.NODE_SPEC ?? "{}") as NodeSpec

const report = (msg: NodeReport): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined || !process.connected) return resolve()
    process.send(msg, undefined, {}, () => resolve())
  })

const describe = (e: unknown) => ({
  tag: typeof e === "object" && e !== null && "_tag" in e ? String(e._tag) : String(e),
  message: typeof e === "object" && e !== null && "message" in e ? String(e.message) : "",
})

const main = async (): Promise<void> => {
  const engine = await Engine.open({
    dataDir: spec.dataDir,
    passphrase: spec.passphrase,
    vault: INSECURE_TEST_VAULT_OPTIONS,
    options: { quotePollMs: 5 },
    store: {
      kind: "jetstream",
      servers: [...spec.servers],
      stream: spec.stream,
      subjectPrefix: spec.subjectPrefix,
      replicas: spec.replicas,
      node: { id: spec.nodeId, leaseTtlMs: spec.leaseTtlMs },
    },
  })
  const wallets = await Promise.all(
    spec.walletIds.map(async (walletId) => {
      const wallet = await engine.createWallet({ walletId })
      await wallet.addMint(spec.mintUrl)
      const q = await wallet.mintQuote({ mintUrl: spec.mintUrl, amount: BigInt(spec.fund) })
      await wallet.mint(q.operationId)
      return wallet
    }),
  )
  let closing = false
  process.on("message", (m: NodeCommand) => {
    if (m.t === "close") {
      closing = true
      void engine.close().then(() => process.exit(0))
    }
  })
  await report({ t: "ready" })
  for (const wallet of wallets)
    void (async () => {
      while (!closing) {
        try {
          await wallet.send({ mintUrl: spec.mintUrl, unit: "sat", amount: BigInt(spec.sendAmount) })
          await report({ t: "sent", walletId: wallet.id })
        } catch (e) {
          if (!closing) await report({ t: "failed", ...describe(e) })
          return
        }
      }
    })()
}

main().catch(async (e: unknown) => {
  await report({ t: "failed", ...describe(e) })
  process.exit(1)
})
