/** The whole engine on PostgreSQL, with in-memory workers and offline agents. */
import { MemoryWorkers, SimulatedWork } from "@foreman/adapter-memory"
import { OfflineAgents } from "@foreman/agents"
import { Engine, ForemanConfig, WorkerTransport } from "@foreman/core"
import { Context, Layer } from "effect"
import { Postgres } from "@foreman/adapter-postgres"

export interface EngineOptions {
  readonly config?: Parameters<typeof ForemanConfig.make>[0]
  readonly agents?: OfflineAgents.AgentOptions
  readonly handlers?: MemoryWorkers.MemoryWorkersOptions["handlers"]
}

export const quickHandlers = (seconds: number): MemoryWorkers.MemoryWorkersOptions["handlers"] => ({
  training: SimulatedWork.training({ seconds }),
  backtest: SimulatedWork.backtest({ seconds })
})

const parts = (url: string, options: EngineOptions) => ({
  storage: Postgres.layer({ url, lease: { checkEvery: "200 millis" } }),
  agents: OfflineAgents.layer(options.agents),
  config: ForemanConfig.layerWith(options.config)
})

/** A full engine whose workers live in this process. */
export const engine = (url: string, options: EngineOptions = {}) =>
  Engine.layer({
    ...parts(url, options),
    transport: MemoryWorkers.layer({ handlers: options.handlers ?? quickHandlers(0.1) })
  })

/** A second replica reaching the same workers through another engine's transport. */
export const replica = (
  url: string,
  transport: Context.Tag.Service<WorkerTransport.WorkerTransport>,
  options: EngineOptions = {}
) => Engine.layer({ ...parts(url, options), transport: Layer.succeed(WorkerTransport.WorkerTransport, transport) })
