/**
 * `foreman worker --module`: the bundled binary runs a user's TypeScript worker
 * function as a worker process, which registers with a coordinator (HTTP
 * workers, in-memory storage) and does a research's training job.
 */
import { HttpServer } from "@effect/platform"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { OfflineAgents } from "@foreman/agents"
import { Coordinator, ForemanConfig } from "@foreman/core"
import { ApiServer, Server } from "@foreman/server"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { eventually } from "@foreman/testing/ApiHarness"

const bin = fileURLToPath(new URL("../bin/foreman.mjs", import.meta.url))
const userModule = fileURLToPath(new URL("./fixtures/user-worker.ts", import.meta.url))
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("FOREMAN_")))

let worker: ChildProcess | undefined
afterAll(() => void worker?.kill("SIGKILL"))

describe("foreman worker --module", () => {
  it.live("runs the default export of the user's TypeScript module as a worker", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(
          Layer.provideMerge(Server.engine({
            storage: Memory.storage,
            agents: OfflineAgents.layer(),
            config: ForemanConfig.layerWith({ dailyBudgetUsd: 0 })
          }))
        )
      )
      const coordinator = Context.get(context, Coordinator.Coordinator)
      yield* Effect.forkScoped(coordinator.run)
      const address = Context.get(context, HttpServer.HttpServer).address
      const apiUrl = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`

      let output = ""
      worker = spawn(process.execPath, [
        bin,
        "worker",
        "--type",
        "training",
        "--module",
        userModule,
        "--id",
        "user-1",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--api-url",
        apiUrl
      ], { env: cleanEnv })
      worker.stdout?.on("data", (chunk) => (output += String(chunk)))
      worker.stderr?.on("data", (chunk) => (output += String(chunk)))

      const research = yield* coordinator.trigger({ brief: "Explore RSI variations" })
      const detail = yield* eventually(
        coordinator.show(research.id),
        (shown) => shown.research.results["training"] !== undefined,
        60
      ).pipe(Effect.mapError(() => new Error(`no training result in time; the worker said:\n${output}`)))
      const trained = detail.research.results["training"] as Record<string, unknown>
      assert.strictEqual(trained["trainedBy"], "a user module")
      assert.strictEqual(detail.jobs.find((j) => j.kind === "training")?.workerId, "user-1")
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error)), 120_000)
})
