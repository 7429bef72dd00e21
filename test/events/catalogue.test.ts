import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  KeysetId,
  MintUrl,
  OperationCompleted,
  OperationStarted,
  OutputIntent,
  Point,
  type WalletEvent,
  WalletEvent as WalletEventSchema,
} from "../../src/events/catalogue.js"
import { MAX_AMOUNT, OPERATION_KINDS, type OperationKind } from "../../src/model/index.js"

/** Compiles only if every event type is handled (an unhandled `_tag` leaves `e` not `never`). */
const describeEvent = (e: WalletEvent): string => {
  switch (e._tag) {
    case "WalletCreated":
    case "MintTrusted":
    case "KeysetLearned":
    case "KeysetChanged":
    case "CountersReserved":
    case "WalletOwnerChanged":
      return "lifecycle"
    case "OperationStarted":
    case "OperationCompleted":
      return `${e._tag}:${e.kind}`
    case "OperationPrepared":
    case "OperationRequested":
    case "OperationSigned":
    case "OperationPending":
    case "OperationCompensated":
    case "OperationRecovering":
      return `step:${e.kind}`
    case "ProofsIssued":
    case "ProofsReceived":
    case "ProofsReserved":
    case "ProofsReleased":
    case "ProofsPending":
    case "ProofsSpent":
    case "ProofsDropped":
      return "proofs"
    default: {
      const unhandled: never = e
      return unhandled
    }
  }
}

/** Compiles only if the `kind` of a started operation narrows it to the kind's own fields. */
const startedDetail = (e: Extract<WalletEvent, { _tag: "OperationStarted" }>): string => {
  switch (e.kind) {
    case "mint":
    case "melt":
      return e.quoteId
    case "swap":
      return e.purpose
    case "send":
      return e.amount.toString()
    case "receive":
      return e.token
    case "restore":
      return e.keysetIds.join()
    case "checkstate":
      return e.ys.join()
  }
}

const kindsOf = (union: { readonly ast: { readonly _tag: string } }): string[] =>
  (
    union.ast as unknown as {
      types: Array<{ propertySignatures: Array<{ name: string; type: { literal: string } }> }>
    }
  ).types.map((m) => m.propertySignatures.find((p) => p.name === "kind")!.type.literal)

