/**
 * The registry of external workers: registration (with the jobs a worker is
 * running and the results of jobs it finished while the coordinator was away),
 * heartbeats, expiry to offline and removal, atomic claim and release of job
 * slots, and the reports workers send about their jobs.
 */
import { Array as Arr, Clock, Context, Effect, Layer, Option } from "effect"
import * as Domain from "./Domain.js"
import type { Job, JobId, JobReport, Worker, WorkerId, WorkerType } from "./Domain.js"
import {
  type JobNotAssigned,
  type JobNotFound,
  type StorageError,
  WorkerNotAuthenticated,
  WorkerNotFound
} from "./Errors.js"
import type { Assignments } from "./Assignments.js"
import { CoordinatorEvents } from "./CoordinatorEvents.js"
import { ForemanConfig } from "./ForemanConfig.js"
import * as JobWrites from "./internal/jobWrites.js"
import * as Polls from "./internal/polls.js"
import * as RegistrationPlan from "./internal/registration.js"
import * as Spans from "./internal/spans.js"
import { Jobs } from "./Jobs.js"
import type { Researches } from "./Researches.js"
import { isStorable, reason as storableReason } from "./Storable.js"
import type { Registration, RegistrationResult } from "./WorkerRegistration.js"
import { Wakeup } from "./Wakeup.js"
import { type ExpiredWorkers, WorkerStore } from "./WorkerStore.js"
import * as WorkerTransitions from "./WorkerTransitions.js"

export { Registration, type RegistrationInput, type RegistrationResult } from "./WorkerRegistration.js"

export type { PollAnswer, PollRequest } from "./internal/polls.js"

/** Which workers `list` answers: those of a type, in a status, or both (unset: any). */
export interface WorkerFilter {
  readonly type?: string | undefined
  readonly status?: string | undefined
}

