/**
 * The doc-example check compares what changes between runs loosely and the
 * rest exactly: a changed word, line or figure fails it.
 */
import { assert, describe, it } from "@effect/vitest"
import { maskedLines, matches } from "./docs/compare.js"
import { steps } from "./docs/examples.js"

const same = (doc: string, printed: string, exact = false) =>
  matches(maskedLines(doc.split("\n"), exact), maskedLines(printed.split("\n"), exact))

describe("doc examples: comparing output", () => {
  it("masks ids, ports, times, durations, costs and generated names, and widened columns", () => {
    assert.isTrue(same(
      "op_abc123  completed  rsi_variant_7  $0.05  2026-01-19T10:00:00Z  (16m 20s)  http://127.0.0.1:8000",
      "op_9f3e2d1c0b4a55  completed  momentum_variant_93    $1.20  2026-12-06T08:30:57Z  (0m 4s)  http://127.0.0.1:41873"
    ))
  })

  it("fails on a changed word, a missing line or an extra line", () => {
    assert.isFalse(same("Research cancelled: op_abc123", "Research canceled: op_abc123"))
    assert.isFalse(same("Budget: $3.42 remaining today\nCapacity: 3/5 active", "Budget: $3.42 remaining today"))
    assert.isFalse(same("Budget: $3.42 remaining today", "Budget: $3.42 remaining today\nCapacity: 3/5 active"))
  })

  it("reads … as any text in a line, and a line of … as any lines", () => {
    assert.isTrue(same("failed: … (see logs)", "failed: training job failed: boom (see logs)"))
    assert.isTrue(same("first\n…\nlast", "first\na\nb\nlast"))
    assert.isTrue(same("first\n…\nlast", "first\nlast"))
    assert.isFalse(same("first\n…\nlast", "first\na\nlast but one"))
  })

  it("exact blocks fail on a changed figure or trace", () => {
    assert.isTrue(same("Trace:  f3ca84976721bceb", "Trace: f3ca84976721bceb", true))
    assert.isFalse(same("Trace:  f3ca84976721bceb", "Trace: 6956709314156f60", true))
    assert.isFalse(same("Refusals:    9 at capacity", "Refusals:    7 at capacity", true))
  })

  it("reads commands, their output and the exit code each must end with", () => {
    assert.deepStrictEqual(steps(["$ foreman agent cancel op_nope", "Research not found: op_nope     (exit 1)", "", "$ foreman --version", "0.1.0"]), [
      { command: "foreman agent cancel op_nope", expected: ["Research not found: op_nope"], exit: 1 },
      { command: "foreman --version", expected: ["0.1.0"], exit: undefined }
    ])
  })
})
