import { createDecipheriv, randomBytes } from "node:crypto"
import { Effect, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { bytesToHex, hexToBytes, utf8 } from "../../src/crypto/bytes.js"
import {
  createVault,
  createVaultEffect,
  DEFAULT_SCRYPT,
  decodeVaultMaterial,
  MIN_SCRYPT,
  SEAL_OVERHEAD,
  SEALED_VERSION,
  unlockOrCreateVaultEffect,
  unlockVault,
  unlockVaultEffect,
  type VaultMaterial,
  vaultLayer,
  vaultLayerFrom,
} from "../../src/infra/vault.js"
import { VaultError } from "../../src/model/index.js"
import { Vault, type VaultShape } from "../../src/ports/vault.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

const TEST = INSECURE_TEST_VAULT_OPTIONS

/** Runs `f` and returns the VaultError it throws (failing the test on anything else). */
const vaultErrorOf = (f: () => unknown): VaultError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(VaultError)
    return e as VaultError
  }
  throw new Error("expected a VaultError, nothing was thrown")
}
const reasonOf = (f: () => unknown): VaultError["reason"] => vaultErrorOf(f).reason

const hostVault = () => createVault({ key: randomBytes(32) })
const json = (m: VaultMaterial): unknown => JSON.parse(JSON.stringify(m))

const flipBit = (b: Uint8Array, bit: number): Uint8Array => {
  const c = Uint8Array.from(b)
  c[bit >> 3]! ^= 1 << (bit & 7)
  return c
}

/** True when `hay` contains `needle` as a contiguous byte run. */
const containsRun = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay).indexOf(needle) !== -1

