/**
 * The wallet verbs of `corecashu`, after nutshell's `cashu` and CDK's `cdk-cli`: each one opens the engine
 * once (`./session.ts`), calls the public `Wallet` API, prints (`./output.ts`) and closes it. Tokens and
 * mnemonics are read from standard input, a file, the environment or a no-echo prompt — never from the
 * command line, where other users of the machine (`ps`) and the shell history would see them.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { Balance, Wallet } from "../engine/index.js"
import { decodeToken } from "../index.js"
import { parseJson } from "../protocol/json.js"
import { auditCommand } from "./audit.js"
import { CliFailure, EXIT, note, printJson, println, withProgress } from "./output.js"
import { canPrompt, promptHidden } from "./prompt.js"
import { showQr } from "./qr.js"
import {
  ensureMint,
  mintOf,
  readSecretFile,
  type Settings,
  settings,
  withEngine,
  withWallet,
} from "./session.js"

/** What a finished command asks of `main`: the exit code when it is not 0 (a payment still pending). */
export const outcome = { exitCode: 0 }

/** Set once the settings are known: `main` prints a failure as JSON when the run asked for JSON. */
export const runState = { json: false }

/** A command handler: the settings, then the work as a Promise. */
const handler =
  <I>(f: (s: Settings, input: I) => Promise<void>) =>
  (input: I) =>
    Effect.gen(function* () {
      const s = yield* settings
      runState.json = s.json
      yield* Effect.tryPromise({ try: () => f(s, input), catch: (e) => e })
    })

/** A positive amount of the unit, as typed: digits only. */
const amountOf = (text: string): bigint => {
  if (!/^[0-9]{1,30}$/.test(text) || BigInt(text) === 0n)
    throw new CliFailure(EXIT.usage, "the amount must be a positive whole number of the unit")
  return BigInt(text)
}

/** Shows `text` as a QR code when standard output is a terminal and the output is not JSON. */
const qrIfTerminal = async (s: Settings, text: string, noQr: boolean): Promise<void> => {
  if (!s.json && !noQr && process.stdout.isTTY === true) await showQr(text)
}

const noQrFlag = Flag.Boolean("no-qr").pipe(
  Flag.withDescription("never draw a QR code (drawn only on a terminal anyway)"),
  Flag.withDefault(false),
)

/** Reads a secret text (a token, a mnemonic): `--file`, else standard input, else a no-echo prompt. */
const readSecretInput = async (
  file: Option.Option<string>,
  what: string,
  envName?: string,
): Promise<string> => {
  if (Option.isSome(file)) return readSecretFile(file.value, what).trim()
  const fromEnv = envName === undefined ? undefined : process.env[envName]
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv.trim()
  if (process.stdin.isTTY === true) {
    if (!canPrompt()) throw new CliFailure(EXIT.usage, `no ${what}: pipe it on standard input or give --file`)
    return (await promptHidden(`Paste the ${what} (not shown): `)).trim()
  }
  const text = readFileSync(0, "utf8").trim()
  if (text.length === 0) throw new CliFailure(EXIT.usage, `no ${what} on standard input`)
  return text
}

const unitBalances = (w: Wallet, s: Settings): Balance[] =>
  w
    .balances()
    .filter((b) => b.unit === s.unit && (s.mint === undefined || b.mintUrl === s.mint.replace(/\/+$/, "")))

// ---------------------------------------------------------------------------------------------------------
// balance
// ---------------------------------------------------------------------------------------------------------

const balance = Command.make(
  "balance",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const rows = unitBalances(w, s)
      const total = rows.reduce((sum, b) => sum + b.unspent, 0n)
      const pending = rows.reduce((sum, b) => sum + b.pending + b.reserved, 0n)
      if (s.json)
        printJson({
          walletId: w.id,
          unit: s.unit,
          balance: total,
          pending,
          mints: rows.map((b) => ({
            mintUrl: b.mintUrl,
            unit: b.unit,
            balance: b.unspent,
            pending: b.pending + b.reserved,
          })),
        })
      else {
        println(`${total} ${s.unit}${pending > 0n ? ` (${pending} pending)` : ""}`)
        for (const b of rows) println(`  ${b.mintUrl}: ${b.unspent} ${b.unit}`)
      }
    }),
  ),
).pipe(Command.withDescription("the wallet's spendable balance, in total and by mint"))

