/**
 * The engine inside an Effect program: `Engine.openEffect` as a scoped resource (closed when the scope ends,
 * whatever happens), every wallet call through `wallet.effect` with its typed error channel, the errors that
 * can be handled handled by tag (`InsufficientFunds`), and the engine's app events read as a `Stream`.
 *
 *   MINT_URL=http://127.0.0.1:3338 DATA_DIR=/tmp/fx node --import tsx examples/effect-program.ts
 *
 * `DATA_DIR` must be missing or empty. Exit 1 with the error's tag if the program fails.
 */
import { Console, Effect, Stream } from "effect"
import { type AppEvent, Engine, isCorecashuError } from "../src/index.js"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`set ${name}`)
  return value
}
const mintUrl = env("MINT_URL")
const dataDir = env("DATA_DIR")
const passphrase = process.env.WALLET_PASSPHRASE ?? "example passphrase, not for real money"

/** The engine as a scoped resource: `close()` runs when the scope closes, on success, failure or interruption. */
const engine = Effect.acquireRelease(Engine.openEffect({ dataDir, passphrase }), (e) =>
  Effect.promise(() => e.close()),
)

const program = Effect.gen(function* () {
  const eng = yield* engine
  const carol = (yield* eng.createWalletEffect({ walletId: "carol" })).effect
  const dave = (yield* eng.createWalletEffect({ walletId: "dave" })).effect
  yield* carol.addMint(mintUrl)
  yield* dave.addMint(mintUrl)

  const quote = yield* carol.mintQuote({ mintUrl, amount: 300n })
  const minted = yield* carol.mint(quote.operationId)
  yield* Console.log(`carol minted ${minted.amount} sat`)

  // Too much: the typed error channel says why, and this program chooses to send what there is instead.
  const sent = yield* carol
    .send({ mintUrl, amount: 1_000n })
    .pipe(
      Effect.catchTag("InsufficientFunds", (e) =>
        Console.log(`carol cannot send 1000 sat: ${e.available} available`).pipe(
          Effect.andThen(carol.send({ mintUrl, amount: 100n })),
        ),
      ),
    )
  const received = yield* dave.receive(sent.token)
  yield* Console.log(`dave received ${received.amount} sat`)

  // The log as typed app events: everything so far (from position 0), up to dave's TokenReceived.
  const events: ReadonlyArray<AppEvent> = yield* eng.eventsEffect({ fromPosition: 0 }).pipe(
    Stream.takeUntil((e) => e._tag === "TokenReceived"),
    Stream.runCollect,
  )
  yield* Console.log(`app events: ${[...new Set(events.map((e) => e._tag))].join(", ")}`)

  const audit = yield* eng.auditEffect()
  yield* Console.log(`audit: ${audit.ok ? "ok" : "VIOLATION"}, ${audit.events} events`)
  if (!audit.ok) return yield* Effect.fail(new Error("audit failed"))
  return received.amount
})

const exit = await Effect.runPromiseExit(Effect.scoped(program))
if (exit._tag === "Success") console.log(`ok: ${exit.value} sat moved`)
else {
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
  console.log(`failed: ${isCorecashuError(error) ? error._tag : String(error)}`)
  process.exitCode = 1
}
