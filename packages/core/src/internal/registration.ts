/**
 * What a worker's registration means, decided over plain data: the worker to
 * store, which of the jobs the store assigns to it it keeps, which are lost
 * (or refused, see `JobWrites.disown`), which are offered to it again, and
 * which jobs it must stop. `WorkerRegistry.register` applies it.
 */
import { Option } from "effect"
import type { Job, Worker } from "../Domain.js"

/** The registration's fields this decision reads (a `WorkerRegistry.Registration`). */
export interface Registering {
  readonly id: Worker["id"]
  readonly type: Worker["type"]
  readonly endpoint?: string | undefined
  readonly runtime?: string | undefined
  readonly capacity: number
  readonly capabilities: Worker["capabilities"]
  readonly runningJobs: ReadonlyArray<string>
}

/** A registration, decided. */
export interface Plan {
  /** The worker as the registration describes it, its slots the jobs it keeps. */
  readonly candidate: Worker
  /** Assigned jobs it keeps. */
  readonly kept: ReadonlyArray<Job>
  /** Assigned jobs it lost (a push worker's that it did not list). */
  readonly lost: ReadonlyArray<Job>
  /** Kept jobs it did not list that were running: offered to it again. */
  readonly offerAgain: ReadonlyArray<Job>
  /** Jobs it must stop: those it runs that are not assigned to it, and those it lost. */
  readonly cancel: ReadonlyArray<string>
}

/**
 * A pull worker keeps the jobs assigned to it that it did not list: they are
 * offered to it again (its registration may have crossed the poll that
 * delivered them; if its process restarted, it runs them anew). A push
 * worker's are lost, or refused while still pending. Its status is the
 * registration's, `available`, which the store turns by load
 * (`WorkerTransitions.registered`).
 */
export const plan = (
  input: Registering,
  assigned: ReadonlyArray<Job>,
  previous: Option.Option<Worker>,
  now: number
): Plan => {
  const running = new Set(input.runningJobs)
  const pulling = input.endpoint === undefined
  const kept = pulling ? assigned : assigned.filter((job) => running.has(job.id))
  const lost = pulling ? [] : assigned.filter((job) => !running.has(job.id))
  const assignedIds = new Set<string>(assigned.map((j) => j.id))
  return {
    candidate: {
      id: input.id,
      type: input.type,
      endpoint: input.endpoint ?? "",
      protocol: pulling ? "pull" : "push",
      ...(input.runtime === undefined ? {} : { runtime: input.runtime }),
      capacity: input.capacity,
      capabilities: input.capabilities,
      currentJobs: kept.map((job) => job.id),
      status: "available",
      registeredAt: Option.match(previous, { onNone: () => now, onSome: (w) => w.registeredAt }),
      lastHeartbeatAt: now
    },
    kept,
    lost,
    offerAgain: kept.filter((job) => !running.has(job.id) && job.status === "running"),
    cancel: [...input.runningJobs.filter((id) => !assignedIds.has(id)), ...lost.map((job) => job.id)]
  }
}
