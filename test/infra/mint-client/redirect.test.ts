/** A redirect is never followed: fetch would re-send a swap's body wherever a 307 points. */
import { createServer } from "node:http"
import { Effect } from "effect"
import { expect, it } from "vitest"
import { MintClientHttpLive } from "../../../src/infra/mint-client/http.js"
import { MintClient } from "../../../src/ports/mint-client.js"

it("answers a 307 to a swap as ambiguous and sends the body once", async () => {
  let hits = 0
  const server = createServer((req, res) => {
    hits++
    if (req.url === "/v1/swap") {
      res.writeHead(307, { location: "/v1/elsewhere" })
      res.end()
      return
    }
    res.writeHead(200, { "content-type": "application/json" })
    res.end('{"signatures":[]}')
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  try {
    const { port } = server.address() as { port: number }
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const client = yield* MintClient
        return yield* Effect.result(client.swap(`http://127.0.0.1:${port}`, '{"inputs":[],"outputs":[]}'))
      }).pipe(Effect.provide(MintClientHttpLive())),
    )
    expect(result._tag).toBe("Failure")
    if (result._tag === "Failure")
      expect(result.failure).toMatchObject({ _tag: "MintAmbiguous", status: 307 })
    expect(hits).toBe(1)
  } finally {
    server.close()
  }
})
