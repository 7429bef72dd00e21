/**
 * The in-process TypeScript test mint (test support): see `mint.ts`.
 *
 * @module
 */
export type { FaultKind, FaultSpec } from "./faults.js"
export { fakeInvoice, parseFakeInvoice } from "./invoice.js"
export type { MintKeyset } from "./keysets.js"
export type { MintHttpRequest, MintStats, TestMintOptions } from "./mint.js"
export { createTestMint, TestMint } from "./mint.js"
export type { MintHttpResponse } from "./router.js"
export { type ServedMint, serve } from "./serve.js"
export { proofY } from "./signer.js"
export type { MeltOutcome, MintConfig } from "./state.js"
