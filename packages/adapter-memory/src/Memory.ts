/**
 * The whole engine in memory: stores, lease, wakeup, registry, budget,
 * coordinator, agents and in-process workers, as one layer. Used by tests,
 * the simulation and `npm start`'s simulated lab.
 */
import { Assignments, type Autopilot, Engine, ForemanConfig, type ResearchStore, Wakeup } from "@foreman/core"
import { Layer } from "effect"
import * as OfflineAgents from "@foreman/agents/OfflineAgents"
import * as MemoryAutopilotStore from "./MemoryAutopilotStore.js"
import * as MemoryBudgetLedger from "./MemoryBudgetLedger.js"
import * as MemoryLease from "./MemoryLease.js"
import * as MemoryResearchStore from "./MemoryResearchStore.js"
import * as MemoryWorkers from "./MemoryWorkers.js"
import * as MemoryWorkerStore from "./MemoryWorkerStore.js"
import * as SimulatedWork from "./SimulatedWork.js"

export interface MemoryOptions {
  /** Engine configuration; defaults as documented. */
  readonly config?: Parameters<typeof ForemanConfig.make>[0]
  readonly agents?: OfflineAgents.AgentOptions
  /** Worker job handlers by type; by default simulated training (10 min) and backtest (5 min). */
  readonly handlers?: MemoryWorkers.MemoryWorkersOptions["handlers"]
  readonly dispatchFails?: MemoryWorkers.MemoryWorkersOptions["dispatchFails"]
}

/** Every port and service of the engine, and the in-process workers. */
export type Services = Engine.Services | MemoryWorkers.MemoryWorkers

export const defaultHandlers: MemoryWorkers.MemoryWorkersOptions["handlers"] = {
  training: SimulatedWork.training({ seconds: 600 }),
  backtest: SimulatedWork.backtest({ seconds: 300 })
}

/**
 * Every storage port in memory: stores, ledger, lease, wakeup and announcements (the engine needs config and agents
 * beside them), and the pulses the in-process workers beat by.
 */
export const storage: Layer.Layer<
  Engine.Storage | ResearchStore.ResearchStore | Autopilot.AutopilotStore | MemoryWorkerStore.Pulses
> =
  MemoryResearchStore.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(
      MemoryLease.layer,
      MemoryWorkerStore.layer,
      MemoryBudgetLedger.layer,
      Wakeup.layerLocal,
      Assignments.layerLocal,
      MemoryAutopilotStore.layer
    ))
  )

/** A fresh in-memory engine. Start the loop with `Coordinator.run` and workers with `MemoryWorkers.spawn`. */
export const layer = (options: MemoryOptions = {}): Layer.Layer<Services> =>
  Engine.layer({
    storage,
    agents: OfflineAgents.layer(options.agents),
    transport: MemoryWorkers.layer({
      handlers: options.handlers ?? defaultHandlers,
      ...(options.dispatchFails === undefined ? {} : { dispatchFails: options.dispatchFails })
    }),
    config: ForemanConfig.layerWith(options.config)
  })
