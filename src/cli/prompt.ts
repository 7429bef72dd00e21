/**
 * A no-echo prompt for the passphrase (and a mnemonic) on a terminal: the question goes to standard error,
 * the answer is read from standard input in raw mode and never echoed — not even as `*` — so neither the
 * screen, a scrollback nor a terminal log holds it or its length. Ctrl-C and Ctrl-D abort.
 *
 * Why not `Prompt.password` of `effect/cli`: its Node terminal writes to standard output, which `--json` keeps
 * for the one JSON document; this one writes only to standard error.
 *
 * @module
 */

/** The user aborted the prompt (Ctrl-C, Ctrl-D on an empty line, or the input ended). */
export class PromptAborted extends Error {
  constructor() {
    super("the prompt was aborted")
    this.name = "PromptAborted"
  }
}

/** Whether a no-echo prompt can be shown: standard input and standard error are terminals. */
export const canPrompt = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true

/** Asks `question` on standard error and reads one line from the terminal without echoing it. */
export const promptHidden = (question: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const stdin = process.stdin
    process.stderr.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding("utf8")
    let answer = ""
    const done = (error?: Error) => {
      stdin.off("data", onData)
      stdin.off("end", onEnd)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write("\n")
      if (error !== undefined) reject(error)
      else resolve(answer)
    }
    const onEnd = () => done(new PromptAborted())
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done()
        if (ch === "\u0003") return done(new PromptAborted())
        if (ch === "\u0004") {
          if (answer.length === 0) return done(new PromptAborted())
          return done()
        }
        if (ch === "\u007f" || ch === "\b") answer = answer.slice(0, -1)
        else if (ch === "\u0015") answer = ""
        else if (ch >= " ") answer += ch
      }
    }
    stdin.on("data", onData)
    stdin.once("end", onEnd)
  })
