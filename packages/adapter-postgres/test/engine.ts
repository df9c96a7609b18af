/** Test helpers: the whole engine on PostgreSQL, with in-memory workers and agents. */
import { MemoryAgents, MemoryWorkers, SimulatedWork } from "@foreman/adapter-memory"
import { Coordinator, Engine, ForemanConfig, WorkerTransport } from "@foreman/core"
import { Context, Layer } from "effect"
import * as Postgres from "../src/Postgres.js"

export interface EngineOptions {
  readonly config?: Parameters<typeof ForemanConfig.make>[0]
  readonly agents?: MemoryAgents.AgentOptions
  readonly handlers?: MemoryWorkers.MemoryWorkersOptions["handlers"]
}

export const quickHandlers = (seconds: number): MemoryWorkers.MemoryWorkersOptions["handlers"] => ({
  training: SimulatedWork.training({ seconds }),
  backtest: SimulatedWork.backtest({ seconds })
})

/** Ports, services and configuration (no transport, no coordinator). */
export const services = (url: string, options: EngineOptions = {}) =>
  Engine.services.pipe(
    Layer.provideMerge(Layer.mergeAll(
      Postgres.layer({ url, lease: { checkEvery: "200 millis" } }),
      ForemanConfig.layerWith(options.config),
      MemoryAgents.layer(options.agents)
    ))
  )

/** A full engine whose workers live in this process. */
export const engine = (url: string, options: EngineOptions = {}) =>
  Coordinator.Coordinator.Default.pipe(
    Layer.provideMerge(
      MemoryWorkers.layer({ handlers: options.handlers ?? quickHandlers(0.1) }).pipe(
        Layer.provideMerge(services(url, options))
      )
    )
  )

/** A second replica reaching the same workers through another engine's transport. */
export const replica = (
  url: string,
  transport: Context.Tag.Service<WorkerTransport.WorkerTransport>,
  options: EngineOptions = {}
) =>
  Coordinator.Coordinator.Default.pipe(
    Layer.provideMerge(Layer.succeed(WorkerTransport.WorkerTransport, transport)),
    Layer.provideMerge(services(url, options))
  )
