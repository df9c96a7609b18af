/**
 * The whole engine in memory: stores, lease, wakeup, registry, budget,
 * coordinator, agents and in-process workers, as one layer. Used by tests,
 * the simulation and `npm start`'s simulated lab.
 */
import {
  type Agents,
  type Budget,
  type BudgetLedger,
  Coordinator,
  type CoordinatorEvents,
  type CoordinatorLease,
  Engine,
  ForemanConfig,
  type ResearchStore,
  Wakeup,
  type WorkerRegistry,
  type WorkerStore,
  type WorkerTransport
} from "@foreman/core"
import { Layer } from "effect"
import * as MemoryAgents from "./MemoryAgents.js"
import * as MemoryBudgetLedger from "./MemoryBudgetLedger.js"
import * as MemoryLease from "./MemoryLease.js"
import * as MemoryResearchStore from "./MemoryResearchStore.js"
import * as MemoryWorkers from "./MemoryWorkers.js"
import * as MemoryWorkerStore from "./MemoryWorkerStore.js"
import * as SimulatedWork from "./SimulatedWork.js"

export interface MemoryOptions {
  /** Engine configuration; defaults as documented. */
  readonly config?: Parameters<typeof ForemanConfig.make>[0]
  readonly agents?: MemoryAgents.AgentOptions
  /** Worker job handlers by type; by default simulated training (10 min) and backtest (5 min). */
  readonly handlers?: MemoryWorkers.MemoryWorkersOptions["handlers"]
  readonly dispatchFails?: MemoryWorkers.MemoryWorkersOptions["dispatchFails"]
}

/** Every port and service of the engine. */
export type Services =
  | Coordinator.Coordinator
  | WorkerRegistry.WorkerRegistry
  | Budget.Budget
  | CoordinatorEvents.CoordinatorEvents
  | ForemanConfig.ForemanConfig
  | ResearchStore.ResearchStore
  | WorkerStore.WorkerStore
  | BudgetLedger.BudgetLedger
  | CoordinatorLease.CoordinatorLease
  | Wakeup.Wakeup
  | WorkerTransport.WorkerTransport
  | MemoryWorkers.MemoryWorkers
  | Agents.Designer
  | Agents.Assessor

export const defaultHandlers: MemoryWorkers.MemoryWorkersOptions["handlers"] = {
  training: SimulatedWork.training({ seconds: 600 }),
  backtest: SimulatedWork.backtest({ seconds: 300 })
}

/** Every storage port in memory: stores, ledger, lease and wakeup (the engine needs config and agents beside them). */
export const storage: Layer.Layer<
  ResearchStore.ResearchStore | WorkerStore.WorkerStore | BudgetLedger.BudgetLedger | CoordinatorLease.CoordinatorLease | Wakeup.Wakeup
> = MemoryResearchStore.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(MemoryLease.layer, MemoryWorkerStore.layer, MemoryBudgetLedger.layer, Wakeup.layerLocal))
)

/** A fresh in-memory engine. Start the loop with `Coordinator.run` and workers with `MemoryWorkers.spawn`. */
export const layer = (options: MemoryOptions = {}): Layer.Layer<Services> => {
  const base = Layer.mergeAll(storage, ForemanConfig.layerWith(options.config), MemoryAgents.layer(options.agents))
  const services = Engine.services.pipe(Layer.provideMerge(base))
  const workers = MemoryWorkers.layer({
    handlers: options.handlers ?? defaultHandlers,
    ...(options.dispatchFails === undefined ? {} : { dispatchFails: options.dispatchFails })
  }).pipe(Layer.provideMerge(services))
  return Coordinator.Coordinator.Default.pipe(Layer.provideMerge(workers))
}
