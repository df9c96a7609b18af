/**
 * `foreman_commit_all(ts jsonb) RETURNS boolean[]`: many transitions in one
 * round trip (a tick's batch, `PgResearchStore.commitAll`). Each runs
 * `foreman_commit` in a subtransaction of its own (the `BEGIN … EXCEPTION`
 * block), so a stale one (`FMSTL`) is undone alone and the others are kept;
 * the answer says, for each, whether it was written. Any other error aborts
 * the whole batch. History: migration 0001.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_commit_all",
  parameters: [["ts", "jsonb"]],
  returns: "boolean[]",
  language: "plpgsql",
  body: `
DECLARE
  t jsonb;
  written boolean[] := '{}';
BEGIN
  FOR t IN SELECT value FROM jsonb_array_elements(ts) LOOP
    BEGIN
      PERFORM foreman_commit(t);
      written := written || true;
    EXCEPTION WHEN SQLSTATE 'FMSTL' THEN
      written := written || false;
    END;
  END LOOP;
  RETURN written;
END
`
} satisfies SqlFunction
