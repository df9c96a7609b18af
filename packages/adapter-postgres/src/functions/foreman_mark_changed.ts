/**
 * `foreman_mark_changed() RETURNS trigger`: stamps each inserted or updated
 * research and job row with the transaction that wrote it (`changed_xid`), so
 * a reader of the active researches asks for just the rows written since its
 * last read (`activeChangedSince` in `PgResearchStore.ts`). The triggers that run it, one per
 * table, are schema and live in migration 0007, which first defined it.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_mark_changed",
  parameters: [],
  returns: "trigger",
  language: "plpgsql",
  body: `
BEGIN
  NEW.changed_xid := pg_current_xact_id();
  RETURN NEW;
END
`
} satisfies SqlFunction
