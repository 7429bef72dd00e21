/**
 * NUT-16 frames of the CLI (`src/cli/qr.ts`): a large token split into `ur:bytes` parts that a UR decoder
 * (the same library cashu.me's reader is built on) puts back together byte for byte, even with frames lost.
 */
import { URDecoder } from "@ngraveio/bc-ur"
import { describe, expect, it } from "vitest"
import { renderQr, STATIC_QR_LIMIT, urFrames } from "../../src/cli/qr.js"

const bigToken = `cashuB${"o2FteBhodHRwOi8vMTI3LjAuMC4xOjMzMzhhdWNzYXRhdIGiYWlIAK0mjE0fWCZhcI".repeat(40)}`

describe("NUT-16 animated QR frames", () => {
  it("splits a large token into ur:bytes parts that decode back to it, even when some are missed", () => {
    expect(bigToken.length).toBeGreaterThan(STATIC_QR_LIMIT)
    const frames = urFrames(bigToken, 60)
    expect(frames[0]).toMatch(/^UR:BYTES\/1-\d+\//)
    const total = Number(/^UR:BYTES\/1-(\d+)\//.exec(frames[0]!)![1])
    expect(total).toBeGreaterThan(5)
    const decoder = new URDecoder()
    // Every third frame lost: the fountain-coded frames after the first `total` make up for them.
    frames.forEach((f, i) => {
      if (i % 3 !== 1 && !decoder.isComplete()) decoder.receivePart(f)
    })
    expect(decoder.isComplete() && decoder.isSuccess()).toBe(true)
    expect(decoder.resultUR().decodeCBOR().toString("utf8")).toBe(bigToken)
  })

  it("draws one code with half blocks", async () => {
    const qr = await renderQr("lnbcrt10u1example")
    expect(qr).toMatch(/[▀▄█]/)
    expect(qr.split("\n").length).toBeGreaterThan(10)
  })
})
