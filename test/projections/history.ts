/**
 * A generator of plausible wallet histories for the projection and audit tests: random steps (mint, swap,
 * send, receive, melt, restore, checkstate, recovery, keyset changes) across a few wallets, interpreted
 * against a model so that every history is valid — every proof transition allowed, counters reserved before
 * use and only forward, keysets learned before use. The model also says what the projections must show.
 */
import fc from "fast-check"
import type { StoredProof, WalletEvent } from "../../src/events/catalogue.js"
import { decodeEvent, encodeEvent } from "../../src/events/codec.js"
import { computeEventHash, GENESIS_HASH } from "../../src/events/envelope.js"
import type { ProofState } from "../../src/machines/lifecycle.js"
import type { OperationKind } from "../../src/model/index.js"
import type { NewEvent, RecordedEvent } from "../../src/ports/event-store.js"

export const MINT_A = "https://mint-a.example.com"
export const MINT_B = "http://mint-b.example.org:3338"
/** A recognisable mnemonic, so tests can look for it in files. */
export const mnemonicOf = (w: number) => `zebra quantum walrus ${w} tangerine oxygen marble`

/** The keysets a wallet may learn, in order: id, mint, unit. */
export const KEYSETS = [
  { id: "00aa000000000001", mintUrl: MINT_A, unit: "sat" },
  { id: "00aa000000000002", mintUrl: MINT_A, unit: "usd" },
  { id: `01${"bb".repeat(32)}`, mintUrl: MINT_B, unit: "sat" },
] as const

const hex64 = (n: number) => n.toString(16).padStart(64, "0")

/** What the model knows of one proof. */
export interface ModelProof {
  state: ProofState
  owner: string | undefined
  readonly amount: bigint
  readonly keysetId: string
  readonly mintUrl: string
  readonly unit: string
}

/** What the model knows of one wallet. */
export interface ModelWallet {
  readonly stream: string
  readonly proofs: Map<string, ModelProof>
  readonly learned: string[]
  readonly trusted: Map<string, string[]>
  readonly counters: Map<string, number>
  readonly ops: Map<string, { kind: OperationKind; status: string; ys: string[]; keysetId?: string }>
}

/** One append: a stream and its events. */
export interface Append {
  readonly streamId: string
  readonly events: NewEvent[]
}

/** A history and the model's final state. */
export interface History {
  readonly appends: Append[]
  readonly wallets: Map<string, ModelWallet>
}

/** One random step. */
export interface Step {
  readonly wallet: number
  readonly action: number
  readonly a: number
  readonly b: number
}

export const stepArbitrary: fc.Arbitrary<Step> = fc.record({
  wallet: fc.nat(2),
  // 10…12 mint too: histories need proofs before most other steps can do anything.
  action: fc.nat(12).map((x) => (x >= 10 ? 1 : x)),
  a: fc.nat(1000),
  b: fc.nat(1000),
})

