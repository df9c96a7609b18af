/** The autopilot's state in `foreman_autopilot` (migration 0012): one row, written conditionally on its version. */
import { PgClient } from "@effect/sql-pg"
import { Autopilot } from "@foreman/core"
import { Effect, Layer, Option, Schema } from "effect"
import { decode, toDate } from "./internal/rows.js"
import { storage } from "./internal/storage.js"

const decodeStates = decode(Schema.Array(Schema.Struct({ state: Autopilot.State })))

export const make = Effect.gen(function*() {
  const sql = yield* PgClient.PgClient
  return Autopilot.AutopilotStore.of({
    get: storage(Effect.map(
      Effect.flatMap(sql`SELECT state FROM foreman_autopilot WHERE id = 1`, decodeStates),
      (rows) => Option.fromNullable(rows[0]?.state)
    )),
    save: (state, expected) => {
      const json = sql.json(Schema.encodeSync(Autopilot.State)(state))
      const at = toDate(state.updatedAt)
      return storage(Effect.map(
        expected === null
          ? sql`
            INSERT INTO foreman_autopilot (id, state, version, updated_at) VALUES (1, ${json}, ${state.version}, ${at})
            ON CONFLICT (id) DO NOTHING RETURNING id`
          : sql`
            UPDATE foreman_autopilot SET state = ${json}, version = ${state.version}, updated_at = ${at}
            WHERE id = 1 AND version = ${expected} RETURNING id`,
        (rows) => rows.length > 0
      ))
    }
  })
})

export const layer: Layer.Layer<Autopilot.AutopilotStore, never, PgClient.PgClient> = Layer.effect(Autopilot.AutopilotStore, make)
