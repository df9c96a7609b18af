/**
 * `foreman_commit_claiming(claims jsonb, ts jsonb, at timestamptz) RETURNS jsonb`:
 * a tick's worker slots claimed and its transitions written in one round trip
 * (`PgResearchStore.commitClaiming`), where a claim and then a commit were two.
 * On the handover path (a worker's job done, its next job started on it) that
 * is one hop less between the worker's report and its next job.
 *
 * `claims` is `[{ workerType, jobIds }]`; each is claimed in order by
 * `foreman_claim`, unchanged: the least-loaded worker that can take one at
 * `at`, `FOR UPDATE SKIP LOCKED`, a prefix of `jobIds` granted. Then each
 * transition of `ts` is written by `foreman_try_commit`, in a subtransaction
 * of its own, as `foreman_commit_all` does (a stale one, `FMSTL`, is undone
 * alone). A transition that takes a slot is
 * `{ claim, slot, claimed, otherwise }` (`claim`: the index of its claim in
 * `claims`, `slot`: of its job id there): when that slot was granted,
 * `claimed` is written with the worker's id set on the job of that id (the
 * job the slot was claimed for, `Researches.withWorker` in core); when it was
 * not, `otherwise` (null: nothing). A slot granted to a transition found
 * stale stays claimed: the caller releases it, as it did after two calls.
 *
 * Answers `{ granted: [[worker row, …] per claim], written: [boolean per transition] }`,
 * the rows without their credential.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_commit_claiming",
  parameters: [["claims", "jsonb"], ["ts", "jsonb"], ["at", "timestamptz"]],
  returns: "jsonb",
  language: "plpgsql",
  body: `
DECLARE
  c jsonb;
  t jsonb;
  chosen jsonb;
  slots jsonb;
  worker foreman_workers;
  granted_worker jsonb;
  slot_job text;
  granted jsonb := '[]';
  written boolean[] := '{}';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(claims) LOOP
    slots := '[]';
    FOR worker IN SELECT * FROM foreman_claim(c->>'workerType', ARRAY(SELECT jsonb_array_elements_text(c->'jobIds')), at) LOOP
      slots := slots || jsonb_build_array(to_jsonb(worker) - 'secret_hash');
    END LOOP;
    granted := granted || jsonb_build_array(slots);
  END LOOP;
  FOR t IN SELECT value FROM jsonb_array_elements(ts) LOOP
    chosen := t;
    IF t->'claim' IS NOT NULL THEN
      granted_worker := granted->((t->>'claim')::int)->((t->>'slot')::int);
      IF granted_worker IS NULL THEN
        chosen := t->'otherwise';
      ELSE
        slot_job := claims->((t->>'claim')::int)->'jobIds'->>((t->>'slot')::int);
        chosen := jsonb_set(t->'claimed', '{jobs}', (
          SELECT coalesce(jsonb_agg(
            CASE WHEN w->'job'->>'id' = slot_job THEN jsonb_set(w, '{job,worker_id}', granted_worker->'id') ELSE w END
            ORDER BY n), '[]')
          FROM jsonb_array_elements(t->'claimed'->'jobs') WITH ORDINALITY AS x(w, n)));
      END IF;
    END IF;
    -- CASE, not AND: PostgreSQL does not promise to evaluate AND's operands in order.
    written := written || CASE WHEN chosen IS NULL OR chosen = 'null'::jsonb THEN false ELSE foreman_try_commit(chosen) END;
  END LOOP;
  RETURN jsonb_build_object('granted', granted, 'written', to_jsonb(written));
END
`
} satisfies SqlFunction