describe("event catalogue", () => {
  it("lists each event type once, keyed by its own tag", () => {
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length)
    for (const type of EVENT_TYPES) {
      const ast = EVENT_SCHEMAS[type].ast as unknown as {
        _tag: string
        types?: Array<{ propertySignatures: Array<{ name: string; type: { literal: unknown } }> }>
        propertySignatures?: Array<{ name: string; type: { literal: unknown } }>
      }
      const members =
        ast._tag === "Union"
          ? ast.types!
          : [ast as { propertySignatures: Array<{ name: string; type: { literal: unknown } }> }]
      for (const m of members)
        expect(m.propertySignatures.find((p) => p.name === "_tag")!.type.literal).toBe(type)
    }
  })

  it("has a started and a completed member for every operation kind, and no other", () => {
    expect(kindsOf(OperationStarted).sort()).toEqual([...OPERATION_KINDS].sort())
    expect(kindsOf(OperationCompleted).sort()).toEqual([...OPERATION_KINDS].sort())
    const started: WalletEvent = {
      _tag: "OperationStarted",
      kind: "swap",
      operationId: "op-1",
      mintUrl: "https://mint.example.com",
      unit: "sat",
      purpose: "reclaim",
      relatedOperationId: "op-0",
    }
    expect(describeEvent(started)).toBe("OperationStarted:swap")
    expect(startedDetail(started as Extract<WalletEvent, { _tag: "OperationStarted" }>)).toBe("reclaim")
  })

  it("accepts the saga intent an engine writes before a request leaves", () => {
    const is = Schema.is(WalletEventSchema)
    const kinds: OperationKind[] = ["swap", "melt", "mint", "send", "receive"]
    for (const kind of kinds) {
      expect(
        is({
          _tag: "OperationPrepared",
          operationId: "op-9",
          kind,
          inputs: kind === "mint" ? [] : ["03" + "c".repeat(64)],
          outputs: [
            { amount: 8n, id: "009a1f293253e41e", B_: "02" + "d".repeat(64), role: "keep", counter: 12 },
            {
              amount: 2n,
              id: "009a1f293253e41e",
              B_: "02" + "e".repeat(64),
              role: "send",
              secret: "s",
              r: "f".repeat(64),
            },
          ],
          request: { path: "/v1/swap", body: '{"inputs":[],"outputs":[]}' },
        }),
      ).toBe(true)
    }
  })

  it("keeps hex canonical: lowercase compressed points and full keyset ids only", () => {
    const isPoint = Schema.is(Point)
    expect(isPoint("02" + "ab".repeat(32))).toBe(true)
    expect(isPoint("03" + "0".repeat(64))).toBe(true)
    expect(isPoint("02" + "AB".repeat(32))).toBe(false)
    expect(isPoint("04" + "ab".repeat(32))).toBe(false)
    expect(isPoint("02" + "ab".repeat(31))).toBe(false)
    const isKeyset = Schema.is(KeysetId)
    expect(isKeyset("009a1f293253e41e")).toBe(true)
    expect(isKeyset("01" + "a".repeat(64))).toBe(true)
    expect(isKeyset("01" + "a".repeat(14))).toBe(true)
    expect(isKeyset("I2yN+iRYfkzT")).toBe(false)
    expect(isKeyset("009A1F293253E41E")).toBe(false)
  })

  it("keeps mint URLs normalised", () => {
    const is = Schema.is(MintUrl)
    expect(is("https://mint.example.com")).toBe(true)
    expect(is("http://127.0.0.1:3338/path")).toBe(true)
    expect(is("https://mint.example.com/")).toBe(false)
    expect(is("ftp://mint.example.com")).toBe(false)
    expect(is("https://mint example.com")).toBe(false)
  })

  it("requires an output to record either its counter or its secret and r", () => {
    const is = Schema.is(OutputIntent)
    const base = { amount: 1n, id: "009a1f293253e41e", B_: "02" + "d".repeat(64), role: "keep" as const }
    expect(is({ ...base, counter: 0 })).toBe(true)
    expect(is({ ...base, secret: "x", r: "1".repeat(64) })).toBe(true)
    expect(is(base)).toBe(false)
    expect(is({ ...base, counter: 0, secret: "x", r: "1".repeat(64) })).toBe(false)
    expect(is({ ...base, secret: "x" })).toBe(false)
    expect(is({ ...base, counter: -1 })).toBe(false)
    expect(is({ ...base, counter: 2 ** 32 })).toBe(false)
  })

  it("bounds amounts to [0, 2^64−1] and needs at least one proof or Y where a transition names them", () => {
    const is = Schema.is(WalletEventSchema)
    const completed = (amount: bigint) => ({
      _tag: "OperationCompleted",
      kind: "mint",
      operationId: "op-1",
      amount,
    })
    expect(is(completed(0n))).toBe(true)
    expect(is(completed(MAX_AMOUNT))).toBe(true)
    expect(is(completed(MAX_AMOUNT + 1n))).toBe(false)
    expect(is(completed(-1n))).toBe(false)
    expect(is({ _tag: "ProofsSpent", ys: [] })).toBe(false)
    expect(is({ _tag: "ProofsReserved", operationId: "op-1", ys: ["02" + "a".repeat(64)] })).toBe(true)
    expect(is({ _tag: "ProofsReserved", ys: ["02" + "a".repeat(64)] })).toBe(false)
    expect(is({ _tag: "CountersReserved", keysetId: "009a1f293253e41e", start: 5, count: 0 })).toBe(false)
  })

  it("keeps identifiers usable in stream and event ids", () => {
    const is = Schema.is(WalletEventSchema)
    const created = (walletId: string) => ({ _tag: "WalletCreated", walletId, mnemonic: "abandon ability" })
    expect(is(created("w-1.alpha_2"))).toBe(true)
    expect(is(created("a/b"))).toBe(false)
    expect(is(created("a:b"))).toBe(false)
    expect(is(created(""))).toBe(false)
  })
})
