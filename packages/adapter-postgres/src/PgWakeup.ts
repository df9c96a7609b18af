/**
 * Wakeups across processes with LISTEN/NOTIFY: a signal wakes this process at
 * once and notifies the others through `pg_notify` (the client's `notify()` is
 * broken in this version, and empty payloads are dropped, so the payload is "1").
 */
import { PgClient } from "@effect/sql-pg"
import { Wakeup } from "@foreman/core"
import { Effect, Layer, Schedule, Stream } from "effect"

const CHANNEL = "foreman_wakeup"

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const local = yield* Wakeup.makeLocal
  yield* sql.listen(CHANNEL).pipe(
    Stream.runForEach(() => local.signal),
    Effect.tapError((e) => Effect.logWarning(`LISTEN ${CHANNEL} failed, retrying: ${e.message}`)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )
  return Wakeup.Wakeup.of({
    signal: Effect.zipRight(
      local.signal,
      sql`SELECT pg_notify(${CHANNEL}, '1')`.pipe(
        Effect.catchAll((e) => Effect.logWarning(`NOTIFY ${CHANNEL} failed: ${e.message}`))
      )
    ),
    await: local.await
  })
})

export const layer: Layer.Layer<Wakeup.Wakeup, never, PgClient.PgClient> = Layer.scoped(Wakeup.Wakeup, make)
