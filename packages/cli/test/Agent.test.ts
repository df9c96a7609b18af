/**
 * `foreman agent …` run in-process against the coordinator's API served on
 * 127.0.0.1 over a fresh in-memory engine: what a person reads, what `--json`
 * gives, and the exit codes.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Memory } from "@foreman/adapter-memory"
import { NodeContext } from "@effect/platform-node"
import { ConfigProvider, Effect, Fiber, Layer } from "effect"
import { instantHandlers } from "@foreman/adapter-memory/TestEngine"
import { eventually, startLabServer, startServer } from "@foreman/testing/ApiHarness"
import { Cli } from "../src/index.js"
import { against, capturing, foreman, foremanOffline, plain, refusingUrl } from "./cliHarness.js"

/** Workers that never finish: researches stay where they are. */
const stuck: Memory.MemoryOptions["handlers"] = { training: () => Effect.never, backtest: () => Effect.never }

const idOf = (stdout: string) => {
  const match = /^Research triggered: (op_[A-Za-z0-9_-]+)$/.exec(stdout)
  if (match === null) throw new Error(`unexpected trigger output: ${stdout}`)
  return match[1]!
}

describe("foreman agent trigger", () => {
  it.scopedLive("prints the research id and exits 0", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      const run = against(server.baseUrl)
      const out = yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])
      assert.strictEqual(out.code, 0)
      assert.strictEqual(out.stderr, "")
      const id = idOf(out.stdout)
      const api = yield* server.client()
      const status = yield* api.agent.status()
      assert.deepStrictEqual(status.active.map((r) => r.id), [id])
    }))

  it.scopedLive("--json gives the accepted research; --strategy reuses a stored design; --model and --bypass-gates are sent", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { maxConcurrentResearches: 5 } } })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      const [stored] = yield* eventually(api.agent.strategies(), (list) => list.length === 1)
      const out = yield* run(["agent", "trigger", "--strategy", stored!.name, "--model", "haiku", "--bypass-gates", "--json"])
      assert.strictEqual(out.code, 0)
      const body = JSON.parse(out.stdout) as { researchId: string; status: string }
      assert.match(body.researchId, /^op_/)
      assert.strictEqual(body.status, "pending")
      const detail = yield* api.agent.show({ path: { id: body.researchId as never } })
      assert.deepStrictEqual(detail.research.strategy, stored!.strategy)
      assert.isAbove(Object.keys(stored!.strategy.spec).length, 0)
      assert.strictEqual(detail.research.model, "haiku")
      assert.isTrue(detail.research.bypassGates)
      assert.notStrictEqual(detail.research.phase, "designing")
      assert.isFalse(detail.jobs.some((j) => j.kind === "design"))
    }))

  it.scopedLive("--strategy with an unknown name: the closest names, exit 1", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      const unknown = yield* run(["agent", "trigger", "--strategy", "rsi_variant_7"])
      assert.strictEqual(unknown.code, 1)
      assert.strictEqual(unknown.stdout, "")
      assert.strictEqual(unknown.stderr, "Unknown strategy: rsi_variant_7")
      idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      const [stored] = yield* eventually(api.agent.strategies(), (list) => list.length === 1)
      const typo = yield* run(["agent", "trigger", "--strategy", `${stored!.name}9`])
      assert.strictEqual(typo.code, 1)
      assert.strictEqual(typo.stderr, `Unknown strategy: ${stored!.name}9 (closest: ${stored!.name})`)
      assert.strictEqual((yield* api.agent.status()).active.length, 1)
    }))

  it.scopedLive("refuses at capacity with the seed's lines and exit 1; --force overrides", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { maxConcurrentResearches: 5 } } })
      const run = against(server.baseUrl)
      for (let i = 0; i < 5; i++) assert.strictEqual((yield* run(["agent", "trigger", "--brief", `r${i}`])).code, 0)
      const refused = yield* run(["agent", "trigger", "--brief", "Another experiment"])
      assert.strictEqual(refused.code, 1)
      assert.strictEqual(refused.stdout, "")
      assert.strictEqual(
        refused.stderr,
        "Cannot trigger: at capacity (5 active researches, limit is 5)\nUse --force to override limit"
      )
      const forced = yield* run(["agent", "trigger", "--brief", "Another experiment", "--force"])
      assert.strictEqual(forced.code, 0)
      idOf(forced.stdout)
    }))

  it.scopedLive("refuses when the daily budget is exhausted with the seed's three lines; --force overrides", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { dailyBudgetUsd: 0.12, maxConcurrentResearches: 10 } } })
      const run = against(server.baseUrl)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "a", "--force"])).code, 0)
      assert.strictEqual((yield* run(["agent", "trigger", "--brief", "b", "--force"])).code, 0)
      const refused = yield* run(["agent", "trigger", "--brief", "Expensive experiment"])
      assert.strictEqual(refused.code, 1)
      assert.match(
        refused.stderr,
        /^Cannot trigger: daily budget exhausted \(\$0\.\d\d remaining\)\nActive researches \(2\) will complete, but no new triggers accepted\.\nUse --force to override budget check$/
      )
    }))

  it.scopedLive("needs a brief or a strategy: usage error, exit 2", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const out = yield* against(server.baseUrl)(["agent", "trigger"])
      assert.strictEqual(out.code, 2)
      assert.include(out.stderr, "Give --brief")
    }))
})

