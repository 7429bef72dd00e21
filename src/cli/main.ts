#!/usr/bin/env node
/**
 * The `corecashu` command: a Cashu wallet on the command line over the engine's data directory, built with
 * Effect's CLI module (`effect/cli`: parsing, generated `--help`, shell completions) on the Node platform
 * services of `@effect/platform-node`. The verbs live in `./commands.ts`, the shared settings and the engine
 * session in `./session.ts`, output and exit codes in `./output.ts`; `README.md` (The CLI) documents them.
 *
 * Standard output carries the result only (with `--json`, one JSON document); help asked for with `--help`
 * goes there too. Usage errors, notes, progress and failures go to standard error. No secret — mnemonic,
 * passphrase, proof secret, quote id — is ever taken from the command line or printed in an error.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { NodeServices } from "@effect/platform-node"
import { Cause, Console, Effect, Layer } from "effect"
import { Argument, CliConfig, CliError, CliOutput, Command, Completions, GlobalFlag } from "effect/cli"
import { outcome, runState, VERBS } from "./commands.js"
import { describeFailure, EXIT, printJson } from "./output.js"
import { GLOBAL_FLAGS } from "./session.js"

const version = (): string => {
  // Not mint input: the package's own manifest.
  // nosemgrep: json-parse-outside-protocol
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string
  }
  return pkg.version
}

const versionCommand = Command.make("version", {}, () => Console.log(version())).pipe(
  Command.withDescription("print the version"),
)

/** The whole command tree, for the completions command (which is part of it). */
const tree: { root?: Command.Command.Any } = {}

/** `corecashu completions bash|zsh|fish`: the framework's completion script for the whole command tree. */
const completionsCommand = Command.make(
  "completions",
  {
    shell: Argument.ChoiceWithValue("shell", [
      ["bash", "bash"],
      ["zsh", "zsh"],
      ["fish", "fish"],
      ["powershell", "powershell"],
    ] as const).pipe(Argument.withDescription("the shell to complete for")),
  },
  ({ shell }) => Console.log(Completions.generate("corecashu", shell, Completions.fromCommand(tree.root!))),
).pipe(
  Command.withDescription("print a shell completion script (e.g. `corecashu completions bash >> ~/.bashrc`)"),
)

const root = Command.make("corecashu").pipe(
  Command.withDescription(
    "A Cashu ecash wallet over corecashu's event-sourced engine. Amounts are whole numbers of the unit.",
  ),
  Command.withGlobalFlags(GLOBAL_FLAGS),
  Command.withSubcommands([...VERBS, completionsCommand, versionCommand]),
)
tree.root = root

/** Help asked for goes to standard output; help after a usage error goes to standard error, with the error. */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    Effect.gen(function* () {
      const formatter = yield* CliOutput.Formatter
      if (event._tag === "InvalidInvocation") {
        yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
        yield* Console.error(formatter.formatErrors(event.errors))
      } else if (event._tag === "Help" && event.reason === "Implicit")
        yield* Console.error(formatter.formatHelpDoc(event.helpDoc))
      else yield* CliOutput.defaultPresenter.present(event)
    }),
})

const layer = Layer.mergeAll(
  NodeServices.layer,
  presenter,
  CliOutput.layer(CliOutput.defaultFormatter({ colors: false })),
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] }),
)

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const exit = await Effect.runPromiseExit(
    // The global flags' settings are provided by `runWith` itself (it parses them first): not left to us.
    Command.runWith(root, { version: version(), renderErrors: true })(argv).pipe(
      Effect.provide(layer),
    ) as Effect.Effect<void, unknown>,
  )
  if (exit._tag === "Success") return outcome.exitCode
  const failure = Cause.findErrorOption(exit.cause)
  if (failure._tag === "Some" && CliError.isCliError(failure.value)) return EXIT.usage
  const error = failure._tag === "Some" ? failure.value : Cause.squash(exit.cause)
  const { exitCode, line } = describeFailure(error)
  if (runState.json) printJson({ error: { exitCode, message: line } })
  process.stderr.write(`corecashu: ${line}\n`)
  return exitCode
}

process.exitCode = await main(process.argv.slice(2))