// ---------------------------------------------------------------------------------------------------------
// invoice / mint
// ---------------------------------------------------------------------------------------------------------

const invoice = Command.make(
  "invoice",
  {
    amount: Argument.String("amount").pipe(
      Argument.withDescription("how much to mint, in the unit"),
      Argument.optional,
    ),
    noWait: Flag.Boolean("no-wait").pipe(
      Flag.withDescription("print the invoice and stop; claim later with --claim"),
      Flag.withDefault(false),
    ),
    claim: Flag.String("claim").pipe(
      Flag.withDescription("claim the ecash of an earlier invoice by its operation id"),
      Flag.withMetavar("OPERATION_ID"),
      Flag.optional,
    ),
    timeout: Flag.Int("timeout").pipe(
      Flag.withDescription(
        "stop waiting for the payment after SECONDS (default 600); the invoice stays claimable",
      ),
      Flag.withMetavar("SECONDS"),
      Flag.optional,
    ),
    noQr: noQrFlag,
  },
  handler(async (s, { amount, noWait, claim, timeout, noQr }) =>
    withWallet(s, "default-wallet", async (w) => {
      const timeoutMs = Option.isSome(timeout) ? Math.max(0, timeout.value) * 1000 : undefined
      const claimOf = async (operationId: string, request: string | undefined) => {
        const r = await withProgress(
          "waiting for the invoice to be paid",
          w.mint(operationId, timeoutMs === undefined ? {} : { timeoutMs }),
        )
        const after = w.balance(undefined, s.unit)
        if (s.json)
          printJson({
            operationId,
            ...(request !== undefined ? { request } : {}),
            state: "issued",
            amount: r.amount,
            unit: s.unit,
            proofs: r.proofs,
            balance: after,
          })
        else println(`minted ${r.amount} ${s.unit}; balance ${after} ${s.unit}`)
      }
      if (Option.isSome(claim)) {
        if (Option.isSome(amount)) throw new CliFailure(EXIT.usage, "give an amount or --claim, not both")
        return claimOf(claim.value, undefined)
      }
      if (Option.isNone(amount)) throw new CliFailure(EXIT.usage, "give the amount to mint")
      const value = amountOf(amount.value)
      const mintUrl = mintOf(s, w)
      await ensureMint(w, mintUrl, s.unit)
      const q = await w.mintQuote({ mintUrl, amount: value, unit: s.unit })
      if (noWait) {
        if (s.json)
          printJson({
            operationId: q.operationId,
            request: q.request,
            state: "unpaid",
            amount: q.amount,
            unit: q.unit,
          })
        else {
          println(q.request)
          await qrIfTerminal(s, q.request, noQr)
          println(`claim it once paid: corecashu invoice --claim ${q.operationId}`)
        }
        return
      }
      if (s.json) note(`pay this invoice: ${q.request}`)
      else {
        println(`pay this invoice (${q.amount} ${q.unit}):`, q.request)
        await qrIfTerminal(s, q.request, noQr)
      }
      await claimOf(q.operationId, q.request)
    }),
  ),
).pipe(
  Command.withAlias("mint"),
  Command.withDescription("get a Lightning invoice from the mint, wait until it is paid, claim the ecash"),
)

// ---------------------------------------------------------------------------------------------------------
// pay / melt
// ---------------------------------------------------------------------------------------------------------

const pay = Command.make(
  "pay",
  {
    invoice: Argument.String("invoice").pipe(Argument.withDescription("the bolt11 invoice to pay")),
    maxFee: Flag.String("max-fee").pipe(
      Flag.withDescription("refuse a quote whose fee reserve exceeds AMOUNT"),
      Flag.withMetavar("AMOUNT"),
      Flag.optional,
    ),
  },
  handler(async (s, { invoice: request, maxFee }) =>
    withWallet(s, "never", async (w) => {
      const mintUrl = mintOf(s, w)
      const q = await w.meltQuote({
        mintUrl,
        request: request.trim(),
        unit: s.unit,
        ...(Option.isSome(maxFee) ? { maxFeeReserve: amountOf(maxFee.value) } : {}),
      })
      if (!s.json) note(`paying ${q.amount} ${q.unit} (fee reserve ${q.feeReserve})`)
      const r = await withProgress("paying the invoice", w.melt(q.operationId))
      if (r.state === "pending") outcome.exitCode = EXIT.pending
      if (s.json)
        printJson({
          operationId: r.operationId,
          state: r.state,
          amount: r.amount,
          unit: q.unit,
          feeReserve: q.feeReserve,
          feePaid: r.feePaid,
          inputFee: r.inputFee,
          change: r.change,
          preimage: r.preimage ?? null,
          balance: w.balance(undefined, s.unit),
        })
      else if (r.state === "paid")
        println(
          `paid ${r.amount} ${q.unit} (fee ${r.feePaid + r.inputFee}, change ${r.change})`,
          ...(r.preimage !== undefined ? [`preimage ${r.preimage}`] : []),
        )
      else println("the payment is pending: `corecashu check` settles it")
    }),
  ),
).pipe(Command.withAlias("melt"), Command.withDescription("pay a Lightning invoice with the wallet's ecash"))

