/**
 * `foreman_update_job(job jsonb, expected text[]) RETURNS boolean`: writes one
 * job row (every column but its id) only while its stored status is one of
 * `expected`, and says whether it did. The conditional write of the job state
 * machine (`JobTransitions` in core decides the new job; this only stores it):
 * called by `PgResearchStore.updateJob` and, for each job a transition
 * updates, by `foreman_commit`. `job` is a row as `jsonb` (column names).
 * History: migration 0004.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_update_job",
  parameters: [["job", "jsonb"], ["expected", "text[]"]],
  returns: "boolean",
  language: "plpgsql",
  body: `
DECLARE
  j foreman_jobs := jsonb_populate_record(NULL::foreman_jobs, job);
BEGIN
  UPDATE foreman_jobs SET research_id = j.research_id, kind = j.kind, phase = j.phase,
    worker_type = j.worker_type, worker_id = j.worker_id, status = j.status, attempt = j.attempt,
    progress = j.progress, message = j.message, input = j.input, result = j.result, usage = j.usage,
    error = j.error, epoch = j.epoch, queued_since = j.queued_since, created_at = j.created_at,
    updated_at = j.updated_at, finished_at = j.finished_at
  WHERE id = j.id AND status = ANY(expected);
  RETURN FOUND;
END
`
} satisfies SqlFunction
