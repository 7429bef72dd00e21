/**
 * The main job, end to end: `demo/demo.ts` as its own process (what `scripts/demo.sh` runs after setup)
 * against a real nutshell mint. Checks the exit code, that every step and both audits are reported, that the
 * printed numbers add up, that nothing secret is printed, and that the mint and the temp data are gone after.
 * (`scripts/demo.sh` itself also runs `npm install` when the lock changed; that is not done inside a test run.)
 */
import { existsSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { holdsMnemonic, num, runDemo } from "./demo-process.js"

/** Runs the demo as `npm run demo` does (minus setup), with `env` added to the environment. */
const demo = (args: ReadonlyArray<string> = [], env: Record<string, string> = {}) =>
  runDemo("demo/demo.ts", args, env)

describe("npm run demo", () => {
  it("runs two wallets through mint → send → receive → melt against nutshell and ends with clean audits", async () => {
    const run = await demo()
    expect(run.stderr).not.toMatch(/demo failed/)
    expect(run.code).toBe(0)
    const out = run.stdout

    // Every step, in order.
    const steps = ["1. mint", "2. send", "3. receive", "4. melt", "5. check", "balances", "history", "audit"]
    const at = steps.map((s) => out.indexOf(s))
    expect(at.every((i) => i >= 0)).toBe(true)
    expect([...at].sort((a, b) => a - b)).toEqual(at)
    expect(out).toMatch(
      /mint {5}Nutshell\/0\.20\.3 \(FakeWallet\) at http:\/\/127\.0\.0\.1:\d+, input fee 100 ppk/,
    )
    expect(out).toMatch(/→ 6 proofs worth 1000 sat, every DLEQ proof verified/)
    expect(out).toMatch(
      /→ paid: lightning fee 1 sat, input fee [1-9]\d* sat, [1-9]\d* sat back as NUT-08 change/,
    )

    // The numbers add up: the identity line, the balance table and the reported fees agree.
    const identity = /minted (\d+) − melted (\d+) − fees (\d+) = (\d+) sat; the wallets hold (\d+) sat/.exec(
      out,
    )
    expect(identity).not.toBeNull()
    const [, minted, melted, fees, expected, heldText] = identity!
    expect(num(minted)).toBe(1000n)
    expect(num(melted)).toBe(200n)
    expect(num(expected)).toBe(num(minted) - num(melted) - num(fees))
    expect(num(heldText)).toBe(num(expected))
    const alice = /^ {2}alice +(\d+) +(\d+) +(\d+)$/m.exec(out)
    const bob = /^ {2}bob +(\d+) +(\d+) +(\d+)$/m.exec(out)
    expect(alice).not.toBeNull()
    expect(bob).not.toBeNull()
    expect(num(alice![1]) + num(bob![1])).toBe(num(heldText))
    expect([alice![2], alice![3], bob![2], bob![3]]).toEqual(["0", "0", "0", "0"]) // nothing pending or reserved
    const sendFee = num(/swap to send, fee (\d+) sat/.exec(out)?.[1])
    const receiveFee = num(/input fee (\d+) sat\)/.exec(out)?.[1])
    const meltFees = /lightning fee (\d+) sat, input fee (\d+) sat/.exec(out)
    expect(sendFee + receiveFee + num(meltFees?.[1]) + num(meltFees?.[2])).toBe(num(fees))
    expect(num(bob![1])).toBe(300n - receiveFee)

    // The history shows every operation settled.
    for (const row of [
      /^ {2}alice +mint +completed +1000 /m,
      /^ {2}alice +send +completed +300 /m,
      /^ {2}alice +melt +completed +200 /m,
      /^ {2}bob +receive +completed +\d+ /m,
    ])
      expect(out).toMatch(row)
    expect(out).not.toMatch(/\b(requested|pending|compensated)\b +-?\d/)

    // Both audits passed: the engine's and the CLI's on the closed data dir.
    expect(out).toMatch(/engine\.audit\(\): OK: (\d+) events replayed/)
    expect(out).toMatch(/corecashu audit --data-dir <dir> --passphrase-file <file>: exit 0/)
    const events = /engine\.audit\(\): OK: (\d+) events/.exec(out)![1]
    expect(out).toContain(`audit: OK — ${events} events checked (chain, payloads and invariants)`)

    // Nothing secret: no full token or invoice, no long hex (secrets, keys, quote or operation ids), no mnemonic.
    const all = out + run.stderr
    expect(all).toMatch(/token cashuB[A-Za-z0-9_-]+… \(\d+ chars\)/)
    expect(all).not.toMatch(/cashu[AB][A-Za-z0-9_-]{30,}/)
    expect(all).not.toMatch(/lnbc[0-9a-z]{30,}/)
    expect(all).not.toMatch(/[0-9a-f]{32,}/i)
    expect(holdsMnemonic(all)).toBe(false)

    // The mint was stopped and the temp data removed.
    const url = /at (http:\/\/127\.0\.0\.1:\d+),/.exec(out)![1]!
    await expect(fetch(`${url}/v1/info`)).rejects.toThrow()
    const dataDir = /event log at (\S+) \(/.exec(out)![1]!
    expect(existsSync(dataDir)).toBe(false)
  })

  it("fails with exit 1 and a one-line reason when the mint cannot start", async () => {
    const run = await demo([], { MINT_BACKEND_BOLT11_SAT: "NoSuchBackend" })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^demo failed: the mint exited before it was ready/m)
    expect(run.stdout).not.toMatch(/engine\.audit/)
  })
})
