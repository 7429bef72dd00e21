/**
 * The vault: encryption of event payloads at rest.
 *
 * Payloads are sealed with AES-256-GCM under a random 32-byte **data key**. The data key is stored only
 * **wrapped** (AES-256-GCM again) by a key-encryption key (KEK) that is either derived from a passphrase with
 * scrypt (parameters and salt stored) or supplied by the host (32 raw bytes, e.g. from an OS keystore). The
 * wrapped key, the KDF parameters and a public key id form the {@link VaultMaterial}: a JSON record the store
 * keeps in clear next to the log. Changing the passphrase later only rewraps the data key, never the log.
 *
 * Sealed format (version 1): `0x01 ‖ nonce (12 bytes, random) ‖ ciphertext ‖ tag (16 bytes)`. The GCM
 * additional data is `version byte ‖ caller aad`, so the version byte is authenticated too (no downgrade by
 * flipping it). Callers should pass as `aad` whatever pins a payload to its place (stream id, event id), so a
 * ciphertext moved to another event fails to open.
 *
 * Group format (version 2, {@link VaultShape.group}): n ≥ 2 payloads (what a store commits together)
 * sealed by ONE AES-256-GCM operation over their concatenation, each member stored on its own:
 * `0x02 ‖ u32be index ‖ u32be n ‖ (index 0 only: nonce (12) ‖ tag (16)) ‖ ciphertext of member index`.
 * The additional data is `0x02 ‖ u32be n ‖ u32be len(plaintext) of each member ‖ caller aad`, where the
 * caller's aad names every member's envelope fields (`events/sealer.ts`'s `groupAad`), so every member stays
 * bound to its own envelope and to its place and size in the group; changing, dropping, moving or resizing
 * any member fails the whole group. Why: node:crypto builds a cipher object per
 * operation (a fixed ~10 µs on our machine, more than the AES work on a ~300-byte payload), so one operation
 * for many payloads all but removes the sealing cost. The price: a member opens only together with its
 * whole group (readers fetch whole groups).
 *
 * Nonces: 96 random bits per seal. NIST SP 800-38D bounds random-nonce GCM to 2^32 messages per key (nonce
 * collision probability below 2^-32). A wallet log that appends 1M events a day needs ~11,000 years to get
 * there, so one data key per log is sound; a store that ever approached the bound would rotate the data key
 * (new material, rewrite), which this format allows. A deterministic counter would need persisted state and
 * breaks under crash/restart or two processes; random nonces need neither.
 *
 * Hygiene: the KEK, the passphrase's bytes and the data key are kept in `Buffer`s (never strings) and
 * zero-filled when no longer needed ({@link VaultShape.destroy} for the data key). JavaScript cannot promise
 * more: a string passphrase is immutable and OpenSSL keeps its own short-lived copies. No key material ever
 * appears in an error message or on the vault object (the key lives in a closure).
 *
 * `seal`/`open` are synchronous because they sit on the append and replay hot paths; everything that can fail
 * throws {@link VaultError}. The Effect service {@link Vault} carries the same object.
 *
 * @module
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomFillSync,
  scrypt,
  scryptSync,
} from "node:crypto"
import { Effect, Layer } from "effect"
import { bytesToHex, hexToBytesOrUndefined } from "../crypto/bytes.js"
import type { GroupPosition } from "../events/sealer.js"
import { VaultError } from "../model/index.js"
import { Vault, type VaultShape } from "../ports/vault.js"

// ---------------------------------------------------------------------------------------------------------
// Public types and constants
// ---------------------------------------------------------------------------------------------------------

/** First byte of every sealed payload. */
export const SEALED_VERSION = 1
/** Version of the {@link VaultMaterial} record. */
export const VAULT_MATERIAL_VERSION = 1
/** Bytes a sealed payload adds to its plaintext: version (1) + nonce (12) + tag (16). */
export const SEAL_OVERHEAD = 29
/** First byte of every member of a sealed group (see the module documentation). */
export const SEALED_GROUP_VERSION = 2
/** Bytes a group adds to its first member (version, index, count, nonce, tag) and to every other one. */
export const GROUP_FIRST_OVERHEAD = 37
/** Bytes a group adds to each member after the first (version, index, count). */
export const GROUP_MEMBER_OVERHEAD = 9

/** scrypt cost parameters (N = CPU/memory cost, a power of two; r = block size; p = parallelism). */
export interface ScryptParams {
  readonly N: number
  readonly r: number
  readonly p: number
}

