/**
 * @foreman/adapter-memory — in-memory implementations of every core port,
 * in-process workers, and the deterministic Simulation.
 */
export * as Memory from "./Memory.js"
export * as MemoryAutopilotStore from "./MemoryAutopilotStore.js"
export * as MemoryBudgetLedger from "./MemoryBudgetLedger.js"
export * as MemoryLease from "./MemoryLease.js"
export * as MemoryResearchStore from "./MemoryResearchStore.js"
export * as MemoryWorkers from "./MemoryWorkers.js"
export * as MemoryWorkerStore from "./MemoryWorkerStore.js"
export * as Plan from "./Plan.js"
export * as PlanCurves from "./PlanCurves.js"
export * as SeedSweep from "./SeedSweep.js"
export * as SimulatedWork from "./SimulatedWork.js"
export * as Simulation from "./Simulation.js"
export * as TestEngine from "./TestEngine.js"
