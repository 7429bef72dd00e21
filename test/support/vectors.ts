import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/**
 * The test vectors, kept in this repository (`test/vectors/`) so a clone anywhere passes: the official
 * Cashu vectors (copied from the shared set; its README says where each comes from) and ones the shared set
 * does not hold yet, e.g. taken from a spec pull request (each of those names its `spec_ref` and
 * `spec_commit`).
 */
const dir = fileURLToPath(new URL("../vectors/", import.meta.url))
// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON fixtures
export const loadVector = (name: string): any => JSON.parse(readFileSync(dir + name, "utf8"))

/** Same as {@link loadVector}: the vectors taken from spec pull requests. */
export const loadRepoVector = loadVector
