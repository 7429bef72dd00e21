import { describe, expect, it } from "vitest"
import { decodeMintResponse } from "../../../src/protocol/decode.js"
import {
  cachedEndpoint,
  InfoResponseSchema,
  methodDisplayName,
  supportsNut,
} from "../../../src/protocol/schemas/info.js"

// NUT-06 example response.
const NUT06 = `{
  "name": "Bob's Cashu mint",
  "pubkey": "0283bf290884eed3a7ca2663fc0260de2e2064d6b355ea13f98dec004b7a7ead99",
  "version": "Nutshell/0.15.0",
  "description": "The short mint description",
  "description_long": "A description that can be a long piece of text.",
  "contact": [
    {"method": "email", "info": "contact@me.com"},
    {"method": "twitter", "info": "@me"},
    {"method": "nostr", "info": "npub..."}
  ],
  "motd": "Message to display to users.",
  "icon_url": "https://mint.host/icon.jpg",
  "urls": ["https://mint.host", "http://mint8gv0sq5ul602uxt2fe0t80e3c2bi9fy0cxedp69v1vat6ruj81wv.onion"],
  "time": 1725304480,
  "tos_url": "https://mint.host/tos",
  "nuts": {
    "4": {"methods": [{"method": "bolt11", "unit": "sat", "min_amount": 0, "max_amount": 10000}], "disabled": false},
    "5": {"methods": [{"method": "bolt11", "unit": "sat", "min_amount": 100, "max_amount": 10000}], "disabled": false},
    "7": {"supported": true},
    "8": {"supported": true},
    "9": {"supported": true},
    "10": {"supported": true},
    "12": {"supported": true}
  }
}`

// Nutshell-style: explicit nulls, legacy contact pairs, options, and the settings of NUT-15/17/19/20/29, plus
// things to ignore or drop (an unknown NUT, a malformed NUT-11 setting).
const NUTSHELL = `{
  "name": "nutshell", "pubkey": null, "version": "Nutshell/0.20.3", "description": null, "description_long": null,
  "contact": [["email", "a@b.c"]], "motd": null, "icon_url": null, "urls": null, "time": 1725304480, "tos_url": null,
  "nuts": {
    "4": {"methods": [{"method": "bolt11", "unit": "sat", "min_amount": null, "max_amount": null, "options": {"description": true}}], "disabled": false},
    "5": {"methods": [{"method": "bolt11", "unit": "sat", "options": {"amountless": true}}, {"method": "apple-pay", "unit": "usd", "method_name": null}]},
    "11": {"supported": "yes"},
    "14": {"supported": true},
    "15": {"methods": [{"method": "bolt11", "unit": "sat"}]},
    "17": {"supported": [{"method": "bolt11", "unit": "sat", "commands": ["bolt11_mint_quote", "bolt11_melt_quote", "proof_state"]}]},
    "19": {"ttl": null, "cached_endpoints": [{"method": "POST", "path": "/v1/mint/bolt11"}, {"method": "POST", "path": "/v1/swap"}]},
    "20": {"supported": true},
    "29": {"max_batch_size": 100, "methods": ["bolt11", "bolt12"]},
    "99": {"whatever": [1, 2, 3]}
  },
  "server_extra": {"x": 1}
}`

describe("GET /v1/info (NUT-06)", () => {
  it("decodes the NUT-06 example", () => {
    const info = decodeMintResponse(InfoResponseSchema, NUT06)
    expect(info.name).toBe("Bob's Cashu mint")
    expect(info.contact).toHaveLength(3)
    expect(info.nuts?.["4"]?.methods[0]).toEqual({
      method: "bolt11",
      unit: "sat",
      min_amount: 0n,
      max_amount: 10000n,
    })
    expect(info.nuts?.["5"]?.disabled).toBe(false)
    expect(supportsNut(info, "7")).toBe(true)
    expect(supportsNut(info, "11")).toBe(false)
    expect(info.time).toBe(1725304480)
  })

  it("decodes a nutshell-style answer: nulls absent, legacy contacts, every gated setting", () => {
    const info = decodeMintResponse(InfoResponseSchema, NUTSHELL)
    expect(info.pubkey).toBeUndefined()
    expect(info.contact).toEqual([{ method: "email", info: "a@b.c" }])
    expect(info.nuts?.["4"]?.methods[0]?.options).toEqual({ description: true })
    expect(info.nuts?.["5"]?.methods[0]?.options).toEqual({ amountless: true })
    expect(info.nuts?.["15"]?.methods).toEqual([{ method: "bolt11", unit: "sat" }])
    expect(info.nuts?.["17"]?.supported[0]?.commands).toContain("proof_state")
    expect(info.nuts?.["19"]).toEqual({
      cached_endpoints: [
        { method: "POST", path: "/v1/mint/bolt11" },
        { method: "POST", path: "/v1/swap" },
      ],
    })
    expect(info.nuts?.["29"]).toEqual({ max_batch_size: 100, methods: ["bolt11", "bolt12"] })
    expect(supportsNut(info, "14")).toBe(true)
    expect(supportsNut(info, "20")).toBe(true)
    expect("server_extra" in info).toBe(false)
    expect(Object.keys(info.nuts ?? {})).not.toContain("99")
  })

  it("drops a malformed NUT setting instead of failing the whole info", () => {
    const info = decodeMintResponse(InfoResponseSchema, NUTSHELL)
    expect(info.nuts?.["11"]).toBeUndefined()
    expect(supportsNut(info, "11")).toBe(false)
  })

  it("derives method display names (NUT-04)", () => {
    const info = decodeMintResponse(InfoResponseSchema, NUTSHELL)
    expect(info.nuts?.["5"]?.methods.map(methodDisplayName)).toEqual(["Bolt11", "Apple Pay"])
    expect(methodDisplayName({ method: "x", method_name: "Custom" })).toBe("Custom")
  })

  it("answers NUT-19 replay questions", () => {
    const info = decodeMintResponse(InfoResponseSchema, NUTSHELL)
    expect(cachedEndpoint(info, "post", "/v1/swap")).toEqual({ ttlSeconds: null })
    expect(cachedEndpoint(info, "POST", "/v1/melt/bolt11")).toBeUndefined()
    const withTtl = decodeMintResponse(
      InfoResponseSchema,
      '{"nuts":{"19":{"ttl":300,"cached_endpoints":[{"method":"POST","path":"/v1/swap"}]}}}',
    )
    expect(cachedEndpoint(withTtl, "POST", "/v1/swap")).toEqual({ ttlSeconds: 300 })
    expect(cachedEndpoint(decodeMintResponse(InfoResponseSchema, "{}"), "POST", "/v1/swap")).toBeUndefined()
  })
})
