/**
 * Placement by rendezvous hashing with rebalancing (issue #12, "Routing"), against a real nats-server:
 * engine nodes over one JetStream log with `store.node.placement: "rendezvous"`.
 *
 * - 3 nodes, 30 wallets created on one of them: every wallet ends up hosted by its rendezvous node only.
 * - Funds and transfers routed from any node; books balance (minted = balances + fees).
 * - A 4th node joins: only the wallets it now wins move (to it), the others keep their epochs; all served.
 * - A node closes: its wallets move to the others within ~2 TTL; the others stay put.
 * - Every wallet's ownership epochs are 1, 2, 3… (no epoch appended twice), and audits are clean.
 * - A hand-off waits for the operation its node is driving: a send whose swap is slow finishes on the old
 *   owner, then the joiner takes the wallet (epochs 1, 2), value conserved.
 * - A node in its own process is SIGKILLed (no member entry deleted, no lease released): its wallets move
 *   to the others once its entry and leases expire on the server.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import { engineStore } from "../../src/engine/internal.js"
import { placementOf } from "../../src/engine/placement.js"
import type { MintClientShape } from "../../src/ports/mint-client.js"
import { directMintClient } from "../support/direct-mint-client.js"
import { freshDir, testMint } from "../support/engine.js"
import { natsClosedAfterAll } from "../support/nats.js"
import type { PlacementReport, PlacementSpec } from "../support/placement-child.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const natsServer = natsClosedAfterAll()
const TTL = 900
const PLACEMENT_CHILD = fileURLToPath(new URL("../support/placement-child.ts", import.meta.url))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const eventually = async (f: () => Promise<boolean> | boolean, ms: number): Promise<number> => {
  const start = Date.now()
  while (!(await f())) {
    if (Date.now() - start > ms) throw new Error("condition not met in time")
    await sleep(25)
  }
  return Date.now() - start
}

/** A wallet's ownership events, in log order. */
const ownership = async (engine: Engine, walletId: string) => {
  const recs = await Effect.runPromise(engineStore(engine).read(`wallet/${walletId}`, 1))
  return recs.flatMap((r) =>
    r.event._tag === "WalletOwnerChanged" ? [{ nodeId: r.event.nodeId, epoch: r.event.epoch }] : [],
  )
}

