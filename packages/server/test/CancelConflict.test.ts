/**
 * A cancel that loses to concurrent writes every time it tries answers 409
 * `CancelConflict` with a body that says what happened and what to do, not
 * 503: the research is there, nothing is broken, and cancelling again is safe.
 * The store here loses every conditional write of a research, as when another
 * replica keeps writing it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@foreman/core"
import { Effect, Logger, LogLevel } from "effect"
import { engineWithResearches, json, serveOver } from "@foreman/testing/ApiHarness"

/** The in-memory stores, but every conditional write of a research loses. */
const losing = engineWithResearches((store) => ({
  ...store,
  commit: (t) => Effect.fail(new Errors.StaleWrite({ researchId: t.research.id, reason: "changed meanwhile" }))
}))

const send = (url: string, init: RequestInit) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

describe("DELETE /agent/researches/{id} in a conflicting state", () => {
  it.scopedLive("answers 409 CancelConflict, says to cancel again, and cancels nothing", () =>
    Effect.gen(function*() {
      const baseUrl = yield* Logger.withMinimumLogLevel(serveOver(losing), LogLevel.None)
      const triggered = yield* send(`${baseUrl}/api/v1/agent/trigger`, json("POST", { brief: "Explore RSI variations" }))
      assert.strictEqual(triggered.status, 202)
      const id = String(triggered.body["researchId"])
      for (const path of [`/api/v1/agent/researches/${id}`, `/api/v1/agent/cancel/${id}`]) {
        const answer = yield* send(`${baseUrl}${path}`, { method: "DELETE" })
        assert.strictEqual(answer.status, 409, path)
        assert.strictEqual(answer.body["_tag"], "CancelConflict")
        assert.strictEqual(answer.body["researchId"], id)
        assert.strictEqual(
          answer.body["message"],
          `Research ${id} kept changing while being cancelled (5 attempts): cancel it again`
        )
      }
      const shown = yield* send(`${baseUrl}/api/v1/agent/researches/${id}`, { method: "GET" })
      assert.strictEqual((shown.body["research"] as Record<string, unknown>)["status"], "pending")
    }))
})
