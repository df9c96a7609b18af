/**
 * The worker state machine: every change of a worker's status, as pure
 * functions of the status it has, whether its job slots are all taken, and
 * what happened. This module is the only place that decides a worker's
 * status; the registry says what happened, and the stores write the status
 * decided here:
 *
 * - the in-memory store calls these functions;
 * - PostgreSQL must decide on the locked row, in the statement that writes it
 *   (a claim or a registration racing another must see the row as it is), so
 *   `PgWorkerStore` tabulates these functions over every status and both loads
 *   into a SQL `CASE` on the row (`internal/workerStatus.ts` in the adapter),
 *   and the claim's SQL function (`functions/foreman_claim.ts`) transcribes
 *   `canTake` and `claimed`.
 *
 * One table of cases (`@foreman/testing/WorkerStatusContract`) runs through
 * these functions and through both stores, so they cannot drift.
 *
 * ```
 *   available ⇄ busy        by load: busy once every slot is taken (register, claim, release, heartbeat);
 *                           busy also when the worker refused a job saying it is full
 *   available|busy → draining   it refused a job because it is shutting down
 *   any → error             an unhealthy heartbeat
 *   available|busy → error  a job could not be delivered to it (unreachable: its process may be dead)
 *   error|offline → available|busy   a healthy heartbeat, or a registration (by load)
 *   draining → available|busy       a registration only (heartbeats keep it draining)
 *   any → offline           silent past the offline delay (expiry)
 * ```
 */
import { Schema } from "effect"

/** Every worker status, in order. */
export const statuses = ["available", "busy", "draining", "error", "offline"] as const

/**
 * `available` has a free slot, `busy` has none (or said it is full), `draining`
 * is shutting down and takes no new jobs, `error` reported itself unhealthy or
 * could not be reached with a job, `offline` missed its heartbeats.
 */
export const Status = Schema.Literal(...statuses)
export type Status = typeof Status.Type

/** What a worker says when it refuses a job: it is full, or shutting down. */
export type Refusal = "full" | "draining"

/** The worker's part these decisions read (a `Domain.Worker` is one). */
export interface Slots {
  readonly status: Status
  readonly capacity: number
  readonly currentJobs: ReadonlyArray<string>
  readonly protocol?: "push" | "pull" | undefined
  readonly pollingUntil?: number | null | undefined
}

/** Whether a worker in this status takes jobs when it has a free slot (not draining, in error or offline). */
export const takesJobs = (status: Status): boolean => status === "available" || status === "busy"

/** Whether `jobs` taken fill a worker of `capacity` slots. */
export const isFull = (jobs: number, capacity: number): boolean => jobs >= capacity

/** The one rule of load: a worker taking jobs is busy when full, else available; any other keeps its status. */
const byLoad = (status: Status, full: boolean): Status => takesJobs(status) ? (full ? "busy" : "available") : status

/** Whether a worker is asking for a job at `now`: always a push worker, a pull worker while a poll waits. */
export const isAsking = (worker: Slots, now: number): boolean =>
  worker.protocol !== "pull" || (worker.pollingUntil ?? -1) >= now

/** Whether a claim may give the worker one more job at `now`: available, with a free slot, asking for work. */
export const canTake = (worker: Slots, now: number): boolean =>
  worker.status === "available" && !isFull(worker.currentJobs.length, worker.capacity) && isAsking(worker, now)

/**
 * A worker registered (or again) in `status` (what the registration says;
 * the registry says `available`), `full` with its merged jobs: a worker taking
 * jobs follows its load, any other status is kept.
 */
export const registered = (status: Status, full: boolean): Status => byLoad(status, full)

/** A claim gave the worker (one `canTake` allowed) another job; `full`: with it. */
export const claimed = (status: Status, full: boolean): Status => byLoad(status, full)

/** A job's slot was freed; `full`: with the jobs it still holds. */
export const released = (status: Status, full: boolean): Status => byLoad(status, full)

/** The status a refusal asks for: `busy` (full) or `draining` (shutting down). */
export const refusal = (refused: Refusal): "busy" | "draining" => refused === "full" ? "busy" : "draining"

/**
 * The worker refused a job and now asks for `asked` (see `refusal`): a
 * worker taking jobs takes it, so no claim picks it before it says otherwise;
 * a draining, failed or offline worker keeps its status.
 */
export const refused = (status: Status, asked: "busy" | "draining"): Status => takesJobs(status) ? asked : status

/**
 * A job could not be delivered to the worker (see `DispatchError.unreachable`):
 * a worker taking jobs is in error, out of the rotation until a healthy
 * heartbeat or a registration says it is back (a dead one never does and goes
 * offline when silent past the offline delay); a draining, failed or offline
 * worker keeps its status (a draining one must not come back on a heartbeat).
 */
export const unreachable = (status: Status): Status => takesJobs(status) ? "error" : status

/**
 * A heartbeat: unhealthy puts the worker in error; a draining worker stays
 * draining; any other (an offline or failed one too) is back, by load.
 */
export const heartbeat = (status: Status, full: boolean, healthy: boolean): Status =>
  !healthy ? "error" : status === "draining" ? "draining" : byLoad("available", full)

/** Silent past the offline delay: offline. */
export const expired = (_status: Status): Status => "offline"

/** The heartbeat times before which an expiry marks a worker offline, and removes it. */
export interface ExpiryCutoffs {
  readonly offlineBefore: number
  readonly removeBefore: number
}

/**
 * What an expiry at `now` may take for silence: a worker is offline (removed)
 * once it has been silent for `offlineAfterMillis` (`removeAfterMillis`) while
 * the coordinator could hear it, that is since `hearingSince` (its start, or
 * the end of a storage outage, during which every heartbeat failed). Until a
 * delay has passed since then, its cutoff is minus infinity: nobody is taken
 * for silent for the coordinator's own deafness.
 */
export const expiryCutoffs = (
  now: number,
  hearingSince: number,
  delays: { readonly offlineAfterMillis: number; readonly removeAfterMillis: number }
): ExpiryCutoffs => {
  const cutoff = (after: number) => now - hearingSince >= after ? now - after : Number.NEGATIVE_INFINITY
  return { offlineBefore: cutoff(delays.offlineAfterMillis), removeBefore: cutoff(delays.removeAfterMillis) }
}

/** The statuses from which `decide` changes anything (what a conditional write expects). */
export const changing = (decide: (status: Status) => Status): ReadonlyArray<Status> =>
  statuses.filter((status) => decide(status) !== status)

/** Whether a worker in this status is out of service (offline or in error): heard again healthy, it is back. */
export const isOut = (status: Status): boolean => status === "offline" || status === "error"