/** The worker registry: what workers and the coordinator ask of it. */
export interface WorkerRegistryShape {
  /**
   * Registers (or re-registers) a worker. The results of jobs it finished
   * meanwhile are applied first. Jobs the store assigns to it that it neither
   * runs nor reports finished are declared lost (running ones: the worker lost
   * them) or refused (pending ones: the dispatch crossed this registration,
   * nothing ran), so they are retried. Its job slots are merged with the stored
   * ones, so a claim made meanwhile is kept; a registration older than the
   * worker's latest changes nothing. `secretHash` is the digest of the
   * credential handed to the worker with the answer (null: none).
   */
  readonly register: (
    input: Registration,
    secretHash?: string | null
  ) => Effect.Effect<RegistrationResult, StorageError>
  /**
   * Records a heartbeat (`healthy` false marks the worker in error); an
   * unknown worker gets `WorkerNotFound` and must register again.
   */
  readonly heartbeat: (id: WorkerId, healthy?: boolean) => Effect.Effect<Worker, WorkerNotFound | StorageError>
  /**
   * A pull worker asks for work: it counts as a heartbeat, the worker may be
   * assigned jobs until the wait ends, and the answer comes as soon as it has
   * jobs it does not hold (delivered: they run on it now) or holds jobs no
   * longer its own (to stop), else empty when the wait ends.
   */
  readonly poll: (id: WorkerId, request: Polls.PollRequest) => Effect.Effect<Polls.PollAnswer, WorkerNotFound | StorageError>
  /** The jobs among `running` (those a worker says it holds) that are no longer its own: cancelled or given elsewhere. */
  readonly toStop: (id: WorkerId, running: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, StorageError>
  /**
   * Applies a worker's report on one of its jobs in one write, answering the
   * job; a final report frees the worker's slot alongside. Settled jobs ignore
   * repeats, except a result for a job declared lost before its research
   * started another attempt, which is used. `JobNotFound` for an unknown job,
   * `JobNotAssigned` for a job of another worker.
   */
  readonly report: (report: JobReport) => Effect.Effect<Job, JobNotFound | JobNotAssigned | StorageError>
  /**
   * A final report that asks for the worker's next job (a pull worker's
   * `next`): the report is applied as `report` applies it and, beside its
   * writes, the worker asks for work as `poll` asks, before the loop is
   * woken; then answers the job and the poll's answer (empty once `ended`
   * completes: the server is stopping).
   */
  readonly reportAndPoll: (
    report: JobReport,
    request: Polls.PollRequest,
    ended?: Effect.Effect<void>
  ) => Effect.Effect<{ readonly job: Job; readonly next: Polls.PollAnswer }, JobNotFound | JobNotAssigned | WorkerNotFound | StorageError>
  /** One worker; `WorkerNotFound` when unknown. */
  readonly get: (id: WorkerId) => Effect.Effect<Worker, WorkerNotFound | StorageError>
  /** Registered workers, ordered by id, optionally of one type or status. */
  readonly list: (filter?: WorkerFilter) => Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /**
   * Marks silent workers offline and removes long-silent ones, answering which;
   * as `expireHeard` with no outage (silence counts however long ago it began).
   */
  readonly expire: Effect.Effect<ExpiredWorkers, StorageError>
  /**
   * Like `expire`, but silence counts only from `hearingSince`, when the
   * coordinator could hear workers again (its start, or the end of a storage
   * outage): a worker is never offline for the coordinator's own outage
   * (`WorkerTransitions.expiryCutoffs`).
   */
  readonly expireHeard: (hearingSince: number) => Effect.Effect<ExpiredWorkers, StorageError>
  /** Removes a worker; `WorkerNotFound` when unknown. */
  readonly deregister: (id: WorkerId) => Effect.Effect<void, WorkerNotFound | StorageError>
  /**
   * Checks the credential a worker presents (the digest of its secret, null
   * when it sent none) against the one its registration was handed; a worker
   * registered without a credential needs none. Unknown workers pass here and
   * are refused by the call itself.
   */
  readonly authenticate: (
    id: WorkerId,
    presentedHash: string | null
  ) => Effect.Effect<void, WorkerNotAuthenticated | StorageError>
  /**
   * A worker refused a job: its slot is freed and it is busy (`full`) or
   * draining until it says otherwise.
   */
  readonly markRefusing: (id: WorkerId, jobId: JobId, refused: "full" | "draining") => Effect.Effect<void, StorageError>
  /**
   * A job could not be delivered to the worker: its slot is freed and the
   * worker is in error, out of the rotation, until a healthy heartbeat or a
   * registration says it is back.
   */
  readonly markUnreachable: (id: WorkerId, jobId: JobId) => Effect.Effect<void, StorageError>
  /**
   * Atomically gives each job, in order, a slot on the least-loaded live worker
   * of `type`, until none is free; answers the worker of each job that got one
   * (a prefix of `jobIds`).
   */
  readonly claim: (type: WorkerType, jobIds: ReadonlyArray<JobId>) => Effect.Effect<ReadonlyArray<Worker>, StorageError>
  /**
   * Forgets every waiting poll: a new leader cannot tell which polls died with
   * the process that served them, so no job goes to one; workers ask again
   * with their next poll.
   */
  readonly forgetPolls: Effect.Effect<void, StorageError>
  /** Frees the slot `jobId` held on a worker (no-op when it holds none) and wakes the loop. */
  readonly release: (workerId: WorkerId, jobId: JobId) => Effect.Effect<void, StorageError>
}

/** The worker registry service. */
export class WorkerRegistry extends Context.Tag("@foreman/core/WorkerRegistry")<WorkerRegistry, WorkerRegistryShape>() {}

/** What the registry's operations share: its ports and configuration, resolved when it is built. */
interface Deps {
  readonly workers: Context.Tag.Service<WorkerStore>
  readonly jobStore: Context.Tag.Service<Jobs>
  readonly jobs: JobWrites.JobWrites
  readonly wakeup: Context.Tag.Service<Wakeup>
  readonly config: Context.Tag.Service<ForemanConfig>
  readonly events: Context.Tag.Service<CoordinatorEvents>
}

type WorkerChange = "registered" | "back" | "unreachable" | "offline" | "removed" | "deregistered"

const changed = (d: Deps, workerId: WorkerId, workerType: WorkerType | null, change: WorkerChange, at: number) =>
  d.events.publish({ _tag: "WorkerChanged", at, workerId, workerType, change })

/** The longest re-registration backoff the coordinator tolerates (see `RegistrationResult`). */
const retryWithinSeconds = (d: Deps) => Math.max(1, Math.floor(d.config.orphanGraceSeconds / 2))

/**
 * Applies a report, with `alongside` run beside its writes (a pull worker
 * asking for its next job; all at once, or one after the other under the
 * caller's concurrency of 1, as a simulation runs): a final report frees the worker's slot
 * and wakes the loop once both are written, so the loop sees the worker free
 * and, when it asks, asking. Releasing a job the worker no longer holds
 * changes nothing, so a final report always releases. Answers the job and
 * what `alongside` came to.
 */
const applyReport = <A, E>(d: Deps, report: JobReport, alongside: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const final = report._tag !== "Progress"
    const [written, , beside] = yield* Effect.all([
      d.jobs.report(report, now),
      final ? d.workers.release(report.workerId, report.jobId) : Effect.void,
      Effect.either(alongside)
    ], { concurrency: "inherit" })
    // A freed slot wakes the loop even when the job itself was settled already.
    if (final) yield* d.wakeup.signal
    const job = Option.isSome(written) ? written.value : yield* Effect.gen(function*() {
      const reconciled = yield* d.jobs.reconcileReport(report, now)
      if (reconciled.revived) yield* d.wakeup.signal
      return reconciled.job
    })
    yield* d.events.publish({
      _tag: "JobReported",
      at: now,
      researchId: job.researchId,
      jobId: job.id,
      workerId: report.workerId,
      report: report._tag,
      progress: report._tag === "Progress" ? report.progress : job.progress,
      message: report._tag === "Progress" ? report.message ?? null : report._tag === "Failed" ? report.error : null
    })
    return [job, beside] as const
  })

