/**
 * The public API called as a plain-JavaScript user would: wrong types (a number for a bigint, a string, null,
 * undefined, an array, an object), negative, zero and huge amounts, malformed URLs, units and ids, misspelt
 * options. Every such call fails with `InvalidArgument` naming the argument, never echoes the value, and
 * starts nothing: the log's head does not move.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { engineStore } from "../../src/engine/internal.js"
import { Engine, InvalidArgument, isCorecashuError, type Wallet } from "../../src/index.js"
import { freshDir, fund, openTestEngine, testMint } from "../support/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"

// biome-ignore lint/suspicious/noExplicitAny: the point is to call the API with what its types forbid.
type Loose = any

let engine: Engine
let alice: Wallet
let token: string
let quoteId: string
const mint = testMint("arguments")
const url = mint.baseUrl

beforeAll(async () => {
  engine = await openTestEngine([mint])
  alice = await engine.createWallet({ walletId: "alice" })
  await alice.addMint(url)
  await fund(alice, mint, 64n)
  token = (await alice.send({ mintUrl: url, amount: 5n })).token
  quoteId = (await alice.mintQuote({ mintUrl: url, amount: 8n })).operationId
})
afterAll(async () => {
  await engine.close()
})

const head = (): Promise<number> => Effect.runPromise(engineStore(engine).head)

/** What `run` failed with (it must fail). */
const failure = async (run: () => unknown): Promise<unknown> => {
  try {
    await run()
  } catch (e) {
    return e
  }
  throw new Error("the call did not fail")
}

/** Asserts `run` fails with InvalidArgument on `argument`, a tagged error the guard knows. */
const expectInvalid = async (run: () => unknown, argument: string): Promise<InvalidArgument> => {
  const e = await failure(run)
  expect(e, `${argument}: ${String(e)}`).toBeInstanceOf(InvalidArgument)
  const err = e as InvalidArgument
  expect(err._tag).toBe("InvalidArgument")
  expect(err.argument).toBe(argument)
  expect(isCorecashuError(err)).toBe(true)
  return err
}

/** Wrong values for a required bigint amount. */
const BAD_AMOUNTS: ReadonlyArray<unknown> = [
  5,
  5.5,
  Number.NaN,
  "5",
  null,
  undefined,
  {},
  [5n],
  true,
  -1n,
  0n,
  2n ** 64n,
]
/** Wrong values for a mint URL. */
const BAD_URLS: ReadonlyArray<unknown> = [
  5,
  null,
  undefined,
  {},
  "",
  "   ",
  "mint.test",
  "not a url",
  "ftp://mint.test",
  "javascript:alert(1)",
  "http://user:pw@mint.test",
  "http://mint.test/?q=1",
  "http://mint.test/#x",
  `http://mint.test/${"a".repeat(3000)}`,
]
/** Wrong values for a unit. */
const BAD_UNITS: ReadonlyArray<unknown> = [5, null, "", "s a t", "x".repeat(33), {}, ["sat"]]
/** Wrong values for an options object. */
const BAD_OBJECTS: ReadonlyArray<unknown> = [5, "x", null, [], new Date(0), () => 1]
/** Wrong values for an id. */
const BAD_IDS: ReadonlyArray<unknown> = [5, null, undefined, "", "a/b", "a b", "x".repeat(129), {}, 5n]

