/**
 * A storage failure answers 503 `StorageError` with its reason and nothing
 * more (the failure underneath stays on the server), and the server's log
 * keeps that failure: the `StorageError`'s cause.
 */
import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@foreman/core"
import { Cause, Effect, Logger } from "effect"
import { engineWithResearches, serveOver } from "@foreman/testing/ApiHarness"

/** What the driver said, as the adapter keeps it. */
const driverError = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" })

/** The in-memory stores, but reading one research fails as a lost database would. */
const failing = engineWithResearches((store) => ({
  ...store,
  get: () => Effect.fail(new Errors.StorageError({ reason: "connection lost", cause: driverError }))
}))

describe("a storage failure over HTTP", () => {
  it.scopedLive("answers 503 with the reason, and logs the cause", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ cause, message }) => {
        lines.push(`${String(message)}\n${Cause.pretty(cause, { renderErrorCause: true })}`)
      })
      const baseUrl = yield* serveOver(failing).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      const answer = yield* Effect.promise(async () => {
        const response = await fetch(`${baseUrl}/api/v1/agent/researches/op_1`)
        return { status: response.status, text: await response.text() }
      }).pipe(Effect.zipLeft(Effect.sleep("50 millis")))
      assert.strictEqual(answer.status, 503)
      const body = JSON.parse(answer.text) as Record<string, unknown>
      assert.strictEqual(body["_tag"], "StorageError")
      assert.strictEqual(body["message"], "Storage failure: connection lost")
      assert.notInclude(answer.text, "administrator command", "the cause stays on the server")
      const logged = lines.find((line) => line.includes("answered 503"))
      assert.isDefined(logged)
      assert.include(logged, "Storage failure: connection lost")
      assert.include(logged, "[cause]: Error: terminating connection due to administrator command")
    }))
})
