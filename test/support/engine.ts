/**
 * Engines for tests: a real LevelDB log in a fresh temp directory (weak test KDF), mints in-process.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import type { Wallet } from "../../src/engine/wallet.js"
import { directMintClient } from "./direct-mint-client.js"
import { createTestMint, type TestMint, type TestMintOptions } from "./mint/index.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "./vault.js"

/** A fresh temp directory. */
export const freshDir = (prefix = "corecashu-engine-"): string => mkdtempSync(join(tmpdir(), prefix))

/** Opens an engine on `dataDir` (fresh by default) against the given in-process mints. */
export const openTestEngine = (
  mints: ReadonlyArray<TestMint>,
  opts: Partial<EngineOpenOptions> & { readonly dataDir?: string } = {},
): Promise<Engine> => {
  const byUrl = new Map(mints.map((m) => [m.baseUrl, m]))
  return Engine.open({
    passphrase: "test passphrase",
    vault: INSECURE_TEST_VAULT_OPTIONS,
    mintClient: directMintClient((url) => byUrl.get(url)),
    options: { quotePollMs: 5 },
    ...opts,
    dataDir: opts.dataDir ?? freshDir(),
  } as EngineOpenOptions)
}

/** A test mint at a distinct URL. */
export const testMint = (name: string, options: TestMintOptions = {}): TestMint =>
  createTestMint({ baseUrl: `http://${name}.mint.test`, ...options })

/**
 * Engines closed after each test: `const open = enginesClosedAfterEach()` at the top of a test file, then
 * `await open([mint])` inside tests.
 */
export const enginesClosedAfterEach = (): ((
  ...args: Parameters<typeof openTestEngine>
) => Promise<Engine>) => {
  const engines: Engine[] = []
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close()
  })
  return async (...args) => {
    const e = await openTestEngine(...args)
    engines.push(e)
    return e
  }
}

/** Mints `amount` into `wallet` at `mint` (the in-process mint pays its own quotes). */
export const fund = async (wallet: Wallet, mint: TestMint, amount: bigint) => {
  const q = await wallet.mintQuote({ mintUrl: mint.baseUrl, amount })
  return wallet.mint(q.operationId)
}
