/**
 * Real NATS servers for tests (`./nats-servers.ts`), stopped by vitest after each test or after a file.
 *
 * @module
 */
import { afterAll, afterEach } from "vitest"
import { type NatsServers, type StartNatsOptions, startNats } from "./nats-servers.js"

export { type NatsServers, type StartNatsOptions, startNats } from "./nats-servers.js"

const closer = (register: (fn: () => Promise<void>) => void) => {
  const started: NatsServers[] = []
  register(async () => {
    const all = started.splice(0)
    await Promise.all(all.map((s) => s.stop()))
  })
  return async (options?: StartNatsOptions) => {
    const s = await startNats(options)
    started.push(s)
    return s
  }
}

/**
 * Servers stopped after each test: `const nats = natsClosedAfterEach()` at the top of a test file, then
 * `const { servers } = await nats({ cluster: 3 })` inside tests.
 */
export const natsClosedAfterEach = (): ((options?: StartNatsOptions) => Promise<NatsServers>) =>
  closer((fn) => afterEach(fn))

/** Servers shared by the tests of a file (or `describe`), stopped after the last one. */
export const natsClosedAfterAll = (): ((options?: StartNatsOptions) => Promise<NatsServers>) =>
  closer((fn) => afterAll(fn))
