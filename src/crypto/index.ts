/**
 * `corecashu/crypto` — pure Cashu cryptography on bytes and points: NUT-00 BDHKE, NUT-12 DLEQ, NUT-13
 * deterministic secrets, NUT-10/11 P2PK, NUT-14 HTLC, NUT-20 quote signatures, NUT-27 backup keys, NUT-28 P2BK,
 * and the secp256k1 backends (native libsecp256k1, WASM, noble) they run on.
 *
 * Secret scalars (blinding factors, private keys, DLEQ nonces) only ever go through constant-time
 * multiplication; public scalars (DLEQ `e`, `s`) may take variable-time fast paths.
 *
 * @module
 */
export * from "./backend.js"
export type { PointInput, ScalarInput } from "./backends/common.js"
export * from "./bdhke.js"
export * from "./bytes.js"
export { createDleq, hashE, type ProofWithDleq, verifyBlindSignatureDleq, verifyProofDleq } from "./dleq.js"
export * from "./hash-to-curve.js"
export * from "./htlc.js"
export * from "./keys.js"
export * from "./nut10.js"
export * from "./nut13.js"
export * from "./nut20.js"
export * from "./nut27.js"
export * from "./p2bk.js"
export * from "./p2pk.js"
export {
  CURVE_ORDER,
  decodeCompressedPoint,
  type PrivateKeyInput,
  parsePrivateKey,
  publicKeyHex,
  sha256Utf8,
  signDigest,
  verifyDigest,
  xOnlyFromCompressed,
} from "./schnorr.js"