/**
 * Default scrypt cost for a new passphrase vault: N = 2^16, r = 8, p = 1 (64 MiB, well under a second;
 * unlocking happens once per process). Stronger than the 2^15 usually quoted as the interactive minimum.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 16, r: 8, p: 1 }

/** The weakest scrypt cost accepted outside tests (creating or unlocking): N ≥ 2^14 and r ≥ 8. */
export const MIN_SCRYPT: ScryptParams = { N: 2 ** 14, r: 8, p: 1 }

/** How the key-encryption key is obtained. Stored in clear. */
export type VaultKdf =
  | {
      readonly name: "scrypt"
      readonly N: number
      readonly r: number
      readonly p: number
      /** Random salt, hex (32 bytes when we create it). */
      readonly salt: string
    }
  | { readonly name: "host-key" }

/** The vault's persistent, JSON-serialisable record; stored in clear next to the log. Holds no secret. */
export interface VaultMaterial {
  readonly version: typeof VAULT_MATERIAL_VERSION
  readonly kdf: VaultKdf
  /** The data key wrapped by the KEK: `nonce (12) ‖ encrypted key (32) ‖ tag (16)`, hex. */
  readonly wrappedKey: string
  /** Public fingerprint of the data key (first 16 bytes of a domain-separated SHA-256), hex. */
  readonly keyId: string
}

/**
 * What unlocks a vault: a passphrase (a string is NFKC-normalised, as BIP-39 does, so the same passphrase
 * typed on different systems gives the same key; bytes are used as given) or a 32-byte host key. The caller's
 * buffers are never modified.
 */
export type VaultSecret = { readonly passphrase: string | Uint8Array } | { readonly key: Uint8Array }

/** Options for creating and unlocking a vault. */
export interface VaultOptions {
  /** scrypt cost for a new passphrase vault; default N = 2^16, r = 8, p = 1. Ignored when unlocking. */
  readonly scrypt?: ScryptParams
  /**
   * TESTS ONLY. Accept scrypt parameters below the floor (N = 2^14, r = 8; down to N = 2, r = 1) when creating and
   * when unlocking, so test suites do not spend a second per vault. Never set this in production code. (The
   * tests' options live in `test/support/vault.ts`, outside the package.)
   */
  readonly insecureAllowWeakKdf?: boolean
}

/** A freshly created vault and the material to persist for unlocking it later. */
export interface CreatedVault {
  readonly vault: VaultShape
  readonly material: VaultMaterial
}

// ---------------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------------

const CIPHER = "aes-256-gcm"
const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + NONCE_BYTES
const SALT_BYTES = 32
// Pinning the tag length makes node reject shorter tags instead of accepting truncated ones.
const GCM_OPTIONS = { authTagLength: TAG_BYTES } as const
const VERSION_AAD = Uint8Array.of(SEALED_VERSION)
const WRAP_DOMAIN = "corecashu/vault/wrap/v1"
const KEY_ID_DOMAIN = Buffer.from("corecashu/vault/key-id/v1", "utf8")
const MAC_KEY_DOMAIN = Buffer.from("corecashu/vault/mac-key/v1", "utf8")

// Upper bounds on stored scrypt parameters: material read from disk must not make us allocate gigabytes or
// spin for minutes.
const MAX_LOG_N = 20
const MAX_R = 32
const MAX_P = 16
const MAX_SCRYPT_MEMORY = 2 ** 30
/**
 * Upper bound on scrypt's work, N·r·p (memory passes × parallel lanes): 2^23 is 16× the default cost, a few
 * seconds here. Without it, material that stays under the memory bound could still ask for p = 16 passes
 * over 1 GiB and make opening take minutes.
 */
const MAX_SCRYPT_WORK = 2 ** 23

const fail = (reason: VaultError["reason"], message: string): never => {
  throw new VaultError({ reason, message })
}

// Anything unexpected (node rejecting an argument) still leaves as a VaultError, with a fixed message: node's
// own messages are not ours to vet for secrets.
const asVaultError = (e: unknown): VaultError =>
  e instanceof VaultError
    ? e
    : new VaultError({ reason: "bad-parameters", message: "vault operation failed" })