// ---------------------------------------------------------------------------------------------------------
// send / receive
// ---------------------------------------------------------------------------------------------------------

const send = Command.make(
  "send",
  {
    amount: Argument.String("amount").pipe(Argument.withDescription("how much to send, in the unit")),
    lock: Flag.String("lock").pipe(
      Flag.withDescription("lock the token to this public key (NUT-11 P2PK; see `corecashu lock`)"),
      Flag.withMetavar("PUBKEY"),
      Flag.optional,
    ),
    memo: Flag.String("memo").pipe(Flag.withDescription("a memo in the token"), Flag.optional),
    noQr: noQrFlag,
  },
  handler(async (s, { amount, lock, memo, noQr }) =>
    withWallet(s, "never", async (w) => {
      const mintUrl = mintOf(s, w)
      const r = await w.send({
        mintUrl,
        unit: s.unit,
        amount: amountOf(amount),
        ...(Option.isSome(memo) ? { memo: memo.value } : {}),
        ...(Option.isSome(lock) ? { lock: { pubkey: lock.value.trim() } } : {}),
      })
      if (s.json)
        printJson({
          operationId: r.operationId,
          token: r.token,
          amount: r.amount,
          unit: s.unit,
          fee: r.fee,
          offline: r.offline,
          locked: Option.isSome(lock),
          balance: w.balance(undefined, s.unit),
        })
      else {
        await qrIfTerminal(s, r.token, noQr)
        println(r.token)
        note(
          `sent ${r.amount} ${s.unit}${r.fee > 0n ? ` (fee ${r.fee})` : ""}: \`corecashu check\` sees it claimed`,
        )
      }
    }),
  ),
).pipe(Command.withDescription("make a token of AMOUNT (printed on standard output) to hand to someone"))

const tokenFile = Flag.String("file").pipe(
  Flag.withDescription("read the token from FILE (default: standard input, or a prompt on a terminal)"),
  Flag.withMetavar("FILE"),
  Flag.optional,
)

const receive = Command.make(
  "receive",
  {
    file: tokenFile,
    trustMint: Flag.Boolean("trust-mint").pipe(
      Flag.withDescription("trust the token's mint if the wallet does not yet"),
      Flag.withDefault(false),
    ),
  },
  handler(async (s, { file, trustMint }) => {
    const token = await readSecretInput(file, "token")
    await withWallet(s, "default-wallet", async (w) => {
      const r = await w.receive(token, { trustMint })
      if (s.json)
        printJson({
          operationId: r.operationId,
          mintUrl: r.mintUrl,
          unit: r.unit,
          amount: r.amount,
          fee: r.fee,
          balance: w.balance(undefined, r.unit),
        })
      else println(`received ${r.amount} ${r.unit} from ${r.mintUrl}${r.fee > 0n ? ` (fee ${r.fee})` : ""}`)
    })
  }),
).pipe(
  Command.withDescription(
    "receive a token read from standard input (or --file): swap it for the wallet's own",
  ),
)

// ---------------------------------------------------------------------------------------------------------
// pending, reclaim, check
// ---------------------------------------------------------------------------------------------------------

const pending = Command.make(
  "pending",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const rows = w.pending()
      if (s.json) printJson({ walletId: w.id, pending: rows })
      else if (rows.length === 0) println("nothing pending")
      else
        for (const p of rows)
          println(`${p.operationId}  ${p.amount} ${p.unit}  ${p.proofs} proofs  ${p.mintUrl}`)
    }),
  ),
).pipe(Command.withDescription("proofs in flight: sent tokens not yet claimed, payments in progress"))

