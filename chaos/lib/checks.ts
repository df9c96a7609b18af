/**
 * The verdict's checks that do not take the coordinator's word for it, as pure
 * functions of what was recorded (so chaos/test can show each one failing on
 * a coordinator that misbehaves that way):
 *
 * - refused / under-floor (`workloadCheck`): every trigger must be accepted
 *   (a 4xx, or giving up after the trigger's patience, is a failure), and a
 *   scenario must have accepted and completed at least its floor of
 *   researches, so a coordinator that does nothing cannot pass.
 * - stale-epoch (`staleEpochCheck`): from the database rows, a job written by
 *   a coordinator epoch after a newer epoch had taken the lease (the fence
 *   should have refused it), and a job run on a worker that has no row at all
 *   (dispatched by a write the database refused).
 * - unconfirmed / db-mismatch (`crossCheck`): every worker job the API calls
 *   completed, and every worker phase a completed research was gated on, has a
 *   `done` in the worker's own log; the database rows (read
 *   with SQL) agree with the API on every research and job.
 */
import type { Trigger } from "./workload.js"

/** One line of the workers' job log (chaos/worker): `start|done jobId researchId kind workerId pid attempt time`. */
export interface WorkerEvent {
  readonly event: "start" | "done"
  readonly jobId: string
  readonly researchId: string
  readonly kind: string
  readonly workerId: string
  readonly pid: number
  readonly at: number
}

export const parseEvents = (text: string): Array<WorkerEvent> =>
  text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const [event, jobId, researchId, kind, workerId, pid, , at] = line.split(" ")
    return { event: event as "start" | "done", jobId: jobId!, researchId: researchId!, kind: kind!, workerId: workerId!, pid: Number(pid), at: Number(at) }
  })

/**
 * The jobs started more than once on the workers, with how many times. A start
 * by a process we killed (`killed`: pid → when) before its result reached the
 * coordinator produced nothing: the job's next start (a pull worker's
 * restarted process is offered its job again) is its retry. Its result reached
 * the coordinator when that process finished the job and a report of the job
 * was accepted (`reportsAccepted`: job id → when) before the kill; a process
 * killed between finishing and reporting lost its result.
 */
export const startedMoreThanOnce = (
  events: ReadonlyArray<WorkerEvent>,
  killed: ReadonlyMap<number, number>,
  reportsAccepted: ReadonlyMap<string, number>
): Array<readonly [string, number]> => {
  const doneBy = new Set(events.filter((e) => e.event === "done").map((e) => `${e.jobId} ${e.pid}`))
  const reported = (jobId: string, pid: number) => {
    const at = reportsAccepted.get(jobId)
    return doneBy.has(`${jobId} ${pid}`) && at !== undefined && at <= (killed.get(pid) ?? Infinity)
  }
  const starts = new Map<string, number>()
  for (const e of events) {
    if (e.event !== "start" || (killed.has(e.pid) && !reported(e.jobId, e.pid))) continue
    starts.set(e.jobId, (starts.get(e.jobId) ?? 0) + 1)
  }
  return Array.from(starts).filter(([, n]) => n > 1)
}

/** A research as the API or the database shows it (the fields compared). */
export interface ResearchView {
  readonly id: string
  readonly status: string
  readonly phase: string
  /** Gate outcomes by worker phase (`training`, `backtest`), as the API shows them. */
  readonly gates?: Readonly<Record<string, unknown>>
}

/** A job as the API or the database shows it (the fields compared). */
export interface JobView {
  readonly id: string
  readonly researchId: string
  readonly kind: string
  readonly workerId: string | null
  readonly status: string
}

/** A job row with the epoch that wrote it and when (epoch milliseconds). */
export interface JobRow extends JobView {
  readonly epoch: number
  readonly createdAt: number
}

/** An epoch the lease handed out, and when (the database's clock, epoch milliseconds). */
export interface LeaseBump {
  readonly epoch: number
  readonly at: number
}

export interface Check {
  readonly count: number
  readonly details: ReadonlyArray<string>
}

const grouped = (items: ReadonlyArray<string>, prefix: string, limit = 5): Array<string> => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1)
  return Array.from(counts).slice(0, limit).map(([text, n]) => `${prefix}: ${n > 1 ? `${n} x ` : ""}${text}`)
}