// Random nonces come from a pooled CSPRNG buffer: one `randomFillSync` call costs about as much as a whole
// seal, so we draw 4 KiB at a time and hand out each 12-byte slice exactly once. Nonces are public, so the
// pool holds nothing secret.
const noncePool = Buffer.allocUnsafeSlow(NONCE_BYTES * 341)
let noncePos = noncePool.length
const writeNonce = (into: Buffer, at: number): void => {
  if (noncePos + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool)
    noncePos = 0
  }
  noncePool.copy(into, at, noncePos, noncePos + NONCE_BYTES)
  noncePos += NONCE_BYTES
}

// A dedicated (not slab-pooled) buffer, so its `.buffer` never exposes unrelated memory.
const freshRandom = (n: number): Buffer => randomFillSync(Buffer.allocUnsafeSlow(n))

const keyIdOf = (dataKey: Uint8Array): string =>
  bytesToHex(createHash("sha256").update(KEY_ID_DOMAIN).update(dataKey).digest().subarray(0, 16))

/** The wrap's additional data pins the material version and the KDF record: editing them fails the unwrap. */
const wrapAad = (kdf: VaultKdf): Buffer =>
  Buffer.from(
    WRAP_DOMAIN +
      JSON.stringify(
        kdf.name === "scrypt"
          ? [VAULT_MATERIAL_VERSION, kdf.name, kdf.N, kdf.r, kdf.p, kdf.salt]
          : [VAULT_MATERIAL_VERSION, kdf.name],
      ),
    "utf8",
  )

const wrapKey = (kek: Uint8Array, dataKey: Uint8Array, aad: Uint8Array): Buffer => {
  const nonce = freshRandom(NONCE_BYTES)
  const c = createCipheriv(CIPHER, kek, nonce, GCM_OPTIONS)
  c.setAAD(aad)
  const ct = c.update(dataKey)
  c.final()
  return Buffer.concat([nonce, ct, c.getAuthTag()])
}

/** Unwraps the data key; `undefined` when the tag does not verify (wrong KEK or damaged wrap). */
const unwrapKey = (kek: Uint8Array, wrapped: Uint8Array, aad: Uint8Array): Buffer | undefined => {
  const d = createDecipheriv(CIPHER, kek, wrapped.subarray(0, NONCE_BYTES), GCM_OPTIONS)
  d.setAAD(aad)
  d.setAuthTag(wrapped.subarray(NONCE_BYTES + KEY_BYTES))
  const key = d.update(wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES))
  try {
    d.final()
  } catch {
    key.fill(0)
    return undefined
  }
  return key
}

const isInt = (x: unknown, min: number, max: number): x is number =>
  typeof x === "number" && Number.isInteger(x) && x >= min && x <= max

/** Checks scrypt parameters against the hard bounds and, unless `weak` is allowed, against the floor. */
const checkScrypt = (s: ScryptParams, allowWeak: boolean): void => {
  const { N, r, p } = s
  if (!isInt(N, 2, 2 ** MAX_LOG_N) || (N & (N - 1)) !== 0)
    fail("bad-parameters", `scrypt N must be a power of two between 2 and 2^${MAX_LOG_N}`)
  if (!isInt(r, 1, MAX_R)) fail("bad-parameters", `scrypt r must be an integer between 1 and ${MAX_R}`)
  if (!isInt(p, 1, MAX_P)) fail("bad-parameters", `scrypt p must be an integer between 1 and ${MAX_P}`)
  if (128 * N * r > MAX_SCRYPT_MEMORY) fail("bad-parameters", "scrypt parameters need more than 1 GiB")
  if (N * r * p > MAX_SCRYPT_WORK)
    fail("bad-parameters", "scrypt parameters ask for more work than 16× the default cost (N·r·p ≤ 2^23)")
  if (!allowWeak && (N < MIN_SCRYPT.N || r < MIN_SCRYPT.r))
    fail("bad-parameters", `scrypt parameters are below the minimum (N ≥ 2^14, r ≥ 8)`)
}

// OpenSSL refuses scrypt when 128·N·r reaches `maxmem` (default 32 MiB, which rejects N = 2^15, r = 8).
const scryptOptions = (kdf: ScryptParams) => ({
  N: kdf.N,
  r: kdf.r,
  p: kdf.p,
  maxmem: 128 * kdf.N * kdf.r + 2 ** 20,
})

const saltOf = (kdf: { readonly salt: string }): Uint8Array =>
  hexToBytesOrUndefined(kdf.salt) ?? new Uint8Array(0)