const reclaim = Command.make(
  "reclaim",
  { operationId: Argument.String("operation-id").pipe(Argument.withDescription("the send to take back")) },
  handler(async (s, { operationId }) =>
    withWallet(s, "never", async (w) => {
      const r = await w.reclaim(operationId)
      if (s.json) printJson({ operationId: r.operationId, amount: r.amount, fee: r.fee })
      else println(`reclaimed ${r.amount} (fee ${r.fee})`)
    }),
  ),
).pipe(Command.withDescription("take back the unclaimed token of a send (see `pending`)"))

const check = Command.make(
  "check",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const r = await withProgress("checking pending proofs", w.checkPending(s.mint))
      if (s.json) printJson({ ...r, balance: w.balance(undefined, s.unit) })
      else
        println(
          `spent ${r.spent}, still unclaimed ${r.unspent}, pending at the mint ${r.pending}, unchecked ${r.unchecked}, settled ${r.settled}`,
        )
    }),
  ),
).pipe(
  Command.withAlias("burn"),
  Command.withDescription("ask the mint which pending proofs are spent and settle what it can"),
)

// ---------------------------------------------------------------------------------------------------------
// restore
// ---------------------------------------------------------------------------------------------------------

const restore = Command.make(
  "restore",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const mintUrl = mintOf(s, w)
      await ensureMint(w, mintUrl, s.unit)
      const r = await withProgress(`restoring from ${mintUrl}`, w.restore({ mintUrl }))
      if (s.json) printJson({ ...r, balance: w.balance(undefined, s.unit) })
      else println(`restored ${r.found} proofs worth ${r.amount} (${r.spent} were spent)`)
    }),
  ),
).pipe(
  Command.withDescription(
    "scan the mint for the wallet's ecash from its seed (NUT-09/13); `wallets create --from-mnemonic` first",
  ),
)

// ---------------------------------------------------------------------------------------------------------
// wallets
// ---------------------------------------------------------------------------------------------------------

const listWallets = async (s: Settings) =>
  withEngine(s, "never", async (engine) => {
    const rows = engine
      .walletIds()
      .map((id) => ({ walletId: id, balance: engine.wallet(id).balance(undefined, s.unit) }))
    if (s.json) printJson({ unit: s.unit, wallets: rows })
    else for (const r of rows) println(`${r.walletId}  ${r.balance} ${s.unit}`)
  })

const walletsCreate = Command.make(
  "create",
  {
    walletId: Argument.String("id").pipe(
      Argument.withDescription("the new wallet's id (default: --wallet, else `default`)"),
      Argument.optional,
    ),
    fromMnemonic: Flag.Boolean("from-mnemonic").pipe(
      Flag.withDescription(
        "restore from a mnemonic read from CORECASHU_MNEMONIC, standard input, or a no-echo prompt; then `restore`",
      ),
      Flag.withDefault(false),
    ),
  },
  handler(async (s, { walletId, fromMnemonic }) => {
    const id = Option.getOrElse(walletId, () => s.walletId)
    const mnemonic = fromMnemonic
      ? await readSecretInput(Option.none(), "mnemonic", "CORECASHU_MNEMONIC")
      : undefined
    await withEngine(s, "default-wallet", async (engine) => {
      const w = await engine.createWallet({ walletId: id, ...(mnemonic !== undefined ? { mnemonic } : {}) })
      if (s.json) printJson({ walletId: w.id, publicKey: w.publicKey(), fromMnemonic })
      else println(`created the wallet ${w.id}`)
      if (!fromMnemonic) note("back up its mnemonic: `corecashu wallets mnemonic` shows it")
    })
  }),
).pipe(Command.withDescription("create a wallet (a new mnemonic, or --from-mnemonic to restore one)"))

const walletsMnemonic = Command.make(
  "mnemonic",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      note("this mnemonic owns the wallet's funds: write it down, show it to no one")
      if (s.json) printJson({ walletId: w.id, mnemonic: w.mnemonic() })
      else println(w.mnemonic())
    }),
  ),
).pipe(Command.withDescription("print the wallet's mnemonic (its backup) on standard output"))

const wallets = Command.make("wallets", {}, handler(listWallets)).pipe(
  Command.withDescription("list the wallets of the data directory, with their balances"),
  Command.withSubcommands([walletsCreate, walletsMnemonic]),
)

// ---------------------------------------------------------------------------------------------------------
// mints, info, lock, history
// ---------------------------------------------------------------------------------------------------------

