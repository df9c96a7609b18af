/**
 * Prometheus's own linter on a live scrape: `promtool check metrics` reads the
 * text of `GET /metrics` from the production composition (`Server.layer`,
 * in-memory storage, the offline agents, a training and a backtest worker over
 * HTTP) after a research ran through every phase and a trigger was refused, so
 * the counters, histograms and labelled gauges all have series. It must find
 * nothing (naming, types, help text).
 *
 * Skipped only when `promtool` is missing outside CI (Debian's `prometheus`
 * package has it); in CI it must run.
 */
import { spawnSync } from "node:child_process"
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { OfflineAgents } from "@foreman/agents"
import { Coordinator, ForemanConfig } from "@foreman/core"
import { Server } from "@foreman/server"
import { eventually } from "@foreman/testing/ApiHarness"
import { passingBacktest, passingTraining } from "@foreman/testing/Fixtures"
import { startWorker } from "@foreman/testing/WorkerHarness"
import { ConfigProvider, Context, Effect, Layer, Logger, LogLevel } from "effect"

const havePromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0
if (!havePromtool && process.env["CI"] !== undefined && process.env["CI"] !== "") {
  throw new Error("promtool is missing: CI must install Debian's prometheus package (see .ci/run)")
}

const title = havePromtool
  ? "promtool check metrics on a live /metrics"
  : "promtool check metrics on a live /metrics (SKIPPED: promtool is missing; apt-get install -y prometheus)"

describe.skipIf(!havePromtool)(title, () => {
  it.scopedLive("finds no problem in what the server exposes", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server.layer({
        host: "127.0.0.1",
        port: 0,
        storage: Memory.storage,
        agents: OfflineAgents.layer(),
        config: ForemanConfig.layerWith({ dailyBudgetUsd: 5, maxConcurrentResearches: 1 })
      })).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      const address = Context.get(context, HttpServer.HttpServer).address
      const baseUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const coordinator = Context.get(context, Coordinator.Coordinator)
      yield* startWorker(() => Effect.succeed(passingTraining), { apiUrl: baseUrl, type: "training", id: "trainer-1" })
      yield* startWorker(() => Effect.succeed(passingBacktest), { apiUrl: baseUrl, type: "backtest", id: "tester-1" })
      yield* eventually(coordinator.status(), (s) => s.workers["training"]?.total === 1 && s.workers["backtest"]?.total === 1)

      const trigger = (brief: string) =>
        Effect.promise(() =>
          fetch(`${baseUrl}/api/v1/agent/trigger`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ brief, model: "claude-opus-4-5" })
          }).then((r) => r.status)
        )
      assert.strictEqual(yield* trigger("RSI on EURUSD"), 202)
      assert.strictEqual(yield* trigger("One too many"), 409)
      yield* eventually(
        coordinator.list({ statuses: ["completed"], limit: 10, offset: 0 }),
        (done) => done.length === 1,
        30
      )
      const text = yield* Effect.promise(() => fetch(`${baseUrl}/metrics`).then((r) => r.text()))
      assert.include(text, "foreman_llm_calls_total{")
      assert.include(text, "foreman_handover_seconds_bucket{")

      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
      assert.strictEqual(`${check.stdout}${check.stderr}`, "")
      assert.strictEqual(check.status, 0)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)), 60_000)
})
