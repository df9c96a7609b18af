/**
 * Every research and job row records the transaction that last wrote it
 * (`changed_xid`, set by a trigger on each insert and update), indexed, so a
 * reader of the active researches can ask for just the rows written since its
 * last read instead of reading them all again (see `activeChangedSince` in `PgResearchStore.ts`, and core's `ActiveSet`).
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE FUNCTION foreman_mark_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.changed_xid := pg_current_xact_id();
      RETURN NEW;
    END $$`)
  for (const table of ["foreman_researches", "foreman_jobs"]) {
    yield* sql.unsafe(`ALTER TABLE ${table} ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id()`)
    yield* sql.unsafe(`CREATE INDEX ${table}_changed ON ${table} (changed_xid)`)
    yield* sql.unsafe(`
      CREATE TRIGGER ${table}_changed BEFORE INSERT OR UPDATE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION foreman_mark_changed()`)
  }
})
