/**
 * Announcements to pull workers' polls across processes with LISTEN/NOTIFY: an
 * announcement wakes this process's polls at once and is sent to the other
 * replicas on `foreman_assigned` (payload: sender and worker id), where a poll
 * of that worker may be waiting. Announcements made together go in one
 * statement, sent from the background so no caller waits on it.
 */
import { PgClient } from "@effect/sql-pg"
import { Assignments, type Domain } from "@foreman/core"
import { Chunk, Effect, Layer, Queue, Random, Schedule, Stream } from "effect"

const CHANNEL = "foreman_assigned"

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  const self = String(yield* Random.nextIntBetween(1, Number.MAX_SAFE_INTEGER))
  const local = yield* Assignments.makeLocal
  const outgoing = yield* Queue.unbounded<Domain.WorkerId>()
  yield* Queue.takeBetween(outgoing, 1, 1000).pipe(
    Effect.flatMap((ids) => {
      const payloads = [...new Set(Chunk.toReadonlyArray(ids))].map((id) => `${self} ${id}`)
      return sql`SELECT pg_notify(${CHANNEL}, p) FROM unnest(${payloads}::text[]) AS p`
    }),
    Effect.catchAll((e) => Effect.logWarning(`NOTIFY ${CHANNEL} failed: ${e.message}`)),
    Effect.forever,
    Effect.forkScoped
  )
  yield* sql.listen(CHANNEL).pipe(
    Stream.runForEach((payload) => {
      const space = payload.indexOf(" ")
      const sender = payload.slice(0, space)
      return sender === self || space < 0 ? Effect.void : local.announce(payload.slice(space + 1) as Domain.WorkerId)
    }),
    Effect.tapError((e) => Effect.logWarning(`LISTEN ${CHANNEL} failed, retrying: ${e.message}`)),
    Effect.retry(Schedule.spaced("1 second")),
    Effect.forkScoped
  )
  return Assignments.Assignments.of({
    announce: (workerId) => Effect.zipRight(local.announce(workerId), Queue.offer(outgoing, workerId)),
    await: local.await
  })
})

export const layer: Layer.Layer<Assignments.Assignments, never, PgClient.PgClient> = Layer.scoped(
  Assignments.Assignments,
  make
)