describe("seal/open", () => {
  it("round-trips any plaintext under any aad (property)", () => {
    const { vault } = hostVault()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 128 }), (pt, aad) => {
        const sealed = vault.seal(pt, aad)
        expect(sealed.length).toBe(pt.length + SEAL_OVERHEAD)
        expect(sealed[0]).toBe(SEALED_VERSION)
        expect(bytesToHex(vault.open(sealed, aad))).toBe(bytesToHex(pt))
      }),
      { numRuns: 300 },
    )
  })

  it("uses a fresh nonce per seal: the same plaintext seals differently", () => {
    const { vault } = hostVault()
    const pt = utf8("same bytes every time")
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) seen.add(bytesToHex(vault.seal(pt, new Uint8Array(0)).subarray(1, 13)))
    expect(seen.size).toBe(2000)
  })

  it("follows the documented format: 0x01 ‖ nonce ‖ AES-256-GCM(ct) ‖ tag, aad = 0x01 ‖ caller aad", () => {
    // Rebuild the data key by hand from the material (host key wraps: nonce ‖ ct ‖ tag) and decrypt with
    // plain node:crypto, so the on-disk format is pinned independently of the implementation.
    const key = randomBytes(32)
    const { vault, material } = createVault({ key })
    const w = hexToBytes(material.wrappedKey)
    const unwrap = createDecipheriv("aes-256-gcm", key, w.subarray(0, 12))
    unwrap.setAAD(utf8(`corecashu/vault/wrap/v1${JSON.stringify([1, "host-key"])}`))
    unwrap.setAuthTag(w.subarray(44))
    const dataKey = Buffer.concat([unwrap.update(w.subarray(12, 44)), unwrap.final()])

    const pt = randomBytes(300)
    const aad = utf8("wallet/abc:op-1:prepared")
    const sealed = vault.seal(pt, aad)
    const d = createDecipheriv("aes-256-gcm", dataKey, sealed.subarray(1, 13))
    d.setAAD(Buffer.concat([Uint8Array.of(1), aad]))
    d.setAuthTag(sealed.subarray(sealed.length - 16))
    const out = Buffer.concat([d.update(sealed.subarray(13, sealed.length - 16)), d.final()])
    expect(out.equals(pt)).toBe(true)
  })

  it("detects every single-bit flip in the sealed bytes and in the aad", () => {
    const { vault } = hostVault()
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 48 }),
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
        (pt, aad) => {
          const sealed = vault.seal(pt, aad)
          for (let bit = 0; bit < sealed.length * 8; bit++)
            expect(reasonOf(() => vault.open(flipBit(sealed, bit), aad))).toBe("tampered")
          for (let bit = 0; bit < aad.length * 8; bit++)
            expect(reasonOf(() => vault.open(sealed, flipBit(aad, bit)))).toBe("tampered")
          expect(bytesToHex(vault.open(sealed, aad))).toBe(bytesToHex(pt))
        },
      ),
      { numRuns: 15 },
    )
  })

  it("detects truncation, extension, a changed aad length and an unknown version byte", () => {
    const { vault } = hostVault()
    const aad = utf8("stream/event")
    const sealed = vault.seal(utf8("some payload"), aad)
    for (let n = 0; n < sealed.length; n++)
      expect(reasonOf(() => vault.open(sealed.subarray(0, n), aad))).toBe("tampered")
    expect(reasonOf(() => vault.open(Buffer.concat([sealed, Uint8Array.of(0)]), aad))).toBe("tampered")
    expect(reasonOf(() => vault.open(sealed, Buffer.concat([aad, Uint8Array.of(0)])))).toBe("tampered")
    expect(reasonOf(() => vault.open(sealed, aad.subarray(1)))).toBe("tampered")
    for (const v of [0, 2, 255]) {
      const other = Uint8Array.from(sealed)
      other[0] = v
      expect(reasonOf(() => vault.open(other, aad))).toBe("tampered")
    }
  })

  it("does not open another vault's ciphertext", () => {
    const a = hostVault().vault
    const b = hostVault().vault
    const aad = utf8("x")
    expect(reasonOf(() => b.open(a.seal(utf8("hello"), aad), aad))).toBe("tampered")
  })

  it("leaves no plaintext run in the sealed bytes (random known secrets)", () => {
    const { vault } = hostVault()
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 8 }),
        (secrets) => {
          // Secrets as a wallet would store them: raw bytes, their hex and a JSON payload holding the hex.
          const hexes = secrets.map(bytesToHex)
          const payload = utf8(JSON.stringify({ secrets: hexes, mnemonic: "abandon ".repeat(11) + "about" }))
          const sealed = vault.seal(payload, utf8("wallet/w1"))
          for (let i = 0; i < secrets.length; i++) {
            // Any 8-byte window of a secret (raw or hex) would be a hit; random collisions are ~2^-64.
            for (const needle of [secrets[i]!, utf8(hexes[i]!)])
              for (let at = 0; at + 8 <= needle.length; at += 4)
                expect(containsRun(sealed, needle.subarray(at, at + 8))).toBe(false)
          }
          expect(containsRun(sealed, utf8("abandon "))).toBe(false)
        },
      ),
      { numRuns: 100 },
    )
  })

  it("fails with missing-key after destroy, and destroy is idempotent", () => {
    const { vault } = hostVault()
    const sealed = vault.seal(utf8("p"), utf8("a"))
    vault.destroy()
    vault.destroy()
    expect(reasonOf(() => vault.seal(utf8("p"), utf8("a")))).toBe("missing-key")
    expect(reasonOf(() => vault.open(sealed, utf8("a")))).toBe("missing-key")
  })

  it("authenticates statements with a key derived from the data key, and not after destroy", () => {
    const { vault } = hostVault()
    const other = hostVault().vault
    const tag = Buffer.from(vault.authenticate(utf8("head 7")))
    expect(tag).toHaveLength(32)
    expect(Buffer.from(vault.authenticate(utf8("head 7"))).equals(tag)).toBe(true)
    expect(Buffer.from(vault.authenticate(utf8("head 8"))).equals(tag)).toBe(false)
    expect(Buffer.from(other.authenticate(utf8("head 7"))).equals(tag)).toBe(false)
    vault.destroy()
    expect(reasonOf(() => vault.authenticate(utf8("head 7")))).toBe("missing-key")
  })

  it("rejects non-byte arguments with a VaultError", () => {
    const { vault } = hostVault()
    expect(reasonOf(() => vault.seal("text" as unknown as Uint8Array, new Uint8Array(0)))).toBe(
      "bad-parameters",
    )
    expect(reasonOf(() => vault.open(new Uint8Array(40), null as unknown as Uint8Array))).toBe(
      "bad-parameters",
    )
  })

  it("exposes no key material on the vault object", () => {
    const key = randomBytes(32)
    const { vault, material } = createVault({ key })
    const shown = JSON.stringify(vault) + String(Object.keys(vault)) + JSON.stringify(material)
    expect(shown).not.toContain(bytesToHex(key))
    expect(Object.keys(vault).sort()).toEqual(["authenticate", "destroy", "group", "keyId", "open", "seal"])
  })
})

