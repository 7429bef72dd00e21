import { Effect, Exit, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { encodeEvent } from "../../src/events/codec.js"
import { type PayloadSealer, payloadAad } from "../../src/events/sealer.js"
import {
  MemoryEventStoreLive,
  makeMemoryEventStore,
  makeMemoryLog,
  memoryEventStoreLayer,
} from "../../src/infra/memory-store.js"
import { VaultError } from "../../src/model/index.js"
import { EventStore } from "../../src/ports/event-store.js"
import { newEvents, runEventStoreContract } from "../ports/event-store-contract.js"

runEventStoreContract("memory", async () => {
  const log = makeMemoryLog()
  const open = () => Effect.runPromise(makeMemoryEventStore({ log }))
  return { store: await open(), reopen: open, cleanup: async () => {} }
})

/** A toy sealer: XOR with a key byte, prefixed by the AAD length, refusing a different AAD. */
const xorSealer = (key: number): PayloadSealer & { sealed: number; opened: number } => {
  const s = {
    sealed: 0,
    opened: 0,
    seal: (plain: Uint8Array, aad: Uint8Array) => {
      s.sealed++
      return Uint8Array.from([...aad, 0, ...plain.map((b) => b ^ key)])
    },
    open: (sealed: Uint8Array, aad: Uint8Array) => {
      s.opened++
      const at = sealed.indexOf(0)
      if (at !== aad.length || !aad.every((b, i) => sealed[i] === b)) {
        throw new VaultError({ reason: "tampered", message: "aad mismatch" })
      }
      return sealed.slice(at + 1).map((b) => b ^ key)
    },
  }
  return s
}

runEventStoreContract(
  "memory with a sealer",
  async () => {
    const log = makeMemoryLog()
    const sealer = xorSealer(0x5a)
    const open = () => Effect.runPromise(makeMemoryEventStore({ log, sealer }))
    return { store: await open(), reopen: open, cleanup: async () => {} }
  },
  { propertyRuns: 10, appenders: 5, eventsPerAppender: 20 },
)

describe("memory event store", () => {
  it("stores sealed payloads bound to their envelope and opens them on read", async () => {
    const sealer = xorSealer(0x33)
    const store = await Effect.runPromise(makeMemoryEventStore({ sealer, clock: () => 1234 }))
    const batch = newEvents(2)
    await Effect.runPromise(store.append("wallet/a", 0, batch))
    expect(sealer.sealed).toBe(2)
    const raw = Array.from(await Effect.runPromise(Stream.runCollect(store.readRaw())))
    raw.forEach((stored, i) => {
      const plain = encodeEvent(batch[i]!.event).bytes
      expect(stored.envelope.time).toBe(1234)
      expect(stored.payload).not.toEqual(plain)
      expect(stored.payload.slice(0, -plain.length)).toEqual(
        Uint8Array.from([...payloadAad(stored.envelope), 0]),
      )
    })
    const read = await Effect.runPromise(store.read("wallet/a"))
    expect(read.map((r) => r.event)).toEqual(batch.map((e) => e.event))
    expect(sealer.opened).toBe(2)
  })

  it("fails reads with the sealer's VaultError when a payload does not open", async () => {
    const log = makeMemoryLog()
    const writer = await Effect.runPromise(makeMemoryEventStore({ log, sealer: xorSealer(1) }))
    await Effect.runPromise(writer.append("wallet/a", 0, newEvents(1)))
    await Effect.runPromise(writer.close)
    const refusing: PayloadSealer = {
      seal: (b) => b,
      open: () => {
        throw new VaultError({ reason: "wrong-key", message: "wrong key" })
      },
    }
    const reader = await Effect.runPromise(makeMemoryEventStore({ log, sealer: refusing }))
    for (const use of [reader.read("wallet/a"), Stream.runCollect(reader.readAll())]) {
      const exit = await Effect.runPromiseExit(use as Effect.Effect<unknown, unknown>)
      expect(exit).toMatchObject({ _tag: "Failure" })
      expect(JSON.stringify(exit)).toContain("wrong-key")
    }
    // Raw reads need no key.
    expect(Array.from(await Effect.runPromise(Stream.runCollect(reader.readRaw())))).toHaveLength(1)
  })

  it("turns a sealer's unexpected exception into a defect, not a typed error", async () => {
    const store = await Effect.runPromise(
      makeMemoryEventStore({
        sealer: {
          seal: () => {
            throw new TypeError("boom")
          },
          open: (b) => b,
        },
      }),
    )
    const exit = await Effect.runPromiseExit(store.append("wallet/a", 0, newEvents(1)))
    expect(Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Die")).toBe(true)
    expect(await Effect.runPromise(store.head)).toBe(0)
  })

  it("holds a log for one open store at a time", async () => {
    const log = makeMemoryLog()
    const first = await Effect.runPromise(makeMemoryEventStore({ log }))
    const second = await Effect.runPromiseExit(makeMemoryEventStore({ log }))
    expect(second).toMatchObject({ _tag: "Failure" })
    expect(JSON.stringify(second)).toContain("StoreLocked")
    await Effect.runPromise(first.close)
    const third = await Effect.runPromise(makeMemoryEventStore({ log }))
    expect(await Effect.runPromise(third.head)).toBe(0)
  })

  it("provides the EventStore service through a layer that closes with its scope", async () => {
    const program = Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append("wallet/a", 0, newEvents(2))
      return yield* store.head
    })
    expect(await Effect.runPromise(Effect.provide(program, MemoryEventStoreLive))).toBe(2)
    const log = makeMemoryLog()
    await Effect.runPromise(Effect.provide(program, memoryEventStoreLayer({ log })))
    // The layer's scope ended, so the log is free again and kept its events.
    const reopened = await Effect.runPromise(makeMemoryEventStore({ log }))
    expect(await Effect.runPromise(reopened.head)).toBe(2)
  })
})
