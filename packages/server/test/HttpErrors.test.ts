/**
 * Errors a person can read, in JSON, over real HTTP: a path nothing serves is
 * 404, a method a path does not take is 405 with `Allow`, and a request that
 * does not fit its schema is 400 saying what is wrong in words.
 */
import { assert, describe, it } from "@effect/vitest"
import { startServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"

const read = (response: Response) =>
  Effect.promise(async () => ({
    status: response.status,
    type: response.headers.get("content-type"),
    allow: response.headers.get("allow"),
    body: (await response.json()) as { readonly _tag: string; readonly message: string }
  }))

describe("HTTP errors", () => {
  it.scopedLive("404 and 405 answer JSON; 400 says what is wrong without the schema's text", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const missing = yield* read(yield* server.fetch("/api/v1/nope"))
      assert.deepStrictEqual([missing.status, missing.type, missing.body._tag], [404, "application/json", "NotFound"])
      assert.include(missing.body.message, "GET /api/v1/nope")

      const wrongMethod = yield* read(yield* server.fetch("/api/v1/agent/status", { method: "POST", body: "{}" }))
      assert.deepStrictEqual([wrongMethod.status, wrongMethod.allow, wrongMethod.body._tag], [405, "GET", "MethodNotAllowed"])
      assert.strictEqual(wrongMethod.body.message, "POST is not allowed on /api/v1/agent/status: use GET")
      const research = yield* read(yield* server.fetch("/api/v1/agent/researches/op_x", { method: "PUT", body: "{}" }))
      assert.deepStrictEqual([research.status, research.allow], [405, "GET, DELETE"])

      const badBrief = yield* read(yield* server.fetch("/api/v1/agent/trigger", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ brief: 5 })
      }))
      assert.strictEqual(badBrief.status, 400)
      assert.strictEqual(badBrief.body.message, "Invalid request: brief: Expected string, actual 5")
      const badLimit = yield* read(yield* server.fetch("/api/v1/agent/researches?limit=abc"))
      assert.strictEqual(badLimit.body.message, `Invalid request: limit: Unable to decode "abc" into a number`)
    }))
})