const reporter = (d: Deps) => (report: JobReport) =>
  Effect.map(applyReport(d, report, Effect.void), ([job]) => job).pipe(
    Spans.withSpan("WorkerRegistry.report", { captureStackTrace: false })
  )

/**
 * A final report asking for the worker's next job: the worker asks for work
 * beside the report's writes, before the loop is woken, so the tick that
 * sees its slot free can give it its next job; then its poll waits for that
 * job (cut short, empty, when `ended` completes).
 */
const reportPoller = (d: Deps, polls: Polls.Polls) =>
(report: JobReport, request: Polls.PollRequest, ended: Effect.Effect<void> = Effect.never) =>
  Effect.gen(function*() {
    const [job, asked] = yield* applyReport(d, report, polls.ask(report.workerId, request))
    const deadline = yield* asked
    const next = yield* Effect.raceFirst(
      polls.answer(report.workerId, request, deadline),
      Effect.as(ended, { jobs: [], stop: [] } satisfies Polls.PollAnswer)
    )
    return { job, next }
  }).pipe(
    // A worker that hung up stops asking at once, so no job is assigned to it.
    Effect.onInterrupt(() => polls.stopAsking(report.workerId)),
    Effect.withSpan("WorkerRegistry.reportAndPoll", { captureStackTrace: false })
  )

/** A held report storage cannot keep becomes the job's failure, so it never blocks a registration. */
const storable = (finished: JobReport): JobReport =>
  isStorable(finished) ? finished : {
    _tag: "Failed",
    jobId: finished.jobId,
    workerId: finished.workerId,
    error: `the worker's report on this job could not be stored: ${storableReason}`
  }

