/**
 * The settings every command shares — from the global flags, else their environment variables, else the
 * defaults — and the one engine an invocation opens over the data directory.
 *
 * | flag | environment | default |
 * |---|---|---|
 * | `--data-dir DIR` | `CORECASHU_DATA_DIR` | `~/.corecashu` |
 * | `--wallet ID` | `CORECASHU_WALLET` | `default` |
 * | `--mint URL` | `CORECASHU_MINT` | the wallet's only mint, if it trusts exactly one |
 * | `--unit UNIT` | `CORECASHU_UNIT` | `sat` |
 * | `--passphrase-file FILE` | `CORECASHU_PASSPHRASE_FILE` | — |
 * | — | `CORECASHU_PASSPHRASE` | — |
 *
 * The passphrase comes from `--passphrase-file`, else `CORECASHU_PASSPHRASE`, else
 * `CORECASHU_PASSPHRASE_FILE`, else a no-echo prompt when standard input and standard error are terminals
 * (asked twice when it creates the data directory); never from the command line.
 *
 * Wallets: `wallets create [ID]` creates one; besides, the first `invoice` or `receive` creates the `default`
 * wallet (and the data directory) when it does not exist yet, and says so on standard error. Any other
 * missing wallet is an error (exit 3): a mistyped `--wallet` never makes a new wallet silently.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join, resolve } from "node:path"
import { Effect, Option } from "effect"
import { Flag, GlobalFlag } from "effect/cli"
import { Engine, type Wallet } from "../engine/index.js"
import { CliFailure, EXIT, note } from "./output.js"
import { canPrompt, promptHidden } from "./prompt.js"

const optionalString = (name: string, description: string, metavar: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.withMetavar(metavar), Flag.optional)

export const DataDirFlag = GlobalFlag.Setting("data-dir")({
  flag: optionalString(
    "data-dir",
    "the data directory (env CORECASHU_DATA_DIR; default ~/.corecashu)",
    "DIR",
  ),
})
export const WalletFlag = GlobalFlag.Setting("wallet")({
  flag: optionalString("wallet", "the wallet id (env CORECASHU_WALLET; default `default`)", "ID"),
})
export const MintFlag = GlobalFlag.Setting("mint")({
  flag: optionalString("mint", "the mint URL (env CORECASHU_MINT; default: the wallet's only mint)", "URL"),
})
export const UnitFlag = GlobalFlag.Setting("unit")({
  flag: optionalString("unit", "the unit (env CORECASHU_UNIT; default sat)", "UNIT"),
})
export const PassphraseFileFlag = GlobalFlag.Setting("passphrase-file")({
  flag: optionalString(
    "passphrase-file",
    "read the passphrase from FILE (env CORECASHU_PASSPHRASE_FILE; or CORECASHU_PASSPHRASE; else a prompt)",
    "FILE",
  ),
})
export const JsonFlag = GlobalFlag.Setting("json")({
  flag: Flag.Boolean("json").pipe(
    Flag.withDescription("print one JSON document on standard output and nothing else there"),
    Flag.withDefault(false),
  ),
})
export const VerboseFlag = GlobalFlag.Setting("verbose")({
  flag: Flag.Boolean("verbose").pipe(
    Flag.withDescription("log the engine's steps (info level) on standard error"),
    Flag.withDefault(false),
  ),
})

/** Every global flag, for `Command.withGlobalFlags`. */
export const GLOBAL_FLAGS = [
  DataDirFlag,
  WalletFlag,
  MintFlag,
  UnitFlag,
  PassphraseFileFlag,
  JsonFlag,
  VerboseFlag,
] as const

/** The resolved shared settings of one invocation. */
export interface Settings {
  readonly dataDir: string
  /** Whether `--data-dir` was given on the command line (not from the environment or the default). */
  readonly dataDirGiven: boolean
  readonly walletId: string
  readonly mint: string | undefined
  readonly unit: string
  /** `--passphrase-file` (the environment's passphrase and file are read by {@link passphraseOf}). */
  readonly passphraseFile: string | undefined
  readonly json: boolean
  readonly verbose: boolean
}

const env = (name: string): string | undefined => {
  const v = process.env[name]
  return v === undefined || v === "" ? undefined : v
}

const expandHome = (p: string): string => (p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p)

/** The settings, as the global flags, the environment and the defaults give them. */
export const settings = Effect.gen(function* () {
  const dataDir = Option.getOrUndefined(yield* DataDirFlag)
  return {
    dataDir: resolve(expandHome(dataDir ?? env("CORECASHU_DATA_DIR") ?? "~/.corecashu")),
    dataDirGiven: dataDir !== undefined,
    walletId: Option.getOrUndefined(yield* WalletFlag) ?? env("CORECASHU_WALLET") ?? "default",
    mint: Option.getOrUndefined(yield* MintFlag) ?? env("CORECASHU_MINT"),
    unit: Option.getOrUndefined(yield* UnitFlag) ?? env("CORECASHU_UNIT") ?? "sat",
    passphraseFile: Option.getOrUndefined(yield* PassphraseFileFlag),
    json: yield* JsonFlag,
    verbose: yield* VerboseFlag,
  }
})

