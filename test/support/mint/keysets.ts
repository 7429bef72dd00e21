/**
 * The test mint's keysets: deterministic private keys per amount (from a seed, so two mints built with the
 * same seed serve the same keysets), NUT-02 ids derived with the project's `deriveKeysetId`, fees, and
 * rotation (the newest keyset of a unit is active, older ones are kept for redemption only).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { getBackend } from "../../../src/crypto/backend.js"
import { isValidScalar } from "../../../src/crypto/backends/common.js"
import { bytesToHex, utf8 } from "../../../src/crypto/bytes.js"
import type { Amount, KeysetKeys } from "../../../src/model/index.js"
import { deriveKeysetId } from "../../../src/protocol/keyset-id.js"

/** A keyset with its private keys (mint side). */
export interface MintKeyset {
  readonly id: string
  readonly unit: string
  active: boolean
  readonly inputFeePpk: bigint
  /** Public keys by amount, compressed hex (what `/v1/keys` serves). */
  readonly keys: KeysetKeys
  /** Private keys by amount, 32 bytes each. */
  readonly privateKeys: ReadonlyMap<Amount, Uint8Array>
}

/** How to build a keyset. */
export interface KeysetSpec {
  readonly seed: string
  readonly unit: string
  /** Derivation index: a rotation bumps it, so the new keyset has new keys. */
  readonly index: number
  readonly inputFeePpk: bigint
  /** Number of denominations 2^0 … 2^(n−1). */
  readonly denominations: number
  readonly idVersion: 1 | 2
}

/** A private key for one amount: SHA256 of a domain string, re-hashed until it is a valid scalar. */
const privateKeyFor = (spec: KeysetSpec, amount: Amount): Uint8Array => {
  let k = sha256(utf8(`corecashu-test-mint/${spec.seed}/${spec.unit}/${spec.index}/${amount}`))
  while (!isValidScalar(k)) k = sha256(k)
  return k
}

/** Builds the keyset `spec` describes (active). */
export const createKeyset = (spec: KeysetSpec): MintKeyset => {
  const backend = getBackend()
  const privateKeys = new Map<Amount, Uint8Array>()
  const keys = new Map<Amount, string>()
  for (let i = 0; i < spec.denominations; i++) {
    const amount = 1n << BigInt(i)
    const k = privateKeyFor(spec, amount)
    privateKeys.set(amount, k)
    keys.set(amount, bytesToHex(backend.mulBase(k)))
  }
  const id =
    spec.idVersion === 1
      ? deriveKeysetId(keys, { version: 1 })
      : deriveKeysetId(keys, { version: 2, unit: spec.unit, inputFeePpk: spec.inputFeePpk })
  return { id, unit: spec.unit, active: true, inputFeePpk: spec.inputFeePpk, keys, privateKeys }
}

/** Options shared by every keyset a {@link KeysetStore} creates. */
export interface KeysetStoreOptions {
  readonly seed: string
  readonly denominations: number
  readonly idVersion: 1 | 2
}

/** All keysets of the mint, in creation order; at most one active per unit. */
export class KeysetStore {
  private readonly list: MintKeyset[] = []
  private readonly byId = new Map<string, MintKeyset>()

  constructor(private readonly options: KeysetStoreOptions) {}

  /** Adds a new active keyset for `unit` (deactivating the previous one) and returns it. */
  rotate(unit: string, inputFeePpk: bigint): MintKeyset {
    const index = this.list.filter((k) => k.unit === unit).length
    const keyset = createKeyset({ ...this.options, unit, index, inputFeePpk })
    for (const k of this.list) if (k.unit === unit) k.active = false
    this.list.push(keyset)
    this.byId.set(keyset.id, keyset)
    return keyset
  }

  /** The keyset with this id, if any. */
  get(id: string): MintKeyset | undefined {
    return this.byId.get(id)
  }

  /** The active keyset of `unit`, if any. */
  active(unit: string): MintKeyset | undefined {
    return this.list.find((k) => k.unit === unit && k.active)
  }

  /** Every keyset, oldest first. */
  all(): ReadonlyArray<MintKeyset> {
    return this.list
  }

  /** Units with an active keyset. */
  units(): string[] {
    return [...new Set(this.list.filter((k) => k.active).map((k) => k.unit))]
  }
}