/** Registers a worker: applies the results it holds, then stores what `Registration.plan` decides. */
const registrar = (d: Deps, report: (report: JobReport) => ReturnType<WorkerRegistryShape["report"]>) =>
  Effect.fnUntraced(function*(input: Registration, secretHash: string | null = null) {
    const now = yield* Clock.currentTimeMillis
    const previous = yield* d.workers.get(input.id)
    for (const finished of input.finishedJobs) {
      yield* report(storable({ ...finished, workerId: input.id })).pipe(
        Effect.catchTags({ JobNotFound: () => Effect.void, JobNotAssigned: () => Effect.void })
      )
    }
    const plan = RegistrationPlan.plan(input, yield* d.jobStore.jobsOnWorker(input.id), previous, now)
    const lost = plan.lost.map((job) => job.id)
    const stored = yield* d.workers.register(plan.candidate, lost, secretHash, input.sequence ?? null)
    if (Option.isNone(stored)) {
      // Sent before a registration already applied: what it says is out of date.
      yield* Effect.logWarning(`worker ${input.id}: a registration older than its latest arrived late; ignored`)
      const current = Option.getOrElse(yield* d.workers.get(input.id), () => plan.candidate)
      return { worker: current, retryWithinSeconds: retryWithinSeconds(d), cancel: [] } satisfies RegistrationResult
    }
    const worker = stored.value
    for (const job of plan.lost) yield* d.jobs.disown(job, input.id, now)
    for (const job of plan.offerAgain) yield* d.jobs.offerAgain(job, now)
    yield* d.wakeup.signal
    yield* changed(d, worker.id, worker.type, "registered", now)
    yield* Effect.logInfo(
      `worker ${worker.id} (${worker.type}) registered ${Domain.pulls(worker) ? "to pull jobs" : `at ${worker.endpoint}`}`
    ).pipe(
      Effect.when(() => Option.isNone(previous))
    )
    return { worker, retryWithinSeconds: retryWithinSeconds(d), cancel: plan.cancel } satisfies RegistrationResult
  })

const authenticator = (d: Deps) =>
  Effect.fnUntraced(function*(id: WorkerId, presentedHash: string | null) {
    const expected = yield* d.workers.secretHash(id)
    if (Option.isNone(expected) || expected.value === null) return
    if (presentedHash !== expected.value) return yield* new WorkerNotAuthenticated({ workerId: id })
  })

/** A heartbeat, optionally setting until when a pull worker asks for work; a worker heard again is announced. */
const beater = (d: Deps) =>
  Effect.fnUntraced(function*(id: WorkerId, healthy: boolean, pollingUntil?: number | null) {
    const now = yield* Clock.currentTimeMillis
    const beaten = yield* d.workers.heartbeat(id, now, healthy, pollingUntil)
    if (Option.isNone(beaten)) return Option.none()
    const { before, worker } = beaten.value
    if (WorkerTransitions.isOut(before)) {
      yield* d.wakeup.signal
      if (!WorkerTransitions.isOut(worker.status)) yield* changed(d, id, worker.type, "back", now)
    }
    return Option.some(worker)
  })

const expirer = (d: Deps) => (hearingSince: number) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const cutoffs = WorkerTransitions.expiryCutoffs(now, hearingSince, {
      offlineAfterMillis: d.config.workerOfflineAfterSeconds * 1000,
      removeAfterMillis: d.config.workerRemoveAfterSeconds * 1000
    })
    const expired = yield* d.workers.expire(cutoffs.offlineBefore, cutoffs.removeBefore)
    for (const id of expired.offline) yield* Effect.logWarning(`worker ${id} missed its heartbeats: offline`)
    for (const id of expired.removed) yield* Effect.logWarning(`worker ${id} silent too long: removed`)
    if (expired.offline.length + expired.removed.length > 0) {
      // A removed worker is gone from the store: its type is no longer known.
      const types = new Map((yield* d.workers.list).map((w) => [w.id, w.type]))
      for (const id of expired.offline) yield* changed(d, id, types.get(id) ?? null, "offline", now)
      for (const id of expired.removed) yield* changed(d, id, null, "removed", now)
    }
    return expired
  })

