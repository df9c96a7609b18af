/**
 * Wakeups across processes with LISTEN/NOTIFY: a signal wakes this process at
 * once and notifies the others through `pg_notify` (the client's `notify()` is
 * broken in this version, and empty payloads are dropped; the payload names the sender).
 * A burst of signals becomes one NOTIFY, sent without making the caller wait.
 */
import { PgClient } from "@effect/sql-pg"
import { Wakeup } from "@foreman/core"
import { Effect, Layer, Random, Schedule, Stream } from "effect"

const CHANNEL = "foreman_wakeup"

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  // Our own notifications come back to us; the payload names the sender so they can be ignored.
  const self = String(yield* Random.nextIntBetween(1, Number.MAX_SAFE_INTEGER))
  const local = yield* Wakeup.makeLocal
  // Signals coalesce into NOTIFYs sent from the background, so no caller waits on one.
  const outgoing = yield* Wakeup.makeLocal
  yield* outgoing.await.pipe(
    Effect.zipRight(sql`SELECT pg_notify(${CHANNEL}, ${self})`),
    Effect.catchAll((e) => Effect.logWarning(`NOTIFY ${CHANNEL} failed: ${e.message}`)),
    Effect.forever,
    Effect.forkScoped
  )
  yield* sql.listen(CHANNEL).pipe(
    Stream.runForEach((sender) => (sender === self ? Effect.void : local.signal)),
    Effect.tapError((e) => Effect.logWarning(`LISTEN ${CHANNEL} failed, retrying: ${e.message}`)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )
  return Wakeup.Wakeup.of({
    signal: Effect.zipRight(local.signal, outgoing.signal),
    await: local.await
  })
})

export const layer: Layer.Layer<Wakeup.Wakeup, never, PgClient.PgClient> = Layer.scoped(Wakeup.Wakeup, make)
