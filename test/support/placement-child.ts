/**
 * An engine node with placement in a process of its own, for `test/engine/jetstream-placement.test.ts`:
 * started through tsx with `PLACEMENT_SPEC` (JSON {@link PlacementSpec}) and an IPC channel, so the parent
 * can SIGKILL it (a node that crashes: no member entry deleted, no lease released). It opens node `nodeId`
 * with `placement: "rendezvous"` and reports `ready`; `{ t: "close" }` closes it and exits 0.
 *
 * @module
 */
import { Engine } from "../../src/engine/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "./vault.js"

/** What the child is asked to do. */
export interface PlacementSpec {
  readonly servers: ReadonlyArray<string>
  readonly stream: string
  readonly subjectPrefix: string
  readonly nodeId: string
  readonly leaseTtlMs: number
  readonly dataDir: string
  readonly passphrase: string
}

/** Child → parent. */
export type PlacementReport = { readonly t: "ready" } | { readonly t: "failed"; readonly message: string }

const spec = JSON.parse(process.env.PLACEMENT_SPEC ?? "{}") as PlacementSpec

const report = (msg: PlacementReport): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) return resolve()
    process.send(msg, undefined, {}, () => resolve())
  })

const main = async (): Promise<void> => {
  const engine = await Engine.open({
    dataDir: spec.dataDir,
    passphrase: spec.passphrase,
    vault: INSECURE_TEST_VAULT_OPTIONS,
    store: {
      kind: "jetstream",
      servers: [...spec.servers],
      stream: spec.stream,
      subjectPrefix: spec.subjectPrefix,
      node: { id: spec.nodeId, leaseTtlMs: spec.leaseTtlMs, placement: "rendezvous" },
    },
  })
  process.on("message", (m: { readonly t: "close" }) => {
    if (m.t === "close") void engine.close().then(() => process.exit(0))
  })
  await report({ t: "ready" })
}

main().catch(async (e: unknown) => {
  await report({ t: "failed", message: e instanceof Error ? e.message : String(e) })
  process.exit(1)
})
