/**
 * When time alone changes what the coordinator does with a worker job that
 * stays pending or running: it counts as lost with its silent worker, goes
 * back to the queue unpicked by a pull worker, or is dispatched again. The
 * pure rules `Pipeline.advance` applies, and the time the next one comes due,
 * which lets a tick sleep until then (`TickPlan`).
 */
import { type Job, pulls, type Worker, type WorkerId } from "./Domain.js"
import type { ForemanConfigShape } from "./ForemanConfig.js"

/** What the rules read of the world (`Pipeline.World` has it all). */
export interface JobClock {
  /** Since when workers could be heard (`Pipeline.World.hearingSince`). */
  readonly hearingSince: number
  readonly workers: ReadonlyMap<WorkerId, Worker>
  readonly config: ForemanConfigShape
}

/** The earlier of two times, either of which may be none. */
const earliest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b)

/**
 * When a worker job counts as lost with its worker: once its worker has been
 * silent (offline) or gone (removed, the job unchanged since) for the orphan
 * grace, and workers could be heard for that long. None while its worker is
 * online: it goes offline first.
 */
export const lostAt = (job: Job, world: JobClock): number | null => {
  if (job.workerId === null) return null
  const { config } = world
  const worker = world.workers.get(job.workerId)
  const silentSince = worker === undefined
    ? job.updatedAt
    : worker.status === "offline"
    ? worker.lastHeartbeatAt + config.workerOfflineAfterSeconds * 1000
    : null
  return silentSince === null ? null : Math.max(world.hearingSince, silentSince) + config.orphanGraceSeconds * 1000
}

/** When a pending job assigned to a pull worker goes back to the queue if no poll of the worker picked it up. */
export const unpickedAt = (job: Job, world: JobClock): number | null => {
  const worker = job.workerId === null ? undefined : world.workers.get(job.workerId)
  return worker !== undefined && pulls(worker) ? job.updatedAt + world.config.assignmentAckSeconds * 1000 : null
}

/** When a pending job whose dispatch was never recorded is dispatched again. */
export const againAt = (job: Job, config: ForemanConfigShape): number => job.updatedAt + config.orphanGraceSeconds * 1000

/**
 * When time alone next changes what `advance` does with a worker job that
 * stays pending or running: the earliest of the times it counts as lost,
 * goes back to the queue unpicked, or is dispatched again (each rule fires
 * once `now` reaches its time, so for a job `advance` left alone every one is
 * after `now`). Null when none will come before something else changes: a
 * job on an online worker has none until the worker goes offline, which the
 * tick wakes for (`TickPlan.expiryDue`).
 */
export const jobDueAt = (job: Job, world: JobClock): number | null =>
  job.status === "pending"
    ? earliest(lostAt(job, world), earliest(unpickedAt(job, world), againAt(job, world.config)))
    : lostAt(job, world)

/**
 * What the rules above read of a worker, as one value: while it stays the
 * same (and so does `hearingSince`), they answer the same for the worker's jobs.
 */
export const workerClock = (worker: Worker): string => `${worker.status} ${worker.lastHeartbeatAt} ${worker.protocol}`
