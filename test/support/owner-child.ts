/**
 * An engine node in a process of its own, for the ownership tests (`test/engine/jetstream-ownership.test.ts`):
 * started through tsx with `OWNER_SPEC` (JSON {@link OwnerSpec}) and an IPC
 * channel, so the parent can really pause it (SIGSTOP) past its lease and wake it (SIGCONT).
 *
 * It opens node `nodeId` on the JetStream log with the real HTTP mint client, creates wallet `walletId`,
 * trusts the mint and mints `fund`, then reports `ready`. On `{ t: "send", amount }` it sends and reports
 * `sent` or `failed` with the error's tag and message; on `{ t: "close" }` it closes the engine and exits 0.
 *
 * @module
 */
import { Engine } from "../../src/engine/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "./vault.js"

/** What the child is asked to do. */
export interface OwnerSpec {
  readonly servers: ReadonlyArray<string>
  readonly stream: string
  readonly subjectPrefix: string
  readonly nodeId: string
  readonly leaseTtlMs: number
  readonly dataDir: string
  readonly passphrase: string
  readonly mintUrl: string
  readonly walletId: string
  readonly fund: string
}

/** Parent → child. */
export type OwnerCommand = { readonly t: "send"; readonly amount: string } | { readonly t: "close" }

/** Child → parent. */
export type OwnerReport =
  | { readonly t: "ready" }
  | { readonly t: "sent"; readonly amount: string }
  | { readonly t: "failed"; readonly tag: string; readonly message: string }

const spec = JSON.parse(process.env.OWNER_SPEC ?? "{}") as OwnerSpec

const report = (msg: OwnerReport): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve()
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
      node: { id: spec.nodeId, leaseTtlMs: spec.leaseTtlMs },
    },
  })
  const wallet = await engine.createWallet({ walletId: spec.walletId })
  await wallet.addMint(spec.mintUrl)
  const q = await wallet.mintQuote({ mintUrl: spec.mintUrl, amount: BigInt(spec.fund) })
  await wallet.mint(q.operationId)
  process.on("message", (m: OwnerCommand) => {
    if (m.t === "close") {
      void engine.close().then(() => process.exit(0))
      return
    }
    void wallet.send({ mintUrl: spec.mintUrl, unit: "sat", amount: BigInt(m.amount) }).then(
      (r) => report({ t: "sent", amount: r.amount.toString() }),
      (e: unknown) => report({ t: "failed", ...describe(e) }),
    )
  })
  await report({ t: "ready" })
}

main().catch(async (e: unknown) => {
  await report({ t: "failed", ...describe(e) })
  process.exit(1)
})
