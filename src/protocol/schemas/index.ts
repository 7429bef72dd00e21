/**
 * The mint API wire schemas, one module per NUT area (see each module), plus the NUT-29 request validator.
 *
 * @module
 */
export * from "./batch-mint.js"
export * from "./checkstate.js"
export * from "./common.js"
export * from "./error.js"
export * from "./info.js"
export * from "./keys.js"
export * from "./melt.js"
export * from "./mint.js"
export * from "./restore.js"
export * from "./swap.js"
export * from "./ws.js"
