import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const dir = fileURLToPath(new URL("../../../shared/vectors/", import.meta.url))
// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON fixtures
export const loadVector = (name: string): any => JSON.parse(readFileSync(dir + name, "utf8"))
