/**
 * Three nodes opening a fresh R3 log on a fresh 3-node cluster at the same moment (a deployment's first
 * start): the stream, the vault, the checkpoint, owners and nodes buckets are created by whichever node gets
 * there first, and the others' requests meet replicas not yet placed ("no responders", timeouts, 503). Every
 * node must open, on one vault. Before the open-time retries (`src/infra/jetstream/settling.ts`) all but
 * one usually failed.
 */
import { describe, expect, it } from "vitest"
import { Engine } from "../../src/engine/engine.js"
import { freshDir } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const nats = natsClosedAfterAll()

describe("Engine nodes opening a fresh R3 log at once", () => {
  it("all three open, on one vault, and see each other's wallets", async () => {
    const { servers } = await nats({ cluster: 3 })
    const engines: Engine[] = []
    try {
      for (let round = 0; round < 2; round++) {
        const opened = await Promise.allSettled(
          ["a", "b", "c"].map((id) =>
            Engine.open({
              dataDir: freshDir(),
              passphrase: "concurrent open",
              vault: INSECURE_TEST_VAULT_OPTIONS,
              store: {
                kind: "jetstream",
                servers: [...servers],
                stream: `FRESH${round}`,
                subjectPrefix: `fresh${round}`,
                replicas: 3,
                node: { id: `node-${id}`, leaseTtlMs: 2_000, placement: "rendezvous" },
              },
            }),
          ),
        )
        for (const r of opened) if (r.status === "fulfilled") engines.push(r.value)
        expect(opened.map((r) => (r.status === "rejected" ? String(r.reason) : "opened"))).toEqual([
          "opened",
          "opened",
          "opened",
        ])
        // One vault: a wallet made on one node is readable (its mnemonic unsealed) through the others' logs.
        const [a, b] = engines.slice(-3)
        await a!.createWallet({ walletId: `w${round}` })
        await expect.poll(() => b!.remote(`w${round}`).balance(), { timeout: 10_000 }).toBe(0n)
        expect((await b!.audit()).ok).toBe(true)
      }
    } finally {
      for (const e of engines) await e.close()
    }
  })
})