describe("foreman agent status", () => {
  it.scopedLive("shows the design's layout: researches, workers, budget, capacity", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "training-2", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest", capacity: 2 })
      const run = against(server.baseUrl)
      const ids = []
      for (const brief of ["Explore RSI variations", "Test MACD strategies", "Multi-timeframe experiment"]) {
        ids.push(idOf((yield* run(["agent", "trigger", "--brief", brief])).stdout))
      }
      const api = yield* server.client()
      yield* eventually(api.agent.status(), (s) => s.active.filter((r) => r.phase === "training").length === 3)

      const out = yield* run(["agent", "status"])
      assert.strictEqual(out.code, 0)
      const lines = out.stdout.split("\n")
      assert.strictEqual(lines[0], "Active researches: 3")
      assert.strictEqual(lines[1], "")
      const rows = lines.slice(2, 5)
      for (const row of rows) {
        assert.match(row, /^ {2}op_\S+ {2}training {5}strategy: \S+ +\(0m \d+s\)/)
      }
      assert.deepStrictEqual(rows.map((r) => r.trim().split(" ")[0]).sort(), [...ids].sort())
      assert.strictEqual(rows.filter((r) => r.includes("waiting for training worker")).length, 1)
      assert.deepStrictEqual(lines.slice(5), [
        "",
        "Workers: training 2/2, backtest 0/2",
        `Budget: ${lines[7]!.slice("Budget: ".length)}`,
        "Capacity: 3/4 active"
      ])
      // The offline agents designed them: what they charged is said to be simulated.
      assert.match(
        lines[7]!,
        /^Budget: \$\d+\.\d\d remaining today \(\$\d+\.\d\d spent\) {2}\(simulated: offline agents, no model called; counts against the budget\)$/
      )
    }))

  it.scopedLive("--json gives the status object; an unlimited budget says so", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck, config: { dailyBudgetUsd: 0 } } })
      const run = against(server.baseUrl)
      const json = yield* run(["agent", "status", "--json"])
      assert.strictEqual(json.code, 0)
      const body = JSON.parse(json.stdout) as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(body).sort(), ["active", "budget", "capacity", "workers"])
      assert.deepStrictEqual(body["active"], [])
      assert.strictEqual((body["budget"] as { unlimited: boolean }).unlimited, true)
      const text = yield* run(["agent", "status"])
      assert.include(text.stdout, "Budget: unlimited ($0.00 spent today)")
      assert.include(text.stdout, "Active researches: 0\n\nWorkers: training 0/0, backtest 0/0")
    }))

  it.scopedLive("--watch redraws with progress bars until interrupted", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: stuck } })
      const run = against(server.baseUrl)
      yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])
      const captured = capturing()
      const fiber = yield* Cli.run(["agent", "status", "--watch", "--interval", "0.05", "--api-url", server.baseUrl]).pipe(
        Effect.provide(Layer.merge(NodeContext.layer, Cli.layer)),
        Effect.withConsole(captured.console),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map())),
        Effect.fork
      )
      yield* eventually(Effect.sync(() => captured.stdout().split("\x1b[2J").length), (frames) => frames >= 3)
      yield* Fiber.interrupt(fiber)
      const frames = captured.stdout().split("\x1b[2J\x1b[H").filter((f) => f !== "")
      assert.isAtLeast(frames.length, 2)
      assert.include(frames[1]!, "Active researches: 1")
      assert.match(frames[1]!, /\[[█░]{20}\] +\d+%/)
    }))
})