/** Why a trigger was not accepted, shortened for grouping. */
const refusal = (t: Trigger): string =>
  (t.refused ?? "?").replace(/op_[\w-]+/g, "op_…").replace(/"requestId":"[^"]*"/g, "").slice(0, 160)

export interface WorkloadFigures {
  /** Triggers not accepted: refused (4xx) or given up. */
  readonly refused: Check
  /** Floors not met (0, 1 or 2: accepted, completed). */
  readonly underFloor: Check
  readonly accepted: number
  readonly completed: number
  readonly floor: number
}

/**
 * The workload's own figures: triggers not accepted (each a failure: the
 * runner sends `force: true` with an unlimited budget, so nothing may refuse
 * it), and the floor of accepted and completed researches (the ones the
 * workload's triggers created, whatever their gates said).
 */
export const workloadCheck = (
  triggers: ReadonlyArray<Trigger>,
  researches: ReadonlyArray<ResearchView>,
  floor: number
): WorkloadFigures => {
  const refused = triggers.filter((t) => t.researchId === undefined)
  const acceptedIds = new Set(triggers.flatMap((t) => (t.researchId === undefined ? [] : [t.researchId])))
  const completed = researches.filter((r) => acceptedIds.has(r.id) && r.status === "completed").length
  const under: Array<string> = []
  if (acceptedIds.size < floor) under.push(`under-floor: ${acceptedIds.size} researches accepted, fewer than the floor of ${floor}`)
  if (completed < floor) under.push(`under-floor: ${completed} researches completed, fewer than the floor of ${floor}`)
  return {
    refused: { count: refused.length, details: grouped(refused.map((t) => `trigger not accepted: ${refusal(t)}`), "refused") },
    underFloor: { count: under.length, details: under },
    accepted: acceptedIds.size,
    completed,
    floor
  }
}

/**
 * Stale-epoch writes and dispatches, from the rows. Each job row carries the
 * epoch of the coordinator that created it (and with it, chose its worker),
 * and its `created_at` is that coordinator's clock before it committed. The
 * lease's history (`bumps`, from a trigger on `foreman_lease`) says when each
 * epoch was superseded: a commit holds the lease row `FOR SHARE`, so a newer
 * epoch is handed out only after every write of the older one committed or
 * was refused. A job row of epoch E created after E was superseded is
 * therefore a write the fence should have refused and the database accepted.
 * A job started on a worker with no row at all was dispatched by a write that
 * never took (by a deposed leader, or anyone). Not checkable from rows: a
 * dispatch repeated by a deposed leader of a job that has a row (the
 * dispatch names no epoch); the workers' idempotency by job id is counted by
 * `duplicated`.
 */
export const staleEpochCheck = (
  jobs: ReadonlyArray<JobRow>,
  bumps: ReadonlyArray<LeaseBump>,
  events: ReadonlyArray<WorkerEvent>
): Check => {
  const sorted = [...bumps].sort((a, b) => a.epoch - b.epoch)
  const newest = sorted.at(-1)?.epoch
  /** When a newer epoch than `epoch` was first handed out. */
  const supersededAt = (epoch: number): number | undefined => {
    let at: number | undefined
    for (const b of sorted) if (b.epoch > epoch && (at === undefined || b.at < at)) at = b.at
    return at
  }
  const details: Array<string> = []
  let count = 0
  for (const job of jobs) {
    const superseded = supersededAt(job.epoch)
    if (superseded !== undefined && job.createdAt > superseded) {
      count++
      if (details.length < 5) {
        details.push(
          `stale-epoch: job ${job.id} (${job.kind} of ${job.researchId}, on ${job.workerId ?? "-"}) written by epoch ${job.epoch} ` +
            `${job.createdAt - superseded} ms after epoch ${job.epoch} was superseded`
        )
      }
    } else if (newest !== undefined && job.epoch > newest) {
      count++
      if (details.length < 5) details.push(`stale-epoch: job ${job.id} written by epoch ${job.epoch}, which the lease never handed out (newest ${newest})`)
    }
  }
  const rows = new Set(jobs.map((j) => j.id))
  const unbacked = new Map<string, WorkerEvent>()
  for (const e of events) if (e.event === "start" && !rows.has(e.jobId)) unbacked.set(e.jobId, e)
  count += unbacked.size
  for (const e of Array.from(unbacked.values()).slice(0, 5)) {
    details.push(`stale-epoch: job ${e.jobId} (${e.kind} of ${e.researchId}) ran on ${e.workerId} but has no row: dispatched by a write the database refused`)
  }
  return { count, details }
}

