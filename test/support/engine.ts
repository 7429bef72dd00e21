/**
 * Engines for tests: a real LevelDB log in a fresh temp directory (weak test KDF), mints in-process.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Engine, type EngineOpenOptions } from "../../src/engine/engine.js"
import { INSECURE_TEST_VAULT_OPTIONS } from "../../src/infra/vault.js"
import { directMintClient } from "./direct-mint-client.js"
import { createTestMint, type TestMint, type TestMintOptions } from "./mint/index.js"

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
