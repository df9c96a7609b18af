/**
 * Lineage: a research records the research whose assessment it follows
 * (`parentId`, null for a manual trigger and for every research from before),
 * indexed to list a research's children.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`ALTER TABLE foreman_researches ADD COLUMN parent_id text REFERENCES foreman_researches (id)`)
  yield* sql.unsafe(`CREATE INDEX foreman_researches_parent_id ON foreman_researches (parent_id) WHERE parent_id IS NOT NULL`)
})
