import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const dir = fileURLToPath(new URL("../../../shared/vectors/", import.meta.url))
// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON fixtures
export const loadVector = (name: string): any => JSON.parse(readFileSync(dir + name, "utf8"))

const repoDir = fileURLToPath(new URL("../vectors/", import.meta.url))
/**
 * Vectors kept in this repository (`test/vectors/`): ones the shared set does not hold yet, e.g. taken from a
 * spec pull request. Each file names its `spec_ref` and `spec_commit`.
 */
// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON fixtures
export const loadRepoVector = (name: string): any => JSON.parse(readFileSync(repoDir + name, "utf8"))