describe("InvalidArgument at the boundary", () => {
  let before: number
  beforeAll(async () => {
    before = await head()
  })

  it("the issue's examples: a number amount fails tagged, not with a TypeError or MintNotSent", async () => {
    const a = alice as Loose
    await expectInvalid(() => a.send({ mintUrl: url, amount: 5 }), "request.amount")
    await expectInvalid(() => a.mintQuote({ mintUrl: url, amount: 5 }), "request.amount")
    // As the issue wrote them, without a mint URL: the amount is what is named.
    await expectInvalid(() => a.send({ amount: 5 }), "request.amount")
    await expectInvalid(() => a.mintQuote({ amount: 5 }), "request.amount")
    await expectInvalid(() => a.swap({ amount: 5 }), "request.amount")
    await expectInvalid(() => a.send({ amount: 5n }), "request.mintUrl")
    await expectInvalid(() => a.mintQuote({ amount: 5n }), "request.mintUrl")
  })

  it("amounts: bigint, positive, at most 2^64 − 1 (send, swap, mintQuote)", async () => {
    const a = alice as Loose
    for (const amount of BAD_AMOUNTS) {
      await expectInvalid(() => a.send({ mintUrl: url, amount }), "request.amount")
      await expectInvalid(() => a.swap({ mintUrl: url, amount }), "request.amount")
      await expectInvalid(() => a.mintQuote({ mintUrl: url, amount }), "request.amount")
    }
    for (const maxFeeReserve of [5, -1n, 2n ** 64n, "1"])
      await expectInvalid(
        () => a.meltQuote({ mintUrl: url, request: "lnbc1", maxFeeReserve }),
        "request.maxFeeReserve",
      )
    await expectInvalid(() => a.swap({ mintUrl: url, amount: 4n, target: 5n }), "request.target")
    await expectInvalid(() => a.swap({ mintUrl: url, amount: 4n, target: [0n] }), "request.target[0]")
    await expectInvalid(() => a.swap({ mintUrl: url, amount: 4n, target: [1n, 2] }), "request.target[1]")
  })

  it("mint URLs: an http(s) URL with a host and no credentials, query or fragment", async () => {
    const a = alice as Loose
    for (const mintUrl of BAD_URLS) {
      await expectInvalid(() => a.send({ mintUrl, amount: 1n }), "request.mintUrl")
      await expectInvalid(() => a.swap({ mintUrl, amount: 1n }), "request.mintUrl")
      await expectInvalid(() => a.mintQuote({ mintUrl, amount: 1n }), "request.mintUrl")
      await expectInvalid(() => a.meltQuote({ mintUrl, request: "lnbc1" }), "request.mintUrl")
      await expectInvalid(() => a.restore({ mintUrl }), "request.mintUrl")
      await expectInvalid(() => a.addMint(mintUrl), "mintUrl")
      if (mintUrl !== undefined) {
        await expectInvalid(() => a.checkPending(mintUrl), "mintUrl")
        await expectInvalid(() => a.balance(mintUrl), "mintUrl")
      }
    }
  })

  it("units and methods", async () => {
    const a = alice as Loose
    for (const unit of BAD_UNITS) {
      await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, unit }), "request.unit")
      await expectInvalid(() => a.mintQuote({ mintUrl: url, amount: 1n, unit }), "request.unit")
      await expectInvalid(() => a.meltQuote({ mintUrl: url, request: "lnbc1", unit }), "request.unit")
      await expectInvalid(() => a.balance(url, unit), "unit")
      await expectInvalid(() => a.addMint(url, [unit]), "units[0]")
    }
    for (const units of [[], "sat", 5, null, Array(33).fill("sat")])
      await expectInvalid(() => a.addMint(url, units), "units")
    for (const method of [5, "", "BOLT11", "bolt 11"])
      await expectInvalid(() => a.mintQuote({ mintUrl: url, amount: 1n, method }), "request.method")
  })

  it("requests and options: plain objects with known keys only", async () => {
    const a = alice as Loose
    for (const req of BAD_OBJECTS) {
      for (const m of ["send", "swap", "mintQuote", "meltQuote", "restore"])
        await expectInvalid(() => a[m](req), "request")
      await expectInvalid(() => a.mint(quoteId, req), "options")
      await expectInvalid(() => a.receive(token, req), "options")
      await expectInvalid(() => (engine as Loose).createWallet(req), "options")
    }
    for (const m of ["send", "swap", "mintQuote", "meltQuote", "restore"])
      await expectInvalid(() => a[m](undefined), "request")
    // A misspelt key would silently be ignored: it is refused instead.
    await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, forceswap: true }), "request")
    await expectInvalid(() => a.mintQuote({ mintUrl: url, amount: 1n, amout: 2n }), "request")
    await expectInvalid(() => a.receive(token, { trustmint: true }), "options")
    await expectInvalid(() => a.mint(quoteId, { timeout: 5 }), "options")
    await expectInvalid(() => a.restore({ mintUrl: url, batch: 5 }), "request")
    await expectInvalid(() => (engine as Loose).createWallet({ id: "x" }), "options")
    // Wrong types inside.
    await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, forceSwap: "yes" }), "request.forceSwap")
    await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, memo: 5 }), "request.memo")
    await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, memo: "m".repeat(5000) }), "request.memo")
    await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, lock: "02ab" }), "request.lock")
    await expectInvalid(
      () => a.send({ mintUrl: url, amount: 1n, lock: { pubkey: 5 } }),
      "request.lock.pubkey",
    )
    await expectInvalid(
      () => a.send({ mintUrl: url, amount: 1n, lock: { pubkey: "02".padEnd(66, "a"), nSigs: 0 } }),
      "request.lock.nSigs",
    )
    await expectInvalid(
      () => a.send({ mintUrl: url, amount: 1n, lock: { pubkey: "02".padEnd(66, "a"), sigflag: "ALL" } }),
      "request.lock.sigflag",
    )
    await expectInvalid(() => a.swap({ mintUrl: url, amount: 1n, purpose: "other" }), "request.purpose")
    await expectInvalid(() => a.mint(quoteId, { wait: "no" }), "options.wait")
    for (const timeoutMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5", 5n])
      await expectInvalid(() => a.mint(quoteId, { timeoutMs }), "options.timeoutMs")
    await expectInvalid(() => a.receive(token, { trustMint: 1 }), "options.trustMint")
    await expectInvalid(() => a.receive(token, { privateKeys: "ab" }), "options.privateKeys")
    await expectInvalid(() => a.receive(token, { privateKeys: ["zz"] }), "options.privateKeys[0]")
    for (const fromCounter of [-1, 1.5, "0", 2 ** 32])
      await expectInvalid(() => a.restore({ mintUrl: url, fromCounter }), "request.fromCounter")
    for (const batchSize of [0, -5, 10_000, null])
      await expectInvalid(() => a.restore({ mintUrl: url, batchSize }), "request.batchSize")
    await expectInvalid(() => a.restore({ mintUrl: url, keysetIds: "00ab" }), "request.keysetIds")
    await expectInvalid(() => a.restore({ mintUrl: url, keysetIds: [5] }), "request.keysetIds[0]")
  })

  it("tokens, payment requests and operation ids", async () => {
    const a = alice as Loose
    for (const t of [5, null, undefined, "", {}, ["cashuB"]]) await expectInvalid(() => a.receive(t), "token")
    for (const request of [5, null, undefined, "", "l".repeat(20_000)])
      await expectInvalid(() => a.meltQuote({ mintUrl: url, request }), "request.request")
    for (const op of BAD_IDS) {
      await expectInvalid(() => a.mint(op), "operationId")
      await expectInvalid(() => a.melt(op), "operationId")
      await expectInvalid(() => a.reclaim(op), "sendOperationId")
    }
  })

  it("the engine's own methods", async () => {
    const e = engine as Loose
    for (const walletId of BAD_IDS) {
      if (walletId !== undefined) await expectInvalid(() => e.createWallet({ walletId }), "options.walletId")
      await expectInvalid(() => e.wallet(walletId), "walletId")
      await expectInvalid(() => e.acquire(walletId), "walletId")
    }
    expect(() => e.wallet("nobody")).toThrow(expect.objectContaining({ _tag: "UnknownWallet" }))
    // Without a node (`store.node`) every wallet is hosted: acquire is wallet, as a Promise.
    await expect(e.acquire("nobody")).rejects.toMatchObject({ _tag: "UnknownWallet" })
    expect(await engine.acquire("alice")).toBe(alice)
    for (const mnemonic of [5, "", null, "w ".repeat(1000)])
      await expectInvalid(() => e.createWallet({ mnemonic }), "options.mnemonic")
    await expectInvalid(() => e.createWallet({ label: 5 }), "options.label")
    expect(engine.walletIds()).toEqual(["alice"])
  })

  it("the Effect API checks the same way", async () => {
    const a = alice as Loose
    const e1 = await Effect.runPromise(Effect.flip(a.effect.send({ mintUrl: url, amount: 5 })))
    expect((e1 as InvalidArgument).argument).toBe("request.amount")
    const e2 = await Effect.runPromise(Effect.flip(a.effect.mintQuote({ mintUrl: url, amount: 5 })))
    expect(e2).toBeInstanceOf(InvalidArgument)
    const e3 = await Effect.runPromise(Effect.flip(a.effect.addMint(5)))
    expect((e3 as InvalidArgument).argument).toBe("mintUrl")
  })

  it("any non-bigint amount fails as InvalidArgument (property)", async () => {
    const a = alice as Loose
    await fc.assert(
      fc.asyncProperty(
        fc.anything().filter((v) => typeof v !== "bigint"),
        async (amount) => {
          await expectInvalid(() => a.send({ mintUrl: url, amount }), "request.amount")
        },
      ),
      { numRuns: 200 },
    )
  })

  it("messages never echo the value: no token, invoice or mnemonic in them", async () => {
    const a = alice as Loose
    const invoice = `lnbc10n1${"q".repeat(100)}`
    const mnemonic = "abandon ".repeat(11).concat("about")
    const errors = [
      await expectInvalid(() => a.send({ mintUrl: token, amount: 1n }), "request.mintUrl"),
      await expectInvalid(() => a.meltQuote({ mintUrl: invoice, request: invoice }), "request.mintUrl"),
      await expectInvalid(() => a.receive(token, { privateKeys: [token] }), "options.privateKeys[0]"),
      await expectInvalid(() => a.addMint(url, [mnemonic]), "units[0]"),
      await expectInvalid(() => (engine as Loose).createWallet({ walletId: mnemonic }), "options.walletId"),
      await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, [token]: 1 }), "request"),
    ]
    for (const e of errors) {
      const text = `${e.message} ${e.reason} ${JSON.stringify({ ...e })}`
      expect(text).not.toContain(token.slice(0, 20))
      expect(text).not.toContain("lnbc")
      expect(text).not.toContain("abandon")
    }
  })

  it("every Effect twin checks its arguments (wallet.effect.*, engine.createWalletEffect)", async () => {
    const fx = alice.effect as Loose
    const cases: ReadonlyArray<readonly [string, () => Effect.Effect<unknown, unknown>, string]> = [
      ["addMint", () => fx.addMint(url, "sat"), "units"],
      ["mintQuote", () => fx.mintQuote({ mintUrl: url, amount: 5 }), "request.amount"],
      ["mint", () => fx.mint("a b"), "operationId"],
      ["swap", () => fx.swap({ mintUrl: url, amount: 1 }), "request.amount"],
      ["send", () => fx.send({ mintUrl: url, amount: 1n, unit: 5 }), "request.unit"],
      ["receive", () => fx.receive(5), "token"],
      ["checkToken", () => fx.checkToken(null), "token"],
      ["prepareSend", () => fx.prepareSend({ mintUrl: url, amount: 0n }), "request.amount"],
      ["prepareReceive", () => fx.prepareReceive(token, { trustMint: 1 }), "options.trustMint"],
      ["prepareMelt", () => fx.prepareMelt("a b"), "operationId"],
      ["meltQuote", () => fx.meltQuote({ mintUrl: url, request: "" }), "request.request"],
      ["melt", () => fx.melt(null), "operationId"],
      ["checkPending", () => fx.checkPending("ftp://x"), "mintUrl"],
      ["reclaim", () => fx.reclaim(""), "sendOperationId"],
      ["restore", () => fx.restore({ mintUrl: url, batchSize: 0 }), "request.batchSize"],
      ["createWalletEffect", () => (engine as Loose).createWalletEffect({ walletId: 5 }), "options.walletId"],
      ["acquireEffect", () => (engine as Loose).acquireEffect(5), "walletId"],
    ]
    for (const [name, run, argument] of cases) {
      const e = await Effect.runPromise(Effect.flip(run()))
      expect(e, name).toBeInstanceOf(InvalidArgument)
      expect((e as InvalidArgument).argument, name).toBe(argument)
    }
    // Every Effect of the wallet is covered here (or takes no argument).
    expect(Object.keys(alice.effect).sort()).toEqual(
      [
        ...cases.map(([name]) => name).filter((n) => n !== "createWalletEffect" && n !== "acquireEffect"),
        "recover",
        "events",
      ].sort(),
    )
    // `events` is a Stream: a bad option fails it when it runs.
    const bad = await Effect.runPromise(Effect.flip(Stream.runDrain(fx.events({ fromPosition: -1 }))))
    expect(bad).toBeInstanceOf(InvalidArgument)
    expect((bad as InvalidArgument).argument).toBe("options.fromPosition")
  })

  it("every public method is covered: each is checked here or takes no argument", () => {
    const methods = (o: object) =>
      Object.getOwnPropertyNames(o).filter(
        (n) => n !== "constructor" && typeof Object.getOwnPropertyDescriptor(o, n)?.value === "function",
      )
    // Checked in the tests above.
    const walletChecked = ["addMint", "mintQuote", "mint", "swap", "send", "receive", "meltQuote", "melt"]
    walletChecked.push("checkPending", "reclaim", "restore", "balance")
    // Token state check (issue #13): its argument here, the rest in ops/check-token.test.ts.
    walletChecked.push("checkToken")
    // App events (issue #15): their option here, the rest in events.test.ts.
    walletChecked.push("events")
    // Fee previews (issue #13): the send's, receive's and melt's own checks; the rest in ops/preview.test.ts.
    walletChecked.push("prepareSend", "prepareReceive", "prepareMelt")
    expect(() => alice.events({ fromPosition: 1.5 })).toThrow(InvalidArgument)
    expect(() => engine.events({ from: 1 } as never)).toThrow(InvalidArgument)
    const walletNoArguments = [
      "audit",
      "publicKey",
      "recover",
      "balances",
      "history",
      "pending",
      "mnemonic",
      "mints",
    ]
    expect(methods(Object.getPrototypeOf(alice)).sort()).toEqual(
      [...walletChecked, ...walletNoArguments].sort(),
    )
    const engineChecked = [
      "createWallet",
      "createWalletEffect",
      "wallet",
      "acquire",
      "acquireEffect",
      "remote",
      "events",
      "eventsEffect",
      "health",
      "healthEffect",
    ]
    // `health` (issue #15): its options here, the rest in metrics-health.test.ts.
    for (const bad of [{ probe: "yes" }, { maxProjectionLag: -1 }, { nope: 1 }])
      expect(Effect.runSync(Effect.flip(engine.healthEffect(bad as never)))).toBeInstanceOf(InvalidArgument)
    // `remote` (routing, issue #12): its id and options here, the rest in jetstream-routing.test.ts.
    expect(() => engine.remote("bad id")).toThrow(InvalidArgument)
    expect(() => engine.remote("w", { timeoutMs: -1 })).toThrow(InvalidArgument)
    const engineNoArguments = [
      "attestHead",
      "attestHeadEffect",
      "walletIds",
      "audit",
      "auditEffect",
      "close",
      "metrics",
      "metricsEffect",
      "recovered",
      "recoveredEffect",
    ]
    expect(methods(Object.getPrototypeOf(engine)).sort()).toEqual(
      [...engineChecked, ...engineNoArguments].sort(),
    )
    // Engine.open and Engine.openEffect: the last describe block.
    expect(methods(Engine).sort()).toEqual(["open", "openEffect"])
  })

  it("no message echoes the value, whatever string-taking argument it was passed in", async () => {
    const a = alice as Loose
    const e = engine as Loose
    // Fails every shape rule (a space, a slash, a NUL), and long enough to fail every length rule.
    const marker = "SECRET MARKER/\u0000"
    const long = marker.repeat(2000)
    const errors = [
      await expectInvalid(() => a.addMint(marker), "mintUrl"),
      await expectInvalid(() => a.addMint(url, [marker]), "units[0]"),
      await expectInvalid(() => a.mintQuote({ mintUrl: url, amount: 1n, method: marker }), "request.method"),
      await expectInvalid(
        () => a.mintQuote({ mintUrl: url, amount: 1n, description: long }),
        "request.description",
      ),
      await expectInvalid(() => a.mint(marker), "operationId"),
      await expectInvalid(() => a.swap({ mintUrl: url, amount: 1n, purpose: marker }), "request.purpose"),
      await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, memo: long }), "request.memo"),
      await expectInvalid(
        () => a.send({ mintUrl: url, amount: 1n, lock: { pubkey: marker } }),
        "request.lock.pubkey",
      ),
      await expectInvalid(() => a.send({ mintUrl: url, amount: 1n, [marker]: 1 }), "request"),
      await expectInvalid(() => a.receive(token, { privateKeys: [marker] }), "options.privateKeys[0]"),
      await expectInvalid(() => a.meltQuote({ mintUrl: url, request: long }), "request.request"),
      await expectInvalid(
        () => a.meltQuote({ mintUrl: url, request: "lnbc1", unit: marker }),
        "request.unit",
      ),
      await expectInvalid(() => a.melt(marker), "operationId"),
      await expectInvalid(() => a.checkPending(marker), "mintUrl"),
      await expectInvalid(() => a.checkToken(marker), "token"),
      await expectInvalid(() => a.prepareSend({ mintUrl: url, amount: 1n, memo: long }), "request.memo"),
      await expectInvalid(() => a.prepareReceive(token, { privateKeys: [marker] }), "options.privateKeys[0]"),
      await expectInvalid(() => a.prepareMelt(marker), "operationId"),
      await expectInvalid(() => a.reclaim(marker), "sendOperationId"),
      await expectInvalid(() => a.restore({ mintUrl: marker }), "request.mintUrl"),
      await expectInvalid(() => a.balance(url, marker), "unit"),
      await expectInvalid(() => e.createWallet({ walletId: marker }), "options.walletId"),
      await expectInvalid(() => e.createWallet({ mnemonic: long }), "options.mnemonic"),
      await expectInvalid(() => e.createWallet({ label: long }), "options.label"),
      await expectInvalid(() => e.wallet(marker), "walletId"),
    ]
    for (const err of errors) {
      const text = `${err.message} ${err.reason} ${err.argument} ${JSON.stringify({ ...err })} ${String(err)}`
      expect(text).not.toContain("SECRET")
      expect(text).not.toContain("MARKER")
    }
  })

  it("nothing was started: the log's head did not move", async () => {
    expect(await head()).toBe(before)
    expect(alice.history().length).toBeGreaterThan(0)
  })
})

