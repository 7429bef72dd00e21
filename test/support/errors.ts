import { expect } from "vitest"
import { DecodeError, isCorecashuError } from "../../src/model/index.js"

/** Asserts that `f` throws one of the project's tagged errors, with `tag` (and `reason`, when given). */
export const expectTagged = (f: () => unknown, tag: string, reason?: string): void => {
  let err: unknown
  try {
    f()
  } catch (e) {
    err = e
  }
  expect(isCorecashuError(err)).toBe(true)
  const e = err as { _tag: string; reason?: string }
  expect(e._tag).toBe(tag)
  if (reason !== undefined) expect(e.reason).toBe(reason)
}

/** The `path` of the {@link DecodeError} that `f` throws (`"no error"` when it throws none). */
export const decodeErrorPath = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError)
    return (e as DecodeError).path
  }
  return "no error"
}
