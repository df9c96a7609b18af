/**
 * `foreman autopilot start|status|stop` and `agent trigger --parent`, run
 * in-process against the coordinator's API over a fresh in-memory engine.
 */
import { assert, describe, it } from "@effect/vitest"
import { eventually, startLabServer } from "@foreman/testing/ApiHarness"
import { Effect } from "effect"
import { against } from "./cliHarness.js"

describe("foreman autopilot", () => {
  it.scopedLive("starts, follows promising assessments up to --max, says why it stopped; stop is idempotent; --parent is checked", () =>
    Effect.gen(function*() {
      const server = yield* startLabServer
      const run = against(server.baseUrl)
      const api = yield* server.client()

      const never = yield* run(["autopilot", "status"])
      assert.strictEqual(never.stdout, "Autopilot: never started (foreman autopilot start --brief \"…\" --keep N)")
      const started = yield* run(["autopilot", "start", "--brief", "Explore RSI variations", "--keep", "1", "--max", "2"])
      assert.strictEqual(started.code, 0, started.stderr)
      assert.strictEqual(started.stdout, "Autopilot started: keeps 1 running, at most 2 in all")

      const done = yield* eventually(api.agent.autopilotStatus(), (s) => s.autopilot?.status === "stopped")
      assert.strictEqual(done.autopilot?.stopReason, "max")
      const [first, second] = done.autopilot!.started
      const child = yield* api.agent.show({ path: { id: second! } })
      assert.strictEqual(child.research.parentId, first)
      assert.match(child.research.brief, /^Refine /)

      const out = yield* run(["autopilot", "status"])
      assert.strictEqual(out.stdout.split("\n")[0], "Autopilot: stopped: started 2 researches, its maximum (--max 2)")
      assert.include(out.stdout, `Triggered: 2 researches (${first}, ${second})`)
      const json = JSON.parse((yield* run(["autopilot", "status", "--json"])).stdout)
      assert.deepStrictEqual(json.autopilot.started, [first, second])
      assert.strictEqual((yield* run(["autopilot", "stop"])).code, 0)
      const status = yield* run(["agent", "status"])
      assert.include(status.stdout, "\nAutopilot: stopped: started 2 researches, its maximum (--max 2) (2 started)")

      const shown = yield* run(["agent", "show", second!])
      assert.include(shown.stdout, `Follows:   ${first}`)
      const parent = yield* run(["agent", "show", first!])
      assert.include(parent.stdout, `Followed by:\n  ${second}  `)
      const manual = yield* run(["agent", "trigger", "--brief", "by hand", "--parent", second!])
      assert.strictEqual(manual.code, 0, manual.stderr)
      const unknown = yield* run(["agent", "trigger", "--brief", "by hand", "--parent", "op_missing"])
      assert.strictEqual(unknown.code, 1)
      assert.include(unknown.stderr, "parentId: no research op_missing")
    }))
})
