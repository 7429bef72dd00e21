/**
 * The vault of a JetStream log: its material (the data key wrapped under a passphrase- or key-derived key,
 * the KDF parameters — no secret in clear) is kept in a JetStream KV bucket beside the log, so every node
 * that knows the passphrase unlocks the same data key. The LevelDB store keeps the same material in its
 * directory's header.
 *
 * Rules, as for the directory log: the material is written once (KV `create`, which refuses a second
 * writer: two nodes creating at once end with one vault, the loser unlocks the winner's); a vault is never
 * created beside a log that already holds events (those payloads would be unreadable under a new key); a
 * wrong passphrase fails with `VaultError`, never with a new vault.
 *
 * @module
 */

import { jetstreamManager } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import { Effect, type Scope } from "effect"
import { StoreCorrupted, type StoreUnavailable, type VaultError } from "../model/index.js"
import type { VaultShape } from "../ports/vault.js"
import { io, scopedConnection, unavailable } from "./jetstream/io.js"
import { settled } from "./jetstream/settling.js"
import { createVaultEffect, unlockVaultEffect, type VaultOptions, type VaultSecret } from "./vault.js"

/** Where a JetStream log's vault material lives, and how to unlock or create it. */
export interface JetStreamVaultOptions {
  readonly servers: string | ReadonlyArray<string>
  /** The log's stream (default `CORECASHU`); the material goes to the KV bucket `<stream>-vault`. */
  readonly stream?: string
  readonly secret: VaultSecret
  readonly vault?: VaultOptions
  /** Create a vault when the bucket holds none (default true). */
  readonly create?: boolean
  /** Replicas of the bucket when this open creates it (default 1). */
  readonly replicas?: number
  readonly timeoutMs?: number
}

const KEY = "material"

/** The material in the bucket, or undefined. */
const readMaterial = (kv: Awaited<ReturnType<Kvm["create"]>>) =>
  io(
    "reading the vault material",
    settled(() => kv.get(KEY)),
  ).pipe(
    Effect.flatMap((entry) => {
      if (entry === null || entry.operation !== "PUT") return Effect.succeed(undefined)
      return Effect.try({
        // Not mint input: the vault material our nodes wrote, checked field by field.
        // nosemgrep: json-parse-outside-protocol
        try: (): unknown => JSON.parse(entry.string()),
        catch: () =>
          new StoreCorrupted({
            firstBadSequence: 0,
            message: "the JetStream log's vault material is not JSON",
          }),
      })
    }),
  )

/**
 * Unlocks (or, for a log without one, creates) the vault of a JetStream log. The data key is destroyed when
 * the scope closes. `created` says whether this call made it.
 */
export const openJetStreamVault = (
  opts: JetStreamVaultOptions,
): Effect.Effect<
  { readonly vault: VaultShape; readonly created: boolean },
  VaultError | StoreUnavailable | StoreCorrupted,
  Scope.Scope
> =>
  Effect.gen(function* () {
    const stream = opts.stream ?? "CORECASHU"
    const timeout = opts.timeoutMs ?? 5000
    const nc = yield* scopedConnection({ servers: opts.servers, name: "corecashu-vault", timeoutMs: timeout })
    // Several nodes may open a fresh cluster at once: the bucket's replicas answer only once placed.
    const kv = yield* io(
      "opening the vault bucket",
      settled(() => new Kvm(nc).create(`${stream}-vault`, { history: 1, replicas: opts.replicas ?? 1 })),
    )
    const found = yield* readMaterial(kv)
    const unlock = (material: unknown) =>
      Effect.acquireRelease(unlockVaultEffect(material, opts.secret, opts.vault), (v) =>
        Effect.sync(() => v.destroy()),
      ).pipe(Effect.map((vault) => ({ vault, created: false })))
    if (found !== undefined) return yield* unlock(found)
    if (opts.create === false) return yield* unavailable(`the JetStream log ${stream} has no vault`)
    // Never a new key beside events sealed under another one.
    const jsm = yield* io("reading the log's stream", () => jetstreamManager(nc, { timeout }))
    const messages = yield* io("reading the log's stream", () =>
      jsm.streams.info(stream).then(
        (i) => i.state.messages,
        () => 0,
      ),
    )
    if (messages > 0)
      return yield* new StoreCorrupted({
        firstBadSequence: 1,
        message: `the JetStream log ${stream} holds events but no vault; refusing to create a vault over it`,
      })
    const created = yield* Effect.acquireRelease(createVaultEffect(opts.secret, opts.vault), (c) =>
      Effect.sync(() => c.vault.destroy()),
    )
    const won = yield* Effect.tryPromise({
      try: settled(() => kv.create(KEY, JSON.stringify(created.material))),
      catch: () => "lost" as const,
    }).pipe(Effect.orElseSucceed(() => undefined))
    if (won !== undefined) return { vault: created.vault, created: true }
    // Another node created it first: use theirs (this key was never used for anything). It exists, but a
    // direct get may be answered by a replica that has not stored it yet: read again for a while.
    for (let wait = 50, waited = 0; ; waited += wait, wait = Math.min(1_000, wait * 2)) {
      const theirs = yield* readMaterial(kv)
      if (theirs !== undefined) return yield* unlock(theirs)
      if (waited > 20_000) return yield* unavailable("the vault material could not be written or read")
      yield* Effect.sleep(wait)
    }
  })

/**
 * The vault material of a JetStream log, read only (the audit's way: nothing is created, not even the
 * bucket). Undefined when the log has no vault bucket or no material in it.
 */
export const readJetStreamVaultMaterial = (opts: {
  readonly servers: string | ReadonlyArray<string>
  readonly stream?: string
  readonly timeoutMs?: number
}): Effect.Effect<unknown, StoreUnavailable | StoreCorrupted> =>
  Effect.scoped(
    Effect.gen(function* () {
      const stream = opts.stream ?? "CORECASHU"
      const timeout = opts.timeoutMs ?? 5000
      const nc = yield* scopedConnection({
        servers: opts.servers,
        name: "corecashu-audit",
        timeoutMs: timeout,
      })
      const jsm = yield* io("reading the vault bucket", () => jetstreamManager(nc, { timeout }))
      const exists = yield* io("reading the vault bucket", () =>
        jsm.streams.info(`KV_${stream}-vault`).then(
          () => true,
          () => false,
        ),
      )
      if (!exists) return undefined
      const kv = yield* io("opening the vault bucket", () => new Kvm(nc).open(`${stream}-vault`))
      return yield* readMaterial(kv)
    }),
  )
