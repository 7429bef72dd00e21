/**
 * The secp256k1 backend seam: the few group operations Cashu's hot paths need (NUT-00 BDHKE, NUT-12 DLEQ, BIP340
 * verification for NUT-11/14/20), and the start-up choice between three implementations of them.
 *
 * - `native` — libsecp256k1 through the `secp256k1` npm binding (fastest; only when its compiled binary loads).
 * - `wasm` — libsecp256k1 compiled to WebAssembly (`tiny-secp256k1`).
 * - `noble` — pure TypeScript `@noble/curves` (always available; the reference the others are tested against).
 *
 * Choice: `CORECASHU_SECP256K1=native|wasm|noble` if set, else the first of native → wasm → noble that loads.
 * {@link selectBackend} overrides it at run time. Loading is lazy: importing this module never loads a native
 * binary or a WASM module, and an unavailable backend is reported, never thrown at import.
 *
 * @module
 */
import { CryptoError } from "../model/index.js"
import { loadNativeBackend } from "./backends/native.js"
import { nobleBackend } from "./backends/noble.js"
import type { BackendName, Secp256k1Backend } from "./backends/types.js"
import { loadWasmBackend } from "./backends/wasm.js"

export type { BackendName, Secp256k1Backend }

const ORDER: ReadonlyArray<BackendName> = ["native", "wasm", "noble"]

/** The environment variable that forces a backend. */
export const BACKEND_ENV = "CORECASHU_SECP256K1"

const loaded = new Map<BackendName, Secp256k1Backend | null>()

/** The named backend, or `undefined` when it cannot load here (loads at most once, then remembers). */
export const loadBackend = (name: BackendName): Secp256k1Backend | undefined => {
  let b = loaded.get(name)
  if (b === undefined) {
    b = name === "noble" ? nobleBackend : name === "wasm" ? loadWasmBackend() : loadNativeBackend()
    loaded.set(name, b)
  }
  return b ?? undefined
}

/** The backends that load on this machine, fastest first. */
export const availableBackends = (): BackendName[] => ORDER.filter((n) => loadBackend(n) !== undefined)

const isBackendName = (s: string): s is BackendName => (ORDER as ReadonlyArray<string>).includes(s)

const unavailable = (message: string): CryptoError =>
  new CryptoError({ reason: "backend-unavailable", message })

const readEnv = (): string | undefined => {
  // `process` may be absent outside Node; the override is then simply not available.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  const v = env?.[BACKEND_ENV]?.trim()
  return v === undefined || v === "" ? undefined : v
}

let current: Secp256k1Backend | undefined

/**
 * Makes `name` the backend used by every crypto function that is not handed one explicitly and returns it.
 * `"auto"` re-applies the start-up rule (environment override, else native → wasm → noble). Fails with
 * `backend-unavailable` when the requested backend cannot load, or the environment names an unknown one.
 */
export const selectBackend = (name: BackendName | "auto"): Secp256k1Backend => {
  if (name === "auto") {
    const forced = readEnv()
    if (forced !== undefined) {
      if (!isBackendName(forced))
        throw unavailable(`${BACKEND_ENV} must be one of ${ORDER.join(", ")} (got an unknown name)`)
      return selectBackend(forced)
    }
    for (const n of ORDER) {
      const b = loadBackend(n)
      if (b !== undefined) {
        current = b
        return b
      }
    }
    throw unavailable("no secp256k1 backend could be loaded") // unreachable: noble is plain TypeScript
  }
  const b = loadBackend(name)
  if (b === undefined) throw unavailable(`the ${name} secp256k1 backend cannot be loaded on this machine`)
  current = b
  return b
}

/** The backend in use (chosen by {@link selectBackend}`("auto")` on first call). */
export const getBackend = (): Secp256k1Backend => current ?? selectBackend("auto")
