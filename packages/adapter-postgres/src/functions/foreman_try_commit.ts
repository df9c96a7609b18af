/**
 * `foreman_try_commit(t jsonb) RETURNS boolean`: one transition written by
 * `foreman_commit` in a subtransaction of its own (the `BEGIN … EXCEPTION`
 * block), answering whether it was written. A stale one (`FMSTL`) is undone
 * alone and answers false, so the batch that called it keeps its other
 * transitions; any other error aborts the caller's whole statement. The one
 * place the batches (`foreman_commit_all`, `foreman_commit_claiming`) write
 * a transition.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_try_commit",
  parameters: [["t", "jsonb"]],
  returns: "boolean",
  language: "plpgsql",
  body: `
BEGIN
  PERFORM foreman_commit(t);
  RETURN true;
EXCEPTION WHEN SQLSTATE 'FMSTL' THEN
  RETURN false;
END
`
} satisfies SqlFunction