/** Interprets steps into a valid history. */
export const buildHistory = (steps: ReadonlyArray<Step>): History => {
  const wallets = new Map<string, ModelWallet>()
  const appends: Append[] = []
  let n = 0
  let opSeq = 0

  for (const step of steps) {
    const stream = `wallet/w${step.wallet}`
    const events: WalletEvent[] = []
    let w = wallets.get(stream)
    if (w === undefined) {
      w = {
        stream,
        proofs: new Map(),
        learned: [],
        trusted: new Map(),
        counters: new Map(),
        ops: new Map(),
      }
      wallets.set(stream, w)
      events.push({ _tag: "WalletCreated", walletId: `w${step.wallet}`, mnemonic: mnemonicOf(step.wallet) })
      learn(w, events)
    }
    const wallet = w
    const newOp = (kind: OperationKind) => {
      const id = `op${++opSeq}`
      wallet.ops.set(id, { kind, status: "started", ys: [] })
      return id
    }
    const keyset = (i: number) => KEYSETS.find((k) => k.id === wallet.learned[i % wallet.learned.length])!
    const newProof = (k: (typeof KEYSETS)[number], amount: bigint, counter?: number): StoredProof => {
      n++
      const p: StoredProof = {
        amount,
        id: k.id,
        secret: `secret-${n}-${"s".repeat(n % 7)}`,
        C: `03${hex64(n)}`,
        Y: `02${hex64(n)}`,
        ...(n % 3 === 0 ? { dleq: { e: hex64(n + 1), s: hex64(n + 2) } } : {}),
        ...(counter === undefined ? {} : { counter }),
      }
      return p
    }
    const issue = (
      k: (typeof KEYSETS)[number],
      proofs: StoredProof[],
      operationId: string,
      received = false,
    ) => {
      events.push({
        _tag: received ? "ProofsReceived" : "ProofsIssued",
        mintUrl: k.mintUrl,
        unit: k.unit,
        operationId,
        proofs,
      })
      for (const p of proofs)
        wallet.proofs.set(p.Y, {
          state: received ? "incoming" : "unspent",
          owner: undefined,
          amount: p.amount,
          keysetId: k.id,
          mintUrl: k.mintUrl,
          unit: k.unit,
        })
    }
    const reserveCounters = (k: (typeof KEYSETS)[number], count: number): number => {
      const start = wallet.counters.get(k.id) ?? 0
      events.push({ _tag: "CountersReserved", keysetId: k.id, start, count })
      wallet.counters.set(k.id, start + count)
      return start
    }
    const transition = (
      tag: "ProofsReserved" | "ProofsReleased" | "ProofsPending",
      op: string,
      ys: string[],
    ) => {
      events.push({ _tag: tag, operationId: op, ys })
      for (const y of ys) {
        const p = wallet.proofs.get(y)!
        p.state = tag === "ProofsReserved" ? "reserved" : tag === "ProofsPending" ? "pending" : "unspent"
        p.owner = tag === "ProofsReleased" ? undefined : op
      }
    }
    const spend = (ys: string[], op: string) => {
      events.push({ _tag: "ProofsSpent", operationId: op, ys })
      for (const y of ys) wallet.proofs.get(y)!.state = "spent"
    }
    const unspentOf = (k: (typeof KEYSETS)[number], max: number): string[] =>
      [...wallet.proofs]
        .filter(([, p]) => p.state === "unspent" && p.keysetId === k.id)
        .slice(0, max)
        .map(([y]) => y)
    const pendingFor = (y: string, op: string): boolean => {
      const p = wallet.proofs.get(y)!
      return p.state === "pending" && p.owner === op
    }
    const sum = (ys: string[]) => ys.reduce((s, y) => s + wallet.proofs.get(y)!.amount, 0n)
    const status = (op: string, s: string) => {
      wallet.ops.get(op)!.status = s
    }
    const prepare = (
      op: string,
      kind: OperationKind,
      k: (typeof KEYSETS)[number],
      inputs: string[],
      start: number,
      count: number,
    ) => {
      events.push({
        _tag: "OperationPrepared",
        operationId: op,
        kind,
        inputs,
        outputs: Array.from({ length: count }, (_, i) => ({
          amount: 1n << BigInt(i),
          id: k.id,
          B_: `02${hex64(1_000_000 + n + i)}`,
          role: "keep" as const,
          counter: start + i,
        })),
        request: {
          path: `/v1/${kind === "mint" ? "mint/bolt11" : kind === "restore" ? "restore" : "swap"}`,
          body: "{}",
        },
      })
      events.push({ _tag: "OperationRequested", operationId: op, kind, attempt: 1 })
      status(op, "requested")
    }

    switch (step.action) {
      case 0: {
        if (wallet.learned.length < KEYSETS.length) learn(wallet, events)
        else {
          const k = keyset(step.a)
          events.push({
            _tag: "KeysetChanged",
            mintUrl: k.mintUrl,
            id: k.id,
            active: step.b % 2 === 0,
            inputFeePpk: BigInt(step.b % 3),
          })
        }
        break
      }
      case 1: {
        // Mint: quote, counters, intent, then signed (or left pending for a later recovery).
        const k = keyset(step.a)
        const count = 1 + (step.b % 4)
        const op = newOp("mint")
        const amounts = Array.from({ length: count }, (_, i) => BigInt(1 + ((step.a + i) % 64)))
        const total = amounts.reduce((s, x) => s + x, 0n)
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "mint",
          mintUrl: k.mintUrl,
          unit: k.unit,
          method: "bolt11",
          quoteId: `quote-${op}`,
          amount: total,
          request: `lnbc${op}`,
        })
        const start = reserveCounters(k, count)
        prepare(op, "mint", k, [], start, count)
        if (step.b % 3 === 0) {
          events.push({ _tag: "OperationPending", operationId: op, kind: "mint", reason: "ambiguous" })
          status(op, "pending")
          wallet.ops.get(op)!.ys = amounts.map((a, i) => `${a}:${start + i}`)
          wallet.ops.get(op)!.keysetId = k.id
        } else {
          events.push({ _tag: "OperationSigned", operationId: op, kind: "mint", signatures: [] })
          issue(
            k,
            amounts.map((a, i) => newProof(k, a, start + i)),
            op,
          )
          events.push({ _tag: "OperationCompleted", operationId: op, kind: "mint", amount: total })
          status(op, "completed")
        }
        break
      }
      case 2: {
        // Swap: reserve inputs, intent; complete, compensate, or leave ambiguous.
        const k = keyset(step.a)
        const ys = unspentOf(k, 1 + (step.a % 3))
        if (ys.length === 0) break
        const op = newOp("swap")
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "swap",
          mintUrl: k.mintUrl,
          unit: k.unit,
          purpose: "split",
        })
        const start = reserveCounters(k, 1)
        transition("ProofsReserved", op, ys)
        prepare(op, "swap", k, ys, start, 1)
        wallet.ops.get(op)!.ys = ys
        const outcome = step.b % 3
        if (outcome === 0) {
          const total = sum(ys)
          spend(ys, op)
          issue(k, [newProof(k, total, start)], op)
          events.push({
            _tag: "OperationCompleted",
            operationId: op,
            kind: "swap",
            amountIn: total,
            amountOut: total,
            fee: 0n,
          })
          status(op, "completed")
        } else if (outcome === 1) {
          transition("ProofsReleased", op, ys)
          events.push({
            _tag: "OperationCompensated",
            operationId: op,
            kind: "swap",
            reason: "rejected",
            code: 11002,
          })
          status(op, "compensated")
        } else {
          events.push({ _tag: "OperationPending", operationId: op, kind: "swap", reason: "ambiguous" })
          status(op, "pending")
        }
        break
      }
      case 3: {
        // Send: inputs reserved then pending in a token; another wallet may receive that very token.
        const k = keyset(step.a)
        const ys = unspentOf(k, 1 + (step.b % 2))
        if (ys.length === 0) break
        const op = newOp("send")
        const total = sum(ys)
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "send",
          mintUrl: k.mintUrl,
          unit: k.unit,
          amount: total,
        })
        transition("ProofsReserved", op, ys)
        transition("ProofsPending", op, ys)
        events.push({
          _tag: "OperationCompleted",
          operationId: op,
          kind: "send",
          amount: total,
          fee: 0n,
          token: `cashuB${op}`,
        })
        status(op, "completed")
        wallet.ops.get(op)!.ys = ys
        const other = `wallet/w${(step.wallet + 1) % 3}`
        const recipient = wallets.get(other)
        // A proof the recipient already holds or held (a token reclaimed and sent again) cannot be received
        // twice: the lifecycle refuses it, so a valid history must not contain it.
        if (
          step.b % 2 === 0 &&
          recipient !== undefined &&
          recipient.learned.includes(k.id) &&
          ys.every((y) => !recipient.proofs.has(y))
        ) {
          const proofs = ys.map((y) => {
            const p = wallet.proofs.get(y)!
            return {
              amount: p.amount,
              id: k.id,
              secret: `secret-of-${y.slice(-6)}`,
              C: `03${y.slice(2)}`,
              Y: y,
            }
          })
          appends.push({ streamId: stream, events: named(events, appends.length) })
          events.length = 0
          const rop = `op${++opSeq}`
          recipient.ops.set(rop, { kind: "receive", status: "started", ys })
          const revents: WalletEvent[] = [
            {
              _tag: "OperationStarted",
              operationId: rop,
              kind: "receive",
              mintUrl: k.mintUrl,
              unit: k.unit,
              token: `cashuB${op}`,
              amount: total,
            },
            { _tag: "ProofsReceived", mintUrl: k.mintUrl, unit: k.unit, operationId: rop, proofs },
          ]
          for (const p of proofs)
            recipient.proofs.set(p.Y, {
              state: "incoming",
              owner: undefined,
              amount: p.amount,
              keysetId: k.id,
              mintUrl: k.mintUrl,
              unit: k.unit,
            })
          appends.push({ streamId: other, events: named(revents, appends.length) })
        }
        break
      }
      case 4: {
        // A send resolves: the recipient claimed it (observed spent), or the sender takes it back.
        const send = [...wallet.ops].find(
          ([op, o]) => o.kind === "send" && o.ys.some((y) => pendingFor(y, op)),
        )
        if (send === undefined) break
        const [op, o] = send
        // Only the proofs this send still owns: a released proof may since be pending under another send.
        const ys = o.ys.filter((y) => pendingFor(y, op))
        if (step.b % 2 === 0) {
          const check = newOp("checkstate")
          events.push({
            _tag: "OperationStarted",
            operationId: check,
            kind: "checkstate",
            mintUrl: wallet.proofs.get(ys[0]!)!.mintUrl,
            ys,
          })
          spend(ys, check)
          events.push({
            _tag: "OperationCompleted",
            operationId: check,
            kind: "checkstate",
            unspent: 0,
            pending: 0,
            spent: ys.length,
          })
          status(check, "completed")
        } else transition("ProofsReleased", op, ys)
        break
      }
      case 5: {
        // Receive: incoming proofs, then swapped, rejected (they stay incoming) or found spent.
        const k = keyset(step.a)
        const op = newOp("receive")
        const proofs = [newProof(k, BigInt(1 + (step.a % 100))), newProof(k, BigInt(1 + (step.b % 100)))]
        const total = proofs[0]!.amount + proofs[1]!.amount
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "receive",
          mintUrl: k.mintUrl,
          unit: k.unit,
          token: `cashuB${op}`,
          amount: total,
        })
        issue(k, proofs, op, true)
        const ys = proofs.map((p) => p.Y)
        const outcome = step.b % 3
        if (outcome === 0) {
          const start = reserveCounters(k, 1)
          prepare(op, "receive", k, ys, start, 1)
          spend(ys, op)
          issue(k, [newProof(k, total, start)], op)
          events.push({
            _tag: "OperationCompleted",
            operationId: op,
            kind: "receive",
            amount: total,
            fee: 0n,
          })
          status(op, "completed")
        } else if (outcome === 1) {
          events.push({
            _tag: "OperationCompensated",
            operationId: op,
            kind: "receive",
            reason: "invalid-token",
          })
          status(op, "compensated")
        } else {
          spend(ys, op)
          events.push({
            _tag: "OperationCompensated",
            operationId: op,
            kind: "receive",
            reason: "token-spent",
            code: 11001,
          })
          status(op, "compensated")
        }
        break
      }
      case 6: {
        // Melt: inputs reserved then pending; paid at once (change back) or left payment-pending.
        const k = keyset(step.a)
        const ys = unspentOf(k, 2)
        if (ys.length === 0) break
        const op = newOp("melt")
        const total = sum(ys)
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "melt",
          mintUrl: k.mintUrl,
          unit: k.unit,
          method: "bolt11",
          quoteId: `melt-quote-${op}`,
          amount: total,
          feeReserve: 0n,
          request: `lnbc-pay-${op}`,
        })
        const start = reserveCounters(k, 1)
        transition("ProofsReserved", op, ys)
        prepare(op, "melt", k, ys, start, 1)
        transition("ProofsPending", op, ys)
        wallet.ops.get(op)!.ys = ys
        if (step.b % 2 === 0) {
          spend(ys, op)
          events.push({
            _tag: "OperationCompleted",
            operationId: op,
            kind: "melt",
            amount: total,
            feeReserve: 0n,
            feePaid: 0n,
            inputFee: 0n,
            change: 0n,
          })
          status(op, "completed")
        } else {
          events.push({ _tag: "OperationPending", operationId: op, kind: "melt", reason: "payment-pending" })
          status(op, "pending")
        }
        break
      }
      case 7: {
        // Recovery of an operation left pending.
        const pending = [...wallet.ops].filter(([, o]) => o.status === "pending")
        if (pending.length === 0) break
        const [op, o] = pending[step.a % pending.length]!
        const attempt = 1
        if (o.kind === "mint") {
          events.push({
            _tag: "OperationRecovering",
            operationId: op,
            kind: "mint",
            attempt,
            step: "replay",
            outcome: "recovered",
          })
          // The outputs were derived from counters of the keyset the mint quote used.
          const k = KEYSETS.find((x) => x.id === o.keysetId)!
          const proofs = o.ys.map((s) => {
            const [amount, counter] = s.split(":")
            return newProof(k, BigInt(amount!), Number(counter))
          })
          events.push({ _tag: "OperationSigned", operationId: op, kind: "mint", signatures: [] })
          issue(k, proofs, op)
          events.push({
            _tag: "OperationCompleted",
            operationId: op,
            kind: "mint",
            amount: proofs.reduce((s, p) => s + p.amount, 0n),
          })
          status(op, "completed")
        } else if (step.b % 2 === 0) {
          events.push({
            _tag: "OperationRecovering",
            operationId: op,
            kind: o.kind,
            attempt,
            step: "checkstate",
            outcome: "compensated",
          })
          transition("ProofsReleased", op, o.ys)
          events.push({
            _tag: "OperationCompensated",
            operationId: op,
            kind: o.kind,
            reason: o.kind === "melt" ? "payment-failed" : "not-processed",
          })
          status(op, "compensated")
        } else {
          events.push({
            _tag: "OperationRecovering",
            operationId: op,
            kind: o.kind,
            attempt,
            step: "quote-state",
            outcome: "pending",
          })
        }
        break
      }
      case 8: {
        // Checkstate finds an unspent proof spent elsewhere (e.g. restored into another wallet).
        const k = keyset(step.a)
        const ys = unspentOf(k, 1)
        if (ys.length === 0) break
        const op = newOp("checkstate")
        events.push({ _tag: "OperationStarted", operationId: op, kind: "checkstate", mintUrl: k.mintUrl, ys })
        spend(ys, op)
        events.push({
          _tag: "OperationCompleted",
          operationId: op,
          kind: "checkstate",
          unspent: 0,
          pending: 0,
          spent: 1,
        })
        status(op, "completed")
        break
      }
      default: {
        // Restore: scan from the next counter, find one proof, move the counter past the scan.
        const k = keyset(step.a)
        const op = newOp("restore")
        const next = wallet.counters.get(k.id) ?? 0
        events.push({
          _tag: "OperationStarted",
          operationId: op,
          kind: "restore",
          mintUrl: k.mintUrl,
          keysetIds: [k.id],
          batchSize: 3,
          gapLimit: 3,
        })
        prepare(op, "restore", k, [], next, 3)
        const found = newProof(k, BigInt(1 + (step.b % 50)), next)
        issue(k, [found], op)
        events.push({
          _tag: "OperationCompleted",
          operationId: op,
          kind: "restore",
          found: 1,
          amount: found.amount,
          counters: [{ keysetId: k.id, next: next + 3 }],
        })
        wallet.counters.set(k.id, next + 3)
        status(op, "completed")
      }
    }
    if (events.length > 0) appends.push({ streamId: stream, events: named(events, appends.length) })
  }
  return { appends, wallets }
}