/** Rejects an empty or non-text passphrase without copying it. */
const checkPassphrase = (p: unknown): void => {
  if (typeof p !== "string" && !(p instanceof Uint8Array))
    fail("bad-parameters", "the passphrase must be a string or bytes")
  if ((p as string | Uint8Array).length === 0) fail("bad-parameters", "the passphrase is empty")
}

/** The passphrase as bytes; `owned` bytes are ours to zero-fill afterwards. */
const passphraseBytes = (p: string | Uint8Array): { readonly bytes: Uint8Array; readonly owned: boolean } => {
  checkPassphrase(p)
  return typeof p === "string"
    ? { bytes: Buffer.from(p.normalize("NFKC"), "utf8"), owned: true }
    : { bytes: p, owned: false }
}

type Secret =
  | { readonly kind: "passphrase"; readonly pass: string | Uint8Array }
  | { readonly kind: "key"; readonly key: Uint8Array }

const classifySecret = (secret: VaultSecret): Secret => {
  const s = secret as { passphrase?: unknown; key?: unknown } | null | undefined
  if (typeof s !== "object" || s === null) return fail("bad-parameters", "no vault secret given")
  const hasPass = s.passphrase !== undefined
  const hasKey = s.key !== undefined
  if (hasPass === hasKey) return fail("bad-parameters", "give exactly one of passphrase or key")
  if (hasKey) {
    if (!(s.key instanceof Uint8Array) || s.key.length !== KEY_BYTES)
      return fail("bad-parameters", "the host key must be 32 bytes")
    return { kind: "key", key: s.key }
  }
  checkPassphrase(s.passphrase)
  return { kind: "passphrase", pass: s.passphrase as string | Uint8Array }
}

/** Derives the KEK synchronously (blocks the thread for the scrypt time). */
const deriveKekSync = (kdf: VaultKdf, secret: Secret): Buffer => {
  // Our own copy of a host key, so zero-filling the KEK never touches the caller's buffer.
  if (secret.kind === "key") return Buffer.from(secret.key)
  if (kdf.name !== "scrypt")
    return fail("wrong-key", "this vault is unlocked with a host key, not a passphrase")
  const { bytes, owned } = passphraseBytes(secret.pass)
  try {
    return scryptSync(bytes, saltOf(kdf), KEY_BYTES, scryptOptions(kdf))
  } finally {
    if (owned) bytes.fill(0)
  }
}

/** Derives the KEK on libuv's thread pool, so a long scrypt does not stall the event loop. */
const deriveKekAsync = (kdf: VaultKdf, secret: Secret): Effect.Effect<Buffer, VaultError> => {
  if (secret.kind === "key" || kdf.name !== "scrypt")
    return Effect.try({ try: () => deriveKekSync(kdf, secret), catch: asVaultError })
  return Effect.callback<Buffer, VaultError>((resume) => {
    let pass: { readonly bytes: Uint8Array; readonly owned: boolean }
    try {
      pass = passphraseBytes(secret.pass)
    } catch (e) {
      resume(Effect.fail(asVaultError(e)))
      return
    }
    let abandoned = false
    scrypt(pass.bytes, saltOf(kdf), KEY_BYTES, scryptOptions(kdf), (err, kek) => {
      if (pass.owned) pass.bytes.fill(0)
      // Interrupted while scrypt ran: nobody will consume (and later zero-fill) this key, so do it here.
      if (abandoned) return void kek?.fill(0)
      resume(
        err === null
          ? Effect.succeed(kek)
          : Effect.fail(
              new VaultError({ reason: "bad-parameters", message: "scrypt rejected its parameters" }),
            ),
      )
    })
    return Effect.sync(() => {
      abandoned = true
    })
  })
}

