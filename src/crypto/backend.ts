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
import { CryptoError } from "../errors.js"
import { loadNativeBackend } from "./backends/native.js"
import { nobleBackend } from "./backends/noble.js"
import { loadWasmBackend } from "./backends/wasm.js"

/** Names of the implementations. */
export type BackendName = "native" | "wasm" | "noble"

/**
 * Group operations on secp256k1. Points are 33-byte compressed SEC1 encodings, scalars 32-byte big-endian
 * integers in [1, n−1]; results are fresh arrays. Every failure is a tagged {@link CryptoError}:
 * `invalid-point` (wrong length/prefix, not on the curve), `invalid-scalar` (wrong length, zero, ≥ n),
 * `point-at-infinity` (a sum cancelled out).
 *
 * Which scalars may be secret is part of the contract: `mulBase` and `mul` are constant-time in `k` (blinding
 * factors, mint keys, DLEQ nonces); `mulPublic` and `mulAddPublic` may be variable-time and must only see public
 * scalars (DLEQ `e` and `s`).
 */
export interface Secp256k1Backend {
  readonly name: BackendName
  /** True when `p` is a compressed encoding of a point on the curve. Never throws. */
  isPoint(p: Uint8Array): boolean
  /** k·G, constant-time in `k`. */
  mulBase(k: Uint8Array): Uint8Array
  /** k·P, constant-time in `k`. */
  mul(p: Uint8Array, k: Uint8Array): Uint8Array
  /** k·P for a PUBLIC `k`; may be variable-time. */
  mulPublic(p: Uint8Array, k: Uint8Array): Uint8Array
  /**
   * a·P + b·Q (P = G when `p` is null) for PUBLIC scalars, as the 65-byte UNCOMPRESSED encoding — its only use
   * is NUT-12, which hashes that form, so returning it saves a conversion per point.
   */
  mulAddPublic(p: Uint8Array | null, a: Uint8Array, q: Uint8Array, b: Uint8Array): Uint8Array
  /** P + Q. */
  add(p: Uint8Array, q: Uint8Array): Uint8Array
  /** P − Q. */
  sub(p: Uint8Array, q: Uint8Array): Uint8Array
  /** −P. */
  negate(p: Uint8Array): Uint8Array
  /** The 65-byte uncompressed encoding (`04 || x || y`) of P. */
  uncompress(p: Uint8Array): Uint8Array
  /**
   * BIP340 verification of a 64-byte `signature` over a 32-byte `digest` by a 32-byte x-only key. Every input is
   * public (variable-time is fine). Malformed input is simply `false`: this never throws. Used by NUT-11/14
   * spending conditions, where a witness may ask for many checks.
   */
  verifySchnorr(signature: Uint8Array, digest: Uint8Array, xOnlyKey: Uint8Array): boolean
}

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