describe("Engine nodes on JetStream: placement by rendezvous hashing", () => {
  it("places 30 wallets over 3 nodes, rebalances when a 4th joins and when one leaves", async () => {
    const { servers } = await natsServer()
    const mint = testMint("placement")
    const open = (nodeId: string) =>
      Engine.open({
        dataDir: freshDir(),
        passphrase: "placement",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: directMintClient(mint),
        options: { quotePollMs: 5 },
        store: {
          kind: "jetstream",
          servers,
          stream: "PLACE",
          subjectPrefix: "pl",
          node: { id: nodeId, leaseTtlMs: TTL, placement: "rendezvous" },
        },
      } as EngineOpenOptions)
    const engines = new Map<string, Engine>()
    try {
      for (const id of ["node-a", "node-b", "node-c"]) engines.set(id, await open(id))
      const a = engines.get("node-a")!
      const ids = Array.from({ length: 30 }, (_, i) => `pw-${i}`)
      for (const id of ids) await a.createWallet({ walletId: id })

      /** Every wallet hosted by its rendezvous node over the open nodes, and by no other. */
      const placed = () => {
        const members = [...engines.keys()]
        const hosted = new Map<string, string[]>()
        for (const [n, e] of engines)
          for (const w of e.walletIds()) hosted.set(w, [...(hosted.get(w) ?? []), n])
        return ids.every((id) => {
          const on = hosted.get(id) ?? []
          return on.length === 1 && on[0] === placementOf(id, members)
        })
      }
      const settle = await eventually(placed, 10 * TTL)
      console.log(`placement: 30 wallets placed over 3 nodes in ${settle} ms`)
      for (const e of engines.values()) expect(e.walletIds().length).toBeGreaterThan(0)

      // Funds and transfers, routed from whichever node: books balance.
      let minted = 0n
      let fees = 0n
      const funded = ids.slice(0, 6)
      for (const [i, id] of funded.entries()) {
        const via = [...engines.values()][i % 3]!.remote(id)
        await via.addMint(mint.baseUrl)
        const q = await via.mintQuote({ mintUrl: mint.baseUrl, amount: 64n })
        await via.mint(q.operationId)
        minted += 64n
      }
      const total = async (via: Engine) => {
        let sum = 0n
        for (const id of ids) sum += await via.remote(id).balance()
        return sum
      }
      const transfer = async (from: string, to: string, via: Engine) => {
        const sent = await via.remote(from).send({ mintUrl: mint.baseUrl, amount: 5n })
        const got = await via.remote(to).receive(sent.token, { trustMint: true })
        fees += got.fee
      }
      await transfer(funded[0]!, ids[10]!, engines.get("node-b")!)
      await transfer(funded[1]!, ids[20]!, engines.get("node-c")!)
      for (const e of engines.values()) expect(await total(e)).toBe(minted - fees)

      // A 4th node joins: only its share moves, to it.
      const before = new Map(await Promise.all(ids.map(async (id) => [id, await ownership(a, id)] as const)))
      const owners3 = new Map(ids.map((id) => [id, placementOf(id, [...engines.keys()])!]))
      engines.set("node-d", await open("node-d"))
      const joined = await eventually(placed, 10 * TTL)
      const owners4 = new Map(ids.map((id) => [id, placementOf(id, [...engines.keys()])!]))
      const moved = ids.filter((id) => owners3.get(id) !== owners4.get(id))
      console.log(`placement: node-d joined; ${moved.length} of 30 wallets moved to it in ${joined} ms`)
      expect(moved.length).toBeGreaterThan(0)
      expect(moved.length).toBeLessThan(16)
      for (const id of moved) expect(owners4.get(id)).toBe("node-d")
      // node-d hosts a wallet once its epoch append was acknowledged; node-a's view of the log follows its feed,
      // a moment later on a loaded machine.
      await eventually(async () => {
        for (const id of moved) if ((await ownership(a, id)).at(-1)?.nodeId !== "node-d") return false
        return true
      }, 5 * TTL)
      for (const id of ids) {
        const now = await ownership(a, id)
        if (moved.includes(id)) expect(now.at(-1)?.nodeId).toBe("node-d")
        else expect(now).toStrictEqual(before.get(id))
      }
      for (const e of engines.values()) expect(await total(e)).toBe(minted - fees)
      await transfer(ids[10]!, ids[0]!, engines.get("node-d")!)

      // A node leaves: its wallets move to the others, within ~2 TTL; nothing else moves.
      const leaver = "node-b"
      const leaving = ids.filter((id) => owners4.get(id) === leaver)
      const closing = Date.now()
      await engines.get(leaver)!.close()
      engines.delete(leaver)
      const closed = Date.now() - closing
      const left = (await eventually(placed, 10 * TTL)) + closed
      console.log(
        `placement: ${leaver} left; its ${leaving.length} wallets moved in ${left} ms (its close took ${closed} ms; TTL ${TTL})`,
      )
      // Bounded after the leaver's close returns (its close itself is slower on a loaded machine).
      expect(left - closed).toBeLessThan(2 * TTL)
      const owners3b = new Map(ids.map((id) => [id, placementOf(id, [...engines.keys()])!]))
      for (const id of ids) if (!leaving.includes(id)) expect(owners3b.get(id)).toBe(owners4.get(id))
      for (const e of engines.values()) expect(await total(e)).toBe(minted - fees)

      // Never two owners: every wallet's epochs are 1, 2, 3…; audits clean on every node.
      for (const id of ids) {
        const epochs = (await ownership(a, id)).map((o) => o.epoch)
        expect(epochs).toStrictEqual(epochs.map((_, i) => i + 1))
      }
      for (const e of engines.values()) expect((await e.audit()).ok).toBe(true)
    } finally {
      for (const e of engines.values()) await e.close()
    }
  }, 120_000)

  it("a crashed node (SIGKILL): its wallets move to the others once its entry and leases expire", async () => {
    const { servers } = await natsServer()
    const stream = "PLACEX"
    const open = (nodeId: string) =>
      Engine.open({
        dataDir: freshDir(),
        passphrase: "placement",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: directMintClient(testMint("placement-x")),
        store: {
          kind: "jetstream",
          servers,
          stream,
          subjectPrefix: "plx",
          node: { id: nodeId, leaseTtlMs: TTL, placement: "rendezvous" },
        },
      } as EngineOpenOptions)
    const engines = new Map<string, Engine>()
    const spec: PlacementSpec = {
      servers,
      stream,
      subjectPrefix: "plx",
      nodeId: "node-x",
      leaseTtlMs: TTL,
      dataDir: freshDir(),
      passphrase: "placement",
    }
    const child = spawn(process.execPath, ["--import", "tsx", PLACEMENT_CHILD], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, PLACEMENT_SPEC: JSON.stringify(spec) },
    })
    let stderr = ""
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString("utf8")
    })
    const exited = new Promise<void>((r) => child.on("exit", () => r()))
    const ready = new Promise<PlacementReport>((r) => child.on("message", (m: PlacementReport) => r(m)))
    try {
      for (const id of ["node-a", "node-b", "node-c"]) engines.set(id, await open(id))
      const a = engines.get("node-a")!
      const ids = Array.from({ length: 24 }, (_, i) => `xw-${i}`)
      for (const id of ids) await a.createWallet({ walletId: id })
      const report = await Promise.race([
        ready,
        sleep(30_000).then(
          (): PlacementReport => ({ t: "failed", message: `no report: ${stderr.slice(-2000)}` }),
        ),
      ])
      expect(report).toEqual({ t: "ready" })

      /** Wallets placed on the in-process nodes are hosted there only; the others were last taken by node-x. */
      const placedWith = (members: ReadonlyArray<string>) => async () => {
        const hosted = new Map<string, string[]>()
        for (const [n, e] of engines)
          for (const w of e.walletIds()) hosted.set(w, [...(hosted.get(w) ?? []), n])
        for (const id of ids) {
          const target = placementOf(id, members)
          const on = hosted.get(id) ?? []
          if (target === "node-x") {
            if (on.length !== 0 || (await ownership(a, id)).at(-1)?.nodeId !== "node-x") return false
          } else if (on.length !== 1 || on[0] !== target) return false
        }
        return true
      }
      const four = ["node-a", "node-b", "node-c", "node-x"]
      await eventually(placedWith(four), 20 * TTL)
      const onX = ids.filter((id) => placementOf(id, four) === "node-x")
      expect(onX.length).toBeGreaterThan(0)

      child.kill("SIGKILL")
      await exited
      const moved = await eventually(placedWith(["node-a", "node-b", "node-c"]), 10 * TTL)
      console.log(
        `placement: node-x killed; its ${onX.length} wallets served by the others after ${moved} ms (TTL ${TTL})`,
      )
      expect(moved).toBeLessThan(3 * TTL)
      for (const id of ids) {
        const epochs = (await ownership(a, id)).map((o) => o.epoch)
        expect(epochs).toStrictEqual(epochs.map((_, i) => i + 1))
      }
      expect((await a.audit()).ok).toBe(true)
    } finally {
      child.kill("SIGKILL")
      for (const e of engines.values()) await e.close()
    }
  }, 120_000)

  it("a hand-off waits for the operation in flight: a slow send finishes, then the joiner takes the wallet", async () => {
    const { servers } = await natsServer()
    const mint = testMint("placement-h")
    const direct = directMintClient(mint)
    /** Node A's mint client: every swap takes a second (the hand-off starts meanwhile). */
    const slow: MintClientShape = {
      ...direct,
      swap: ((url, body) =>
        Effect.andThen(Effect.sleep("1 second"), direct.swap(url, body))) as typeof direct.swap,
    }
    const open = (nodeId: string, client: MintClientShape) =>
      Engine.open({
        dataDir: freshDir(),
        passphrase: "placement",
        vault: INSECURE_TEST_VAULT_OPTIONS,
        mintClient: client,
        options: { quotePollMs: 5 },
        store: {
          kind: "jetstream",
          servers,
          stream: "PLACEH",
          subjectPrefix: "plh",
          node: { id: nodeId, leaseTtlMs: TTL, placement: "rendezvous" },
        },
      } as EngineOpenOptions)
    // A wallet id placed on node-a among {a, b} and on node-c once c joins.
    const id = Array.from({ length: 1000 }, (_, i) => `hw-${i}`).find(
      (w) =>
        placementOf(w, ["node-a", "node-b"]) === "node-a" &&
        placementOf(w, ["node-a", "node-b", "node-c"]) === "node-c",
    )!
    const engines: Engine[] = []
    try {
      const a = await open("node-a", slow)
      engines.push(a, await open("node-b", direct))
      const w = await a.createWallet({ walletId: id })
      await w.addMint(mint.baseUrl)
      const q = await w.mintQuote({ mintUrl: mint.baseUrl, amount: 64n })
      await w.mint(q.operationId)
      // The send is claimed and its swap on the way when node-c joins.
      const sending = w.send({ mintUrl: mint.baseUrl, amount: 10n })
      await sleep(100)
      const c = await open("node-c", direct)
      engines.push(c)
      const sent = await sending
      expect(sent.amount).toBe(10n)
      await eventually(() => c.walletIds().includes(id) && !a.walletIds().includes(id), 10 * TTL)
      // Read from the new owner, which indexed its own epoch append on its acknowledgement (node-a's view
      // follows its feed, a moment later).
      expect(await ownership(c, id)).toStrictEqual([
        { nodeId: "node-a", epoch: 1 },
        { nodeId: "node-c", epoch: 2 },
      ])
      const moved = c.wallet(id)
      expect(moved.balance()).toBe(54n)
      expect(await moved.recover()).toStrictEqual({ recovered: 0, compensated: 0, pending: 0 })
      expect(await engines[1]!.remote(id).balance()).toBe(54n)
      expect((await c.audit()).ok).toBe(true)
    } finally {
      for (const e of engines) await e.close()
    }
  }, 60_000)
})
