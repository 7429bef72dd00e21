/**
 * Test support: vault options with a trivially cheap KDF, for suites, benchmarks and simulations that open
 * many throwaway logs. Kept outside `src`, so the published package cannot hand them to anyone.
 *
 * @module
 */
import type { VaultOptions } from "../../src/infra/vault.js"

/**
 * TESTS ONLY: options for a passphrase vault with a trivially cheap scrypt (N = 16, r = 1). Material created
 * with them can only be unlocked with them again.
 */
export const INSECURE_TEST_VAULT_OPTIONS: VaultOptions = {
  scrypt: { N: 16, r: 1, p: 1 },
  insecureAllowWeakKdf: true,
}
