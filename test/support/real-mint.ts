/** The reference-mint harness lives in `src/cli/real-mint.ts` (the demo uses it too); tests import it here. */
export * from "../../src/cli/real-mint.js"