describe("material and unlocking", () => {
  it("survives a JSON round trip and reopens earlier ciphertexts (passphrase and host key)", () => {
    const key = randomBytes(32)
    for (const [secret, opts] of [
      [{ passphrase: "correct horse battery staple" }, TEST],
      [{ key }, undefined],
    ] as const) {
      const { vault, material } = createVault(secret, opts)
      const aad = utf8("wallet/1:e1")
      const sealed = vault.seal(utf8("bearer token secret"), aad)
      const again = unlockVault(json(material), secret, opts)
      expect(again.keyId).toBe(material.keyId)
      expect(decodeVaultMaterial(json(material))).toEqual(material)
      expect(Buffer.from(again.open(sealed, aad)).toString("utf8")).toBe("bearer token secret")
      expect(Buffer.from(vault.open(again.seal(utf8("back"), aad), aad)).toString("utf8")).toBe("back")
    }
  })

  it("reports a wrong passphrase as wrong-key (property)", () => {
    const { material } = createVault({ passphrase: "the right one" }, TEST)
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.normalize("NFKC") !== "the right one"),
        (p) => {
          expect(reasonOf(() => unlockVault(material, { passphrase: p }, TEST))).toBe("wrong-key")
        },
      ),
      { numRuns: 50 },
    )
  })

  it("reports a wrong host key, and a secret of the wrong kind, as wrong-key", () => {
    const key = randomBytes(32)
    const { material } = createVault({ key })
    for (let byte = 0; byte < 32; byte += 7) {
      const wrong = Buffer.from(key)
      wrong[byte]! ^= 0x01
      expect(reasonOf(() => unlockVault(material, { key: wrong }))).toBe("wrong-key")
    }
    expect(reasonOf(() => unlockVault(material, { passphrase: bytesToHex(key) }))).toBe("wrong-key")
    const pw = createVault({ passphrase: "pw" }, TEST).material
    expect(reasonOf(() => unlockVault(pw, { key }, TEST))).toBe("wrong-key")
  })

  it("never puts the passphrase or key into error messages", () => {
    const passphrase = `pw-${bytesToHex(randomBytes(16))}`
    const key = randomBytes(32)
    const { material } = createVault({ passphrase }, TEST)
    const host = createVault({ key }).material
    const errors = [
      vaultErrorOf(() => unlockVault(material, { passphrase: `${passphrase}x` }, TEST)),
      vaultErrorOf(() => unlockVault(material, { passphrase })),
      vaultErrorOf(() => unlockVault(host, { key: randomBytes(32) })),
      vaultErrorOf(() => unlockVault(host, { passphrase })),
      vaultErrorOf(() => createVault({ key: key.subarray(0, 31) })),
    ]
    for (const e of errors) {
      const text = `${e.message} ${String(e)} ${JSON.stringify(e)}`
      expect(text).not.toContain(passphrase)
      expect(text).not.toContain(bytesToHex(key))
      expect(text).not.toContain(bytesToHex(key.subarray(0, 31)))
    }
  })

  it("does not modify the caller's key or passphrase bytes", () => {
    const key = randomBytes(32)
    const keyCopy = Buffer.from(key)
    const pass = utf8("passphrase as bytes")
    const passCopy = Uint8Array.from(pass)
    unlockVault(createVault({ key }).material, { key })
    unlockVault(createVault({ passphrase: pass }, TEST).material, { passphrase: pass }, TEST)
    expect(key.equals(keyCopy)).toBe(true)
    expect(bytesToHex(pass)).toBe(bytesToHex(passCopy))
  })

  it("NFKC-normalises string passphrases (composed and decomposed é unlock the same vault)", () => {
    const { material } = createVault({ passphrase: "caf\u00e9" }, TEST)
    expect(unlockVault(material, { passphrase: "cafe\u0301" }, TEST).keyId).toBe(material.keyId)
  })

  it("gives the same passphrase a different salt and data key in every vault", () => {
    const a = createVault({ passphrase: "same" }, TEST)
    const b = createVault({ passphrase: "same" }, TEST)
    expect(a.material.kdf.name === "scrypt" && b.material.kdf.name === "scrypt").toBe(true)
    if (a.material.kdf.name !== "scrypt" || b.material.kdf.name !== "scrypt") return
    expect(a.material.kdf.salt).not.toBe(b.material.kdf.salt)
    expect(a.material.keyId).not.toBe(b.material.keyId)
    const aad = utf8("x")
    expect(reasonOf(() => b.vault.open(a.vault.seal(utf8("m"), aad), aad))).toBe("tampered")
    // Swapping wrapped keys between the two is caught too: the wrap is bound to its own salt.
    expect(
      reasonOf(() =>
        unlockVault({ ...a.material, wrappedKey: b.material.wrappedKey }, { passphrase: "same" }, TEST),
      ),
    ).toBe("wrong-key")
  })

  it("rejects malformed material with bad-parameters", () => {
    const good = createVault({ passphrase: "pw" }, TEST).material
    const hostKey = randomBytes(32)
    const host = createVault({ key: hostKey }).material
    const kdf = good.kdf as Extract<VaultMaterial["kdf"], { name: "scrypt" }>
    const bad: unknown[] = [
      null,
      "material",
      42,
      {},
      { ...good, version: 2 },
      { ...good, version: "1" },
      { ...good, wrappedKey: good.wrappedKey.slice(2) },
      { ...good, wrappedKey: `${good.wrappedKey.slice(0, -1)}g` },
      { ...good, wrappedKey: undefined },
      { ...good, keyId: good.keyId.slice(2) },
      { ...good, keyId: 7 },
      { ...good, kdf: undefined },
      { ...good, kdf: { name: "argon2id" } },
      { ...good, kdf: { ...kdf, salt: "00" } },
      { ...good, kdf: { ...kdf, salt: "zz".repeat(32) } },
      { ...good, kdf: { ...kdf, N: 1000 } },
      { ...good, kdf: { ...kdf, N: 1 } },
      { ...good, kdf: { ...kdf, N: 2 ** 21 } },
      { ...good, kdf: { ...kdf, N: "16" } },
      { ...good, kdf: { ...kdf, r: 0 } },
      { ...good, kdf: { ...kdf, r: 1.5 } },
      { ...good, kdf: { ...kdf, p: 17 } },
      { ...good, kdf: { ...kdf, N: 2 ** 20, r: 16 } }, // 2 GiB of memory
      // Under the memory bound, but 16 passes over 1 GiB (minutes to open): bounded by N·r·p ≤ 2^23.
      { ...good, kdf: { ...kdf, N: 2 ** 20, r: 8, p: 16 } },
      { ...good, kdf: { ...kdf, N: 2 ** 18, r: 8, p: 5 } },
    ]
    for (const m of bad) {
      expect(reasonOf(() => decodeVaultMaterial(m))).toBe("bad-parameters")
      expect(reasonOf(() => unlockVault(m, { passphrase: "pw" }, TEST))).toBe("bad-parameters")
    }
    // A wrong keyId with an otherwise good wrap: the record is inconsistent, not the secret wrong.
    const otherId = bytesToHex(randomBytes(16))
    expect(reasonOf(() => unlockVault({ ...good, keyId: otherId }, { passphrase: "pw" }, TEST))).toBe(
      "bad-parameters",
    )
    expect(reasonOf(() => unlockVault({ ...host, keyId: otherId }, { key: hostKey }))).toBe("bad-parameters")
  })

  it("rejects malformed secrets with bad-parameters", () => {
    const cases: unknown[] = [
      undefined,
      {},
      { passphrase: "" },
      { passphrase: new Uint8Array(0) },
      { passphrase: 5 },
      { key: randomBytes(31) },
      { key: randomBytes(33) },
      { key: "00".repeat(32) },
      { passphrase: "pw", key: randomBytes(32) },
    ]
    for (const s of cases) expect(reasonOf(() => createVault(s as never, TEST))).toBe("bad-parameters")
  })
})