/** Builds the sealing object around a data key it takes ownership of. */
const makeVault = (dataKey: Buffer, keyId: string): VaultShape => {
  let live = true
  const missing = (): never => fail("missing-key", "the vault has been destroyed")
  const tampered = (): never => fail("tampered", "sealed payload failed authentication")

  const seal = (plaintext: Uint8Array, aad: Uint8Array): Uint8Array => {
    if (!live) missing()
    if (!(plaintext instanceof Uint8Array) || !(aad instanceof Uint8Array))
      fail("bad-parameters", "seal takes bytes")
    // Pooled allocation: a dedicated ArrayBuffer per seal (and its GC tracking) cost ~25 % of a seal. The
    // output holds only public bytes (version, nonce, ciphertext, tag); like any pooled Buffer its `.buffer`
    // is a shared slab, so consumers use the view (every caller here copies it into a record).
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plaintext.length)
    out[0] = SEALED_VERSION
    writeNonce(out, 1)
    const c = createCipheriv(CIPHER, dataKey, out.subarray(1, HEADER_BYTES), GCM_OPTIONS)
    c.setAAD(VERSION_AAD)
    c.setAAD(aad)
    const ct = c.update(plaintext)
    c.final()
    out.set(ct, HEADER_BYTES)
    out.set(c.getAuthTag(), HEADER_BYTES + plaintext.length)
    return out
  }

  const open = (sealed: Uint8Array, aad: Uint8Array): Uint8Array => {
    if (!live) missing()
    if (!(sealed instanceof Uint8Array) || !(aad instanceof Uint8Array))
      fail("bad-parameters", "open takes bytes")
    if (sealed.length < SEAL_OVERHEAD || sealed[0] !== SEALED_VERSION) tampered()
    const end = sealed.length - TAG_BYTES
    const d = createDecipheriv(CIPHER, dataKey, sealed.subarray(1, HEADER_BYTES), GCM_OPTIONS)
    d.setAAD(VERSION_AAD)
    d.setAAD(aad)
    d.setAuthTag(sealed.subarray(end))
    const plaintext = d.update(sealed.subarray(HEADER_BYTES, end))
    try {
      d.final()
    } catch {
      // Never hand out (or leave lying around) plaintext that failed authentication.
      plaintext.fill(0)
      tampered()
    }
    return plaintext
  }

  const destroy = (): void => {
    live = false
    dataKey.fill(0)
  }

  const sealGroup = (plaintexts: ReadonlyArray<Uint8Array>, aad: Uint8Array): Uint8Array[] => {
    if (!live) missing()
    const n = plaintexts.length
    if (n < 2) fail("bad-parameters", "a group has at least two members")
    if (!(aad instanceof Uint8Array)) fail("bad-parameters", "seal takes bytes")
    const lengths: number[] = new Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const pt = plaintexts[i]
      if (!(pt instanceof Uint8Array)) fail("bad-parameters", "seal takes bytes")
      lengths[i] = (pt as Uint8Array).length
      total += lengths[i]!
    }
    if (total > MAX_GROUP_BYTES) fail("bad-parameters", "the group is too large for one seal")
    const gaad = groupAadOf(lengths, aad)
    // One pooled buffer holds every member (public bytes only), as `seal` does; each member is a view of it.
    const out = Buffer.allocUnsafe(total + GROUP_FIRST_OVERHEAD + (n - 1) * GROUP_MEMBER_OVERHEAD)
    const joined = Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < n; i++) {
      joined.set(plaintexts[i]!, at)
      at += plaintexts[i]!.length
    }
    writeNonce(out, GROUP_MEMBER_OVERHEAD)
    const nonce = out.subarray(GROUP_MEMBER_OVERHEAD, GROUP_MEMBER_OVERHEAD + NONCE_BYTES)
    const c = createCipheriv(CIPHER, dataKey, nonce, GCM_OPTIONS)
    c.setAAD(gaad)
    const ct = c.update(joined)
    c.final()
    // The joined plaintext is ours: wipe it rather than leave it in the pool.
    joined.fill(0)
    out.set(c.getAuthTag(), GROUP_MEMBER_OVERHEAD + NONCE_BYTES)
    const members: Uint8Array[] = new Array(n)
    let o = 0
    let from = 0
    for (let i = 0; i < n; i++) {
      const len = plaintexts[i]!.length
      const head = i === 0 ? GROUP_FIRST_OVERHEAD : GROUP_MEMBER_OVERHEAD
      out[o] = SEALED_GROUP_VERSION
      out.writeUInt32BE(i, o + 1)
      out.writeUInt32BE(n, o + 5)
      ct.copy(out, o + head, from, from + len)
      members[i] = out.subarray(o, o + head + len)
      o += head + len
      from += len
    }
    return members
  }

  const openGroup = (sealed: ReadonlyArray<Uint8Array>, aad: Uint8Array): Uint8Array[] => {
    if (!live) missing()
    const n = sealed.length
    if (n < 2) fail("bad-parameters", "a group has at least two members")
    if (!(aad instanceof Uint8Array)) fail("bad-parameters", "open takes bytes")
    const lengths: number[] = new Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      const s = sealed[i]
      if (!(s instanceof Uint8Array)) fail("bad-parameters", "open takes bytes")
      const pos = groupPositionOf(s as Uint8Array)
      if (pos === undefined || pos.index !== i || pos.count !== n) tampered()
      lengths[i] = (s as Uint8Array).length - (i === 0 ? GROUP_FIRST_OVERHEAD : GROUP_MEMBER_OVERHEAD)
      total += lengths[i]!
    }
    const first = sealed[0]!
    const ct = Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < n; i++) {
      const head = i === 0 ? GROUP_FIRST_OVERHEAD : GROUP_MEMBER_OVERHEAD
      ct.set(sealed[i]!.subarray(head), at)
      at += lengths[i]!
    }
    const d = createDecipheriv(
      CIPHER,
      dataKey,
      first.subarray(GROUP_MEMBER_OVERHEAD, GROUP_MEMBER_OVERHEAD + NONCE_BYTES),
      GCM_OPTIONS,
    )
    d.setAAD(groupAadOf(lengths, aad))
    d.setAuthTag(first.subarray(GROUP_MEMBER_OVERHEAD + NONCE_BYTES, GROUP_FIRST_OVERHEAD))
    const plaintext = d.update(ct)
    try {
      d.final()
    } catch {
      plaintext.fill(0)
      tampered()
    }
    const out: Uint8Array[] = new Array(n)
    let from = 0
    for (let i = 0; i < n; i++) {
      out[i] = plaintext.subarray(from, from + lengths[i]!)
      from += lengths[i]!
    }
    return out
  }

  // A key of its own for authentication tags, derived once: the data key itself only ever keys AES-GCM.
  const macKey = createHmac("sha256", dataKey).update(MAC_KEY_DOMAIN).digest()
  const authenticate = (data: Uint8Array): Uint8Array => {
    if (!live) missing()
    if (!(data instanceof Uint8Array)) fail("bad-parameters", "authenticate takes bytes")
    return createHmac("sha256", macKey).update(data).digest()
  }
  const destroyAll = () => {
    destroy()
    macKey.fill(0)
  }

  return {
    keyId,
    seal,
    open,
    destroy: destroyAll,
    authenticate,
    group: { seal: sealGroup, open: openGroup, positionOf: groupPositionOf },
  }
}

