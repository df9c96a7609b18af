/**
 * `foreman_recent_cycle_costs(want int, excluded text[])`: the total charged
 * to each of the `want` researches charged most recently (by their latest
 * charge, ties by research id, descending, `COLLATE "C"` as the memory ledger
 * compares), leaving out those whose status is in `excluded` (the active
 * statuses, for `BudgetLedger.recentFinishedCycleCosts`; none for
 * `recentCycleCosts`). Every trigger that needs a budget verdict and every
 * status view asks for it.
 *
 * Its cost follows what was charged recently, not the ledger's size: grouping
 * the whole ledger, as the statement before it did, read every entry ever
 * recorded (149 ms a call with 240,000 entries, two months of a lab running
 * 1,000 researches a day). It reads a window of the newest entries instead,
 * through the index on `at`: the `k` newest and every entry as new as the
 * `k`-th (ties included). A research whose latest charge is at or after that
 * entry's time has that charge in the window, and every other research's
 * latest charge is older, so the first `want` candidates from the window,
 * ordered by their latest charge over all their entries (read through the
 * index on `research_id`), are the first `want` of the whole ledger. When the
 * window holds fewer than `want` candidates (recent charges belong to active
 * researches) it doubles, until it holds enough or the whole ledger.
 */
import type { SqlFunction } from "../internal/sqlFunction.js"

export default {
  name: "foreman_recent_cycle_costs",
  parameters: [["want", "int"], ["excluded", "text[]"]],
  returns: "TABLE (research_id text, amount_usd float8)",
  language: "plpgsql",
  body: `
DECLARE
  k int := greatest(want * 4, 64);
  oldest timestamptz;
  candidates text[];
BEGIN
  IF want <= 0 THEN
    RETURN;
  END IF;
  LOOP
    -- The time of the k-th newest entry; -infinity when the ledger holds fewer: the window is all of
    -- it. (A plain bound, not "IS NULL OR", so that the window is read through the index on at.)
    oldest := coalesce((SELECT b.at FROM foreman_budget b ORDER BY b.at DESC OFFSET k - 1 LIMIT 1), '-infinity');
    candidates := ARRAY(
      SELECT DISTINCT b.research_id FROM foreman_budget b
      WHERE b.at >= oldest
        AND NOT EXISTS (
          SELECT 1 FROM foreman_researches r WHERE r.id = b.research_id AND r.status = ANY (excluded)));
    EXIT WHEN cardinality(candidates) >= want OR oldest = '-infinity';
    k := k * 2;
  END LOOP;
  -- The candidates' ids as an array, not a subquery: joined, the planner guessed the window too large
  -- and read the whole ledger to match it.
  RETURN QUERY
    SELECT b.research_id, sum(b.amount_usd)::float8 FROM foreman_budget b
    WHERE b.research_id = ANY (candidates)
    GROUP BY b.research_id
    ORDER BY max(b.at) DESC, b.research_id COLLATE "C" DESC
    LIMIT want;
END
`
} satisfies SqlFunction