describe("foreman agent cancel / show / budget", () => {
  it.scopedLive("cancels a research; unknown and finished ones are refused with exit 1", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { handlers: instantHandlers } })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      const cancelled = yield* run(["agent", "cancel", id])
      assert.deepStrictEqual(cancelled, { code: 0, stdout: `Research cancelled: ${id}`, stderr: "" })
      assert.match((yield* run(["agent", "show", id])).stdout, /\nPhase: {5}[a-z]+ \(cancelled there\)\n/)

      const unknown = yield* run(["agent", "cancel", "op_doesnotexist"])
      assert.deepStrictEqual(unknown, { code: 1, stdout: "", stderr: "Research not found: op_doesnotexist" })
      const malformed = yield* run(["agent", "cancel", "nonsense"])
      assert.deepStrictEqual(malformed, { code: 1, stdout: "", stderr: "Research not found: nonsense" })

      yield* server.workers.spawn({ id: "training-1", type: "training" })
      yield* server.workers.spawn({ id: "backtest-1", type: "backtest" })
      const done = idOf((yield* run(["agent", "trigger", "--brief", "Test MACD strategies"])).stdout)
      yield* eventually(api.agent.show({ path: { id: done as never } }), (d) => d.research.status === "completed")
      const finished = yield* run(["agent", "cancel", done])
      assert.deepStrictEqual(finished, {
        code: 1,
        stdout: "",
        stderr: `Research ${done} is completed and cannot be cancelled`
      })

      const json = yield* run(["agent", "cancel", id, "--json"])
      assert.strictEqual(json.code, 0)
      assert.strictEqual((JSON.parse(json.stdout) as { status: string }).status, "cancelled")
    }))

  it.scopedLive("shows one research with its jobs, gates, metrics, assessment and cost", () =>
    Effect.gen(function*() {
      const server = yield* startLabServer
      const run = against(server.baseUrl)
      const api = yield* server.client()
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      yield* eventually(api.agent.show({ path: { id: id as never } }), (d) => d.research.status === "completed")

      const out = yield* run(["agent", "show", id])
      assert.strictEqual(out.code, 0)
      const text = out.stdout
      assert.match(text, new RegExp(`^Research ${id} {2}completed\n`))
      assert.include(text, "Brief:     Explore RSI variations")
      assert.match(text, /Strategy: {2}rsi_variant_\d+/)
      assert.include(text, "Phase:     done (last phase: assessing)")
      assert.match(text, /\n {2}KIND +STATUS +WORKER +ATTEMPT +DURATION/)
      assert.match(text, /\n {2}design +completed +- +1 /)
      assert.match(text, /\n {2}training +completed +training-1 +1 /)
      assert.match(text, /\n {2}backtest +completed +backtest-1 +1 /)
      assert.match(text, /\n {2}assessment +completed/)
      assert.match(text, /\n {2}training +passed\n {2}backtest +passed/)
      assert.include(
        text,
        "accuracy 62.0%, loss 0.410, sharpe 1.30, win rate 55.0%, drawdown 10.0%, return 12.0%, trades 40"
      )
      assert.match(text, /Assessment: promising — /)
      assert.match(text, /Cost: {6}\$0\.\d\d/)

      const json = yield* run(["agent", "show", id, "--json"])
      const body = JSON.parse(json.stdout) as { research: { id: string }; jobs: Array<{ kind: string }>; progress: number }
      assert.strictEqual(body.research.id, id)
      assert.deepStrictEqual(body.jobs.map((j) => j.kind), ["design", "training", "backtest", "assessment"])
      assert.strictEqual(body.progress, 1)

      const missing = yield* run(["agent", "show", "op_missing"])
      assert.deepStrictEqual(missing, { code: 1, stdout: "", stderr: "Research not found: op_missing" })
    }))

  it.scopedLive("a failed gate shows its reason", () =>
    Effect.gen(function*() {
      const server = yield* startServer({
        engine: { handlers: { ...instantHandlers, training: () => Effect.succeed({ testAccuracy: 0.05, testLoss: 0.4, epochLosses: [0.5, 0.4] }) } }
      })
      yield* server.workers.spawn({ id: "training-1", type: "training" })
      const run = against(server.baseUrl)
      const api = yield* server.client()
      const id = idOf((yield* run(["agent", "trigger", "--brief", "Explore RSI variations"])).stdout)
      yield* eventually(api.agent.show({ path: { id: id as never } }), (d) => d.research.status === "completed")
      const out = yield* run(["agent", "show", id])
      assert.match(out.stdout, /\n {2}training +failed: accuracy_below_threshold/)
      assert.match(out.stdout, /Assessment: rejected/)
    }))

  it.scopedLive("budget: spend, remaining and cycles; --json gives the budget object", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { dailyBudgetUsd: 3, cycleCostEstimateUsd: 0.5 } } })
      const run = against(server.baseUrl)
      const out = yield* run(["agent", "budget"])
      assert.strictEqual(out.code, 0)
      assert.match(out.stdout, /^Budget for \d{4}-\d\d-\d\d \(UTC\): \$3\.00 a day\n/)
      assert.include(out.stdout, "Spent today:       $0.00")
      assert.include(out.stdout, "Remaining:         $3.00")
      assert.include(out.stdout, "Cycles affordable: 6")
      const json = JSON.parse((yield* run(["agent", "budget", "--json"])).stdout) as Record<string, unknown>
      assert.strictEqual(json["remainingUsd"], 3)
      assert.strictEqual(json["cyclesAffordable"], 6)
      assert.strictEqual(json["unlimited"], false)
    }))
})

