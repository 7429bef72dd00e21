/**
 * Keyset validation and the per-wallet keyset registry.
 *
 * Validation (NUT-01): every key is a 33-byte compressed secp256k1 point (`02`/`03` prefix and on the curve) —
 * the two reject vectors are a 32-byte key and a valid but uncompressed `04…` key. Amounts are positive and fit
 * u64 (the accept vectors reach 2^63). NUT-01 does not require powers of two, so other denominations are
 * accepted; `split.ts` handles them greedily.
 *
 * The registry enforces the NUT-02 "[CRITICAL]" rule — a new keyset whose id collides with a known one is
 * rejected — and binds every keyset id to exactly one mint URL, trust-on-first-use, for ever (a
 * malicious mint copying an honest mint's id would otherwise share its NUT-13 counters). It also resolves
 * NUT-00 short ids (first 8 bytes of a v2 id in v4 tokens), failing on ambiguity.
 *
 * @module
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { type Keyset, KeysetError, type KeysetKeys, MAX_AMOUNT } from "../model/index.js"
import { isShortKeysetId, keysetIdVersion, SHORT_KEYSET_ID_HEX_LENGTH, verifyKeysetId } from "./keyset-id.js"
import type { KeysResponse, KeysResponseKeyset } from "./schemas/keys.js"

const COMPRESSED_KEY = /^0[23][0-9a-f]{64}$/

/**
 * Checks a keyset's keys: at least one; every amount in [1, 2^64); every key a compressed, on-curve point.
 *
 * @throws {KeysetError} `malformed-key` (the message names the amount, never a secret — keys are public).
 */
export const validateKeysetKeys = (keys: KeysetKeys, keysetId?: string): void => {
  const fail = (message: string): never => {
    throw keysetId === undefined
      ? new KeysetError({ reason: "malformed-key", message })
      : new KeysetError({ reason: "malformed-key", message, keysetId })
  }
  if (keys.size === 0) fail("keyset has no keys")
  for (const [amount, key] of keys) {
    if (amount <= 0n || amount > MAX_AMOUNT) fail(`keyset amount ${amount} is outside [1, 2^64)`)
    if (!COMPRESSED_KEY.test(key.toLowerCase()))
      fail(`key for amount ${amount} is not a 33-byte compressed key`)
    try {
      secp256k1.Point.fromHex(key)
    } catch {
      fail(`key for amount ${amount} is not a point on secp256k1`)
    }
  }
}

/** Options of {@link keysetFromWire}. */
export interface KeysetFromWireOptions {
  /**
   * Activity when the wire record omits `active` (NUT-02 `GET /v1/keys/{id}` of some mints). Pass `true` for
   * `GET /v1/keys`, which lists active keysets only. Defaults to `false`: never build outputs on a keyset whose
   * activity is unknown.
   */
  readonly active?: boolean
  /** Recompute and check the id (NUT-02 SHOULD). Default `true`. */
  readonly verifyId?: boolean
}

/**
 * Turns a decoded `GET /v1/keys` entry into the model {@link Keyset}: validates the keys, recomputes the id, and
 * applies NUT-02 defaults (missing `input_fee_ppk` ⇒ 0; missing/null `final_expiry` ⇒ none).
 *
 * @throws {KeysetError} `unsupported-version` for `02…` (BLS) and unknown id versions, `malformed-id`,
 *   `malformed-key`, `id-mismatch`.
 */
export const keysetFromWire = (wire: KeysResponseKeyset, options: KeysetFromWireOptions = {}): Keyset => {
  const version = keysetIdVersion(wire.id)
  if (version === 3) {
    throw new KeysetError({
      reason: "unsupported-version",
      message: "BLS12-381 keysets (02…) are not supported",
      keysetId: wire.id,
    })
  }
  validateKeysetKeys(wire.keys, wire.id)
  const base = {
    id: wire.id,
    unit: wire.unit,
    active: wire.active ?? options.active ?? false,
    inputFeePpk: wire.input_fee_ppk ?? 0n,
    keys: wire.keys,
  }
  const keyset: Keyset = wire.final_expiry === undefined ? base : { ...base, finalExpiry: wire.final_expiry }
  if (options.verifyId !== false) verifyKeysetId(keyset)
  return keyset
}

/** The outcome of {@link keysetsFromKeysResponse}: usable keysets, and the rejected ones with their reason. */
export interface KeysetsFromResponse {
  readonly accepted: ReadonlyArray<Keyset>
  readonly rejected: ReadonlyArray<{ readonly id: string; readonly error: KeysetError }>
}

/**
 * Converts every keyset of a `GET /v1/keys` answer with {@link keysetFromWire}, keeping the valid ones and
 * reporting the others (e.g. a `02…` BLS keyset next to a usable `01…` one) instead of failing the whole answer.
 */
export const keysetsFromKeysResponse = (
  response: KeysResponse,
  options: KeysetFromWireOptions = {},
): KeysetsFromResponse => {
  const accepted: Keyset[] = []
  const rejected: Array<{ id: string; error: KeysetError }> = []
  for (const wire of response.keysets) {
    try {
      accepted.push(keysetFromWire(wire, options))
    } catch (e) {
      if (!(e instanceof KeysetError)) throw e
      rejected.push({ id: wire.id, error: e })
    }
  }
  return { accepted, rejected }
}

/** Mint URLs are compared after stripping trailing `/` (NUT-00 normalisation). */
const normaliseMintUrl = (url: string): string => url.replace(/\/+$/, "")

