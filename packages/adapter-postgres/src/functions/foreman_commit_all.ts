/**
 * `foreman_commit_all(ts jsonb) RETURNS boolean[]`: many transitions in one
 * round trip (a tick's batch, `PgResearchStore.commitAll`). Each is written
 * by `foreman_try_commit`, in a subtransaction of its own, so a stale one
 * (`FMSTL`) is undone alone and the others are kept; the answer says, for
 * each, whether it was written. Any other error aborts the whole batch.
 * History: migration 0001.
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
    written := written || foreman_try_commit(t);
  END LOOP;
  RETURN written;
END
`
} satisfies SqlFunction
