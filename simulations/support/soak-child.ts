/**
 * The crash soak's child (`simulations/soak.ts` starts it as an esbuild bundle, `test/support/child-bundle.ts`,
 * with `SOAK_SPEC_FILE` naming a JSON {@link SoakSpec} and an IPC channel). It opens the engine on the soak's data directory
 * — `Engine.open` recovers whatever the previous child left in flight — with the engine's default HTTP mint
 * client against the real mint, says `ready`, and then runs the random workload (`workload.ts`) on every wallet
 * at once until the parent kills it (`SIGKILL`). It tells the parent about tokens it sent and took and
 * invoices it used, so the next child sees the same pool, and reports how each action ended.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { Engine } from "../../src/engine/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../../test/support/vault.js"
import { dice as makeDice } from "./prng.js"
import { type Invoice, type Outcome, type PoolToken, randomAction } from "./workload.js"

/** What a soak child runs. */
export interface SoakSpec {
  readonly dataDir: string
  readonly passphrase: string
  readonly mintUrl: string
  readonly seed: number
  readonly tokens: ReadonlyArray<PoolToken>
  /** Amounts as decimal strings. */
  readonly invoices: ReadonlyArray<{ readonly amount: string; readonly bolt11: string }>
}

/** Child → parent. */
export type SoakChildMessage =
  | { readonly t: "ready" }
  | { readonly t: "token-add"; readonly from: string; readonly token: string }
  | { readonly t: "token-take"; readonly token: string }
  | { readonly t: "invoice-take"; readonly bolt11: string }
  | { readonly t: "outcome"; readonly outcome: Outcome }

/** Parent → child: more invoices. */
export interface SoakParentMessage {
  readonly t: "invoices"
  readonly invoices: ReadonlyArray<{ readonly amount: string; readonly bolt11: string }>
}

const spec = JSON.parse(readFileSync(process.env.SOAK_SPEC_FILE ?? "", "utf8")) as SoakSpec
const dice = makeDice(spec.seed)
const tokens: PoolToken[] = [...spec.tokens]
const invoices: Invoice[] = spec.invoices.map((i) => ({ amount: BigInt(i.amount), bolt11: i.bolt11 }))

const tell = (m: SoakChildMessage): void => {
  process.send?.(m)
}

process.on("message", (m: SoakParentMessage) => {
  if (m.t === "invoices")
    for (const i of m.invoices) invoices.push({ amount: BigInt(i.amount), bolt11: i.bolt11 })
})
// The parent is gone: nothing will kill us, so stop.
process.on("disconnect", () => process.exit(0))

const main = async (): Promise<void> => {
  const engine = await Engine.open({
    dataDir: spec.dataDir,
    passphrase: spec.passphrase,
    vault: INSECURE_TEST_VAULT_OPTIONS,
    options: { quotePollMs: 100 },
  })
  tell({ t: "ready" })
  const host = {
    mintUrl: spec.mintUrl,
    dice,
    takeToken: (walletId: string) => {
      const i = tokens.findIndex((t) => t.from !== walletId)
      if (i < 0) return undefined
      const [t] = tokens.splice(i, 1)
      tell({ t: "token-take", token: t!.token })
      return t
    },
    addToken: (t: PoolToken) => {
      tokens.push(t)
      tell({ t: "token-add", from: t.from, token: t.token })
    },
    takeInvoice: (max: bigint) => {
      const i = invoices.findIndex((x) => x.amount <= max)
      if (i < 0) return undefined
      const [x] = invoices.splice(i, 1)
      tell({ t: "invoice-take", bolt11: x!.bolt11 })
      return x
    },
  }
  const wallets = engine.walletIds().map((id) => engine.wallet(id))
  await Promise.all(
    wallets.map(async (w) => {
      for (;;) {
        const o = await randomAction(w, host)
        if (o !== undefined) tell({ t: "outcome", outcome: o })
        // Let the other loops and the IPC channel run.
        await new Promise((r) => setImmediate(r))
      }
    }),
  )
}

main().catch((e: unknown) => {
  process.stderr.write(`soak child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(3)
})
