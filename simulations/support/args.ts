/**
 * Command-line options of the simulations: `--name value` pairs.
 *
 * @module
 */

/** The value after `--name`, if given. */
export const argValue = (args: ReadonlyArray<string>, name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}

/** The number after `--name`, if given and finite. */
export const argNumber = (args: ReadonlyArray<string>, name: string): number | undefined => {
  const v = Number(argValue(args, name))
  return Number.isFinite(v) ? v : undefined
}
