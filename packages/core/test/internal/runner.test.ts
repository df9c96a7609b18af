/**
 * What a failed in-process job records, decided from its cause alone: an
 * agent's failure with the calls it made (charged and summed into its usage),
 * a defect told in full, an interruption nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, FiberId } from "effect"
import { AgentError } from "../../src/Errors.js"
import * as Runner from "../../src/internal/runner.js"

const call = (costUsd: number) => ({
  model: "claude-test",
  inputTokens: 100,
  outputTokens: 20,
  cachedInputTokens: 0,
  costUsd,
  latencyMs: 5,
  error: null
})

describe("failureOf", () => {
  it("records nothing for a run that was only interrupted", () => {
    assert.isNull(Runner.failureOf(Cause.interrupt(FiberId.none)))
  })

  it("charges an agent's calls and sums them into the job's usage", () => {
    const calls = [call(0.01), call(0.02)]
    const failure = Runner.failureOf(Cause.fail(new AgentError({ agent: "designer", reason: "bad JSON", calls })))
    assert.deepStrictEqual(failure?.calls, calls)
    assert.strictEqual(failure?.error, "designer failed: bad JSON")
    assert.deepStrictEqual(failure?.usage, { model: "claude-test", inputTokens: 200, outputTokens: 40, costUsd: 0.03 })
  })

  it("has no usage for an agent that made no call", () => {
    const failure = Runner.failureOf(Cause.fail(new AgentError({ agent: "assessor", reason: "no key" })))
    assert.deepStrictEqual(failure, { calls: [], error: "assessor failed: no key", usage: null })
  })

  it("tells a defect in full", () => {
    const failure = Runner.failureOf(Cause.die(new Error("boom")))
    assert.deepStrictEqual(failure?.calls, [])
    assert.include(failure?.error ?? "", "boom")
    assert.isNull(failure?.usage ?? null)
  })
})
