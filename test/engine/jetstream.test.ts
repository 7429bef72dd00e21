/**
 * The engine on a NATS JetStream log (`Engine.open({ store: { kind: "jetstream", servers } })`), against a
 * real nats-server: the same wallet flow as on LevelDB, sealed by a vault whose material lives in the KV
 * bucket beside the stream; a node opening later (another data dir, no checkpoints) rebuilds every wallet
 * from JetStream to the same balances and history; a wrong passphrase and a log without its vault are
 * refused; a second engine on the same log cannot append over the first's newer state.
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import { engineStore } from "../../src/engine/internal.js"
import { isCorecashuError } from "../../src/model/index.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { freshDir, fund, testMint } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const nats = natsClosedAfterAll()

const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error("expected a failure")
    },
    (e: unknown) => e,
  )

describe("Engine on JetStream", () => {
  it("runs the wallet flow on a JetStream log, and another node rebuilds it exactly", async () => {
    const { servers } = await nats()
    const mint = testMint("js-flow")
    const open = (dataDir: string, extra: Partial<EngineOpenOptions> = {}) =>
      Engine.open({
        dataDir,
        passphrase: "js passphrase",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: directMintClient(mint),
        options: { quotePollMs: 5 },
        store: { kind: "jetstream", servers, stream: "FLOW", subjectPrefix: "flow" },
        ...extra,
      } as EngineOpenOptions)

    const a = await open(freshDir())
    const alice = await a.createWallet({ walletId: "alice" })
    const bob = await a.createWallet({ walletId: "bob" })
    await alice.addMint(mint.baseUrl)
    await bob.addMint(mint.baseUrl)
    await fund(alice, mint, 100n)
    const { token } = await alice.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 21n })
    await bob.receive(token)
    expect(alice.balance()).toBe(79n)
    expect(bob.balance()).toBe(21n)
    expect((await a.audit()).ok).toBe(true)
    const head = await Effect.runPromise(engineStore(a).head)
    const history = alice.history()
    await a.close()

    // Another node: a fresh data dir (no checkpoints), the same stream and passphrase.
    const b = await open(freshDir())
    expect(await Effect.runPromise(engineStore(b).head)).toBe(head)
    expect(b.wallet("alice").balance()).toBe(79n)
    expect(b.wallet("bob").balance()).toBe(21n)
    expect(b.wallet("alice").history()).toEqual(history)
    expect(b.wallet("alice").mnemonic()).toBe(alice.mnemonic())
    expect((await b.audit()).ok).toBe(true)
    // And it goes on where the first left off.
    await fund(b.wallet("bob"), mint, 8n)
    expect(b.wallet("bob").balance()).toBe(29n)
    expect(mint.stats().outstanding).toBe(108n)
    await b.close()
  })

  it("refuses a wrong passphrase, and never creates a vault beside events sealed under another", async () => {
    const { servers } = await nats()
    const base = {
      vault: INSECURE_TEST_VAULT_OPTIONS,
      mintClient: directMintClient(testMint("js-vault")),
      store: { kind: "jetstream" as const, servers, stream: "VAULTED", subjectPrefix: "vaulted" },
    }
    const first = await Engine.open({ ...base, dataDir: freshDir(), passphrase: "right" })
    await first.createWallet({ walletId: "w" })
    await first.close()
    const wrong = await rejection(Engine.open({ ...base, dataDir: freshDir(), passphrase: "wrong" }))
    expect(wrong).toMatchObject({ _tag: "VaultError" })

    // A log written without a vault (unencrypted) cannot be given one afterwards.
    const plain = { ...base, store: { ...base.store, stream: "PLAIN", subjectPrefix: "plain" } }
    const p = await Engine.open({ ...plain, dataDir: freshDir(), unencrypted: true })
    await p.createWallet({ walletId: "w" })
    await p.close()
    const over = await rejection(Engine.open({ ...plain, dataDir: freshDir(), passphrase: "new" }))
    expect(isCorecashuError(over)).toBe(true)
    expect(over).toMatchObject({ _tag: "StoreCorrupted" })
  })

  it("a second node on the same log cannot append over the first's newer state: the server refuses it", async () => {
    const { servers } = await nats()
    const mint = testMint("js-fence")
    const open = () =>
      Engine.open({
        dataDir: freshDir(),
        passphrase: "fence",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: directMintClient(mint),
        options: { quotePollMs: 5 },
        store: { kind: "jetstream", servers, stream: "FENCE", subjectPrefix: "fence" },
      } as EngineOpenOptions)
    const a = await open()
    const w = await a.createWallet({ walletId: "w" })
    await w.addMint(mint.baseUrl)
    await fund(w, mint, 64n)
    const b = await open()
    // Node A moves on; node B still decides on the state it loaded.
    await w.send({ mintUrl: mint.baseUrl, unit: "sat", amount: 10n })
    const stale = await rejection(b.wallet("w").send({ mintUrl: mint.baseUrl, unit: "sat", amount: 10n }))
    expect(isCorecashuError(stale)).toBe(true)
    // Nothing of B's attempt reached the log or the mint: A's books still balance against the mint.
    expect(w.balance()).toBe(54n)
    expect(mint.stats().outstanding).toBe(64n)
    expect((await a.audit()).ok).toBe(true)
    await b.close()
    await a.close()
  })

  it("checks the store option like every other argument", async () => {
    const bad = [
      { kind: "jetstream" },
      { kind: "jetstream", servers: [] },
      { kind: "jetstream", servers: "http://127.0.0.1:4222" },
      { kind: "jetstream", servers: "nats://127.0.0.1:4222", stream: "a.b" },
      { kind: "jetstream", servers: "nats://127.0.0.1:4222", replicas: 0 },
      { kind: "jetstream", servers: "nats://127.0.0.1:4222", streem: "X" },
      { kind: "redis" },
    ]
    for (const store of bad) {
      const e = await rejection(
        Engine.open({ dataDir: freshDir(), unencrypted: true, store } as unknown as EngineOpenOptions),
      )
      expect(e, JSON.stringify(store)).toMatchObject({ _tag: "InvalidArgument" })
    }
  })
})