describe("connection and usage failures", () => {
  it.live("an unreachable coordinator: one line and a hint, exit 1", () =>
    Effect.gen(function*() {
      const out = yield* foreman(["agent", "status", "--api-url", refusingUrl])
      assert.deepStrictEqual(out, {
        code: 1,
        stdout: "",
        stderr: `Cannot reach the coordinator at ${refusingUrl} (connection refused)\n` +
          "Is it running? Start it with: npx foreman server"
      })
    }))

  // Offline: whatever listens on this machine's port 8000 must not matter.
  it.effect("--api-url falls back to FOREMAN_API_URL, then to http://127.0.0.1:8000", () =>
    Effect.gen(function*() {
      const given = yield* foremanOffline(["agent", "budget", "--api-url", "http://coordinator:9000"], {
        FOREMAN_API_URL: "http://elsewhere:8001"
      })
      assert.deepStrictEqual(given.requested, ["http://coordinator:9000/api/v1/agent/budget"])
      const fromEnv = yield* foremanOffline(["agent", "budget"], { FOREMAN_API_URL: "http://coordinator:9000" })
      assert.deepStrictEqual(fromEnv.requested, ["http://coordinator:9000/api/v1/agent/budget"])
      assert.include(fromEnv.stderr, "Cannot reach the coordinator at http://coordinator:9000 (connection refused)")
      const byDefault = yield* foremanOffline(["workers"])
      assert.deepStrictEqual(byDefault.requested, ["http://127.0.0.1:8000/api/v1/workers"])
      assert.strictEqual(byDefault.code, 1)
      assert.include(byDefault.stderr, "Cannot reach the coordinator at http://127.0.0.1:8000 (connection refused)")
      const empty = yield* foremanOffline(["workers"], { FOREMAN_API_URL: "" })
      assert.deepStrictEqual(empty.requested, ["http://127.0.0.1:8000/api/v1/workers"])
      assert.include(empty.stderr, "Cannot reach the coordinator at http://127.0.0.1:8000 (connection refused)")
    }))

  it.scopedLive("a missing or wrong token: 401 explained; --token and FOREMAN_API_TOKEN work", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "op-secret", worker: "worker-secret" } })
      const run = against(server.baseUrl)
      const missing = yield* run(["agent", "status"])
      assert.strictEqual(missing.code, 1)
      assert.match(missing.stderr, /^The coordinator at http:\/\/127\.0\.0\.1:\d+ rejected the request \(401\): Missing bearer token/)
      assert.include(missing.stderr, "FOREMAN_API_TOKEN")
      assert.strictEqual((yield* run(["agent", "status", "--token", "op-secret"])).code, 0)
      assert.strictEqual((yield* run(["agent", "status"], { FOREMAN_API_TOKEN: "op-secret" })).code, 0)
      const wrongKind = yield* run(["agent", "status", "--token", "worker-secret"])
      assert.strictEqual(wrongKind.code, 1)
      assert.include(wrongKind.stderr, "(403)")
    }))

  it.effect("bad flags and arguments are usage errors: exit 2", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* foreman(["agent", "trigger", "--bogus"])).code, 2)
      assert.strictEqual((yield* foreman(["agent", "cancel"])).code, 2)
      assert.strictEqual((yield* foreman(["agent", "status", "--interval", "soon"])).code, 2)
      for (const interval of ["0", "NaN", "Infinity"]) {
        const out = yield* foreman(["agent", "status", "--watch", "--interval", interval])
        assert.deepStrictEqual(out, { code: 2, stdout: "", stderr: `--interval must be a number of seconds > 0, got ${interval}` })
      }
      assert.strictEqual((yield* foreman(["nonsense"])).code, 2)
      const faults = yield* foreman(["simulate", "--faults", "meteor=0.5"])
      assert.strictEqual(faults.code, 2)
      assert.include(plain(faults.stderr), `unknown fault "meteor"`)
    }))

  it.effect("--help and --version", () =>
    Effect.gen(function*() {
      const help = yield* foreman(["--help"])
      assert.strictEqual(help.code, 0)
      for (const command of ["server", "worker", "agent trigger", "agent status", "workers", "preflight", "simulate"]) {
        assert.include(plain(help.stdout), `  foreman ${command} `)
      }
      const agentHelp = yield* foreman(["agent", "--help"])
      assert.strictEqual(agentHelp.code, 0)
      assert.include(plain(agentHelp.stdout), "trigger")
      const triggerHelp = yield* foreman(["agent", "trigger", "--help"])
      assert.include(plain(triggerHelp.stdout), "--force")
      assert.deepStrictEqual(yield* foreman(["--version"]), { code: 0, stdout: "0.1.0\n", stderr: "" })
    }))
})
