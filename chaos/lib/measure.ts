/**
 * The verdict of a scenario, from the coordinator's own records (the API),
 * the workers' start log and the answers recorded:
 *
 * - lost: a trigger was accepted (202 with a research id) but that research
 *   does not exist.
 * - duplicated: a job id started more than once on the workers (a start by a
 *   process we killed before its result reached the coordinator does not
 *   count: the next is its retry); a research
 *   phase whose work completed more than once (two completed jobs of one kind
 *   in the coordinator's records, or two jobs of one kind that ran to the end
 *   on workers, not counting one whose worker we killed before it could report);
 *   more than one research from one trigger (same brief).
 * - stuck: a research not finished when the deadline passed.
 * - failed-by-us: a research that failed or was cancelled (the fake work never
 *   fails and nobody cancels; a gate rejection completes the research), or
 *   completed with gate outcomes other than its brief asked for. A research
 *   that gave up after losing jobs only to workers we killed (lost while the
 *   worker was down: from the kill until it registered again) is not counted
 *   (the retry limit did its job), but listed.
 * - 5xx: answers >= 500 other than 503 during a database outage.
 *
 * And, not taking the coordinator's word for it (lib/checks.ts):
 *
 * - refused: a trigger not accepted (answered 4xx, or given up after its
 *   patience); under-floor: fewer researches accepted, or completed, than the
 *   scenario's floor.
 * - unanswered: a request (runner, workers, fuzzer) that got no answer at all
 *   (reset, closed, timed out, or refused by every coordinator), except from
 *   a coordinator we had killed (lib/recorder.ts).
 * - stale-epoch: a job row written by an epoch already superseded, or a job
 *   run on a worker with no row (lib/rows.ts reads them with SQL).
 * - unconfirmed: a worker job the API calls completed with no "done" in the
 *   worker's log; db-mismatch: a research or job on which the rows and the
 *   API disagree.
 */
import { readFileSync } from "node:fs"
import * as Api from "./api.js"
import { crossCheck, parseEvents, staleEpochCheck, startedMoreThanOnce, type WorkerEvent, workloadCheck } from "./checks.js"
import type { Lab } from "./lab.js"
import { readRows } from "./rows.js"
import { TimeoutError, until } from "./wait.js"
import { Workload } from "./workload.js"

interface Job {
  readonly id: string
  readonly researchId: string
  readonly kind: string
  readonly workerId: string | null
  readonly status: string
  readonly error: string | null
  readonly createdAt: number
  readonly finishedAt: number | null
}
interface Research {
  readonly id: string
  readonly brief: string
  readonly status: string
  readonly phase: string
  readonly error: string | null
  readonly gates: Record<string, { passed: boolean }>
  readonly createdAt: number
}

export interface Verdict {
  readonly lost: number
  readonly duplicated: number
  readonly stuck: number
  readonly failedByUs: number
  readonly fiveXX: number
  readonly crashes: number
  readonly refused: number
  readonly unanswered: number
  readonly staleEpoch: number
  readonly unconfirmed: number
  readonly dbMismatch: number
  readonly underFloor: number
  /** Researches the workload's triggers got accepted, those of them completed, and the scenario's floor for both. */
  readonly accepted: number
  readonly completed: number
  readonly floor: number
  readonly details: ReadonlyArray<string>
}

/** The figures of a verdict that must be 0 (every one but the informative counts). */
export const failureCount = (v: Verdict): number =>
  v.lost + v.duplicated + v.stuck + v.failedByUs + v.fiveXX + v.crashes +
  v.refused + v.unanswered + v.staleEpoch + v.unconfirmed + v.dbMismatch + v.underFloor

const terminal = new Set(["completed", "failed", "cancelled"])

/** GET with retries while the coordinators come and go. */
const getJson = async (lab: Lab, path: string, token: string | undefined): Promise<{ status: number; json: unknown }> =>
  until(`GET ${path}`, async () => {
    const reply = await Api.call(lab.apiUrl, "GET", path, { token, timeoutMs: 15_000 })
    return reply.status === 200 || reply.status === 404 ? { status: reply.status, json: reply.json } : undefined
  }, { timeoutMs: 60_000, everyMs: 250 })

