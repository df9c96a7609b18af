/**
 * Rows are decoded with the domain's schemas on read: a row that breaks them
 * (written by hand, or by a buggy release) fails the read with `StorageError`
 * naming the column, never a defect and never a malformed object.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { type Errors, Researches, WorkerStore } from "@foreman/core"
import { Effect, Layer } from "effect"
import { beforeAll } from "vitest"
import { TestEngine } from "@foreman/adapter-memory"
import { createDatabase, freshPorts } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_row_decoding")
})

const research = TestEngine.research("op_decoded", { brief: "decode me" })

describe("rows that break the domain's schemas", () => {
  it.live("fail the read with StorageError", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const store = yield* Researches.Researches
      const workers = yield* WorkerStore.WorkerStore
      yield* store.insert(research)
      yield* sql`UPDATE foreman_researches SET phase = 'Not A Phase' WHERE id = ${research.id}`
      const reads: ReadonlyArray<Effect.Effect<unknown, Errors.StorageError>> = [
        store.get(research.id),
        store.listActive,
        store.list({ limit: 10, offset: 0 })
      ]
      for (const read of reads) {
        const error = yield* Effect.flip(read)
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.reason, "phase")
        assert.strictEqual((error.cause as { _tag?: string } | undefined)?._tag, "ParseError", "the parse error is kept")
      }

      yield* sql`
        INSERT INTO foreman_workers (id, type, endpoint, status, capacity, registered_at, last_heartbeat_at)
        VALUES ('w-1', 'training', 'http://127.0.0.1:1', 'asleep', 1, now(), now())`
      const error = yield* Effect.flip(workers.list)
      assert.strictEqual(error._tag, "StorageError")
      assert.include(error.reason, "status")
    }).pipe(Effect.provide(Layer.fresh(freshPorts(url)))))
})
