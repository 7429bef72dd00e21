import { test } from "@fast-check/vitest"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { WalletEvent } from "../../src/events/catalogue.js"
import { computeEventHash, type StoredEvent } from "../../src/events/envelope.js"
import { identitySealer, type PayloadSealer } from "../../src/events/sealer.js"
import { type MemoryLog, makeMemoryEventStore, makeMemoryLog } from "../../src/infra/memory-store.js"
import { createVault } from "../../src/infra/vault.js"
import { VaultError } from "../../src/model/index.js"
import type { EventStoreShape } from "../../src/ports/event-store.js"
import { type AuditResult, auditLog, payloadDecoder } from "../../src/projections/audit.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../support/vault.js"
import { buildHistory, type History, historyArbitrary, KEYSETS, MINT_B, type Step } from "./history.js"

const vault = createVault({ passphrase: "audit test" }, INSECURE_TEST_VAULT_OPTIONS).vault

/** A memory store holding `history`, and its log (for tampering). */
const storeWith = async (history: History, sealer: PayloadSealer = identitySealer) => {
  const log = makeMemoryLog()
  const store = await Effect.runPromise(makeMemoryEventStore({ sealer, log }))
  for (const a of history.appends) await Effect.runPromise(store.append(a.streamId, "any", a.events))
  return { store, log }
}

const append = (store: EventStoreShape, streamId: string, events: WalletEvent[], tag: string) =>
  Effect.runPromise(
    store.append(
      streamId,
      "any",
      events.map((event, i) => ({ eventId: `${tag}:${i}`, event })),
    ),
  )

const full = (store: EventStoreShape, sealer: PayloadSealer = identitySealer): Promise<AuditResult> =>
  Effect.runPromise(auditLog(store, payloadDecoder(sealer)))
const chainOnly = (store: EventStoreShape): Promise<AuditResult> => Effect.runPromise(auditLog(store))

/** A base history: wallet 0 mints (unspent proofs), swaps some (spent + change), sends one (pending). */
const BASE: Step[] = [
  { wallet: 0, action: 1, a: 0, b: 2 },
  { wallet: 0, action: 1, a: 0, b: 1 },
  { wallet: 0, action: 2, a: 1, b: 0 },
  { wallet: 0, action: 3, a: 0, b: 1 },
  { wallet: 0, action: 2, a: 0, b: 2 }, // an ambiguous swap: its inputs stay reserved
]

const W0 = "wallet/w0"
const ysIn = (h: History, state: string) =>
  [...h.wallets.get(W0)!.proofs].filter(([, p]) => p.state === state).map(([y]) => y)

const expectViolation = (r: AuditResult, sequence: number, kind: string) => {
  expect(r.ok).toBe(false)
  if (r.ok) return
  expect(r.violation.kind).toBe(kind)
  expect(r.violation.sequence).toBe(sequence)
  // Messages never carry secrets: no proof secrets, Ys, mnemonics, quote ids or tokens.
  expect(r.violation.message).not.toMatch(/secret|zebra|quote-|cashuB|0[23][0-9a-f]{64}/)
}

describe("audit: clean histories", () => {
  test.prop([historyArbitrary], { numRuns: 25 })("pass, with and without the key", async (history) => {
    const { store } = await storeWith(history, vault)
    const head = await Effect.runPromise(store.head)
    expect(await full(store, vault)).toEqual({ ok: true, scope: "full", events: head, head })
    expect(await chainOnly(store)).toEqual({ ok: true, scope: "chain", events: head, head })
  })

  it("an empty log passes", async () => {
    const { store } = await storeWith({ appends: [], wallets: new Map() })
    expect(await full(store)).toEqual({ ok: true, scope: "full", events: 0, head: 0 })
  })
})

