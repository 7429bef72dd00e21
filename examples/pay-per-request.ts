/**
 * Pay per request: an HTTP service charges 2 sat per call, paid with a Cashu token in a header, and a client
 * pays as it goes. Each side is its own engine (its own data directory and log): the service checks the
 * token before it swaps it in (right mint, right unit, enough value), and the client learns the price from the
 * service's `402 Payment Required` answer.
 *
 *   MINT_URL=http://127.0.0.1:3338 DATA_DIR=/tmp/ppr node --import tsx examples/pay-per-request.ts
 *
 * `DATA_DIR` must be missing or empty (`service/` and `client/` are created in it); `WALLET_PASSPHRASE` sets
 * the passphrase of both logs. Prints one line per request, never a token; exit 1 if the value does not add up.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { decodeToken, Engine, isCorecashuError } from "../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`set ${name}`)
  return value
}
const mintUrl = env("MINT_URL")
const dataDir = env("DATA_DIR")
const passphrase = process.env.WALLET_PASSPHRASE ?? "example passphrase, not for real money"
const PRICE = 2n
const REQUESTS = 6

// --- the service ------------------------------------------------------------------------------------------
const serviceEngine = await Engine.open({ dataDir: join(dataDir, "service"), passphrase })
const till = await serviceEngine.createWallet({ walletId: "till" })
await till.addMint(mintUrl)
let served = 0
let receiveFees = 0n // the input fees of the service's swaps

const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const token = req.headers["x-cashu"]
  const paymentRequired = () => {
    res.writeHead(402, { "content-type": "application/json" })
    res.end(JSON.stringify({ price: PRICE.toString(), unit: "sat", mint: mintUrl }))
  }
  if (typeof token !== "string") return paymentRequired()
  try {
    // Look before swapping: a token of another mint or unit, or too small, is refused without a mint call.
    const decoded = decodeToken(token)
    const value = decoded.entries.flatMap((e) => e.proofs).reduce((sum, p) => sum + p.amount, 0n)
    const rightMint = decoded.entries.every((e) => e.mint === mintUrl)
    if (!rightMint || (decoded.unit ?? "sat") !== "sat" || value < PRICE) return paymentRequired()
    const received = await till.receive(token) // swapped at the mint: a token spent elsewhere fails here
    served++
    receiveFees += received.fee
    res.writeHead(200, { "content-type": "text/plain" })
    res.end(`answer #${served} (paid ${received.amount} sat)`)
  } catch (e) {
    // Tagged errors only: DecodeError for garbage, TokenRejected, OperationFailed (spent), OperationInDoubt…
    res.writeHead(isCorecashuError(e) ? 402 : 500, { "content-type": "text/plain" })
    res.end(isCorecashuError(e) ? e._tag : "internal error")
  }
}
const server = createServer((req, res) => void handle(req, res))
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
const serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`

// --- the client -------------------------------------------------------------------------------------------
const clientEngine = await Engine.open({ dataDir: join(dataDir, "client"), passphrase })
try {
  const wallet = await clientEngine.createWallet({ walletId: "client" })
  await wallet.addMint(mintUrl)
  const quote = await wallet.mintQuote({ mintUrl, amount: 64n })
  const minted = await wallet.mint(quote.operationId) // the test mint's fake Lightning pays the invoice
  console.log(`client funded with ${minted.amount} sat`)

  let fees = 0n
  const first = await fetch(serviceUrl)
  const terms = (await first.json()) as { price: string; unit: string; mint: string }
  console.log(`service answered ${first.status}: ${terms.price} ${terms.unit} per request`)
  for (let i = 0; i < REQUESTS; i++) {
    const { token, fee } = await wallet.send({ mintUrl: terms.mint, amount: BigInt(terms.price) })
    fees += fee
    const res = await fetch(serviceUrl, { headers: { "x-cashu": token } })
    console.log(`request ${i + 1}: ${res.status} ${await res.text()}`)
  }
  const garbage = await fetch(serviceUrl, { headers: { "x-cashu": "cashuBnot-a-token" } })
  console.log(`a garbage token: ${garbage.status} ${await garbage.text()}`)

  await wallet.checkPending(mintUrl) // the tokens the service claimed are now spent
  const spentOnRequests = minted.amount - wallet.balance(mintUrl)
  const earned = till.balance(mintUrl)
  console.log(
    `client spent ${spentOnRequests} sat (fees ${fees}), service earned ${earned} sat (fees ${receiveFees})`,
  )
  // Every sat the client spent is the service's, or a fee to the mint (the client's sends, the service's swaps).
  if (served !== REQUESTS || earned + receiveFees + fees !== spentOnRequests) {
    console.log("the value does NOT add up")
    process.exitCode = 1
  } else console.log(`ok: ${REQUESTS} requests paid, ${REQUESTS * Number(PRICE)} sat moved`)
} finally {
  await clientEngine.close()
  server.close()
  await serviceEngine.close()
}
