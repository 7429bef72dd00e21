/**
 * The sealing arithmetic of the vault's payload formats (see `vault.ts`: single = version 1, group =
 * version 2), as ONE self-contained factory, so that the very same code seals on the calling thread (the
 * vault) and in the sealing worker (`seal-worker.ts` builds the worker's source from
 * `makeSealKernel.toString()`).
 *
 * Self-contained is a hard rule here: the factory's body may use only its parameters and globals present in
 * every Node thread (`Buffer`, `Uint8Array`), never a binding of this module or an import — a worker built
 * from its source has nothing else. A test seals in a worker and opens with the vault to keep both equal.
 *
 * @module
 */
import type { CipherGCMOptions, CipherGCMTypes, CipherKey, createCipheriv, randomFillSync } from "node:crypto"

/** What the kernel needs from `node:crypto` (passed in, so the factory stays self-contained). */
export interface SealKernelDeps {
  readonly createCipheriv: typeof createCipheriv
  readonly randomFillSync: typeof randomFillSync
}

/** The sealing half of the vault's formats; keys are passed per call (the kernel holds none). */
export interface SealKernel {
  /** Version 1: `0x01 ‖ nonce ‖ ciphertext ‖ tag`, aad `0x01 ‖ aad`. */
  readonly seal: (key: CipherKey, plaintext: Uint8Array, aad: Uint8Array) => Buffer
  /** Version 2: n ≥ 2 members sealed by one GCM operation (views of one buffer, in order). */
  readonly sealGroup: (key: CipherKey, plaintexts: ReadonlyArray<Uint8Array>, aad: Uint8Array) => Buffer[]
  /** The group's additional data: `0x02 ‖ u32be n ‖ u32be len(member) … ‖ aad` (opening needs it too). */
  readonly groupAad: (lengths: ReadonlyArray<number>, aad: Uint8Array) => Buffer
  /** Stored size of a single seal / of a group of members of these plaintext lengths. */
  readonly sealedSize: (lengths: ReadonlyArray<number>) => number
  /** The format constants, for the vault's exports and tests. */
  readonly constants: {
    readonly SEALED_VERSION: 1
    readonly SEALED_GROUP_VERSION: 2
    readonly NONCE_BYTES: 12
    readonly TAG_BYTES: 16
    readonly SEAL_OVERHEAD: 29
    readonly GROUP_FIRST_OVERHEAD: 37
    readonly GROUP_MEMBER_OVERHEAD: 9
    readonly MAX_GROUP_BYTES: number
  }
}

