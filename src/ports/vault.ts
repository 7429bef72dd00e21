/**
 * The vault port: what the rest of the engine needs from an unlocked vault (seal, open, authenticate), as a
 * service key. The implementation (scrypt, AES-GCM, the material format) is `../infra/vault.ts`.
 *
 * @module
 */
import { Context } from "effect"
import type { GroupSealing } from "../events/sealer.js"

/** An unlocked vault: seals and opens payloads under its data key. */
export interface VaultShape {
  /** The data key's public fingerprint (same as `VaultMaterial.keyId` in `../infra/vault.ts`). */
  readonly keyId: string
  /**
   * Encrypts and authenticates `plaintext`, binding it to `aad` (authenticated, not stored). Returns a new
   * buffer of `plaintext.length + SEAL_OVERHEAD` bytes. Throws {@link VaultError} `missing-key` after
   * `destroy`.
   */
  readonly seal: (plaintext: Uint8Array, aad: Uint8Array) => Uint8Array
  /**
   * Decrypts `sealed` under the same `aad`. Throws {@link VaultError} `tampered` when any sealed byte or the
   * aad differs from what `seal` saw (including truncation and an unknown version), `missing-key` after
   * `destroy`.
   */
  readonly open: (sealed: Uint8Array, aad: Uint8Array) => Uint8Array
  /** Zero-fills the data key; later `seal`/`open` fail with `missing-key`. Idempotent. */
  readonly destroy: () => void
  /**
   * An HMAC-SHA256 tag of `data` under a key derived from the data key (never the data key itself): how the
   * holder of the vault signs statements about its log, e.g. head attestations kept outside the directory.
   */
  readonly authenticate: (data: Uint8Array) => Uint8Array
  /** Sealing of several payloads as one group (format version 2); see {@link GroupSealing}. */
  readonly group: GroupSealing
}

/** The `Vault` service key: an unlocked {@link VaultShape}. */
export class Vault extends Context.Service<Vault, VaultShape>()("corecashu/Vault") {}