/** A worker a job could not reach is out of the rotation until heard from again; the loop looks for another. */
const unreachableMarker = (d: Deps) =>
  Effect.fnUntraced(function*(id: WorkerId, jobId: JobId) {
    const before = yield* d.workers.get(id)
    yield* d.workers.markUnreachable(id, jobId)
    yield* d.wakeup.signal
    if (Option.isNone(before) || !WorkerTransitions.takesJobs(before.value.status)) return
    yield* Effect.logWarning(`worker ${id} cannot be reached: out of the rotation until it is heard from again`)
    yield* changed(d, id, before.value.type, "unreachable", yield* Clock.currentTimeMillis)
  })

const deregistrar = (d: Deps) =>
  Effect.fnUntraced(function*(id: WorkerId) {
    const before = yield* d.workers.get(id)
    const removed = yield* d.workers.remove(id)
    if (!removed) return yield* new WorkerNotFound({ workerId: id })
    const now = yield* Clock.currentTimeMillis
    // Its jobs go elsewhere now, not after the grace: those it never took, uncounted.
    for (const job of yield* d.jobStore.jobsOnWorker(id)) yield* d.jobs.abandon(job, id, now)
    yield* d.wakeup.signal
    yield* changed(d, id, Option.getOrNull(Option.map(before, (w) => w.type)), "deregistered", now)
  })

const found = (id: WorkerId) =>
  Effect.flatMap(Option.match({
    onNone: () => Effect.fail(new WorkerNotFound({ workerId: id })),
    onSome: (worker: Worker) => Effect.succeed(worker)
  }))

/** Builds the registry over the worker and research stores. */
export const make = Effect.gen(function*() {
  const d: Deps = {
    workers: yield* WorkerStore,
    jobStore: yield* Jobs,
    jobs: yield* JobWrites.make,
    wakeup: yield* Wakeup,
    config: yield* ForemanConfig,
    events: yield* CoordinatorEvents
  }
  const { wakeup, workers } = d
  const report = reporter(d)
  const beat = beater(d)
  const polls = yield* Polls.make((id, pollingUntil) => beat(id, true, pollingUntil))
  return WorkerRegistry.of({
    register: registrar(d, report),
    heartbeat: (id, healthy = true) => found(id)(beat(id, healthy)),
    poll: polls.poll,
    toStop: polls.toStop,
    report,
    reportAndPoll: reportPoller(d, polls),
    get: (id) => found(id)(workers.get(id)),
    list: (filter = {}) =>
      Effect.map(workers.list, (all) =>
        Arr.filter(all, (w) =>
          (filter.type === undefined || w.type === filter.type) &&
          (filter.status === undefined || w.status === filter.status))),
    expire: expirer(d)(Number.NEGATIVE_INFINITY),
    expireHeard: expirer(d),
    deregister: deregistrar(d),
    authenticate: authenticator(d),
    markRefusing: (id, jobId, refused) =>
      Effect.zipRight(workers.markRefusing(id, jobId, WorkerTransitions.refusal(refused)), wakeup.signal),
    markUnreachable: unreachableMarker(d),
    forgetPolls: workers.forgetPolls,
    claim: (type, jobIds) => Effect.flatMap(Clock.currentTimeMillis, (now) => workers.claim(type, jobIds, now)),
    release: (workerId, jobId) => Effect.zipRight(workers.release(workerId, jobId), wakeup.signal)
  })
})

/** The registry, over the worker and research stores, the wakeup and the configuration. */
export const layer: Layer.Layer<
  WorkerRegistry,
  never,
  WorkerStore | Researches | Jobs | Wakeup | Assignments | ForemanConfig | CoordinatorEvents
> =
  Layer.effect(WorkerRegistry, make)
