/**
 * @foreman/core — the pure engine: domain, phase handlers, coordinator,
 * worker registry, budget, and the ports that adapters implement.
 */
export * as Agents from "./Agents.js"
export * as Budget from "./Budget.js"
export * as BudgetLedger from "./BudgetLedger.js"
export * as Coordinator from "./Coordinator.js"
export * as CoordinatorEvents from "./CoordinatorEvents.js"
export * as CoordinatorLease from "./CoordinatorLease.js"
export * as Domain from "./Domain.js"
export * as Engine from "./Engine.js"
export * as Errors from "./Errors.js"
export * as ForemanConfig from "./ForemanConfig.js"
export * as Gates from "./Gates.js"
export * as Pipeline from "./Pipeline.js"
export * as ResearchStore from "./ResearchStore.js"
export * as Storable from "./Storable.js"
export * as Wakeup from "./Wakeup.js"
export * as WorkerRegistry from "./WorkerRegistry.js"
export * as WorkerStore from "./WorkerStore.js"
export * as WorkerTransport from "./WorkerTransport.js"