const sameKeys = (a: KeysetKeys, b: KeysetKeys): boolean => {
  if (a.size !== b.size) return false
  for (const [amount, key] of a) {
    const other = b.get(amount)
    if (other === undefined || other.toLowerCase() !== key.toLowerCase()) return false
  }
  return true
}

/** A keyset known to the registry, with the one mint it belongs to. */
export interface RegisteredKeyset {
  readonly mintUrl: string
  readonly keyset: Keyset
}

/**
 * An immutable index of the keysets a wallet knows, across mints. Every update returns a new registry (the
 * engine's projections fold events into it); lookups are O(1).
 */
export class KeysetRegistry {
  /** The registry that knows no keyset. */
  static readonly empty: KeysetRegistry = new KeysetRegistry(new Map(), new Map())

  private constructor(
    private readonly byId: ReadonlyMap<string, RegisteredKeyset>,
    /** First 8 bytes of every v2 id → the full ids sharing them. */
    private readonly byShortId: ReadonlyMap<string, ReadonlyArray<string>>,
  ) {}

  /** Number of keysets. */
  get size(): number {
    return this.byId.size
  }

  /** The keyset with full id `id`, with its mint. */
  get(id: string): RegisteredKeyset | undefined {
    return this.byId.get(id)
  }

  /** The mint a keyset id is bound to. */
  mintOf(id: string): string | undefined {
    return this.byId.get(id)?.mintUrl
  }

  /** All keysets of one mint, in insertion order. */
  keysetsOf(mintUrl: string): ReadonlyArray<Keyset> {
    const mint = normaliseMintUrl(mintUrl)
    const out: Keyset[] = []
    for (const entry of this.byId.values()) if (entry.mintUrl === mint) out.push(entry.keyset)
    return out
  }

  /**
   * Adds a keyset of `mintUrl` (or updates a known one). Re-adding a known id is allowed only from the same mint
   * with the same unit and keys: its `active` flag changes freely, and its fee/expiry only for v1 ids (v2 ids
   * commit to them, so a change there is a different keyset under the same id).
   *
   * @throws {KeysetError} `id-collision` (another mint, unit, key set, or committed metadata under a known id);
   *   `malformed-id` / `unsupported-version` for ids that are not v1/v2.
   */
  add(mintUrl: string, keyset: Keyset): KeysetRegistry {
    return this.addAll(mintUrl, [keyset])
  }

  /** {@link add} for several keysets of one mint at once (one copy of the index). */
  addAll(mintUrl: string, keysets: Iterable<Keyset>): KeysetRegistry {
    const mint = normaliseMintUrl(mintUrl)
    const byId = new Map(this.byId)
    let byShortId: Map<string, ReadonlyArray<string>> | undefined
    for (const keyset of keysets) {
      const version = keysetIdVersion(keyset.id)
      if (version === 3) {
        throw new KeysetError({
          reason: "unsupported-version",
          message: "BLS12-381 keysets (02…) are not supported",
          keysetId: keyset.id,
        })
      }
      const known = byId.get(keyset.id)
      if (known !== undefined) {
        const collision = (why: string): never => {
          throw new KeysetError({
            reason: "id-collision",
            message: `keyset id already known with ${why}`,
            keysetId: keyset.id,
          })
        }
        if (known.mintUrl !== mint) collision("another mint")
        if (known.keyset.unit !== keyset.unit) collision("another unit")
        if (!sameKeys(known.keyset.keys, keyset.keys)) collision("other keys")
        if (
          version === 2 &&
          (known.keyset.inputFeePpk !== keyset.inputFeePpk || known.keyset.finalExpiry !== keyset.finalExpiry)
        ) {
          collision("another fee or final expiry")
        }
        byId.set(keyset.id, { mintUrl: mint, keyset })
        continue
      }
      byId.set(keyset.id, { mintUrl: mint, keyset })
      if (version === 2) {
        byShortId ??= new Map(this.byShortId)
        const short = keyset.id.slice(0, SHORT_KEYSET_ID_HEX_LENGTH)
        byShortId.set(short, [...(byShortId.get(short) ?? []), keyset.id])
      }
    }
    return new KeysetRegistry(byId, byShortId ?? this.byShortId)
  }

  /**
   * Resolves a full id or a NUT-00 short id (first 8 bytes of a v2 id). With `mintUrl`, only keysets of that
   * mint are considered — a token names its mint, and ids are bound to one mint.
   *
   * @throws {KeysetError} `unknown-id` (also for an id bound to another mint); `ambiguous-short-id` when several
   *   known v2 ids share the short id (NUT-00: parsing MUST fail).
   */
  resolve(id: string, mintUrl?: string): RegisteredKeyset {
    const mint = mintUrl === undefined ? undefined : normaliseMintUrl(mintUrl)
    const direct = this.byId.get(id)
    if (direct !== undefined && (mint === undefined || direct.mintUrl === mint)) return direct
    if (direct === undefined && isShortKeysetId(id)) {
      const matches = (this.byShortId.get(id) ?? [])
        .map((full) => this.byId.get(full)!)
        .filter((entry) => mint === undefined || entry.mintUrl === mint)
      if (matches.length > 1) {
        throw new KeysetError({
          reason: "ambiguous-short-id",
          message: `short keyset id matches ${matches.length} keysets`,
          keysetId: id,
        })
      }
      if (matches.length === 1) return matches[0]!
    }
    throw new KeysetError({
      reason: "unknown-id",
      message: direct === undefined ? "unknown keyset id" : "keyset id belongs to another mint",
      keysetId: id,
    })
  }
}