/** Reads a passphrase file: its content, one trailing newline dropped. */
export const readSecretFile = (path: string, what: string): string => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    throw new CliFailure(EXIT.usage, `the ${what} file cannot be read`)
  }
  const value = text.replace(/\r?\n$/, "")
  if (value.length === 0) throw new CliFailure(EXIT.usage, `the ${what} file is empty`)
  return value
}

/** Whether the data directory holds a log (exists and is not empty). */
export const dataDirExists = (dir: string): boolean => existsSync(dir) && readdirSync(dir).length > 0

/** The passphrase, from the flag's file, the environment, or a no-echo prompt. */
export const passphraseOf = async (s: Settings, creating: boolean): Promise<string> => {
  if (s.passphraseFile !== undefined) return readSecretFile(s.passphraseFile, "passphrase")
  const fromEnv = env("CORECASHU_PASSPHRASE")
  if (fromEnv !== undefined) return fromEnv
  const envFile = env("CORECASHU_PASSPHRASE_FILE")
  if (envFile !== undefined) return readSecretFile(envFile, "passphrase")
  if (!canPrompt())
    throw new CliFailure(
      EXIT.cannotOpen,
      "no passphrase: set CORECASHU_PASSPHRASE, give --passphrase-file, or run on a terminal to be asked",
    )
  const first = await promptHidden(creating ? "New passphrase for the data directory: " : "Passphrase: ")
  if (first.length === 0) throw new CliFailure(EXIT.usage, "the passphrase is empty")
  if (creating) {
    const again = await promptHidden("Repeat the passphrase: ")
    if (again !== first) throw new CliFailure(EXIT.usage, "the passphrases differ")
  }
  return first
}

/** How a command treats a missing data directory or wallet. */
export type Creation = "never" | "default-wallet"

/**
 * Opens the engine on the data directory (creating it only when `creation` allows and it is missing), runs
 * `f`, and closes the engine whatever happens.
 */
export const withEngine = async <A>(
  s: Settings,
  creation: Creation,
  f: (engine: Engine) => Promise<A>,
): Promise<A> => {
  const exists = dataDirExists(s.dataDir)
  if (!exists && creation === "never")
    throw new CliFailure(
      EXIT.cannotOpen,
      `no wallet data in ${s.dataDir}: \`corecashu wallets create\` or a first \`corecashu invoice\` makes it`,
    )
  const passphrase = await passphraseOf(s, !exists)
  const engine = await Engine.open({
    dataDir: s.dataDir,
    passphrase,
    create: !exists,
    ...(s.verbose ? { logging: { level: "info", format: "pretty" } } : {}),
  })
  try {
    return await f(engine)
  } finally {
    await engine.close()
  }
}

/** The wallet `s.walletId` of `engine`, created when it is the `default` one and `creation` allows. */
export const walletOf = async (engine: Engine, s: Settings, creation: Creation): Promise<Wallet> => {
  if (engine.walletIds().includes(s.walletId)) return engine.wallet(s.walletId)
  if (creation === "default-wallet" && s.walletId === "default") {
    const w = await engine.createWallet({ walletId: "default" })
    note(
      "created the wallet `default`: back up its mnemonic (`corecashu wallets mnemonic`), it is the only way to restore it",
    )
    return w
  }
  throw new CliFailure(
    EXIT.cannotOpen,
    `no wallet \`${s.walletId}\` in ${s.dataDir}: create it with \`corecashu wallets create ${s.walletId}\``,
  )
}

/** Opens the engine and the wallet of the settings, runs `f`, closes the engine. */
export const withWallet = <A>(
  s: Settings,
  creation: Creation,
  f: (wallet: Wallet, engine: Engine) => Promise<A>,
): Promise<A> => withEngine(s, creation, async (engine) => f(await walletOf(engine, s, creation), engine))

/** The mint a command works with: `--mint`, else the wallet's only trusted mint. */
export const mintOf = (s: Settings, wallet: Wallet): string => {
  if (s.mint !== undefined) return s.mint
  const mints = wallet.mints()
  if (mints.length === 1) return mints[0]!.mintUrl
  throw new CliFailure(
    EXIT.usage,
    mints.length === 0
      ? "no mint: give --mint URL (or set CORECASHU_MINT)"
      : "the wallet trusts several mints: give --mint URL (or set CORECASHU_MINT)",
  )
}

/** Trusts `mintUrl` for `unit` unless the wallet already does. */
export const ensureMint = async (wallet: Wallet, mintUrl: string, unit: string): Promise<void> => {
  const url = mintUrl.trim().replace(/\/+$/, "")
  const known = wallet.mints().find((m) => m.mintUrl === url)
  if (known === undefined || !known.units.includes(unit)) await wallet.addMint(mintUrl, [unit])
}
