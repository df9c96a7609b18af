/**
 * Port: storage of registered workers. `claim` is atomic: two coordinators
 * racing for one free slot can never both get it.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { JobId, Worker, WorkerId, WorkerType } from "./Domain.js"
import type { StorageError } from "./Errors.js"

export interface ExpiredWorkers {
  readonly offline: ReadonlyArray<WorkerId>
  readonly removed: ReadonlyArray<WorkerId>
}

export interface WorkerStoreShape {
  /** Inserts or replaces a worker. */
  readonly upsert: (worker: Worker) => Effect.Effect<void, StorageError>
  readonly get: (id: WorkerId) => Effect.Effect<Option.Option<Worker>, StorageError>
  /** Every worker, ordered by id, in one read. */
  readonly list: Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /** Records a heartbeat; `healthy` false marks the worker in error. None when unknown. */
  readonly heartbeat: (
    id: WorkerId,
    at: number,
    healthy: boolean
  ) => Effect.Effect<Option.Option<Worker>, StorageError>
  /**
   * Atomically gives each job, in order, a slot on the least-loaded live worker
   * of `type`, until none is free. Returns the worker of each job that got one
   * (a prefix of `jobIds`).
   */
  readonly claim: (type: WorkerType, jobIds: ReadonlyArray<JobId>) => Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /** Frees the slot `jobId` held on worker `id` (no-op when it holds none). */
  readonly release: (id: WorkerId, jobId: JobId) => Effect.Effect<void, StorageError>
  /** Marks offline the workers silent since before `offlineBefore`; removes those silent since before `removeBefore`. */
  readonly expire: (offlineBefore: number, removeBefore: number) => Effect.Effect<ExpiredWorkers, StorageError>
  readonly remove: (id: WorkerId) => Effect.Effect<boolean, StorageError>
}

export class WorkerStore extends Context.Tag("@foreman/core/WorkerStore")<WorkerStore, WorkerStoreShape>() {}