const listAll = async (lab: Lab, token: string | undefined, status?: string): Promise<Array<Research>> => {
  const all: Array<Research> = []
  for (let offset = 0; ; offset += 500) {
    const query = `limit=500&offset=${offset}${status === undefined ? "" : `&status=${status}`}`
    const { json } = await getJson(lab, `/api/v1/agent/researches?${query}`, token)
    const page = (json as { researches: Array<Research> }).researches
    all.push(...page)
    if (page.length < 500) return all
  }
}

/**
 * Waits (a condition wait) until every research has finished, as long as they
 * keep finishing: it gives up when none has finished for `idleMs` (those left
 * are stuck), or after `capMs` in all. Answers how long it waited.
 */
export const settle = async (
  lab: Lab,
  workload: Workload,
  token: string | undefined,
  idleMs: number,
  capMs = 15 * 60_000
): Promise<number> => {
  const began = Date.now()
  await workload.settle()
  let active = Number.POSITIVE_INFINITY
  let progressAt = Date.now()
  try {
    await until("every research to finish", async () => {
      const now = [...await listAll(lab, token, "pending"), ...await listAll(lab, token, "running")].length
      if (now < active) progressAt = Date.now()
      active = now
      if (now === 0) return "done"
      // Nothing finished for a long while: those left are stuck.
      if (Date.now() - progressAt > idleMs) return "stuck"
      return false
    }, { timeoutMs: capMs, everyMs: 500 })
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error
  }
  return Date.now() - began
}

const readEvents = (file: string): Array<WorkerEvent> => {
  try {
    return parseEvents(readFileSync(file, "utf8"))
  } catch {
    return []
  }
}

const countBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1)
  return counts
}

/** Shortens an error for grouping: ids and numbers out. */
const shape = (error: string): string =>
  error.replace(/op_[\w-]+/g, "op_…").replace(/job_[\w-]+/g, "job_…").replace(/\d+/g, "N").slice(0, 160)