/** Builds a kernel. Self-contained: see the module comment before adding anything to this body. */
export function makeSealKernel(deps: SealKernelDeps): SealKernel {
  const SEALED_VERSION = 1 as const
  const SEALED_GROUP_VERSION = 2 as const
  const NONCE_BYTES = 12 as const
  const TAG_BYTES = 16 as const
  const HEADER_BYTES = 1 + NONCE_BYTES
  const SEAL_OVERHEAD = 29 as const
  const GROUP_FIRST_OVERHEAD = 37 as const
  const GROUP_MEMBER_OVERHEAD = 9 as const
  // A GCM message under a 96-bit nonce may hold at most 2^32 − 2 blocks; stay far below.
  const MAX_GROUP_BYTES = 2 ** 34
  const CIPHER: CipherGCMTypes = "aes-256-gcm"
  // Pinning the tag length makes node reject shorter tags instead of accepting truncated ones.
  const GCM_OPTIONS: CipherGCMOptions = { authTagLength: TAG_BYTES }
  const VERSION_AAD = Uint8Array.of(SEALED_VERSION)

  // Random nonces come from a pooled CSPRNG buffer: one `randomFillSync` call costs about as much as a whole
  // seal, so 4 KiB are drawn at a time and each 12-byte slice is handed out exactly once. Nonces are public.
  const noncePool = Buffer.allocUnsafeSlow(NONCE_BYTES * 341)
  let noncePos = noncePool.length
  const writeNonce = (into: Buffer, at: number): void => {
    if (noncePos + NONCE_BYTES > noncePool.length) {
      deps.randomFillSync(noncePool)
      noncePos = 0
    }
    noncePool.copy(into, at, noncePos, noncePos + NONCE_BYTES)
    noncePos += NONCE_BYTES
  }

  const groupAad = (lengths: ReadonlyArray<number>, aad: Uint8Array): Buffer => {
    const n = lengths.length
    const b = Buffer.allocUnsafe(5 + 4 * n + aad.length)
    b[0] = SEALED_GROUP_VERSION
    b.writeUInt32BE(n, 1)
    for (let i = 0; i < n; i++) b.writeUInt32BE(lengths[i]!, 5 + 4 * i)
    b.set(aad, 5 + 4 * n)
    return b
  }

  const seal = (key: CipherKey, plaintext: Uint8Array, aad: Uint8Array): Buffer => {
    // Pooled allocation: a dedicated ArrayBuffer per seal (and its GC tracking) cost ~25 % of a seal. The
    // output holds only public bytes (version, nonce, ciphertext, tag).
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + plaintext.length)
    out[0] = SEALED_VERSION
    writeNonce(out, 1)
    const c = deps.createCipheriv(CIPHER, key, out.subarray(1, HEADER_BYTES), GCM_OPTIONS)
    c.setAAD(VERSION_AAD)
    c.setAAD(aad)
    const ct = c.update(plaintext)
    c.final()
    out.set(ct, HEADER_BYTES)
    out.set(c.getAuthTag(), HEADER_BYTES + plaintext.length)
    return out
  }

  const sealGroup = (key: CipherKey, plaintexts: ReadonlyArray<Uint8Array>, aad: Uint8Array): Buffer[] => {
    const n = plaintexts.length
    const lengths: number[] = new Array(n)
    let total = 0
    for (let i = 0; i < n; i++) {
      lengths[i] = plaintexts[i]!.length
      total += lengths[i]!
    }
    const out = Buffer.allocUnsafe(total + GROUP_FIRST_OVERHEAD + (n - 1) * GROUP_MEMBER_OVERHEAD)
    const joined = Buffer.allocUnsafe(total)
    let at = 0
    for (let i = 0; i < n; i++) {
      joined.set(plaintexts[i]!, at)
      at += lengths[i]!
    }
    writeNonce(out, GROUP_MEMBER_OVERHEAD)
    const nonce = out.subarray(GROUP_MEMBER_OVERHEAD, GROUP_MEMBER_OVERHEAD + NONCE_BYTES)
    const c = deps.createCipheriv(CIPHER, key, nonce, GCM_OPTIONS)
    c.setAAD(groupAad(lengths, aad))
    const ct = c.update(joined)
    c.final()
    // The joined plaintext is ours: wipe it rather than leave it in the pool.
    joined.fill(0)
    out.set(c.getAuthTag(), GROUP_MEMBER_OVERHEAD + NONCE_BYTES)
    const members: Buffer[] = new Array(n)
    let o = 0
    let from = 0
    for (let i = 0; i < n; i++) {
      const len = lengths[i]!
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

  const sealedSize = (lengths: ReadonlyArray<number>): number => {
    let total = 0
    for (const len of lengths) total += len
    return lengths.length === 1
      ? total + SEAL_OVERHEAD
      : total + GROUP_FIRST_OVERHEAD + (lengths.length - 1) * GROUP_MEMBER_OVERHEAD
  }

  return {
    seal,
    sealGroup,
    groupAad,
    sealedSize,
    constants: {
      SEALED_VERSION,
      SEALED_GROUP_VERSION,
      NONCE_BYTES,
      TAG_BYTES,
      SEAL_OVERHEAD,
      GROUP_FIRST_OVERHEAD,
      GROUP_MEMBER_OVERHEAD,
      MAX_GROUP_BYTES,
    },
  }
}
