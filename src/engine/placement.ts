/**
 * Placement of wallets over engine nodes by rendezvous (highest-random-weight) hashing (issue #12,
 * "Routing"). Pure: no I/O, no clock. Every node computes the same owner from the same member set; a node
 * joining takes only the wallets it now wins (≈ 1/n of them) and a node leaving gives up only its own —
 * no other wallet moves.
 *
 * The weight of node `n` for wallet `w` is the first 8 bytes (big-endian) of SHA-256 over
 * `len(n) ‖ n ‖ len(w) ‖ w` (UTF-8, lengths as 4-byte big-endian: the pair is framed, so no two pairs share
 * an input). Ties (2⁻⁶⁴) go to the smaller node id, so the result never depends on the order of `nodes`.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js"

const utf8 = new TextEncoder()

const framed = (parts: ReadonlyArray<string>): Uint8Array => {
  const bytes = parts.map((p) => utf8.encode(p))
  const out = new Uint8Array(bytes.reduce((n, b) => n + 4 + b.length, 0))
  const view = new DataView(out.buffer)
  let at = 0
  for (const b of bytes) {
    view.setUint32(at, b.length)
    out.set(b, at + 4)
    at += 4 + b.length
  }
  return out
}

/** The rendezvous weight of `nodeId` for `walletId` (an unsigned 64-bit integer). */
export const placementWeight = (nodeId: string, walletId: string): bigint => {
  const d = sha256(framed([nodeId, walletId]))
  return new DataView(d.buffer, d.byteOffset, d.byteLength).getBigUint64(0)
}

/**
 * The node a wallet is placed on: the member with the highest weight for it. Undefined when `nodes` is
 * empty. Duplicates and order in `nodes` do not matter.
 */
export const placementOf = (walletId: string, nodes: Iterable<string>): string | undefined => {
  let best: string | undefined
  let bestWeight = -1n
  for (const n of nodes) {
    const w = placementWeight(n, walletId)
    if (w > bestWeight || (w === bestWeight && best !== undefined && n < best)) {
      best = n
      bestWeight = w
    }
  }
  return best
}
