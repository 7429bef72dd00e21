/**
 * QR codes on a terminal: a bolt11 invoice or a small token as one code (`qrcode`, half-block characters),
 * and a token too large for one code as a NUT-16 animated QR — `ur:bytes` fragments of the token's text
 * (a CBOR byte string, as cashu.me and CDK read it), fountain-coded by `@ngraveio/bc-ur`, drawn one after
 * another in place until the user presses Enter (or for a bounded number of frames when standard input is not
 * a terminal). The token's text is always printed as well: a QR code is a convenience, never the only copy.
 *
 * @module
 */
import { UR, UREncoder } from "@ngraveio/bc-ur"
import QRCode from "qrcode"

/** Texts longer than this are shown as an animated code: one code of them is too dense to scan reliably. */
export const STATIC_QR_LIMIT = 600

/** Characters of token bytes per animated frame (cashu.me and CDK use fragments of this order). */
export const UR_FRAGMENT_LENGTH = 200

/** One QR code drawn with half blocks, for a terminal. */
export const renderQr = (text: string): Promise<string> =>
  QRCode.toString(text, { type: "terminal", small: true, errorCorrectionLevel: "L" })

/**
 * The NUT-16 frames of `text`: `ur:bytes/<seq>-<total>/…` parts, the first `count` of the encoder's endless
 * fountain-coded sequence (the first `total` are the plain fragments, later ones mix them so a receiver that
 * missed a frame still completes). Upper-cased as UR allows, so each code can use QR's alphanumeric mode.
 */
export const urFrames = (text: string, count?: number, fragmentLength = UR_FRAGMENT_LENGTH): string[] => {
  const encoder = new UREncoder(UR.fromBuffer(Buffer.from(text, "utf8")), fragmentLength, 0)
  const n = count ?? encoder.fragmentsLength
  return Array.from({ length: n }, () => encoder.nextPart().toUpperCase())
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits for Enter on a terminal standard input; resolves `false` at once when there is none. */
const enterPressed = (): { readonly pressed: () => boolean; readonly stop: () => void } => {
  if (process.stdin.isTTY !== true) return { pressed: () => false, stop: () => undefined }
  let hit = false
  const onData = () => {
    hit = true
  }
  process.stdin.resume()
  process.stdin.on("data", onData)
  return {
    pressed: () => hit,
    stop: () => {
      process.stdin.off("data", onData)
      process.stdin.pause()
    },
  }
}

/**
 * Shows `text` as a QR code on standard output (a terminal): one code when it is short enough, else the
 * animated NUT-16 sequence, redrawn in place every `frameMs` until Enter (at most `maxFrames` frames).
 */
export const showQr = async (
  text: string,
  { frameMs = 250, maxFrames = 400 }: { frameMs?: number; maxFrames?: number } = {},
): Promise<void> => {
  const out = process.stdout
  if (text.length <= STATIC_QR_LIMIT) {
    out.write(await renderQr(text))
    return
  }
  const encoder = new UREncoder(UR.fromBuffer(Buffer.from(text, "utf8")), UR_FRAGMENT_LENGTH, 0)
  out.write(
    `animated QR (NUT-16, ${encoder.fragmentsLength} fragments)${process.stdin.isTTY === true ? ": press Enter to stop" : ""}\n`,
  )
  const key = enterPressed()
  let lines = 0
  try {
    for (let i = 0; i < maxFrames && !key.pressed(); i++) {
      const frame = await renderQr(encoder.nextPart().toUpperCase())
      if (lines > 0) out.write(`\u001b[${lines}A`)
      out.write(frame)
      lines = frame.split("\n").length - 1
      await sleep(frameMs)
    }
  } finally {
    key.stop()
  }
}