describe("audit: invariant violations are reported at their first sequence", () => {
  const base = buildHistory(BASE)
  const setup = async () => {
    const { store, log } = await storeWith(base)
    return { store, log, next: (await Effect.runPromise(store.head)) + 1 }
  }
  const spent = ysIn(base, "spent")
  const unspent = ysIn(base, "unspent")
  const reserved = ysIn(base, "reserved")
  const ks = KEYSETS[0]
  const proofLike = (y: string) => ({
    amount: 1n,
    id: ks.id,
    secret: "secret-forged",
    C: `03${y.slice(2)}`,
    Y: y,
  })

  it("the base history has proofs in every state the cases need", () => {
    expect(
      [spent.length, unspent.length, reserved.length, ysIn(base, "pending").length].every((n) => n > 0),
    ).toBe(true)
  })

  const cases: Array<[string, () => WalletEvent, string]> = [
    ["double spend", () => ({ _tag: "ProofsSpent", operationId: "op-x", ys: [spent[0]!] }), "double-spend"],
    [
      "proof in two states (issued while held)",
      () => ({ _tag: "ProofsIssued", mintUrl: ks.mintUrl, unit: ks.unit, proofs: [proofLike(unspent[0]!)] }),
      "two-states",
    ],
    [
      "spent → unspent",
      () => ({ _tag: "ProofsReleased", operationId: "op-x", ys: [spent[0]!] }),
      "illegal-transition",
    ],
    [
      "reserve of a reserved proof",
      () => ({ _tag: "ProofsReserved", operationId: "op-x", ys: [reserved[0]!] }),
      "illegal-transition",
    ],
    [
      "release by an operation that does not hold the reservation",
      () => ({ _tag: "ProofsReleased", operationId: "op-x", ys: [reserved[0]!] }),
      "not-owner",
    ],
    [
      "spend of a proof never held",
      () => ({ _tag: "ProofsSpent", ys: [`02${"ab".repeat(32)}`] }),
      "unknown-proof",
    ],
    [
      "balance mismatch: proofs of mint A booked at mint B",
      () => ({
        _tag: "ProofsIssued",
        mintUrl: MINT_B,
        unit: "sat",
        proofs: [proofLike(`03${"cd".repeat(32)}`)],
      }),
      "balance-mismatch",
    ],
    [
      "counters going backwards",
      () => ({ _tag: "CountersReserved", keysetId: ks.id, start: 0, count: 2 }),
      "counter-backwards",
    ],
    [
      "an output on a counter never reserved",
      () => ({
        _tag: "OperationPrepared",
        operationId: "op-x",
        kind: "swap",
        inputs: [],
        outputs: [{ amount: 1n, id: ks.id, B_: `02${"ef".repeat(32)}`, role: "keep", counter: 1000 }],
        request: { path: "/v1/swap", body: "{}" },
      }),
      "counter-unreserved",
    ],
    [
      "a proof of a keyset never learned",
      () => ({
        _tag: "ProofsIssued",
        mintUrl: ks.mintUrl,
        unit: ks.unit,
        proofs: [{ ...proofLike(`03${"12".repeat(32)}`), id: "00ffffffffffffff" }],
      }),
      "unknown-keyset",
    ],
    [
      "a keyset learned again from another mint",
      () => ({
        _tag: "KeysetLearned",
        mintUrl: MINT_B,
        id: ks.id,
        unit: "sat",
        active: true,
        inputFeePpk: 0n,
        keys: [[1n, `02${"34".repeat(32)}`]],
      }),
      "keyset-rebound",
    ],
  ]

  for (const [name, forge, kind] of cases)
    it(name, async () => {
      const { store, next } = await setup()
      // A harmless event first, the forged one, then a second violation that must not be the one reported.
      await append(
        store,
        W0,
        [{ _tag: "KeysetChanged", mintUrl: ks.mintUrl, id: ks.id, active: true, inputFeePpk: 0n }],
        "ok",
      )
      await append(store, W0, [forge()], "forged")
      await append(store, W0, [{ _tag: "ProofsSpent", ys: [spent[0]!] }], "later")
      expectViolation(await full(store), next + 1, kind)
      // The chain itself is intact: without the key the log passes.
      expect((await chainOnly(store)).ok).toBe(true)
    })

  it("a violation inside a multi-event append names that event's own sequence", async () => {
    const { store, next } = await setup()
    await append(
      store,
      W0,
      [
        { _tag: "ProofsReserved", operationId: "op-y", ys: [unspent[0]!] },
        { _tag: "ProofsSpent", operationId: "op-y", ys: [unspent[0]!] },
        { _tag: "ProofsSpent", operationId: "op-y", ys: [unspent[0]!] },
      ],
      "multi",
    )
    expectViolation(await full(store), next + 2, "double-spend")
  })
})

