/**
 * The projections: pure folds over the event log, their runner with checkpoints, and the audit.
 *
 * @module
 */
import { backupProjection } from "./backup.js"
import { balancesProjection } from "./balances.js"
import { countersProjection } from "./counters.js"
import { mintsProjection } from "./mints.js"
import { operationsProjection } from "./operations.js"
import { ownersProjection } from "./owners.js"
import type { AnyProjection } from "./projection.js"
import { proofsProjection } from "./proofs.js"

export * from "../machines/lifecycle.js"
export * from "./audit.js"
export * from "./backup.js"
export * from "./balances.js"
export * from "./checkpoint.js"
export * from "./counters.js"
export * from "./mints.js"
export * from "./operations.js"
export * from "./owners.js"
export { PMap } from "./pmap.js"
export * from "./projection.js"
export * from "./proofs.js"
export * from "./runner.js"

/** Every projection of the engine, in a fixed order. */
export const ALL_PROJECTIONS: ReadonlyArray<AnyProjection> = [
  mintsProjection,
  countersProjection,
  proofsProjection,
  balancesProjection,
  operationsProjection,
  backupProjection,
  ownersProjection,
]