describe("scrypt cost", () => {
  it("rejects parameters below the floor unless the insecure test option is set", () => {
    const weak = [
      { N: 2 ** 13, r: 8, p: 1 },
      { N: 2 ** 16, r: 4, p: 1 },
      { N: 16, r: 1, p: 1 },
    ]
    for (const scrypt of weak) {
      expect(reasonOf(() => createVault({ passphrase: "pw" }, { scrypt }))).toBe("bad-parameters")
      const { material } = createVault({ passphrase: "pw" }, { scrypt, insecureAllowWeakKdf: true })
      // Weak material read from disk is refused too, before any scrypt work.
      expect(reasonOf(() => unlockVault(material, { passphrase: "pw" }))).toBe("bad-parameters")
      expect(unlockVault(material, { passphrase: "pw" }, { insecureAllowWeakKdf: true }).keyId).toBe(
        material.keyId,
      )
    }
  })

  it("accepts the floor itself and defaults to at least the floor", () => {
    expect(DEFAULT_SCRYPT.N).toBeGreaterThanOrEqual(2 ** 15)
    expect(DEFAULT_SCRYPT.r).toBeGreaterThanOrEqual(8)
    const { material } = createVault({ passphrase: "pw" }, { scrypt: MIN_SCRYPT })
    expect(material.kdf).toMatchObject({ name: "scrypt", N: 2 ** 14, r: 8, p: 1 })
    expect(unlockVault(material, { passphrase: "pw" }).keyId).toBe(material.keyId)
  })

  it("uses the default cost when none is given (async create, sync unlock)", async () => {
    const { material } = await Effect.runPromise(createVaultEffect({ passphrase: "default cost" }))
    expect(material.kdf).toMatchObject({ name: "scrypt", ...DEFAULT_SCRYPT })
    expect(unlockVault(material, { passphrase: "default cost" }).keyId).toBe(material.keyId)
  })
})