describe("Engine.open checks its options before touching the disk", () => {
  it("refuses wrong options with InvalidArgument and creates nothing", async () => {
    const dir = join(freshDir(), "data")
    const base = { dataDir: dir, passphrase: "p", vault: INSECURE_TEST_VAULT_OPTIONS }
    const cases: ReadonlyArray<readonly [unknown, string]> = [
      [undefined, "options"],
      [null, "options"],
      [dir, "options"],
      [{ passphrase: "p" }, "options.dataDir"],
      [{ ...base, dataDir: 5 }, "options.dataDir"],
      [{ dataDir: dir }, "options"],
      [{ ...base, key: new Uint8Array(32) }, "options"],
      [{ ...base, passphrase: 5 }, "options.passphrase"],
      [{ ...base, hooks: {} }, "options"],
      [{ ...base, datadir: dir }, "options"],
      [{ ...base, options: { quotePollMs: "5" } }, "options.options.quotePollMs"],
      [{ ...base, options: { requireDleq: 1 } }, "options.options.requireDleq"],
      [{ ...base, options: { pollMs: 5 } }, "options.options"],
      [{ ...base, recover: "no" }, "options.recover"],
      [{ ...base, vault: { scrypt: { N: "16", r: 1, p: 1 } } }, "options.vault.scrypt.N"],
      [{ ...base, vault: { weak: true } }, "options.vault"],
    ]
    for (const [opts, argument] of cases) {
      await expectInvalid(() => Engine.open(opts as Loose), argument)
      const e = await Effect.runPromise(Effect.flip(Engine.openEffect(opts as Loose)))
      expect((e as InvalidArgument).argument).toBe(argument)
    }
    expect(existsSync(dir)).toBe(false)
  })
})
