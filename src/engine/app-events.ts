/**
 * The live feed of app events behind `engine.events()` / `wallet.events()` (issue #15): the pure fold of
 * `../projections/app-events.ts` run over the store's subscription, as an Effect `Stream` and as an
 * `AsyncIterable` for Promise users.
 *
 * Positions and resuming: every app event carries the global sequence of the log event it derives from.
 * `fromPosition: p` yields the app events of log positions `> p`, in log order; without it the feed starts
 * right after what the engine's views (`wallet.balances()`, `history()`) reflect: at the call for the
 * `AsyncIterable` (however late its first `next()` comes), when the stream runs for the `Stream`. To resume
 * without loss or repeat, keep the position of the last event fully handled — one log event can yield
 * several app events, all with its position — and pass it back.
 *
 * Cost: balances need the state before the first delivered event, so the first event of each wallet read
 * from the feed warms the fold with that wallet's own stream up to it (one `read` of that stream, folded in a
 * batch). A wallet's feed therefore costs one read of its history; an engine's feed one per wallet that
 * shows activity, never the whole log up front.
 *
 * Ending: closing the iterator (`break` in `for await`, `return()`) or interrupting the stream ends the
 * store subscription and releases it. When the engine closes, the feed ends (done, no error). On a JetStream
 * multi-node engine the log is shared: a node's `engine.events()` covers every wallet of the log it follows
 * (its own and other nodes'), as far as the node has caught up with the server.
 *
 * @module
 */
import { Effect, Stream } from "effect"
import { walletIdOfStream, walletStream } from "../events/ids.js"
import type { EngineClosed, InvalidArgument, StoreError } from "../model/index.js"
import type { EventStoreShape, RecordedEvent } from "../ports/event-store.js"
import {
  type AppEvent,
  type AppEventState,
  absorbAppEvents,
  deriveAppEvents,
  initialAppEventState,
} from "../projections/app-events.js"
import { checked, integer, options } from "./arguments.js"

/** Options of `engine.events()` and `wallet.events()`. */
export interface AppEventsOptions {
  /**
   * Yield the app events of log positions strictly after this one (0: from the beginning of the log). Pass
   * the `position` of the last event handled to resume. Default: the position the engine's views
   * (`wallet.balances()`, `history()`) reflect at the call (`events()`) or when the stream runs (`.effect`).
   */
  readonly fromPosition?: number
}

/** What an app-event stream fails with: a bad option, a closed engine, or the log. */
export type AppEventsError = InvalidArgument | EngineClosed | StoreError

const KEYS = { fromPosition: true } as const

/** Checks `events(options)`'s argument; throws `InvalidArgument`. */
export const appEventsArgs = (opts: unknown): AppEventsOptions => {
  const o = options<AppEventsOptions>(opts, "options", KEYS)
  return o.fromPosition === undefined
    ? {}
    : { fromPosition: integer(o.fromPosition, "options.fromPosition", 0, Number.MAX_SAFE_INTEGER) }
}

/** Where a feed starts: the checked options, and the engine's default start (its views' position). */
export interface AppEventsStart {
  readonly options: AppEventsOptions
  /** The position the engine's views (`balances()`, `history()`) reflect now. */
  readonly viewPosition: () => number
}

/**
 * The app events of `store` (of one wallet's stream when `walletId` is given), from `fromPosition`, or from
 * `viewPosition()` read when the stream starts. `closed` says whether the engine is closed (the stream then
 * fails with its `EngineClosed` at start).
 */
export const appEventStream = (
  store: EventStoreShape,
  start: AppEventsStart,
  closed: () => EngineClosed | undefined,
  walletId?: string,
): Stream.Stream<AppEvent, AppEventsError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const isClosed = closed()
      if (isClosed !== undefined) return yield* Effect.fail(isClosed)
      const from = start.options.fromPosition ?? start.viewPosition()
      const head = yield* store.head
      const only = walletId === undefined ? undefined : walletStream(walletId)
      // Per run: the fold's state and the streams already warmed.
      let state: AppEventState = initialAppEventState
      const warmed = new Set<string>()
      const warm = (rec: RecordedEvent): Effect.Effect<void, StoreError> => {
        const stream = rec.envelope.streamId
        if (warmed.has(stream)) return Effect.void
        warmed.add(stream)
        if (walletIdOfStream(stream) === undefined) return Effect.void
        return Effect.map(store.read(stream), (events) => {
          const before = events.filter((r) => r.envelope.sequence < rec.envelope.sequence)
          state = absorbAppEvents(state, before)
        })
      }
      const step = (rec: RecordedEvent): Effect.Effect<ReadonlyArray<AppEvent>, StoreError> =>
        Effect.map(warm(rec), () => {
          const [next, derived] = deriveAppEvents(state, rec)
          state = next
          // Positions up to `from` (a resume point past the head) are folded, not delivered.
          return rec.envelope.sequence > from ? derived : []
        })
      return store.subscribe(Math.min(from, head) + 1).pipe(
        Stream.filter((rec: RecordedEvent) => only === undefined || rec.envelope.streamId === only),
        Stream.mapEffect(step),
        Stream.flattenIterable,
        // The engine closed under the feed: the end of the feed, not a failure.
        Stream.catchIf(
          (e: StoreError) => e._tag === "StoreUnavailable" && e.reason === "closed",
          () => Stream.empty,
        ),
      )
    }),
  )

/**
 * `engine.eventsEffect(options)` / `wallet.effect.events(options)`: the options are checked when the stream
 * runs (a bad one fails it with `InvalidArgument`), and the default start is read then too.
 */
export const appEventStreamOf = (
  store: EventStoreShape,
  opts: unknown,
  viewPosition: () => number,
  closed: () => EngineClosed | undefined,
  walletId?: string,
): Stream.Stream<AppEvent, AppEventsError> =>
  Stream.unwrap(
    Effect.map(
      checked(() => appEventsArgs(opts)),
      (options) => appEventStream(store, { options, viewPosition }, closed, walletId),
    ),
  )

/**
 * `engine.events(options)` / `wallet.events(options)`: the options are checked at once (a bad one throws
 * `InvalidArgument` from the call), and the default start is the views' position at the time of the call, so
 * what happens after the call is never missed, however late the first `next()` comes. Each `for await` over
 * the result runs a new feed from that same start.
 */
export const appEventIterable = (
  store: EventStoreShape,
  opts: unknown,
  viewPosition: () => number,
  closed: () => EngineClosed | undefined,
  walletId?: string,
): AsyncIterable<AppEvent> => {
  const options = appEventsArgs(opts)
  const at = options.fromPosition ?? viewPosition()
  return Stream.toAsyncIterable(
    appEventStream(store, { options: { fromPosition: at }, viewPosition: () => at }, closed, walletId),
  )
}