export const measure = async (
  lab: Lab,
  workload: Workload,
  options: {
    readonly token?: string | undefined
    /** Researches accepted outside the workload (the fuzzer's valid triggers). */
    readonly extraAccepted?: ReadonlyArray<string>
    /** The least number of researches the workload must get accepted, and completed. */
    readonly floor?: number
  } = {}
): Promise<Verdict> => {
  const token = options.token
  const details: Array<string> = []
  const researches = await listAll(lab, token)
  const byId = new Map(researches.map((r) => [r.id, r]))
  const jobs = new Map<string, Array<Job>>()
  for (const research of researches) {
    const { json } = await getJson(lab, `/api/v1/agent/researches/${research.id}`, token)
    jobs.set(research.id, (json as { jobs: Array<Job> }).jobs ?? [])
  }
  const jobById = new Map(Array.from(jobs.values()).flat().map((j) => [j.id, j]))

  // lost
  const accepted = workload.accepted
  const lostIds = [...accepted.map((t) => t.researchId!), ...(options.extraAccepted ?? [])].filter((id) => !byId.has(id))
  for (const id of lostIds.slice(0, 5)) details.push(`lost: ${id} was accepted but does not exist`)

  // duplicated
  const events = readEvents(lab.startsFile)
  const killedPids = new Map(lab.workerKills.map((k) => [k.pid, k.at]))
  const startedTwice = startedMoreThanOnce(events, killedPids, lab.recorder.reportsAccepted)
  for (const [id, n] of startedTwice.slice(0, 5)) {
    const job = jobById.get(id)
    details.push(`duplicated: job ${id} (${job?.kind ?? "?"} of ${job?.researchId ?? "?"}) started ${n} times on workers`)
  }
  const phases = new Set<string>()
  for (const [researchId, list] of jobs) {
    for (const [kind, n] of countBy(list.filter((j) => j.status === "completed"), (j) => j.kind)) {
      if (n > 1) {
        phases.add(`${researchId} ${kind}`)
        details.push(`duplicated: ${researchId} has ${n} completed ${kind} jobs`)
      }
    }
  }
  const finishedOnWorkers = events.filter((e) => {
    if (e.event !== "done") return false
    // Finished by a worker we killed afterwards, and never reported: its re-run is expected.
    const killedAt = killedPids.get(e.pid)
    return !(killedAt !== undefined && killedAt >= e.at && jobById.get(e.jobId)?.status !== "completed")
  })
  const perPhase = new Map<string, Set<string>>()
  for (const e of finishedOnWorkers) {
    const key = `${e.researchId} ${e.kind}`
    perPhase.set(key, (perPhase.get(key) ?? new Set()).add(e.jobId))
  }
  for (const [key, ids] of perPhase) {
    if (ids.size > 1 && !phases.has(key)) {
      phases.add(key)
      const statuses = Array.from(ids, (id) => `${id}: ${jobById.get(id)?.status ?? "unknown"}${jobById.get(id)?.error ? ` (${jobById.get(id)!.error!.slice(0, 100)})` : ""}`)
      details.push(`duplicated: ${key} ran to the end on workers ${ids.size} times (${statuses.join("; ")})`)
    }
  }
  const perTrigger = countBy(researches.filter((r) => Workload.tag(r.brief) !== undefined), (r) => Workload.tag(r.brief)!)
  const extraResearches = Array.from(perTrigger).reduce((sum, [, n]) => sum + Math.max(0, n - 1), 0)
  for (const [tag, n] of Array.from(perTrigger).filter(([, n]) => n > 1).slice(0, 5)) {
    const trigger = workload.triggers.find((t) => t.brief.startsWith(`${tag} `))
    details.push(
      `duplicated: ${n} researches from the one trigger "${tag}" (${trigger?.attempts ?? "?"} attempts, ` +
        `${trigger?.unanswered ?? "?"} unanswered, ${trigger?.failed5xx ?? "?"} answered 5xx)`
    )
  }
  const duplicated = startedTwice.length + phases.size + extraResearches

  // stuck
  const stuck = researches.filter((r) => !terminal.has(r.status))
  for (const r of stuck.slice(0, 5)) {
    const active = (jobs.get(r.id) ?? []).filter((j) => j.status === "pending" || j.status === "running")
    details.push(`stuck: ${r.id} ${r.status} in ${r.phase}${active.length > 0 ? `, job ${active.map((j) => `${j.id} ${j.status} on ${j.workerId ?? "-"}`).join(", ")}` : ""}`)
  }

  // failed by us
  const failures: Array<string> = []
  let allowed = 0
  // A worker we killed is down from the kill until its next registration (the restarted process).
  const downs = lab.workerKills.map((k) => ({
    id: k.id,
    from: k.at,
    to: (lab.proxy.registrations.get(k.id) ?? []).find((t) => t > k.at) ?? Number.POSITIVE_INFINITY
  }))
  /** A job lost while its worker was down because we killed it (or dispatched to it then). */
  const explained = (job: Job): boolean =>
    downs.some((d) => d.id === job.workerId && d.from <= (job.finishedAt ?? Date.now()) + 500 && d.to >= job.createdAt - 500)
  for (const r of researches) {
    if (r.status === "failed" || r.status === "cancelled") {
      const lostJobs = (jobs.get(r.id) ?? []).filter((j) => j.status === "lost")
      if (r.status === "failed" && /giving up/.test(r.error ?? "") && lostJobs.length > 0 && lostJobs.every(explained)) {
        allowed++
        continue
      }
      failures.push(`${r.status}: ${r.error ?? "(no error)"}`)
      continue
    }
    if (r.status !== "completed") continue
    const tag = Workload.tag(r.brief)
    if (tag === undefined) continue
    const expectTraining = r.brief.includes("training:pass")
    const expectBacktest = r.brief.includes("backtest:pass")
    const training = r.gates["training"]?.passed
    const backtest = r.gates["backtest"]?.passed
    const wrong = training !== expectTraining || (expectTraining ? backtest !== expectBacktest : backtest !== undefined)
    if (wrong) failures.push(`completed with gates ${JSON.stringify(r.gates)} for "${r.brief}"`)
  }
  for (const [text, n] of countBy(failures, shape)) details.push(`failed-by-us: ${n} x ${text}`)
  if (allowed > 0) details.push(`note: ${allowed} research(es) gave up after losing jobs only to workers we killed (not counted)`)

  // 5xx
  const judged = lab.recorder.judge()
  for (const [route, n] of countBy(judged.bad, (a) => `${a.status} ${a.source} ${a.route}${a.note === undefined ? "" : ` [${a.note}]`}`)) {
    details.push(`5xx: ${n} x ${route}`)
  }
  const clientErrors = lab.recorder.answers.filter((a) => a.status >= 400 && a.status < 500 && a.source !== "fuzz")
  if (clientErrors.length > 0) {
    details.push(`note: 4xx answers to the runner and workers: ${Array.from(countBy(clientErrors, (a) => `${a.status} ${a.source} ${a.route}`)).map(([k, n]) => `${n} x ${k}`).join("; ")}`)
  }
  if (judged.expected503 > 0) details.push(`note: ${judged.expected503} answer(s) 503 during database outages (expected)`)

  for (const crash of lab.crashes) {
    details.push(`crash: ${crash.name} exited on its own (code ${crash.code}, signal ${crash.signal}) at ${new Date(crash.at).toISOString()}`)
    for (const line of crash.tail.split("\n").slice(-4)) details.push(`  | ${line.slice(0, 300)}`)
  }

  // Not the coordinator's word: the workload's own record, silences, the rows, the workers' log.
  const work = workloadCheck(workload.triggers, researches, options.floor ?? 1)
  const silences = lab.recorder.judgeSilences()
  for (const [what, n] of Array.from(countBy(silences.bad, (s) => `${s.why} ${s.source} ${s.route}${s.note === undefined ? "" : ` [${s.note}]`}`)).slice(0, 8)) {
    details.push(`unanswered: ${n} x ${what}`)
  }
  if (silences.expected > 0) details.push(`note: ${silences.expected} request(s) unanswered by a coordinator we had killed (expected)`)
  const apiJobs = Array.from(jobs.values()).flat()
  let rows = await readRows(lab.databaseUrl)
  let cross = crossCheck({ researches, jobs: apiJobs }, rows, events)
  if (cross.mismatch.count > 0) {
    // A row written between the two reads: read both again once, and count what still differs.
    const again = await listAll(lab, token)
    const againJobs: Array<Job> = []
    for (const research of again) {
      const { json } = await getJson(lab, `/api/v1/agent/researches/${research.id}`, token)
      againJobs.push(...((json as { jobs: Array<Job> }).jobs ?? []))
    }
    rows = await readRows(lab.databaseUrl)
    cross = { unconfirmed: cross.unconfirmed, mismatch: crossCheck({ researches: again, jobs: againJobs }, rows, events).mismatch }
  }
  const stale = staleEpochCheck(rows.jobs, rows.bumps, events)
  details.push(...work.refused.details, ...work.underFloor.details, ...stale.details, ...cross.unconfirmed.details, ...cross.mismatch.details)
  if (rows.bumps.length > 1) {
    details.push(`note: the lease handed out epochs ${rows.bumps[0]!.epoch}-${rows.bumps.at(-1)!.epoch} during the run (${rows.bumps.length - 1} takeovers); ${rows.jobs.length} job rows checked against them`)
  }
  const refused = workload.triggers.filter((t) => t.researchId === undefined)
  const statuses = Array.from(judged.statuses).sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`).join(" ")
  details.push(
    `researches ${researches.length} (${accepted.length} triggers accepted${refused.length > 0 ? `, ${refused.length} not` : ""}; ` +
      `${Array.from(countBy(researches, (r) => r.status)).map(([s, n]) => `${n} ${s}`).join(", ")}); ` +
      `jobs started on workers ${events.filter((e) => e.event === "start").length}; answers ${statuses}`
  )
  return {
    lost: lostIds.length,
    duplicated,
    stuck: stuck.length,
    failedByUs: failures.length,
    fiveXX: judged.bad.length,
    crashes: lab.crashes.length,
    refused: work.refused.count,
    unanswered: silences.bad.length,
    staleEpoch: stale.count,
    unconfirmed: cross.unconfirmed.count,
    dbMismatch: cross.mismatch.count,
    underFloor: work.underFloor.count,
    accepted: work.accepted,
    completed: work.completed,
    floor: work.floor,
    details
  }
}