describe("audit: stored events changed behind the store's back", () => {
  const history = buildHistory([
    ...BASE,
    { wallet: 1, action: 1, a: 0, b: 1 },
    { wallet: 0, action: 8, a: 0, b: 0 },
  ])
  const tamper = async (change: (log: MemoryLog) => void) => {
    const { store, log } = await storeWith(history, vault)
    change(log)
    return store
  }
  const K = 9

  it("a flipped payload byte", async () => {
    const store = await tamper((log) => {
      const s = log.events[K - 1]!
      const payload = Uint8Array.from(s.payload)
      payload[payload.length - 1]! ^= 1
      log.events[K - 1] = { ...s, payload }
    })
    expectViolation(await chainOnly(store), K, "chain")
    expectViolation(await full(store, vault), K, "chain")
  })

  it("a changed envelope field", async () => {
    const store = await tamper((log) => {
      const s = log.events[K - 1]!
      log.events[K - 1] = { ...s, envelope: { ...s.envelope, time: s.envelope.time + 1 } }
    })
    expectViolation(await chainOnly(store), K, "chain")
  })

  it("a removed event", async () => {
    const store = await tamper((log) => void log.events.splice(K - 1, 1))
    expectViolation(await chainOnly(store), K, "chain")
  })

  it("two events swapped", async () => {
    const store = await tamper((log) => {
      const a = log.events[K - 1]!
      log.events[K - 1] = log.events[K]!
      log.events[K] = a
    })
    expectViolation(await chainOnly(store), K, "chain")
  })

  it("two events swapped with their sequences rewritten to look contiguous", async () => {
    const store = await tamper((log) => {
      const a = log.events[K - 1]!
      const b = log.events[K]!
      log.events[K - 1] = { ...b, envelope: { ...b.envelope, sequence: K } }
      log.events[K] = { ...a, envelope: { ...a.envelope, sequence: K + 1 } }
    })
    expectViolation(await chainOnly(store), K, "chain")
  })

  it("a payload swapped and the whole chain re-hashed: the chain holds, the payload does not open", async () => {
    const store = await tamper((log) => {
      // Another event's ciphertext under this envelope, then every hash from here on recomputed.
      log.events[K - 1] = { ...log.events[K - 1]!, payload: log.events[K]!.payload }
      for (let i = K - 1; i < log.events.length; i++) {
        const s: StoredEvent = log.events[i]!
        const prevHash = log.events[i - 1]!.envelope.hash
        const hash = computeEventHash(prevHash, s.envelope, s.payload)
        log.events[i] = { ...s, envelope: { ...s.envelope, prevHash, hash } }
      }
    })
    expect((await chainOnly(store)).ok).toBe(true)
    expectViolation(await full(store, vault), K, "unreadable")
  })
})

describe("audit: failures that are not findings", () => {
  it("no key at all fails the audit instead of reporting a violation", async () => {
    const { store } = await storeWith(buildHistory(BASE), vault)
    const missing: PayloadSealer = {
      seal: (p) => p,
      open: () => {
        throw new VaultError({ reason: "missing-key", message: "no key" })
      },
    }
    const r = await Effect.runPromise(Effect.result(auditLog(store, payloadDecoder(missing))))
    expect(r._tag).toBe("Failure")
    if (r._tag === "Failure") expect(r.failure).toBeInstanceOf(VaultError)
  })

  it("a wrong key is a finding at the first event", async () => {
    const { store } = await storeWith(buildHistory(BASE), vault)
    const other = createVault({ passphrase: "another" }, INSECURE_TEST_VAULT_OPTIONS).vault
    expectViolation(await full(store, other), 1, "unreadable")
  })
})
