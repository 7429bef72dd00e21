/**
 * Scale-out, end to end: `demo/cluster.ts` as its own process (what `npm run demo:cluster` runs after setup),
 * with `--verbose` so the nodes' own log lines are checked too: a 3-node NATS cluster, nutshell, three engine
 * nodes in processes of their own, a thin client moving value between six wallets, one node SIGKILLed.
 * Checks the exit code, every step in order, that each wallet is hosted by exactly one node before and after
 * the kill and the killed node's wallets moved to the others, that the printed numbers add up, that the audit
 * passed, that nothing secret is printed, and that the mint and the NATS servers are gone after.
 */
import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { holdsMnemonic, num, runDemo } from "./demo-process.js"

/** Runs `demo/cluster.ts`; SIGINT when it takes too long, so it still stops what it started. */
const clusterDemo = (args: ReadonlyArray<string> = [], env: Record<string, string> = {}) =>
  runDemo("demo/cluster.ts", args, env, { timeoutMs: 360_000, signal: "SIGINT" })

/** The `node  wallets` rows of the table printed after `label`: node → its wallets. */
const table = (out: string, label: string): Map<string, string[]> => {
  const lines = out.split("\n")
  const start = lines.findIndex((l) => l.startsWith(`${label} `))
  expect(start).toBeGreaterThanOrEqual(0)
  const rows = new Map<string, string[]>()
  for (const line of lines.slice(start, start + 3)) {
    const m = /^\S*\s+(node-[abc])\s+(.*)$/.exec(line)
    expect(m).not.toBeNull()
    rows.set(m![1]!, m![2] === "(killed)" ? [] : m![2]!.split(", "))
  }
  return rows
}

const WALLETS = ["alice", "bob", "carol", "dave", "erin", "victor"]

/** Whether something listens on 127.0.0.1:port. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, "127.0.0.1")
    s.once("connect", () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

describe("npm run demo:cluster", () => {
  it("runs 3 engine nodes on a 3-node NATS cluster, survives a SIGKILLed node, balances its books and audits clean", async () => {
    const run = await clusterDemo(["--verbose"])
    expect(run.stderr).not.toMatch(/cluster demo failed/)
    expect(run.code).toBe(0)
    const out = run.stdout

    // Every step, in order.
    const steps = [
      "nats ",
      "mint ",
      "nodes ",
      "wallets ",
      "placed ",
      "client ",
      "1. fund",
      "2. move",
      "3. melt",
      "4. kill",
      "hosts ",
      "5. books",
      "6. audit",
      "stop ",
      "done in",
    ]
    const at = steps.map((s) => out.search(new RegExp(`^${s.replace(".", "\\.")}`, "m")))
    expect(at.every((i) => i >= 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)

    // Placed: every wallet on exactly one node, every node hosting some.
    const placed = table(out, "placed")
    expect([...placed.values()].flat().sort()).toEqual(WALLETS)
    for (const hosted of placed.values()) expect(hosted.length).toBeGreaterThan(0)

    // The kill: node-b's wallets are served by the two others, each wallet still on exactly one node.
    const victims = placed.get("node-b")!
    expect(out).toContain(`4. kill  node-b (hosting ${victims.join(", ")}) SIGKILLed`)
    expect(out).toMatch(/served again \d+\.\d s after the kill \(lease TTL 2\.0 s\)/)
    const after = table(out, "hosts")
    expect(after.get("node-b")).toEqual([])
    expect([...after.values()].flat().sort()).toEqual(WALLETS)
    for (const w of victims) expect([...after.get("node-a")!, ...after.get("node-c")!]).toContain(w)
    for (const node of ["node-a", "node-c"])
      for (const w of placed.get(node)!) expect(after.get(node)).toContain(w) // the survivors keep theirs

    // The numbers add up: every fee printed, the identity line, nothing pending.
    const transfers = [...out.matchAll(/sent (\d+) sat \(fee (\d+)\), received (\d+) sat \(fee (\d+)\)/g)]
    expect(transfers.length).toBe(7) // the ring of six, and one after the kill
    let fees = 0n
    for (const [, sent, sendFee, received, receiveFee] of transfers) {
      expect(num(received) + num(receiveFee)).toBe(num(sent))
      fees += num(sendFee) + num(receiveFee)
    }
    const melt = /lightning fee (\d+) sat, input fee (\d+) sat, \d+ sat change/.exec(out)
    expect(melt).not.toBeNull()
    fees += num(melt![1]) + num(melt![2])
    const books =
      /minted (\d+) − melted (\d+) − fees (\d+) = (\d+) sat; the 6 wallets hold (\d+) sat \(routed balances\), 0 operations pending/.exec(
        out,
      )
    expect(books).not.toBeNull()
    const [, minted, melted, feesText, expected, held] = books!
    expect(num(minted)).toBe(6000n)
    expect(num(melted)).toBe(200n)
    expect(num(feesText)).toBe(fees)
    expect(num(expected)).toBe(num(minted) - num(melted) - fees)
    expect(num(held)).toBe(num(expected))

    // The audit of the whole log passed.
    expect(out).toMatch(/6\. audit corecashu audit --nats <3 servers> --passphrase-file <file>: exit 0/)
    expect(out).toMatch(/audit: OK — \d+ events checked \(chain, payloads and invariants\)/)

    // The nodes' own lines (--verbose): each came up, logged what it hosts, and node-a and node-c closed cleanly.
    for (const node of ["node-a", "node-b", "node-c"])
      expect(out).toMatch(new RegExp(`\\| \\S+ ${node}: up in`))
    expect(out).toMatch(/\| \S+ node-a: created alice bob carol dave erin victor/)
    expect(out).toMatch(/\| \S+ node-b: hosts \S/)
    for (const node of ["node-a", "node-c"]) {
      expect(out).toMatch(new RegExp(`\\| \\S+ ${node}: SIGTERM: closing`))
      expect(out).toMatch(new RegExp(`\\| \\S+ ${node}: closed`))
    }
    expect(out).not.toMatch(/node-b: closed/)

    // Nothing secret: no token, no invoice, no long hex (secrets, keys, quote or operation ids), no mnemonic.
    const all = out + run.stderr
    expect(all).not.toMatch(/cashu[AB][A-Za-z0-9_-]{20,}/)
    expect(all).not.toMatch(/lnbc[0-9a-z]{20,}/)
    expect(all).not.toMatch(/[0-9a-f]{32,}/i)
    expect(holdsMnemonic(all)).toBe(false)

    // The mint and the NATS servers were stopped.
    const mintUrl = /^mint +nutshell \(FakeWallet\) at (http:\/\/127\.0\.0\.1:\d+),/m.exec(out)![1]!
    await expect(fetch(`${mintUrl}/v1/info`)).rejects.toThrow()
    const natsPorts = [.../^nats .* at (\S+)$/m.exec(out)![1]!.matchAll(/:(\d+)/g)].map((m) => Number(m[1]))
    expect(natsPorts.length).toBe(3)
    for (const port of natsPorts) expect(await listening(port)).toBe(false)
  }, 400_000)

  it("fails with exit 1 and a one-line reason when the mint cannot start", async () => {
    const run = await clusterDemo([], { MINT_BACKEND_BOLT11_SAT: "NoSuchBackend" })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^cluster demo failed: the mint exited before it was ready/m)
    expect(run.stdout).not.toMatch(/^nodes /m)
  }, 120_000)
})
