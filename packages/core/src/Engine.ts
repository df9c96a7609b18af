/**
 * The engine as one layer, composed from its parts: storage (every port),
 * the design and assessment agents, a worker transport and the
 * configuration. The memory adapter, the simulation, the server and the tests
 * all build their engine here; there is no other wiring.
 */
import { type ConfigError, Layer } from "effect"
import type { Assessor, Designer } from "./Agents.js"
import type { Assignments } from "./Assignments.js"
import * as Budget from "./Budget.js"
import type { BudgetLedger } from "./BudgetLedger.js"
import * as Coordinator from "./Coordinator.js"
import * as CoordinatorEvents from "./CoordinatorEvents.js"
import type { CoordinatorLease } from "./CoordinatorLease.js"
import type { ForemanConfig } from "./ForemanConfig.js"
import type { Jobs } from "./Jobs.js"
import type { Researches } from "./Researches.js"
import * as ResearchStore from "./ResearchStore.js"
import type { Strategies } from "./Strategies.js"
import type { Wakeup } from "./Wakeup.js"
import * as WorkerRegistry from "./WorkerRegistry.js"
import type { WorkerStore } from "./WorkerStore.js"
import type { WorkerTransport } from "./WorkerTransport.js"

/** Every storage port: stores, ledger, lease, wakeup and the pull workers' announcements. */
export type Storage = Researches | Jobs | Strategies | WorkerStore | BudgetLedger | CoordinatorLease | Wakeup | Assignments

/** The agents of the in-process phases. */
export type Agents = Designer | Assessor

/** What a worker transport may need: the ports, the configuration, the registry, budget and events. */
export type TransportContext =
  | Storage
  | Agents
  | ForemanConfig
  | WorkerRegistry.WorkerRegistry
  | Budget.Budget
  | CoordinatorEvents.CoordinatorEvents
  /** @deprecated Made of `Researches`, `Jobs` and `Strategies`; provided for one release. */
  | ResearchStore.ResearchStore

/** Every service and port of a running engine. */
export type Services = TransportContext | Coordinator.Coordinator | WorkerTransport

/** The parts of an engine. */
export interface Parts<T, S, ES, RS, EA, RA, ET, RT, EC> {
  /** Every storage port, and whatever else the adapter provides (its SQL client, …). */
  readonly storage: Layer.Layer<Storage | S, ES, RS>
  readonly agents: Layer.Layer<Agents, EA, RA>
  /** How jobs reach workers; it may use the registry (in-process workers report to it). */
  readonly transport: Layer.Layer<WorkerTransport | T, ET, RT>
  readonly config: Layer.Layer<ForemanConfig, EC>
}

/** The engine over its parts; it provides every service and port, and what the storage and transport add. */
export const layer = <T = never, S = never, ES = never, RS = never, EA = never, RA = never, ET = never, RT = never, EC = ConfigError.ConfigError>(
  parts: Parts<T, S, ES, RS, EA, RA, ET, RT, EC>
): Layer.Layer<Services | T | S, ES | EA | ET | EC, RS | RA | Exclude<RT, TransportContext | S>> => {
  const base = ResearchStore.layerFromPorts.pipe(Layer.provideMerge(Layer.mergeAll(parts.storage, parts.config, parts.agents)))
  const services = Layer.mergeAll(WorkerRegistry.layer, Budget.layer).pipe(
    Layer.provideMerge(CoordinatorEvents.layer),
    Layer.provideMerge(base)
  )
  return Coordinator.layer.pipe(Layer.provideMerge(parts.transport.pipe(Layer.provideMerge(services))))
}
