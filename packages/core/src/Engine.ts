/**
 * The engine's services over its ports: registry, budget and event stream
 * (the coordinator comes on top, once a worker transport exists — in-process
 * transports need the registry to report to).
 */
import { Layer } from "effect"
import { Budget } from "./Budget.js"
import { CoordinatorEvents } from "./CoordinatorEvents.js"
import { WorkerRegistry } from "./WorkerRegistry.js"

/** Registry, budget and events, needing the storage ports, wakeup and configuration. */
export const services = Layer.mergeAll(WorkerRegistry.Default, Budget.Default, CoordinatorEvents.Default)
