/**
 * Leadership on PostgreSQL: a session advisory lock held on a dedicated
 * connection. Whoever takes it bumps the epoch in `foreman_lease`; commits check
 * that epoch, so a deposed leader's writes are fenced. If the holder's
 * connection dies the lock is released at once and a standby takes over; the
 * holder notices on its next keep-alive and reports the lease lost.
 */
import { PgClient } from "@effect/sql-pg"
import { CoordinatorLease } from "@foreman/core"
import { Deferred, Duration, Effect, Layer, Schedule } from "effect"
import { storage } from "./internal/storage.js"

/** Advisory lock key of the leader lease. */
const LEADER_LOCK = 0x666f72656d616c

export interface LeaseOptions {
  /** How often a standby tries to take the lease, and the holder checks its connection. */
  readonly checkEvery?: Duration.DurationInput
}

export const make = (options: LeaseOptions = {}) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const every = Duration.decode(options.checkEvery ?? Duration.seconds(1))

    const acquire = Effect.gen(function*() {
      const connection = yield* sql.reserve
      const tryLock = Effect.map(
        connection.execute(`SELECT pg_try_advisory_lock(${LEADER_LOCK}) AS locked`, [], undefined),
        (rows) => rows[0]?.locked === true
      )
      yield* tryLock.pipe(
        Effect.repeat({ until: (locked) => locked, schedule: Schedule.spaced(every) })
      )
      yield* Effect.addFinalizer(() =>
        Effect.ignore(connection.execute(`SELECT pg_advisory_unlock(${LEADER_LOCK})`, [], undefined))
      )
      const [row] = yield* sql<{ epoch: number }>`
        UPDATE foreman_lease SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch::int AS epoch`
      const lost = yield* Deferred.make<void>()
      yield* connection.execute("SELECT 1", [], undefined).pipe(
        Effect.repeat(Schedule.spaced(every)),
        Effect.catchAll(() => Deferred.succeed(lost, undefined)),
        Effect.forkScoped
      )
      return { epoch: row!.epoch, lost: Deferred.await(lost) }
    })

    return CoordinatorLease.CoordinatorLease.of({
      acquire: storage(acquire),
      current: storage(Effect.map(
        sql<{ epoch: number }>`SELECT epoch::int AS epoch FROM foreman_lease WHERE id = 1`,
        (rows) => rows[0]?.epoch ?? 0
      ))
    })
  })

export const layer = (
  options: LeaseOptions = {}
): Layer.Layer<CoordinatorLease.CoordinatorLease, never, PgClient.PgClient> =>
  Layer.effect(CoordinatorLease.CoordinatorLease, make(options))
