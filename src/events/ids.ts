/**
 * Identifiers of the log: stream ids and deterministic event ids.
 *
 * Event ids are the store's idempotency keys: a retried append after an ambiguous store error must carry the
 * same ids to be recognised as the same append. So ids are derived from facts the
 * caller already has — the operation id and the step — never from time or randomness at append time. Parts
 * are escaped so that the mapping from parts to id is injective (`a:b` + `c` ≠ `a` + `b:c`).
 *
 * @module
 */

/** The stream of engine-wide events (not owned by one wallet). */
export const ENGINE_STREAM = "engine"

const WALLET_PREFIX = "wallet/"

/** The stream of one wallet: `wallet/<walletId>`. */
export const walletStream = (walletId: string): string => WALLET_PREFIX + walletId

/** The wallet id of a wallet stream, or `undefined` for any other stream. */
export const walletIdOfStream = (streamId: string): string | undefined =>
  streamId.startsWith(WALLET_PREFIX) && streamId.length > WALLET_PREFIX.length
    ? streamId.slice(WALLET_PREFIX.length)
    : undefined

const escapePart = (part: string): string => part.replaceAll("%", "%25").replaceAll(":", "%3A")

/** An event id from its parts, joined by `:` (each part escaped, so distinct part lists give distinct ids). */
export const eventId = (...parts: ReadonlyArray<string | number>): string =>
  parts.map((p) => escapePart(String(p))).join(":")

/**
 * The steps of an operation that produce events. Recovery attempts and request attempts are numbered so each
 * gets its own id; `index` distinguishes several events appended together for one step.
 */
export type OperationStep =
  | "started"
  | "prepared"
  | "requested"
  | "signed"
  | "pending"
  | "completed"
  | "compensated"
  | "recovering"

/**
 * The id of the `index`-th event appended by `step` of an operation (attempt-numbered steps pass the attempt
 * in `attempt`): `op:<operationId>:<step>[:<attempt>]:<index>`.
 */
export const operationEventId = (
  operationId: string,
  step: OperationStep,
  index = 0,
  attempt?: number,
): string =>
  attempt === undefined
    ? eventId("op", operationId, step, index)
    : eventId("op", operationId, step, attempt, index)

/** The id of a wallet-level event (`wallet:<walletId>:<part>…`), e.g. `walletEventId(w, "mint", url)`. */
export const walletEventId = (walletId: string, ...parts: ReadonlyArray<string | number>): string =>
  eventId("wallet", walletId, ...parts)

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/**
 * A new operation id: 48 bits of milliseconds then 80 random bits, as 32 hex chars, so ids sort by creation
 * time (handy for history) and never collide in practice.
 */
export const newOperationId = (nowMs: number = Date.now()): string => {
  const random = new Uint8Array(10)
  globalThis.crypto.getRandomValues(random)
  return Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, "0").slice(-12) + hex(random)
}
