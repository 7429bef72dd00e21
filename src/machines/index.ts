/**
 * The machines: the proof lifecycle and one saga per operation kind, used as pure transitions.
 *
 * @module
 */
export * from "./checkstate.js"
export * from "./melt.js"
export * from "./mint.js"
export * from "./operation.js"
export * from "./proof.js"
export * from "./receive.js"
export * from "./restore.js"
export * from "./saga.js"
export * from "./send.js"
export * from "./swap.js"
