/**
 * Secrets never leave the engine except through the one call made to export them (`wallet.mnemonic()`): no
 * property of an opened `Engine`, of its `Wallet`s or of their `.effect` objects — own or inherited,
 * enumerable or not, string- or symbol-keyed, getters included, followed as deep as it goes — leads to the
 * event store (whose `WalletCreated` events hold mnemonics), a wallet's runtime, its services, its seed or its
 * mnemonic; and neither `JSON.stringify` nor `util.inspect` of them shows one. The internals stay reachable
 * for the project's own code through `src/engine/internal.ts`, which the package does not export.
 */
import { inspect } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { engineServices, engineStore, walletRuntime, withHooks } from "../../src/engine/internal.js"
import { walletPrivateKey } from "../../src/engine/keys.js"
import * as Entry from "../../src/index.js"
import { type Engine, InvalidArgument, type Wallet } from "../../src/index.js"
import { fund, openTestEngine, testMint } from "../support/engine.js"

const mint = testMint("surface")
let engine: Engine
let alice: Wallet
let bob: Wallet

beforeAll(async () => {
  engine = await openTestEngine([mint])
  alice = await engine.createWallet({ walletId: "alice" })
  bob = await engine.createWallet({ walletId: "bob", label: "Bob" })
  await alice.addMint(mint.baseUrl)
  await fund(alice, mint, 32n)
  const { token } = await alice.send({ mintUrl: mint.baseUrl, amount: 5n })
  await bob.receive(token, { trustMint: true })
})
afterAll(async () => {
  await engine.close()
})

/** A path from a root to what it must not reach. */
interface Leak {
  readonly path: string
  readonly what: string
}

/**
 * Follows every property of `roots` (own and inherited up to `Object.prototype` / `Function.prototype`, every
 * key kind, getters read on the object itself) without calling any method, and reports each path that
 * reaches one of `forbidden` (by identity) or a string or bytes holding one of `secrets`.
 */
const leaks = (
  roots: Readonly<Record<string, unknown>>,
  forbidden: ReadonlyMap<unknown, string>,
  secrets: ReadonlyArray<readonly [string, string]>,
): { leaks: Leak[]; visited: number } => {
  const found: Leak[] = []
  const seen = new Set<unknown>()
  const stop = new Set<unknown>([Object.prototype, Function.prototype])
  const visit = (v: unknown, path: string): void => {
    const what = forbidden.get(v)
    if (what !== undefined) found.push({ path, what })
    if (typeof v === "string") {
      for (const [name, secret] of secrets) if (v.includes(secret)) found.push({ path, what: name })
      return
    }
    if (v instanceof Uint8Array) {
      const hex = bytesToHex(v)
      for (const [name, secret] of secrets) if (hex.includes(secret)) found.push({ path, what: name })
      return
    }
    if ((typeof v !== "object" && typeof v !== "function") || v === null || seen.has(v)) return
    seen.add(v)
    for (let o: object | null = v; o !== null && !stop.has(o); o = Object.getPrototypeOf(o)) {
      for (const key of Reflect.ownKeys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, key)
        if (d === undefined) continue
        let value: unknown
        if ("value" in d) value = d.value
        else if (d.get !== undefined) {
          try {
            value = Reflect.get(o, key, v)
          } catch {
            continue
          }
        } else continue
        visit(value, `${path}.${String(key)}`)
      }
    }
  }
  for (const [name, root] of Object.entries(roots)) visit(root, name)
  return { leaks: found, visited: seen.size }
}

/** What must stay inside: the store, runtimes, services, seeds, mnemonics, private keys. */
const secretsOf = (wallets: ReadonlyArray<Wallet>) => {
  const forbidden = new Map<unknown, string>()
  const store = engineStore(engine)
  const services = engineServices(engine)
  forbidden.set(store, "the event store")
  forbidden.set(services, "the engine's services")
  forbidden.set(services.runner, "the projection runner")
  forbidden.set(services.mint, "the mint client")
  const secrets: Array<readonly [string, string]> = []
  for (const w of wallets) {
    const rt = walletRuntime(w)
    forbidden.set(rt, `${w.id}'s runtime`)
    forbidden.set(rt.seed, `${w.id}'s seed`)
    secrets.push([`${w.id}'s mnemonic`, w.mnemonic()])
    secrets.push([`${w.id}'s seed (hex)`, bytesToHex(rt.seed)])
    secrets.push([`${w.id}'s private key`, walletPrivateKey(rt.seed)])
  }
  return { forbidden, secrets }
}

