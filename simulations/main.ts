/**
 * `npm run sim -- [NAME] [options]`: runs one simulation by name, printing its JSON summary last and exiting 0
 * when every check holds.
 *
 * - `chaos` (the default when the first argument is an option): wallets against the in-process mint under
 *   random faults (`chaos.ts`): `npm run sim -- --wallets 4 --seconds 30 --fault-rate 0.3`;
 * - `soak`: random `SIGKILL`s against the real nutshell mint (`soak.ts`): `npm run sim -- soak --kills 400 --seed 1`;
 * - `hostile-mint`: wallets through a hostile proxy in front of nutshell (`hostile-mint.ts`):
 *   `npm run sim -- hostile-mint --operations 300 --seed 1`;
 * - `cluster`: three engine processes over a 3-node NATS cluster against nutshell, one SIGKILLed, one
 *   SIGSTOPped past its lease, one NATS server killed (`cluster-soak.ts`): `npm run sim -- cluster --wallets 300`;
 * - `tamper`: a forger without the key changes the data directory every way we know (`tamper.ts`):
 *   `npm run sim -- tamper --trials 2000 --seed 1`.
 *
 * @module
 */
import { chaosMain } from "./chaos.js"
import { clusterSoakMain } from "./cluster-soak.js"
import { hostileMintMain } from "./hostile-mint.js"
import { soakMain } from "./soak.js"
import { tamperMain } from "./tamper.js"

const SIMULATIONS: Record<string, (args: ReadonlyArray<string>) => Promise<number>> = {
  chaos: chaosMain,
  soak: soakMain,
  cluster: clusterSoakMain,
  "hostile-mint": hostileMintMain,
  tamper: tamperMain,
}

const args = process.argv.slice(2)
const first = args[0]
if (first === undefined || first.startsWith("--")) process.exit(await chaosMain(args))
const run = SIMULATIONS[first]
if (run === undefined) {
  console.error(`unknown simulation "${first}"; one of: ${Object.keys(SIMULATIONS).join(", ")}`)
  process.exit(2)
}
process.exit(await run(args.slice(1)))