// A GCM message under a 96-bit nonce may hold at most 2^32 − 2 blocks; stay far below.
const MAX_GROUP_BYTES = 2 ** 34

/** Where a stored payload sits in its group, or undefined when it is not a well-formed group member. */
export const groupPositionOf = (sealed: Uint8Array): GroupPosition | undefined => {
  if (sealed.length < GROUP_MEMBER_OVERHEAD || sealed[0] !== SEALED_GROUP_VERSION) return undefined
  const index = ((sealed[1]! << 24) | (sealed[2]! << 16) | (sealed[3]! << 8) | sealed[4]!) >>> 0
  const count = ((sealed[5]! << 24) | (sealed[6]! << 16) | (sealed[7]! << 8) | sealed[8]!) >>> 0
  if (count < 2 || index >= count || (index === 0 && sealed.length < GROUP_FIRST_OVERHEAD)) return undefined
  return { index, count }
}

/** The group's additional data: version, member count, each member's plaintext length, the caller's aad. */
const groupAadOf = (lengths: ReadonlyArray<number>, aad: Uint8Array): Buffer => {
  const n = lengths.length
  const b = Buffer.allocUnsafe(5 + 4 * n + aad.length)
  b[0] = SEALED_GROUP_VERSION
  b.writeUInt32BE(n, 1)
  for (let i = 0; i < n; i++) b.writeUInt32BE(lengths[i]!, 5 + 4 * i)
  b.set(aad, 5 + 4 * n)
  return b
}

