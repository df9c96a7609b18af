/**
 * Worker statuses as `WorkerTransitions` in core decides them (it owns the
 * worker state machine), written in SQL. A store statement must decide on the
 * row it locks (a registration or heartbeat racing a claim must see the slots
 * as they are), so a decision over the row's status and load cannot be made
 * before the statement. Instead the core function is tabulated here over every
 * status and both loads, and the table becomes one `CASE` on the row: the SQL
 * holds no rule of its own, only the function's answers.
 */
import type { Statement } from "@effect/sql"
import { WorkerTransitions } from "@foreman/core"

type Status = WorkerTransitions.Status
type Fragment = Statement.Fragment
type Sql = Statement.Constructor

const quoted = (sql: Sql, status: Status): Fragment => {
  if (!WorkerTransitions.statuses.includes(status)) throw new Error(`not a worker status: ${String(status)}`)
  return sql.literal(`'${status}'`)
}

/** `decide` for one known status, over the load: `full` is the SQL condition that the slots are all taken. */
const overLoad = (sql: Sql, decide: (full: boolean) => Status, full: Fragment): Fragment => {
  const [whenFull, whenFree] = [decide(true), decide(false)]
  return whenFull === whenFree
    ? quoted(sql, whenFull)
    : sql`CASE WHEN ${full} THEN ${quoted(sql, whenFull)} ELSE ${quoted(sql, whenFree)} END`
}

/**
 * `decide(status, full)` as a SQL expression over the row's `status` column
 * and the condition `full` (e.g. `cardinality(current_jobs) >= capacity`).
 */
export const onRow = (sql: Sql, decide: (status: Status, full: boolean) => Status, full: Fragment): Fragment =>
  sql`(CASE status ${
    sql.join(" ", false)(
      WorkerTransitions.statuses.map((status) =>
        sql`WHEN ${quoted(sql, status)} THEN ${overLoad(sql, (f) => decide(status, f), full)}`
      )
    )
  } END)`

/** `decide(full)` for a status known before the statement, over the condition `full`. */
export const onLoad = (sql: Sql, decide: (full: boolean) => Status, full: Fragment): Fragment =>
  sql`(${overLoad(sql, decide, full)})`

/** The statuses from which `decide` changes the status, as a SQL list: what a conditional write expects. */
export const changing = (sql: Sql, decide: (status: Status) => Status): Fragment =>
  sql`(${sql.join(", ", false, "NULL")(WorkerTransitions.changing(decide).map((status) => quoted(sql, status)))})`
