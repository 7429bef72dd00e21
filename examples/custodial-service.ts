/**
 * A custodial service: one engine hosts many customer wallets over one encrypted, append-only log. The
 * treasury wallet buys ecash from the mint, credits every customer with a token, customers pay each other,
 * and at the end the service checks its books (what was minted = what the wallets hold + fees paid) and
 * replays the whole log with the audit.
 *
 *   MINT_URL=http://127.0.0.1:3338 DATA_DIR=/tmp/custody node --import tsx examples/custodial-service.ts
 *
 * `DATA_DIR` must be missing or empty (the log is created in it); `WALLET_PASSPHRASE` sets the passphrase
 * (a fixed example one otherwise). Prints one line per step, never a secret; exit 1 if the books or the audit
 * do not hold.
 */
import { Engine, OperationInDoubt, type Wallet } from "../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`set ${name}`)
  return value
}
const mintUrl = env("MINT_URL")
const dataDir = env("DATA_DIR")
const passphrase = process.env.WALLET_PASSPHRASE ?? "example passphrase, not for real money"
const CUSTOMERS = 12

const engine = await Engine.open({ dataDir, passphrase })
try {
  const treasury = await engine.createWallet({ walletId: "treasury", label: "Treasury" })
  await treasury.addMint(mintUrl)
  const quote = await treasury.mintQuote({ mintUrl, amount: 2000n })
  // Pay quote.request (a bolt11 invoice) here; the test mint's fake Lightning backend pays it by itself.
  const minted = await treasury.mint(quote.operationId)
  console.log(`treasury minted ${minted.amount} sat`)

  let fees = 0n
  const customers: Wallet[] = []
  for (let i = 0; i < CUSTOMERS; i++) {
    const customer = await engine.createWallet({ walletId: `customer-${i}` })
    await customer.addMint(mintUrl)
    customers.push(customer)
  }
  // One wallet's sends run one after another here: concurrent sends of one wallet each hold their inputs
  // (reserved) until the mint answers, so they compete for its proofs.
  for (const [i, customer] of customers.entries()) {
    const { token, fee } = await treasury.send({ mintUrl, amount: BigInt(50 + 10 * i) })
    const received = await customer.receive(token)
    fees += fee + received.fee
  }
  console.log(`credited ${customers.length} customers`)

  // Customer i pays customer i+1 five sat, all at once: different wallets run concurrently.
  await Promise.all(
    customers.map(async (payer, i) => {
      const payee = customers[(i + 1) % CUSTOMERS]!
      try {
        const { token, fee } = await payer.send({ mintUrl, amount: 5n })
        const received = await payee.receive(token)
        fees += fee + received.fee
      } catch (e) {
        // In doubt: the mint may have acted. The inputs stay held; recovery settles it, never by guessing.
        if (e instanceof OperationInDoubt) console.log(`payment ${e.operationId} in doubt (${e.reason})`)
        else throw e
      }
    }),
  )
  console.log(`${CUSTOMERS} customer-to-customer payments done`)
  for (const w of [treasury, ...customers]) await w.checkPending(mintUrl) // sent tokens: claimed → spent

  const held = [treasury, ...customers].reduce((sum, w) => sum + w.balance(mintUrl), 0n)
  const customerTotal = customers.reduce((sum, w) => sum + w.balance(mintUrl), 0n)
  console.log(`wallets hosted: ${engine.walletIds().length}`)
  console.log(
    `customers hold ${customerTotal} sat, treasury ${treasury.balance(mintUrl)} sat, fees ${fees} sat`,
  )
  const audit = await engine.audit()
  console.log(
    `audit: ${audit.ok ? "ok" : `violation ${audit.violation.kind}`}, ${audit.events} events replayed`,
  )
  if (held + fees !== minted.amount || !audit.ok) {
    console.log(`books do NOT balance: minted ${minted.amount} ≠ held ${held} + fees ${fees}`)
    process.exitCode = 1
  } else console.log(`books balance: minted ${minted.amount} = held ${held} + fees ${fees}`)
} finally {
  await engine.close()
}