/** Validates everything but the KDF cost floor; returns a clean copy of the material. */
const checkMaterial = (u: unknown): VaultMaterial => {
  const bad = (what: string): never => fail("bad-parameters", `vault material: ${what}`)
  if (typeof u !== "object" || u === null) bad("not an object")
  const m = u as Record<string, unknown>
  if (m.version !== VAULT_MATERIAL_VERSION) bad("unsupported version")
  const wrapped = typeof m.wrappedKey === "string" ? hexToBytesOrUndefined(m.wrappedKey) : undefined
  if (wrapped?.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) bad("wrappedKey must be 60 bytes of hex")
  const keyId = typeof m.keyId === "string" ? hexToBytesOrUndefined(m.keyId) : undefined
  if (keyId?.length !== 16) bad("keyId must be 16 bytes of hex")
  const k = m.kdf as Record<string, unknown> | null | undefined
  if (typeof k !== "object" || k === null) return bad("kdf missing")
  let kdf: VaultKdf
  if (k.name === "host-key") kdf = { name: "host-key" }
  else if (k.name === "scrypt") {
    const salt = typeof k.salt === "string" ? hexToBytesOrUndefined(k.salt) : undefined
    if (salt === undefined || salt.length < 16 || salt.length > 64) bad("salt must be 16 to 64 bytes of hex")
    kdf = {
      name: "scrypt",
      N: k.N as number,
      r: k.r as number,
      p: k.p as number,
      salt: (k.salt as string).toLowerCase(),
    }
    checkScrypt(kdf, true)
  } else return bad("unknown kdf")
  return {
    version: VAULT_MATERIAL_VERSION,
    kdf,
    wrappedKey: (m.wrappedKey as string).toLowerCase(),
    keyId: (m.keyId as string).toLowerCase(),
  }
}

/** Shared prologue of unlocking: validated material, classified secret, floor and kind checks. */
const prepareUnlock = (material: unknown, secret: VaultSecret, opts?: VaultOptions) => {
  const m = checkMaterial(material)
  const s = classifySecret(secret)
  if (m.kdf.name === "scrypt") {
    checkScrypt(m.kdf, opts?.insecureAllowWeakKdf === true)
    if (s.kind !== "passphrase") fail("wrong-key", "this vault is unlocked with a passphrase, not a host key")
  } else if (s.kind !== "key") fail("wrong-key", "this vault is unlocked with a host key, not a passphrase")
  return { m, s }
}

/** Shared epilogue of unlocking: unwraps with the KEK (then zero-fills it) and checks the key id. */
const finishUnlock = (m: VaultMaterial, kek: Buffer): VaultShape => {
  let dataKey: Buffer | undefined
  try {
    dataKey = unwrapKey(kek, hexToBytesOrUndefined(m.wrappedKey) as Uint8Array, wrapAad(m.kdf))
  } finally {
    kek.fill(0)
  }
  if (dataKey === undefined) return fail("wrong-key", "wrong passphrase or key (or damaged vault material)")
  if (keyIdOf(dataKey) !== m.keyId) {
    dataKey.fill(0)
    return fail("bad-parameters", "vault material: keyId does not match the data key")
  }
  return makeVault(dataKey, m.keyId)
}

/** Shared prologue of creation: secret, KDF record (fresh salt) after the floor check. */
const prepareCreate = (secret: VaultSecret, opts?: VaultOptions): { s: Secret; kdf: VaultKdf } => {
  const s = classifySecret(secret)
  if (s.kind === "key") return { s, kdf: { name: "host-key" } }
  const params = opts?.scrypt ?? DEFAULT_SCRYPT
  checkScrypt(params, opts?.insecureAllowWeakKdf === true)
  return {
    s,
    kdf: { name: "scrypt", N: params.N, r: params.r, p: params.p, salt: bytesToHex(freshRandom(SALT_BYTES)) },
  }
}

/** Shared epilogue of creation: a fresh data key, wrapped by the KEK (then zero-filled). */
const finishCreate = (kdf: VaultKdf, kek: Buffer): CreatedVault => {
  const dataKey = freshRandom(KEY_BYTES)
  let wrapped: Buffer
  try {
    wrapped = wrapKey(kek, dataKey, wrapAad(kdf))
  } finally {
    kek.fill(0)
  }
  const keyId = keyIdOf(dataKey)
  const material: VaultMaterial = {
    version: VAULT_MATERIAL_VERSION,
    kdf,
    wrappedKey: bytesToHex(wrapped),
    keyId,
  }
  return { vault: makeVault(dataKey, keyId), material }
}

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/**
 * Creates a vault with a fresh random data key, wrapped under a passphrase (scrypt, fresh 32-byte salt) or a
 * 32-byte host key. Persist `material`; it is all that is needed (with the secret) to unlock again. Runs
 * scrypt synchronously; prefer {@link createVaultEffect} on a server. Throws {@link VaultError}
 * `bad-parameters` on an empty passphrase, a host key that is not 32 bytes, or scrypt parameters below
 * {@link MIN_SCRYPT} without `insecureAllowWeakKdf`.
 */
