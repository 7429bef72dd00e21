/**
 * Pure functions of the lower layers (`crypto`, `protocol`) report bad input by throwing the project's
 * tagged errors. Inside an Effect a throw is a defect; {@link liftTagged} turns those defects back into typed
 * failures, so that no tagged error escapes the engine as an untyped crash and real bugs still die loudly.
 *
 * @module
 */
import { Effect } from "effect"
import { isPureError, type PureError } from "../model/index.js"

/** Re-raises defects that are the project's tagged errors as failures; other defects stay defects. */
export const liftTagged = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | PureError, R> =>
  Effect.catchDefect(self, (defect) => (isPureError(defect) ? Effect.fail(defect) : Effect.die(defect)))

/** Runs a pure function that may throw a tagged error, as an Effect failing with it. */
export const attempt = <A>(f: () => A): Effect.Effect<A, PureError> => liftTagged(Effect.sync(f))
