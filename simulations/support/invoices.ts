/**
 * Bolt11 invoices of external payees for melts against the real mint (`scripts/mint.sh invoice N`: validly
 * signed, from a random node no mint knows, so nutshell's FakeWallet pays them for 1 sat out of the fee reserve).
 * Each takes a Python start (~0.4 s), so a stock is kept filled in the background, one at a time.
 *
 * @module
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { Invoice } from "./workload.js"

const SCRIPT = fileURLToPath(new URL("../../scripts/mint.sh", import.meta.url))

/** One fresh invoice for `amount` sat. */
export const externalInvoiceAsync = (amount: bigint): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, "invoice", amount.toString()], { encoding: "utf8" }, (err, stdout) => {
      const out = stdout.trim()
      if (err !== null) reject(err)
      else if (!/^lnbc[0-9a-z]+$/.test(out)) reject(new Error("scripts/mint.sh invoice printed no invoice"))
      else resolve(out)
    })
  })

/** A stock of invoices of random amounts in [1, maxAmount], refilled in the background up to `target`. */
export class InvoiceStock {
  readonly invoices: Invoice[] = []
  private filling = false
  private stopped = false
  /** Made so far. */
  made = 0

  constructor(
    private readonly target: number,
    private readonly amount: () => bigint,
    /** Called with each new invoice (e.g. to hand it to a running child). */
    private readonly onNew: (i: Invoice) => void = () => {},
  ) {}

  /** Starts filling (returns at once). */
  refill(): void {
    if (this.filling || this.stopped) return
    this.filling = true
    void (async () => {
      try {
        while (!this.stopped && this.invoices.length < this.target) {
          const amount = this.amount()
          const i = { amount, bolt11: await externalInvoiceAsync(amount) }
          this.made++
          this.invoices.push(i)
          this.onNew(i)
        }
      } finally {
        this.filling = false
      }
    })()
  }

  /** Fills up to `n` invoices and waits for them. */
  async fill(n: number): Promise<void> {
    while (this.invoices.length < n) {
      const amount = this.amount()
      this.invoices.push({ amount, bolt11: await externalInvoiceAsync(amount) })
      this.made++
    }
  }

  /** Removes an invoice (it was used). */
  remove(bolt11: string): void {
    const i = this.invoices.findIndex((x) => x.bolt11 === bolt11)
    if (i >= 0) this.invoices.splice(i, 1)
  }

  /** Takes one of at most `max` sat. */
  take(max: bigint): Invoice | undefined {
    const i = this.invoices.findIndex((x) => x.amount <= max)
    if (i < 0) return undefined
    const [x] = this.invoices.splice(i, 1)
    this.refill()
    return x
  }

  stop(): void {
    this.stopped = true
  }
}