export const createVault = (secret: VaultSecret, opts?: VaultOptions): CreatedVault => {
  try {
    const { s, kdf } = prepareCreate(secret, opts)
    return finishCreate(kdf, deriveKekSync(kdf, s))
  } catch (e) {
    throw asVaultError(e)
  }
}

/**
 * Unlocks a vault from its stored material (any JSON-parsed value is accepted and validated). Throws
 * {@link VaultError}: `wrong-key` when the passphrase or host key does not unwrap the data key (detected by
 * the wrap's GCM tag) or is of the wrong kind; `bad-parameters` when the material is malformed, its scrypt
 * cost is out of bounds or below {@link MIN_SCRYPT} (without `insecureAllowWeakKdf`), or its key id does
 * not match. Runs scrypt synchronously; prefer {@link unlockVaultEffect} on a server.
 */
export const unlockVault = (
  material: VaultMaterial | unknown,
  secret: VaultSecret,
  opts?: VaultOptions,
): VaultShape => {
  try {
    const { m, s } = prepareUnlock(material, secret, opts)
    return finishUnlock(m, deriveKekSync(m.kdf, s))
  } catch (e) {
    throw asVaultError(e)
  }
}

/**
 * Validates a JSON-parsed value as {@link VaultMaterial} (shape, hex lengths, scrypt bounds, but not the
 * {@link MIN_SCRYPT} floor, which `unlockVault` enforces). Throws {@link VaultError} `bad-parameters`.
 */
export const decodeVaultMaterial = (u: unknown): VaultMaterial => {
  try {
    return checkMaterial(u)
  } catch (e) {
    throw asVaultError(e)
  }
}

/** {@link createVault} as an Effect; scrypt runs on the libuv thread pool instead of blocking the loop. */
export const createVaultEffect = (
  secret: VaultSecret,
  opts?: VaultOptions,
): Effect.Effect<CreatedVault, VaultError> =>
  Effect.try({ try: () => prepareCreate(secret, opts), catch: asVaultError }).pipe(
    Effect.flatMap(({ s, kdf }) =>
      Effect.flatMap(deriveKekAsync(kdf, s), (kek) =>
        Effect.try({ try: () => finishCreate(kdf, kek), catch: asVaultError }),
      ),
    ),
  )

/** {@link unlockVault} as an Effect; scrypt runs on the libuv thread pool instead of blocking the loop. */
export const unlockVaultEffect = (
  material: VaultMaterial | unknown,
  secret: VaultSecret,
  opts?: VaultOptions,
): Effect.Effect<VaultShape, VaultError> =>
  Effect.try({ try: () => prepareUnlock(material, secret, opts), catch: asVaultError }).pipe(
    Effect.flatMap(({ m, s }) =>
      Effect.flatMap(deriveKekAsync(m.kdf, s), (kek) =>
        Effect.try({ try: () => finishUnlock(m, kek), catch: asVaultError }),
      ),
    ),
  )

/**
 * Unlocks `material` when the store has some, otherwise creates a new vault (the caller must then persist
 * the returned material before sealing anything with it). `created` says which happened.
 */
export const unlockOrCreateVaultEffect = (
  material: VaultMaterial | unknown | undefined,
  secret: VaultSecret,
  opts?: VaultOptions,
): Effect.Effect<CreatedVault & { readonly created: boolean }, VaultError> =>
  material === undefined
    ? Effect.map(createVaultEffect(secret, opts), (c) => ({ ...c, created: true }))
    : Effect.map(unlockVaultEffect(material, secret, opts), (vault) => ({
        vault,
        material: checkMaterial(material),
        created: false,
      }))

/**
 * A layer that unlocks `material` with `secret` (scrypt off the event loop) and destroys the data key when
 * the layer's scope closes.
 */
export const vaultLayer = (
  material: VaultMaterial | unknown,
  secret: VaultSecret,
  opts?: VaultOptions,
): Layer.Layer<Vault, VaultError> =>
  Layer.effect(Vault)(
    Effect.acquireRelease(unlockVaultEffect(material, secret, opts), (v) => Effect.sync(() => v.destroy())),
  )

/** A layer around an already unlocked vault; destroys its data key when the layer's scope closes. */
export const vaultLayerFrom = (vault: VaultShape): Layer.Layer<Vault> =>
  Layer.effect(Vault)(Effect.acquireRelease(Effect.succeed(vault), (v) => Effect.sync(() => v.destroy())))