describe("Effect API", () => {
  it("unlocks through unlockVaultEffect and fails with a typed error on a wrong passphrase", async () => {
    const { vault, material } = createVault({ passphrase: "pw" }, TEST)
    const aad = utf8("a")
    const sealed = vault.seal(utf8("payload"), aad)
    const v = await Effect.runPromise(unlockVaultEffect(json(material), { passphrase: "pw" }, TEST))
    expect(Buffer.from(v.open(sealed, aad)).toString()).toBe("payload")
    const err = await Effect.runPromise(
      Effect.flip(unlockVaultEffect(material, { passphrase: "nope" }, TEST)),
    )
    expect(err.reason).toBe("wrong-key")
    const bad = await Effect.runPromise(
      Effect.flip(unlockVaultEffect({ version: 9 }, { passphrase: "pw" }, TEST)),
    )
    expect(bad.reason).toBe("bad-parameters")
  })

  it("unlockOrCreateVaultEffect creates without material and unlocks with it", async () => {
    const first = await Effect.runPromise(unlockOrCreateVaultEffect(undefined, { passphrase: "pw" }, TEST))
    expect(first.created).toBe(true)
    const second = await Effect.runPromise(
      unlockOrCreateVaultEffect(json(first.material), { passphrase: "pw" }, TEST),
    )
    expect(second.created).toBe(false)
    expect(second.material).toEqual(first.material)
    expect(second.vault.keyId).toBe(first.vault.keyId)
  })

  it("vaultLayer provides the Vault service and destroys the key when its scope closes", async () => {
    const { vault, material } = createVault({ passphrase: "pw" }, TEST)
    const aad = utf8("a")
    const sealed = vault.seal(utf8("via layer"), aad)
    let captured: VaultShape | undefined
    const program = Effect.gen(function* () {
      const v = yield* Vault
      captured = v
      return Buffer.from(v.open(sealed, aad)).toString()
    })
    expect(
      await Effect.runPromise(Effect.provide(program, vaultLayer(material, { passphrase: "pw" }, TEST))),
    ).toBe("via layer")
    expect(reasonOf(() => captured?.open(sealed, aad))).toBe("missing-key")
    const failed = await Effect.runPromise(
      Effect.flip(Effect.provide(program, vaultLayer(material, { passphrase: "wrong" }, TEST))),
    )
    expect(failed).toBeInstanceOf(VaultError)
    expect(failed.reason).toBe("wrong-key")
  })

  it("vaultLayerFrom wraps an unlocked vault", async () => {
    const { vault } = hostVault()
    const aad = utf8("a")
    const out = await Effect.runPromise(
      Effect.provide(
        Effect.gen(function* () {
          const v = yield* Vault
          return v.open(v.seal(utf8("hi"), aad), aad)
        }),
        Layer.fresh(vaultLayerFrom(vault)),
      ),
    )
    expect(Buffer.from(out).toString()).toBe("hi")
    expect(reasonOf(() => vault.seal(utf8("x"), aad))).toBe("missing-key")
  })
})

