/**
 * `GET /agent/status` writes the status view's JSON from the view as it is,
 * without its schema's encoding pass: these tests hold that the two give the
 * same JSON, for any view the schema allows and for what a real server answers.
 */
import { assert, describe, it } from "@effect/vitest"
import { Status } from "@foreman/api/Api"
import { Arbitrary, Effect, FastCheck as fc, Schema } from "effect"
import { startServer } from "@foreman/testing/ApiHarness"

/** What the schema's encoding would have written for `view`, read back. */
const encodedJson = (view: typeof Status.Type): unknown => JSON.parse(JSON.stringify(Schema.encodeSync(Status)(view)))

describe("the status view's JSON", () => {
  it("is the schema's encoding, for any view the schema allows", () => {
    // But a worker type "__proto__" (no worker type: they are lowercase names), which the
    // schema's encoding loses (it assigns each key of a record) and JSON.stringify keeps.
    const views = Arbitrary.make(Status).filter((view) => !Object.hasOwn(view.workers, "__proto__"))
    fc.assert(
      fc.property(views, (view) => {
        assert.deepStrictEqual(JSON.parse(JSON.stringify(view)), encodedJson(view))
      }),
      { numRuns: 200 }
    )
  })

  it.scopedLive("is what the server answers: every field of the schema, none more", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 5 } } })
      const api = yield* server.client()
      yield* api.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      yield* api.agent.trigger({ payload: { brief: "Test MACD strategies" } })
      const response = yield* server.fetch("/api/v1/agent/status")
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("content-type"), "application/json")
      const body: unknown = yield* Effect.promise(() => response.json())
      const view = Schema.decodeUnknownSync(Status)(body)
      assert.strictEqual(view.active.length, 2)
      // Decoding leaves out unknown fields: a field the view has and the schema lacks would show here.
      assert.deepStrictEqual(body, encodedJson(view))
    }))
})
