/** `Client.describe` and `Client.messageOf`: every failure becomes a line a person reads, never `[object Object]`. */
import { assert, describe, it } from "@effect/vitest"
import { Data } from "effect"
import { Client } from "../src/index.js"

class Tagged extends Data.TaggedError("Tagged")<{ readonly detail: number }> {}

describe("Client", () => {
  it("messageOf reads messages, tags and plain values", () => {
    assert.strictEqual(Client.messageOf(new Error("boom")), "boom")
    assert.strictEqual(Client.messageOf("plain text"), "plain text")
    assert.strictEqual(Client.messageOf(new Tagged({ detail: 1 })), "Tagged")
    assert.strictEqual(Client.messageOf({ code: 7 }), `{"code":7}`)
    assert.strictEqual(Client.messageOf(42), "42")
    assert.strictEqual(Client.messageOf(undefined), "undefined")
    const circular: Record<string, unknown> = {}
    circular["self"] = circular
    assert.strictEqual(Client.messageOf(circular), "unknown error")
  })

  it("an unknown failure of a call is one readable line", () => {
    const failed = Client.describe("http://127.0.0.1:8000", { reason: "odd" })
    assert.strictEqual(failed.message, `Request to http://127.0.0.1:8000 failed: {"reason":"odd"}`)
    assert.strictEqual(Client.describe("http://x", {}).message, "Request to http://x failed: unknown error")
  })
})
