/** A request's fingerprint: SHA-256 (checked against Node's) of its canonical JSON. */
import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as Fingerprint from "../../src/internal/fingerprint.js"

describe("fingerprint", () => {
  it("is SHA-256 of the text as UTF-8, across block boundaries", () => {
    for (const text of ["", "abc", "x".repeat(55), "x".repeat(56), "x".repeat(64), "é名🚀".repeat(300), "y".repeat(100_000)]) {
      assert.strictEqual(Fingerprint.sha256(text), createHash("sha256").update(text, "utf8").digest("hex"), `${text.length} chars`)
    }
  })

  it("ignores key order and absent fields; every value counts", () => {
    const a = Fingerprint.of({ brief: "RSI", strategy: { name: "s", spec: { b: 1, a: [{ y: 2, x: 1 }] } }, force: undefined })
    assert.strictEqual(a, Fingerprint.of({ strategy: { spec: { a: [{ x: 1, y: 2 }], b: 1 }, name: "s" }, brief: "RSI" }))
    assert.notStrictEqual(a, Fingerprint.of({ brief: "RSI", strategy: { name: "s", spec: { b: 1, a: [{ y: 2, x: 1 }] } }, force: false }))
    assert.notStrictEqual(a, Fingerprint.of({ brief: "RSI ", strategy: { name: "s", spec: { b: 1, a: [{ y: 2, x: 1 }] } } }))
  })
})