describe("group seal/open (format 2)", () => {
  const { vault } = hostVault()
  const aadOf = (label: string) => utf8(`group-aad:${label}`)
  const membersArb = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 2, maxLength: 6 })

  it("round-trips any members under one aad, with the documented member layout (property)", () => {
    fc.assert(
      fc.property(membersArb, fc.string(), (plains, label) => {
        const sealed = vault.group.seal(plains, aadOf(label))
        expect(sealed).toHaveLength(plains.length)
        sealed.forEach((s, i) => {
          expect(s[0]).toBe(2)
          expect(vault.group.positionOf(s)).toEqual({ index: i, count: plains.length })
          expect(s.length).toBe(plains[i]!.length + (i === 0 ? 37 : 9))
          // A member is not a version-1 payload: it never opens alone.
          expect(reasonOf(() => vault.open(s, aadOf(label)))).toBe("tampered")
        })
        const opened = vault.group.open(sealed, aadOf(label))
        expect(opened.map((p) => Buffer.from(p).toString("hex"))).toEqual(
          plains.map((p) => Buffer.from(p).toString("hex")),
        )
      }),
      { numRuns: 60 },
    )
  })

  it("is one AES-256-GCM over the joined members, aad = 0x02 ‖ n ‖ lengths ‖ caller aad", () => {
    const { vault: v, material } = createVault({ key: new Uint8Array(32).fill(9) })
    const plains = [utf8("first"), utf8("second!")]
    const aad = aadOf("doc")
    const [a, b] = v.group.seal(plains, aad) as [Uint8Array, Uint8Array]
    // Unwrap the data key the way the vault does, to decrypt independently.
    const wrapped = hexToBytes(material.wrappedKey)
    const kek = createDecipheriv("aes-256-gcm", new Uint8Array(32).fill(9), wrapped.subarray(0, 12))
    kek.setAAD(utf8(`corecashu/vault/wrap/v1${JSON.stringify([1, "host-key"])}`))
    kek.setAuthTag(wrapped.subarray(44))
    const dataKey = kek.update(wrapped.subarray(12, 44))
    kek.final()
    const d = createDecipheriv("aes-256-gcm", dataKey, a.subarray(9, 21))
    const gaad = Buffer.alloc(5 + 8)
    gaad[0] = 2
    gaad.writeUInt32BE(2, 1)
    gaad.writeUInt32BE(5, 5)
    gaad.writeUInt32BE(7, 9)
    d.setAAD(Buffer.concat([gaad, aad]))
    d.setAuthTag(a.subarray(21, 37))
    const plain = Buffer.concat([d.update(Buffer.concat([a.subarray(37), b.subarray(9)])), d.final()])
    expect(plain.toString()).toBe("firstsecond!")
  })

  it("fails the whole group on any changed bit, a changed aad, or a dropped, swapped or foreign member", () => {
    const plains = [utf8("alpha"), utf8("beta"), utf8("gamma")]
    const aad = aadOf("x")
    const sealed = vault.group.seal(plains, aad)
    for (let m = 0; m < sealed.length; m++)
      for (let bit = 0; bit < sealed[m]!.length * 8; bit += 3) {
        const copy = sealed.slice()
        copy[m] = flipBit(sealed[m]!, bit)
        expect(reasonOf(() => vault.group.open(copy, aad))).toBe("tampered")
      }
    expect(reasonOf(() => vault.group.open(sealed, aadOf("y")))).toBe("tampered")
    expect(reasonOf(() => vault.group.open(sealed.slice(0, 2), aad))).toBe("tampered")
    expect(reasonOf(() => vault.group.open([sealed[0]!, sealed[2]!, sealed[1]!], aad))).toBe("tampered")
    const other = vault.group.seal(plains, aad)
    expect(reasonOf(() => vault.group.open([sealed[0]!, other[1]!, sealed[2]!], aad))).toBe("tampered")
    // Moving bytes from one member to the next keeps the joined ciphertext but not the lengths.
    const moved = [
      sealed[0]!.subarray(0, sealed[0]!.length - 1),
      Buffer.concat([
        Buffer.from(sealed[1]!.subarray(0, 9)),
        sealed[0]!.subarray(-1),
        sealed[1]!.subarray(9),
      ]),
      sealed[2]!,
    ]
    expect(reasonOf(() => vault.group.open(moved, aad))).toBe("tampered")
    expect(vault.group.positionOf(utf8("{}"))).toBeUndefined()
    expect(vault.group.positionOf(vault.seal(utf8("one"), aad))).toBeUndefined()
  })

  it("refuses groups of fewer than two, non-byte arguments, and use after destroy", () => {
    const { vault: v } = hostVault()
    expect(reasonOf(() => v.group.seal([utf8("a")], aadOf("a")))).toBe("bad-parameters")
    expect(reasonOf(() => v.group.seal([utf8("a"), "b" as unknown as Uint8Array], aadOf("a")))).toBe(
      "bad-parameters",
    )
    const sealed = v.group.seal([utf8("a"), utf8("b")], aadOf("a"))
    v.destroy()
    expect(reasonOf(() => v.group.seal([utf8("a"), utf8("b")], aadOf("a")))).toBe("missing-key")
    expect(reasonOf(() => v.group.open(sealed, aadOf("a")))).toBe("missing-key")
  })
})