const mintsAdd = Command.make(
  "add",
  { url: Argument.String("url").pipe(Argument.withDescription("the mint's URL")) },
  handler(async (s, { url }) =>
    withWallet(s, "never", async (w) => {
      const r = await w.addMint(url, [s.unit])
      if (s.json) printJson({ mintUrl: url.trim().replace(/\/+$/, ""), unit: s.unit, ...r })
      else println(`trusting ${url} for ${s.unit} (${r.learned} keysets learned)`)
    }),
  ),
).pipe(Command.withDescription("trust a mint for the unit and learn its keysets"))

const mints = Command.make(
  "mints",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const balances = w.balances()
      const rows = w.mints().map((m) => ({
        mintUrl: m.mintUrl,
        units: m.units,
        balance: balances
          .filter((b) => b.mintUrl === m.mintUrl && b.unit === s.unit)
          .reduce((a, b) => a + b.unspent, 0n),
      }))
      if (s.json) printJson({ walletId: w.id, unit: s.unit, mints: rows })
      else for (const r of rows) println(`${r.mintUrl}  ${r.balance} ${s.unit}  (${r.units.join(", ")})`)
    }),
  ),
).pipe(
  Command.withDescription("the mints the wallet trusts, with its balance at each"),
  Command.withSubcommands([mintsAdd]),
)

/** GET `<mint>/v1/info`: bounded in time and size. */
const fetchInfo = async (mintUrl: string): Promise<Record<string, unknown>> => {
  const url = `${mintUrl.trim().replace(/\/+$/, "")}/v1/info`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000), redirect: "error" })
  } catch {
    throw new CliFailure(EXIT.mint, "the mint cannot be reached")
  }
  const text = await res.text()
  if (!res.ok || text.length > 1_000_000)
    throw new CliFailure(EXIT.mint, `the mint answered HTTP ${res.status}`)
  try {
    // The mint's answer goes through the bounded parser (depth, size, duplicate keys), as all mint input.
    const info: unknown = parseJson(text)
    if (typeof info === "object" && info !== null && !Array.isArray(info))
      return info as Record<string, unknown>
  } catch {
    // fall through
  }
  throw new CliFailure(EXIT.mint, "the mint's info is not a JSON object")
}

const info = Command.make(
  "info",
  {},
  handler(async (s) => {
    const mintUrl = s.mint ?? (await withWallet(s, "never", async (w) => mintOf(s, w)))
    const i = await fetchInfo(mintUrl)
    const str = (v: unknown) => (typeof v === "string" ? v : null)
    const summary = {
      mintUrl: mintUrl.trim().replace(/\/+$/, ""),
      name: str(i.name),
      version: str(i.version),
      description: str(i.description),
      pubkey: str(i.pubkey),
      nuts:
        typeof i.nuts === "object" && i.nuts !== null
          ? Object.keys(i.nuts).sort((a, b) => Number(a) - Number(b))
          : [],
    }
    if (s.json) printJson(summary)
    else
      println(
        `${summary.mintUrl}: ${summary.name ?? "(no name)"} ${summary.version ?? ""}`.trimEnd(),
        ...(summary.description !== null ? [summary.description] : []),
        `NUTs: ${summary.nuts.join(", ")}`,
      )
  }),
).pipe(Command.withDescription("the mint's own description (NUT-06 /v1/info) of --mint or the wallet's mint"))

const lock = Command.make(
  "lock",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      if (s.json) printJson({ walletId: w.id, publicKey: w.publicKey() })
      else {
        println(w.publicKey())
        note("tokens locked to this key (`corecashu send --lock KEY`) can be received only by this wallet")
      }
    }),
  ),
).pipe(
  Command.withAlias("locks"),
  Command.withDescription("the wallet's P2PK public key, to receive tokens locked to it (NUT-11)"),
)

const history = Command.make(
  "history",
  {},
  handler(async (s) =>
    withWallet(s, "never", async (w) => {
      const rows = w.history().map((o) => ({
        operationId: o.operationId,
        kind: o.kind,
        status: o.status,
        mintUrl: o.mintUrl ?? null,
        unit: o.unit ?? null,
        amount: o.amount ?? null,
        fee: o.fee ?? null,
        startedAt: new Date(o.startedAt).toISOString(),
        updatedAt: new Date(o.updatedAt).toISOString(),
      }))
      if (s.json) printJson({ walletId: w.id, history: rows })
      else
        for (const r of rows)
          println(
            `${r.startedAt}  ${r.kind.padEnd(9)} ${r.status.padEnd(11)} ${r.amount ?? ""} ${r.unit ?? ""}`.trimEnd(),
          )
    }),
  ),
).pipe(Command.withDescription("the wallet's operations, oldest first"))