export interface CrossCheck {
  /** Worker jobs the API calls completed with no `done` in the worker log. */
  readonly unconfirmed: Check
  /** Researches and jobs on which the database and the API disagree (or that one of them lacks). */
  readonly mismatch: Check
}

/**
 * The API's account against independent evidence: every job that ran on a
 * worker (it has a worker) and that the API calls completed must have a
 * `done` in the workers' own log (the fake work writes it before it returns
 * its result, so a result the coordinator took has one), and so must a job of
 * each worker phase whose gate a completed research shows; and the database's
 * rows must say what the API says (status and phase of each research; status,
 * kind and worker of each job; nothing one has that the other lacks), so
 * `stuck` and `failed-by-us`, read from the API, hold for the rows too.
 */
export const crossCheck = (
  api: { readonly researches: ReadonlyArray<ResearchView>; readonly jobs: ReadonlyArray<JobView> },
  db: { readonly researches: ReadonlyArray<ResearchView>; readonly jobs: ReadonlyArray<JobView> },
  events: ReadonlyArray<WorkerEvent>
): CrossCheck => {
  const done = new Set(events.filter((e) => e.event === "done").map((e) => e.jobId))
  const donePhases = new Set(events.filter((e) => e.event === "done").map((e) => `${e.researchId} ${e.kind}`))
  const unconfirmed = api.jobs.filter((j) => j.status === "completed" && j.workerId !== null && !done.has(j.id))
  // A completed research's gate of a worker phase judged a result some worker produced.
  const ungrounded = api.researches.filter((r) => r.status === "completed").flatMap((r) =>
    ["training", "backtest"].filter((kind) => r.gates?.[kind] !== undefined && !donePhases.has(`${r.id} ${kind}`)).map((kind) => ({ r, kind }))
  )
  const mismatches: Array<string> = []
  const dbResearch = new Map(db.researches.map((r) => [r.id, r]))
  const apiResearch = new Map(api.researches.map((r) => [r.id, r]))
  for (const r of api.researches) {
    const row = dbResearch.get(r.id)
    if (row === undefined) mismatches.push(`research ${r.id} is in the API (${r.status}) but has no row`)
    else if (row.status !== r.status || row.phase !== r.phase) {
      mismatches.push(`research ${r.id}: API says ${r.status} in ${r.phase}, the row ${row.status} in ${row.phase}`)
    }
  }
  for (const row of db.researches) {
    if (!apiResearch.has(row.id)) mismatches.push(`research ${row.id} has a row (${row.status}) the API does not list`)
  }
  const dbJob = new Map(db.jobs.map((j) => [j.id, j]))
  const apiJob = new Map(api.jobs.map((j) => [j.id, j]))
  for (const j of api.jobs) {
    const row = dbJob.get(j.id)
    if (row === undefined) mismatches.push(`job ${j.id} (${j.kind} of ${j.researchId}) is in the API (${j.status}) but has no row`)
    else if (row.status !== j.status || row.workerId !== j.workerId || row.kind !== j.kind || row.researchId !== j.researchId) {
      mismatches.push(`job ${j.id}: API says ${j.kind} ${j.status} on ${j.workerId ?? "-"}, the row ${row.kind} ${row.status} on ${row.workerId ?? "-"}`)
    }
  }
  for (const row of db.jobs) {
    if (!apiJob.has(row.id)) mismatches.push(`job ${row.id} (${row.kind} of ${row.researchId}) has a row (${row.status}) the API does not show`)
  }
  return {
    unconfirmed: {
      count: unconfirmed.length + ungrounded.length,
      details: [
        ...unconfirmed.slice(0, 5).map((j) => `unconfirmed: job ${j.id} (${j.kind} of ${j.researchId} on ${j.workerId}) is completed in the API but its worker's log has no "done" for it`),
        ...ungrounded.slice(0, 5).map(({ kind, r }) => `unconfirmed: research ${r.id} completed with a ${kind} gate, but no worker's log has a ${kind} job of it done`)
      ]
    },
    mismatch: { count: mismatches.length, details: mismatches.slice(0, 5).map((m) => `db-mismatch: ${m}`) }
  }
}
