/**
 * What the coordinator tells observers: triggers and refusals, every committed
 * transition, every job started, workers' reports and changes, and charges.
 * Simulations hash the first four kinds into a trace and check invariants on
 * them; the API's event stream and live status views follow all of it.
 */
import { Context, Effect, Layer, PubSub, type Queue, type Scope } from "effect"
import type { JobId, Phase, ResearchId, ResearchStatus, WaitingFor, WorkerId, WorkerType } from "./Domain.js"

/** One thing the coordinator did. */
export type CoordinatorEvent =
  | {
    readonly _tag: "Triggered"
    readonly at: number
    readonly researchId: ResearchId
    readonly forced: boolean
    /** Active researches before this one, and the limit then in force. */
    readonly activeBefore: number
    readonly limit: number
    readonly remainingUsd: number | null
  }
  | { readonly _tag: "Refused"; readonly at: number; readonly reason: "capacity" | "budget" }
  | {
    readonly _tag: "Transition"
    readonly at: number
    readonly researchId: ResearchId
    readonly phase: Phase
    readonly status: ResearchStatus
    readonly waitingFor: WaitingFor | null
    readonly error: string | null
  }
  | {
    readonly _tag: "JobStarted"
    readonly at: number
    readonly researchId: ResearchId
    readonly jobId: JobId
    readonly kind: string
    readonly workerType: WorkerType | null
    readonly workerId: WorkerId | null
    readonly attempt: number
    /** When the research started waiting for this worker type (its place in the queue). */
    readonly queuedSince: number
  }

  | {
    /** A worker's word on a job it runs: progress, its result, or its failure. */
    readonly _tag: "JobReported"
    readonly at: number
    readonly researchId: ResearchId
    readonly jobId: JobId
    readonly workerId: WorkerId
    readonly report: "Progress" | "Completed" | "Failed"
    readonly progress: number
    readonly message: string | null
  }
  | {
    /** A worker registered, came back, could not be reached (out of the rotation), went offline, was removed or left. */
    readonly _tag: "WorkerChanged"
    readonly at: number
    readonly workerId: WorkerId
    /** Null for a worker removed from the store before its type was read. */
    readonly workerType: WorkerType | null
    readonly change: "registered" | "back" | "unreachable" | "offline" | "removed" | "deregistered"
  }
  | {
    /** An LLM call charged to the budget. */
    readonly _tag: "Charged"
    readonly at: number
    readonly researchId: ResearchId
    readonly jobId: JobId
    readonly model: string
    readonly costUsd: number
  }

/** A broadcast of coordinator events to any number of subscribers. */
export interface CoordinatorEventsShape {
  /** Sends an event to every current subscriber; never blocks. */
  readonly publish: (event: CoordinatorEvent) => Effect.Effect<void>
  /** Subscribes for the length of the scope: the queue receives every event published from now on. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<CoordinatorEvent>, never, Scope.Scope>
}

/** The coordinator's event stream. */
export class CoordinatorEvents extends Context.Tag("@foreman/core/CoordinatorEvents")<
  CoordinatorEvents,
  CoordinatorEventsShape
>() {}

/** Builds an unbounded broadcast. */
export const make: Effect.Effect<CoordinatorEventsShape> = Effect.map(
  PubSub.unbounded<CoordinatorEvent>(),
  (hub) =>
    CoordinatorEvents.of({
      publish: (event) => Effect.asVoid(PubSub.publish(hub, event)),
      subscribe: PubSub.subscribe(hub)
    })
)

/** The event stream, fresh for each build of the layer. */
export const layer: Layer.Layer<CoordinatorEvents> = Layer.effect(CoordinatorEvents, make)

/**
 * One line for a person watching the lab, or null for events not worth a line
 * (progress is not an event). `strategyOf` names a research's strategy when known.
 */
export const describe = (
  event: CoordinatorEvent,
  strategyOf: (id: ResearchId) => string | undefined = () => undefined
): string | null => {
  switch (event._tag) {
    case "Triggered":
      return `${event.researchId}  triggered${event.forced ? " (forced)" : ""}`
    case "Refused":
      return `trigger refused: ${event.reason === "capacity" ? "at capacity" : "budget exhausted"}`
    case "JobStarted":
      return `${event.researchId}  ${event.kind.padEnd(10)} started${event.workerId === null ? "" : ` on ${event.workerId}`}`
    case "Transition": {
      if (event.status === "completed" || event.status === "failed" || event.status === "cancelled") {
        const error = event.error === null ? "" : ` (${event.error})`
        return `${event.researchId}  ${event.status.toUpperCase()}  strategy: ${strategyOf(event.researchId) ?? "-"}${error}`
      }
      if (event.waitingFor !== null) return `${event.researchId}  waiting for a ${event.waitingFor.workerType} worker`
      return `${event.researchId}  now ${event.phase}`
    }
    case "WorkerChanged":
      return event.change === "registered" || event.change === "back"
        ? null
        : `worker ${event.workerId}${event.workerType === null ? "" : ` (${event.workerType})`} ${event.change}`
    case "JobReported":
    case "Charged":
      return null
  }
}