// ---------------------------------------------------------------------------------------------------------
// audit, decode
// ---------------------------------------------------------------------------------------------------------

const audit = Command.make(
  "audit",
  {
    nats: Flag.String("nats").pipe(
      Flag.withDescription("audit a log on NATS JetStream instead (nats://host:port, comma separated)"),
      Flag.withMetavar("URLS"),
      Flag.optional,
    ),
    stream: Flag.String("stream").pipe(
      Flag.withDescription("the JetStream stream (with --nats)"),
      Flag.optional,
    ),
    subjectPrefix: Flag.String("subject-prefix").pipe(
      Flag.withDescription("the JetStream subject prefix (with --nats)"),
      Flag.optional,
    ),
    witness: Flag.String("witness").pipe(
      Flag.withDescription("a witness file of head attestations the log must still hold"),
      Flag.withMetavar("FILE"),
      Flag.optional,
    ),
  },
  handler(async (s, a) => {
    const argv: string[] = []
    if (Option.isSome(a.nats)) {
      argv.push("--nats", a.nats.value)
      if (s.dataDirGiven) argv.push("--data-dir", s.dataDir)
    } else argv.push("--data-dir", s.dataDir)
    if (Option.isSome(a.stream)) argv.push("--stream", a.stream.value)
    if (Option.isSome(a.subjectPrefix)) argv.push("--subject-prefix", a.subjectPrefix.value)
    if (Option.isSome(a.witness)) argv.push("--witness", a.witness.value)
    if (s.passphraseFile !== undefined) argv.push("--passphrase-file", s.passphraseFile)
    else if (process.env.CORECASHU_PASSPHRASE_FILE)
      argv.push("--passphrase-file", process.env.CORECASHU_PASSPHRASE_FILE)
    if (s.json) argv.push("--json")
    const env = process.env.CORECASHU_PASSPHRASE
    outcome.exitCode = await auditCommand(argv, env === undefined || env === "" ? undefined : env)
    // The audit reports its own failures (exit 2: it could not run); `main` must not report them again.
    runState.json = false
  }),
).pipe(
  Command.withDescription(
    "replay the event log (read only): its hash chain and, with the passphrase, every invariant; exit 1 on a violation",
  ),
)

const decode = Command.make(
  "decode",
  {
    token: Argument.String("token").pipe(
      Argument.withDescription(
        "`-` or nothing: the token is read from standard input (never from the command line)",
      ),
      Argument.optional,
    ),
    file: tokenFile,
  },
  handler(async (s, { token, file }) => {
    if (Option.isSome(token) && token.value !== "-")
      throw new CliFailure(
        EXIT.usage,
        "a token holds proof secrets: pipe it on standard input (or --file), not on the command line",
      )
    const t = decodeToken(await readSecretInput(file, "token"))
    const summary = {
      version: t.version,
      unit: t.unit ?? null,
      memo: t.memo ?? null,
      amount: t.entries.flatMap((e) => e.proofs).reduce((sum, p) => sum + p.amount, 0n),
      entries: t.entries.map((e) => ({
        mint: e.mint,
        proofs: e.proofs.length,
        amount: e.proofs.reduce((sum, p) => sum + p.amount, 0n),
        keysets: [...new Set(e.proofs.map((p) => p.id))],
      })),
    }
    if (s.json) printJson(summary)
    else {
      println(`${summary.amount} ${summary.unit ?? "sat"} (cashu${t.version === 4 ? "B" : "A"})`)
      for (const e of summary.entries) println(`  ${e.mint}: ${e.amount} in ${e.proofs} proofs`)
      if (summary.memo !== null) println(`  memo: ${summary.memo}`)
    }
  }),
).pipe(
  Command.withDescription("decode a token read from standard input and print what it holds (no secrets)"),
)

/** Every verb, in the order `--help` lists them. */
export const VERBS = [
  balance,
  invoice,
  pay,
  send,
  receive,
  pending,
  reclaim,
  check,
  restore,
  wallets,
  mints,
  info,
  lock,
  history,
  audit,
  decode,
] as const
