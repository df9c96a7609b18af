/**
 * Rows of `foreman_workers`, decoded with the worker's own field schemas (the
 * credential and the registration sequence are the store's); moments are
 * `timestamptz`, read as a `Date`, or as text in a row turned to JSON.
 */
import { Domain, type Errors } from "@foreman/core"
import { Effect, Schema } from "effect"
import { decode, type Timestamp, type TimestampText } from "./rows.js"

const worker = Domain.Worker.fields

const workerColumns = (timestamp: typeof Timestamp | typeof TimestampText) =>
  Schema.Struct({
    id: worker.id,
    type: worker.type,
    endpoint: worker.endpoint,
    status: worker.status,
    capacity: worker.capacity,
    current_jobs: worker.currentJobs,
    capabilities: worker.capabilities,
    registered_at: timestamp,
    last_heartbeat_at: timestamp,
    protocol: Domain.WorkerProtocol,
    runtime: Schema.NullOr(Schema.String),
    polling_until: Schema.NullOr(timestamp)
  })

type WorkerColumns = ReturnType<typeof workerColumns>["Type"]

const toWorker = (row: WorkerColumns): Domain.Worker => ({
  id: row.id,
  type: row.type,
  endpoint: row.endpoint,
  status: row.status,
  capacity: row.capacity,
  currentJobs: row.current_jobs,
  capabilities: row.capabilities,
  registeredAt: row.registered_at.getTime(),
  lastHeartbeatAt: row.last_heartbeat_at.getTime(),
  protocol: row.protocol,
  ...(row.runtime === null ? {} : { runtime: row.runtime }),
  pollingUntil: row.polling_until === null ? null : row.polling_until.getTime()
})

/** Decodes worker rows whose moments are read with `timestamp`. */
export const workersOf = (timestamp: typeof Timestamp | typeof TimestampText) => {
  const decodeRows = decode(Schema.Array(workerColumns(timestamp)))
  return (rows: unknown): Effect.Effect<ReadonlyArray<Domain.Worker>, Errors.StorageError> =>
    Effect.map(decodeRows(rows), (rows) => rows.map(toWorker))
}
