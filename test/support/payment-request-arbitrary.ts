import { fc } from "@fast-check/vitest"
import { bytesToHex } from "../../src/crypto/bytes.js"
import { MAX_AMOUNT } from "../../src/model/index.js"
import { encodeNprofile, encodeNpub } from "../../src/protocol/nip19.js"
import type {
  PaymentRequest,
  PaymentRequestNut10,
  PaymentRequestTransport,
  TagTuple,
} from "../../src/protocol/payment-request.js"

// Any Unicode scalar values; 16 code points stay under the 255-byte tag-entry bound of NUT-26.
const text = fc.string({ unit: "binary", maxLength: 16 })
const nonEmpty = fc.string({ unit: "binary", minLength: 1, maxLength: 16 })

const tuple = (key: fc.Arbitrary<string>): fc.Arbitrary<TagTuple> =>
  fc.tuple(key, fc.array(text, { maxLength: 3 })).map(([k, vs]): TagTuple => [k, ...vs])
const tags = (key: fc.Arbitrary<string>) =>
  fc.option(fc.array(tuple(key), { minLength: 1, maxLength: 3 }), { nil: undefined })

const withTags = <T extends object>(base: T, t: ReadonlyArray<TagTuple> | undefined): T =>
  t === undefined ? base : { ...base, tags: t }

const post: fc.Arbitrary<PaymentRequestTransport> = fc
  .tuple(text, tags(text))
  .map(([target, t]) => withTags({ type: "post", target }, t))

// On the NUT-26 wire "r" tuples of a nostr transport are the nprofile's relays, so the request's own
// tags never use that key; npub when there are no relays, nprofile otherwise (what a decoder rebuilds).
const nostr: fc.Arbitrary<PaymentRequestTransport> = fc
  .tuple(
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.array(text, { maxLength: 3 }),
    tags(text.filter((k) => k !== "r")),
  )
  .map(([key, relays, t]) => {
    const pubkey = bytesToHex(key)
    const target = relays.length === 0 ? encodeNpub(pubkey) : encodeNprofile({ pubkey, relays })
    return withTags({ type: "nostr", target }, t)
  })

const nut10: fc.Arbitrary<PaymentRequestNut10> = fc
  .tuple(fc.constantFrom("P2PK", "HTLC"), text, tags(text))
  .map(([kind, data, t]) => withTags({ kind, data }, t))

/** Valid, normalised requests that both encodings can carry (no empty lists, unit whenever amount). */
export const paymentRequestArb: fc.Arbitrary<PaymentRequest> = fc
  .record(
    {
      id: text,
      amount: fc.oneof(fc.bigInt(0n, MAX_AMOUNT), fc.constantFrom(0n, MAX_AMOUNT, 2n ** 53n, 2n ** 53n - 1n)),
      // A unit spelled as the single byte 0x00 is creqB's code for `sat`: no encoding can carry it both ways.
      unit: fc.oneof(
        fc.constantFrom("sat", "msat", "usd"),
        nonEmpty.filter((u) => u !== "\u0000"),
      ),
      singleUse: fc.boolean(),
      mints: fc.array(text, { minLength: 1, maxLength: 4 }),
      description: text,
      transports: fc.array(fc.oneof(post, nostr), { minLength: 1, maxLength: 3 }),
      nut10,
    },
    { requiredKeys: [] },
  )
  .map((r) => (r.amount !== undefined && r.unit === undefined ? { ...r, unit: "sat" } : r))