/** Learns the wallet's next keyset (trusting its mint first when needed). */
const learn = (w: ModelWallet, events: WalletEvent[]) => {
  const k = KEYSETS[w.learned.length]!
  const units = w.trusted.get(k.mintUrl) ?? []
  if (!units.includes(k.unit)) {
    const next = [...units, k.unit]
    w.trusted.set(k.mintUrl, next)
    events.push({ _tag: "MintTrusted", mintUrl: k.mintUrl, units: next })
  }
  events.push({
    _tag: "KeysetLearned",
    mintUrl: k.mintUrl,
    id: k.id,
    unit: k.unit,
    active: true,
    inputFeePpk: 0n,
    keys: [
      [1n, `02${hex64(7)}`],
      [2n, `03${hex64(9)}`],
    ],
  })
  w.learned.push(k.id)
}

const named = (events: WalletEvent[], append: number): NewEvent[] =>
  events.map((event, i) => ({ eventId: `a${append}:${i}`, event }))

export const historyArbitrary: fc.Arbitrary<History> = fc
  .array(stepArbitrary, { minLength: 1, maxLength: 60, size: "max" })
  .map(buildHistory)

/**
 * The recorded form of a history, as a store would hand it out: envelopes with real chain hashes over the
 * encoded payloads, events decoded back from their bytes (which also proves they satisfy the catalogue).
 */
export const recordHistory = (history: History, time = 1_700_000_000_000): RecordedEvent[] => {
  const out: RecordedEvent[] = []
  const versions = new Map<string, number>()
  let prevHash = GENESIS_HASH
  for (const a of history.appends)
    for (const e of a.events) {
      const encoded = encodeEvent(e.event)
      const streamVersion = (versions.get(a.streamId) ?? 0) + 1
      versions.set(a.streamId, streamVersion)
      const fields = {
        sequence: out.length + 1,
        streamId: a.streamId,
        streamVersion,
        eventId: e.eventId,
        type: encoded.type,
        schemaVersion: encoded.schemaVersion,
        time: time + out.length,
      }
      const hash = computeEventHash(prevHash, fields, encoded.bytes)
      out.push({
        envelope: { ...fields, prevHash, hash },
        event: decodeEvent(encoded.type, encoded.schemaVersion, encoded.bytes),
      })
      prevHash = hash
    }
  return out
}
