/**
 * `foreman_admit(rows jsonb, active_at_most integer, expired_before timestamptz) RETURNS boolean`:
 * a batch of admitted triggers' new researches in one round trip
 * (`PgResearchStore.insertAll`), written on the condition core decided them on,
 * or not at all (false: core reads again and decides again).
 *
 * Admission reads capacity, budget and request keys without a lock, decides,
 * then calls this. It takes the trigger lock (a transaction-level advisory
 * lock: every admission of every process takes it here, so they are written
 * one after another) and holds it only for the rest of this statement. Its
 * statements after the lock read a snapshot taken after it (PL/pgSQL in READ
 * COMMITTED), so they see every batch written before. The batch is written
 * only if the active researches are still at most `active_at_most` (the count
 * it was decided on: other writers only end researches, which lowers it; a
 * higher count is another process's batch) and no key of it is held alive: the
 * insert skips a row whose key is taken (`ON CONFLICT`), and any row skipped
 * undoes the whole block. A key recorded before `expired_before` passes to the
 * new research. `status IN ('pending', 'running')` is `Domain.isTerminalStatus`'s
 * complement in core. A research id already taken is an error (unique_violation).
 * History: new (the lock was held across the whole admission, reads included, before).
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

/** The advisory lock key that serialises admissions across processes. */
const TRIGGER_LOCK = 0x666f72656d6174

export default {
  name: "foreman_admit",
  parameters: [["rows", "jsonb"], ["active_at_most", "integer"], ["expired_before", "timestamptz"]],
  returns: "boolean",
  language: "plpgsql",
  body: `
DECLARE
  inserted integer;
BEGIN
  PERFORM pg_advisory_xact_lock(${TRIGGER_LOCK});
  IF (SELECT count(*) FROM foreman_researches WHERE status IN ('pending', 'running')) > active_at_most THEN
    RETURN false;
  END IF;
  BEGIN
    UPDATE foreman_researches SET request_id = NULL, request_fingerprint = NULL, request_recorded_at = NULL
    WHERE request_id IN (SELECT r->>'request_id' FROM jsonb_array_elements(rows) r)
      AND request_recorded_at < expired_before;
    INSERT INTO foreman_researches SELECT * FROM jsonb_populate_recordset(NULL::foreman_researches, rows)
    ON CONFLICT (request_id) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted < jsonb_array_length(rows) THEN
      RAISE EXCEPTION 'a request key of the batch is held' USING ERRCODE = 'FMSTL';
    END IF;
  EXCEPTION WHEN SQLSTATE 'FMSTL' THEN
    RETURN false;
  END;
  RETURN true;
END
`
} satisfies SqlFunction