describe("no path from the public objects to a secret", () => {
  it("the walk finds the store, runtimes, seeds and mnemonics unreachable", () => {
    const wallets = [alice, bob]
    const { forbidden, secrets } = secretsOf(wallets)
    const roots = {
      engine,
      Engine: Entry.Engine,
      alice,
      "alice.effect": alice.effect,
      bob,
      "bob.effect": bob.effect,
      "engine.wallet('alice')": engine.wallet("alice"),
    }
    const { leaks: found, visited } = leaks(roots, forbidden, secrets)
    expect(found).toEqual([])
    // The walk did walk: the classes, their prototypes, every method and the effect objects.
    expect(visited).toBeGreaterThan(40)
  })

  it("the walk would have found the old holes (it is not blind)", () => {
    const { forbidden, secrets } = secretsOf([alice])
    const leaky = { store: engineStore(engine), wallet: { runtime: walletRuntime(alice) } }
    const { leaks: found } = leaks({ leaky }, forbidden, secrets)
    expect(found.map((l) => l.what)).toEqual(
      expect.arrayContaining(["the event store", "alice's runtime", "alice's seed"]),
    )
    expect(leaks({ s: `x${alice.mnemonic()}` }, forbidden, secrets).leaks).toHaveLength(1)
  })

  it("no store, runtime, services or hooks property, and no raw subscribe()", () => {
    const e = engine as unknown as Record<string, unknown>
    const w = alice as unknown as Record<string, unknown>
    for (const key of ["store", "services", "scope", "wallets", "hooks", "subscribe", "readAll"])
      expect(e[key], `engine.${key}`).toBeUndefined()
    for (const key of ["runtime", "rt", "seed", "privateKey", "services", "auditLog"])
      expect(w[key], `wallet.${key}`).toBeUndefined()
    const names = new Set<string>()
    for (const root of [engine, alice, alice.effect])
      for (let o: object | null = root; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o))
        for (const k of Reflect.ownKeys(o)) names.add(String(k))
    const internal = ["store", "runtime", "services", "seed", "subscribe", "hooks", "scope", "privateKey"]
    expect([...names].filter((n) => internal.includes(n))).toEqual([])
    expect("withHooks" in Entry).toBe(false)
    expect("engineStore" in Entry).toBe(false)
    expect("walletRuntime" in Entry).toBe(false)
  })

  it("JSON.stringify and util.inspect show no secret", () => {
    const { secrets } = secretsOf([alice, bob])
    for (const [name, root] of Object.entries({ engine, alice, bob, effect: alice.effect })) {
      const shown = [
        JSON.stringify(root) ?? "",
        inspect(root, { showHidden: true, depth: Number.POSITIVE_INFINITY, getters: true }),
        String(root),
      ]
      for (const text of shown)
        for (const [what, secret] of secrets)
          expect(text.includes(secret), `${name} shows ${what}`).toBe(false)
    }
    expect(JSON.parse(JSON.stringify(engine))).toEqual({})
  })

  it("the wallet's own export still works: mnemonic() is the one way out", () => {
    expect(alice.mnemonic().split(" ")).toHaveLength(12)
    expect(alice.mnemonic()).not.toBe(bob.mnemonic())
  })

  it("effect objects are frozen: no method can be swapped for one that leaks", () => {
    expect(Object.isFrozen(alice.effect)).toBe(true)
    expect(() => {
      ;(alice.effect as unknown as Record<string, unknown>).send = () => undefined
    }).toThrow(TypeError)
  })

  it("Engine.open refuses a hooks option: test hooks go through internal.ts's withHooks only", async () => {
    const e = await Entry.Engine.open({
      dataDir: "/nonexistent/x",
      passphrase: "p",
      hooks: {},
    } as never).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(InvalidArgument)
    expect((e as InvalidArgument).argument).toBe("options")
  })

  it("withHooks still reaches the engine, also through a helper that spreads the options", async () => {
    const seen: string[] = []
    const hooked = await openTestEngine(
      [mint],
      withHooks({}, { afterAppend: (walletId, events) => seen.push(`${walletId}:${events.length}`) }),
    )
    try {
      await hooked.createWallet({ walletId: "carol" })
      await hooked.wallet("carol").addMint(mint.baseUrl)
      expect(seen.length).toBeGreaterThan(0)
      expect(seen.every((s) => s.startsWith("carol:"))).toBe(true)
      expect(engineServices(hooked).hooks).toBeDefined()
    } finally {
      await hooked.close()
    }
    expect(engineServices(engine).hooks).toBeUndefined()
  })
})
