/**
 * Port: storage of registered workers. `claim` is atomic: two coordinators
 * racing for one free slot can never both get it.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { JobId, Worker, WorkerId, WorkerStatus, WorkerType } from "./Domain.js"
import type { StorageError } from "./Errors.js"

export interface ExpiredWorkers {
  readonly offline: ReadonlyArray<WorkerId>
  readonly removed: ReadonlyArray<WorkerId>
}

/** What a heartbeat wrote: the worker as it stands after it, and its status before. */
export interface Beaten {
  readonly worker: Worker
  readonly before: WorkerStatus
}

export interface WorkerStoreShape {
  /**
   * Inserts a worker, or updates one that registers again. Its job slots are
   * merged, never replaced: the stored ones (a claim in flight included) plus
   * `worker.currentJobs`, minus `lost`; an available or busy status follows the
   * merged load. `secretHash` (null: none) is the digest of the credential this
   * registration hands out. `sequence` (null: none) orders a worker's
   * registrations: one not above the last stored is stale (sent before a later
   * one, delivered after it) and writes nothing (none). Answers the worker as stored.
   */
  readonly register: (
    worker: Worker,
    lost: ReadonlyArray<JobId>,
    secretHash: string | null,
    sequence: number | null
  ) => Effect.Effect<Option.Option<Worker>, StorageError>
  /** The digest of a worker's credential; none for an unknown worker, null when it has none. */
  readonly secretHash: (id: WorkerId) => Effect.Effect<Option.Option<string | null>, StorageError>
  /**
   * Frees the slot of a job the worker refused and, in the same step, sets its
   * status (`busy`: it said it is full; `draining`: shutting down) so no claim
   * picks it again before it says otherwise.
   */
  readonly markRefusing: (id: WorkerId, jobId: JobId, status: "busy" | "draining") => Effect.Effect<void, StorageError>
  /**
   * Frees the slot of a job that could not be delivered to the worker and, in
   * the same step, takes the worker out of the rotation
   * (`WorkerTransitions.unreachable`: in error until it is heard from again).
   */
  readonly markUnreachable: (id: WorkerId, jobId: JobId) => Effect.Effect<void, StorageError>
  readonly get: (id: WorkerId) => Effect.Effect<Option.Option<Worker>, StorageError>
  /** Every worker, ordered by id, in one read. */
  readonly list: Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /**
   * Records a heartbeat; `healthy` false marks the worker in error, a draining
   * worker stays draining. `pollingUntil` (when given) sets until when a pull
   * worker waits in a poll (null: it stopped). Answers the worker as written
   * with its status before, in one step; none when unknown.
   */
  readonly heartbeat: (
    id: WorkerId,
    at: number,
    healthy: boolean,
    pollingUntil?: number | null
  ) => Effect.Effect<Option.Option<Beaten>, StorageError>
  /**
   * Atomically gives each job, in order, a slot on the least-loaded live worker
   * of `type` that asks for one at `now` (`Domain.hasFreeSlot`), until none is
   * free. Returns the worker of each job that got one (a prefix of `jobIds`).
   */
  readonly claim: (
    type: WorkerType,
    jobIds: ReadonlyArray<JobId>,
    now: number
  ) => Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /** Frees the slot `jobId` held on worker `id` (no-op when it holds none). */
  readonly release: (id: WorkerId, jobId: JobId) => Effect.Effect<void, StorageError>
  /**
   * Marks offline the workers silent since before `offlineBefore`; removes those silent since before `removeBefore`.
   * Either may be minus infinity: nobody (`WorkerTransitions.expiryCutoffs` gives it after a storage outage).
   */
  readonly expire: (offlineBefore: number, removeBefore: number) => Effect.Effect<ExpiredWorkers, StorageError>
  readonly remove: (id: WorkerId) => Effect.Effect<boolean, StorageError>
  /** Forgets every waiting poll (sets no worker asking): the workers ask again with their next poll. */
  readonly forgetPolls: Effect.Effect<void, StorageError>
}

export class WorkerStore extends Context.Tag("@foreman/core/WorkerStore")<WorkerStore, WorkerStoreShape>() {}
