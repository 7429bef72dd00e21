/**
 * Opening against a cluster that is still settling. Right after servers start, or while they elect a
 * JetStream meta leader or place a new bucket's replicas, requests fail for a few seconds with answers that
 * say "not now" rather than "no": `503 jetstream is not enabled`, no responders, timeouts, no leader /
 * insufficient resources. Open-time setup (create a bucket, read its status, announce a node) retries those
 * with backoff within a budget, so a node started beside a fresh cluster does not die of the cluster's
 * start-up; any other failure, or the budget spent, fails at once.
 *
 * @module
 */

/** Messages of NATS / JetStream failures that mean "the cluster is settling", not "refused". */
const SETTLING =
  /jetstream is not enabled|no responders|timeout|timed out|503|no suitable peers|insufficient resources|leader|not current|cluster not available|stream is offline/i

/** Whether `e` is a failure the cluster's settling explains (see the module comment). */
export const isSettling = (e: unknown): boolean =>
  e instanceof Error && (SETTLING.test(e.message) || SETTLING.test(String((e as { code?: unknown }).code)))

/** Runs `f`, again after a settling failure (50 ms doubling to 1 s) until `budgetMs` (default 20 s) is spent. */
export const whenSettled = async <A>(f: () => Promise<A>, budgetMs = 20_000): Promise<A> => {
  const until = Date.now() + budgetMs
  for (let wait = 50; ; wait = Math.min(1_000, wait * 2)) {
    try {
      return await f()
    } catch (e) {
      if (!isSettling(e) || Date.now() + wait > until) throw e
      await new Promise((r) => setTimeout(r, wait))
    }
  }
}

/** `f` as a thunk retried while the cluster settles ({@link whenSettled}), for open-time setup. */
export const settled =
  <A>(f: () => Promise<A>) =>
  (): Promise<A> =>
    whenSettled(f)
