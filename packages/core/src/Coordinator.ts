/**
 * The imperative shell around the pipeline. One loop advances every active
 * research: a tick reads the world in a constant number of queries, runs the
 * pure phase handlers, hands free workers to waiting researches first come
 * first served, commits each transition atomically (conditional on version and
 * epoch), then performs the side effects: forking in-process jobs and
 * dispatching worker jobs. The loop wakes on events and polls as a fallback.
 * The same service triggers (with capacity and budget checks), cancels, and
 * reports status.
 */
import { Cause, Clock, Duration, Effect, FiberHandle, FiberMap, FiberSet, Option, Ref, Schedule, Schema } from "effect"
import { Assessor, Designer } from "./Agents.js"
import { Budget, type BudgetStatus } from "./Budget.js"
import * as Storable from "./Storable.js"
import { CoordinatorEvents } from "./CoordinatorEvents.js"
import { CoordinatorLease } from "./CoordinatorLease.js"
import {
  hasFreeSlot,
  isJobSettled,
  isTerminalStatus,
  loadStatus,
  type Job,
  type JobId,
  type Research,
  type ResearchId,
  ResearchId as ResearchIdSchema,
  type ResearchStatus,
  Strategy,
  type Worker,
  type WorkerId,
  type WorkerType
} from "./Domain.js"
import {
  AtCapacity,
  BudgetExhausted,
  describeParseError,
  InvalidInput,
  NotCancellable,
  ResearchNotFound,
  StorageError
} from "./Errors.js"
import { concurrencyLimit, ForemanConfig } from "./ForemanConfig.js"
import * as Ids from "./internal/ids.js"
import * as Signal from "./internal/signal.js"
import { type Action, advance, type PhaseDefinition, Pipeline, progressOf, type Step, workerTypes } from "./Pipeline.js"
import { type ActiveEntry, type JobWrite, type ResearchQuery, ResearchStore } from "./ResearchStore.js"
import { Wakeup } from "./Wakeup.js"
import { WorkerRegistry } from "./WorkerRegistry.js"
import { WorkerTransport } from "./WorkerTransport.js"

/**
 * A client's key for one trigger, so that it can retry safely: 1 to 200
 * letters, digits or `-_.:` (a UUID fits).
 */
export const RequestId = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(200),
  Schema.pattern(/^[A-Za-z0-9_.:-]+$/, { message: () => "a request id is 1 to 200 letters, digits or -_.:" })
).annotations({ identifier: "RequestId" })

/**
 * A request to start a research: a brief to design from, or an existing
 * strategy. With a `requestId`, a trigger is idempotent: repeated with the
 * same id, it answers the research the first one started.
 */
export const TriggerRequest = Schema.Struct({
  requestId: Schema.optional(RequestId),
  brief: Schema.optional(Schema.String.pipe(Schema.maxLength(10_000))),
  strategy: Schema.optional(Schema.Union(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200)), Strategy)),
  model: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  bypassGates: Schema.optional(Schema.Boolean),
  force: Schema.optional(Schema.Boolean)
}).pipe(Storable.filter)
export type TriggerRequest = typeof TriggerRequest.Type

/** One active research as the status view shows it. */
export interface ActiveResearch {
  readonly id: ResearchId
  readonly phase: string
  readonly status: ResearchStatus
  readonly strategy: string | null
  readonly elapsedSeconds: number
  readonly progress: number
  readonly waitingFor: { readonly workerType: WorkerType; readonly seconds: number } | null
  readonly job: {
    readonly id: JobId
    readonly kind: string
    readonly workerId: WorkerId | null
    readonly progress: number
  } | null
}

export interface CoordinatorStatus {
  readonly active: ReadonlyArray<ActiveResearch>
  /** Job slots busy and in total per worker type (offline workers excluded). */
  readonly workers: Readonly<Record<string, { readonly busy: number; readonly total: number; readonly workers: number }>>
  readonly budget: BudgetStatus
  readonly capacity: { readonly active: number; readonly limit: number }
}

/** What one tick did, for the loop and for benchmarks. */
export interface TickSummary {
  readonly researches: number
  readonly committed: number
  readonly started: number
  /** The earliest retry backoff that ends, if any. */
  readonly wakeAt: number | null
}

interface Incarnation {
  readonly epoch: number
  /** Since when workers could be heard: the start, or the end of the last storage outage. */
  hearingSince: number
  /** The last tick failed (storage unreachable): workers' silence is not theirs. */
  deaf: boolean
  /** In-process jobs, one per research. */
  readonly fibers: FiberMap.FiberMap<ResearchId>
  /** Dispatches to workers in flight. */
  readonly dispatching: FiberSet.FiberSet
  /** When silent workers were last expired. */
  expiredAt: number
}

interface Dispatch {
  readonly worker: Worker
  readonly job: Job
}

export class Coordinator extends Effect.Service<Coordinator>()("@foreman/core/Coordinator", {
  effect: Effect.gen(function*() {
    const store = yield* ResearchStore
    const registry = yield* WorkerRegistry
    const budget = yield* Budget
    const transport = yield* WorkerTransport
    const lease = yield* CoordinatorLease
    const wakeup = yield* Wakeup
    const events = yield* CoordinatorEvents
    const config = yield* ForemanConfig
    const pipeline = yield* Pipeline
    const agents = yield* Effect.context<Designer | Assessor>()
    const current = yield* Ref.make(Option.none<Incarnation>())
    const pipelineTypes = new Set(workerTypes(pipeline))

    const liveWorkers = (all: ReadonlyArray<Worker>) =>
      all.filter((w) => w.status !== "offline" && pipelineTypes.has(w.type))

    const capacity = Effect.gen(function*() {
      const [active, all] = yield* Effect.all([store.countActive, registry.list()])
      return { active, limit: concurrencyLimit(config, liveWorkers(all).length) }
    })

    const findResearch = (id: ResearchId) =>
      !isResearchId(id) ? Effect.fail(new ResearchNotFound({ researchId: String(id) })) : Effect.flatMap(
        store.get(id),
        Option.match({
          onNone: () => Effect.fail(new ResearchNotFound({ researchId: id })),
          onSome: Effect.succeed
        })
      )

    // --- trigger -------------------------------------------------------------

    /**
     * Starts a research, refusing when at capacity or out of budget unless forced.
     * Repeated with a request id, answers the research it started, checking nothing.
     */
    const trigger = Effect.fn("Coordinator.trigger")(function*(input: TriggerRequest) {
      const request = yield* Schema.decodeUnknown(TriggerRequest)(input).pipe(
        Effect.mapError((error) => new InvalidInput({ reason: describeParseError(error) }))
      )
      const brief = request.brief?.trim() ?? ""
      const strategy = typeof request.strategy === "string"
        ? { name: request.strategy, spec: {} }
        : request.strategy ?? null
      if (brief === "" && strategy === null) {
        return yield* new InvalidInput({ reason: "give a brief to design from, or an existing strategy" })
      }
      const force = request.force === true
      const requestId = request.requestId
      return yield* store.serializeTriggers(Effect.gen(function*() {
        if (requestId !== undefined) {
          const existing = yield* store.findByRequestId(requestId)
          if (Option.isSome(existing)) {
            yield* Effect.logDebug(`trigger ${requestId} repeated: answering research ${existing.value.id}`)
            return existing.value
          }
        }
        const now = yield* Clock.currentTimeMillis
        const { active, limit } = yield* capacity
        const money = yield* budget.status()
        if (!force && active >= limit) {
          yield* events.publish({ _tag: "Refused", at: now, reason: "capacity" })
          return yield* new AtCapacity({ active, limit })
        }
        if (!force && !money.canAfford) {
          yield* events.publish({ _tag: "Refused", at: now, reason: "budget" })
          return yield* new BudgetExhausted({
            remainingUsd: money.remainingUsd ?? 0,
            estimateUsd: money.estimateUsd,
            active
          })
        }
        const research: Research = {
          id: yield* Ids.researchId,
          brief: brief === "" && strategy !== null ? `strategy ${strategy.name}` : brief,
          model: request.model ?? null,
          bypassGates: request.bypassGates === true,
          forced: force,
          phase: pipeline.initialPhase({ hasStrategy: strategy !== null }),
          status: "pending",
          strategy,
          results: {},
          gates: {},
          costUsd: 0,
          createdAt: now,
          updatedAt: now,
          finishedAt: null,
          waitingFor: null,
          activeJobId: null,
          attempt: 0,
          failures: 0,
          retryAt: null,
          error: null,
          version: 0
        }
        // The store's unique request id is the guarantee: it answers the research
        // already inserted with it, if one slipped past the check above.
        const stored = yield* store.insert(research, requestId)
        if (stored.id !== research.id) return stored
        yield* events.publish({
          _tag: "Triggered",
          at: now,
          researchId: research.id,
          forced: force,
          activeBefore: active,
          limit,
          remainingUsd: money.remainingUsd
        })
        yield* Effect.logDebug(`research ${research.id} triggered${force ? " (forced)" : ""}`)
        yield* wakeup.signal
        return research
      }))
    })

    // --- cancel --------------------------------------------------------------

    /** Cancels one research: stops its job wherever it runs and frees its worker. Idempotent. */
    const cancel = Effect.fn("Coordinator.cancel")(function*(id: ResearchId) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const research = yield* findResearch(id)
        if (research.status === "cancelled") return research
        if (isTerminalStatus(research.status)) {
          return yield* new NotCancellable({ researchId: id, status: research.status })
        }
        const job = research.activeJobId === null
          ? undefined
          : Option.getOrUndefined(yield* store.getJob(research.activeJobId))
        const now = yield* Clock.currentTimeMillis
        const next: Research = {
          ...research,
          status: "cancelled",
          finishedAt: now,
          updatedAt: now,
          activeJobId: null,
          waitingFor: null,
          retryAt: null,
          version: research.version + 1
        }
        const live = job !== undefined && !isJobSettled(job.status)
        const jobs: Array<JobWrite> = live
          ? [{
            job: { ...job, status: "cancelled", error: "cancelled by operator", updatedAt: now, finishedAt: now },
            expected: job.status
          }]
          : []
        const committed = yield* store.commit({ research: next, expectedVersion: research.version, epoch: null, jobs })
          .pipe(Effect.as(true), Effect.catchTag("StaleWrite", () => Effect.succeed(false)))
        if (!committed) continue
        const incarnation = yield* Ref.get(current)
        if (Option.isSome(incarnation)) yield* FiberMap.remove(incarnation.value.fibers, id)
        if (live && job.workerId !== null) yield* stopWorkerJob(job.workerId, job.id)
        yield* events.publish({
          _tag: "Transition",
          at: now,
          researchId: id,
          phase: next.phase,
          status: next.status,
          waitingFor: null,
          error: null
        })
        yield* Effect.logDebug(`research ${id} cancelled`)
        yield* wakeup.signal
        return next
      }
      return yield* new StorageError({ reason: `research ${id} kept changing while being cancelled; try again` })
    })

    const stopWorkerJob = (workerId: WorkerId, jobId: JobId) =>
      Effect.gen(function*() {
        const worker = yield* registry.get(workerId).pipe(Effect.option)
        if (Option.isSome(worker)) {
          yield* transport.cancel(worker.value, jobId).pipe(
            Effect.catchAll((error) => Effect.logWarning(`could not cancel ${jobId} on ${workerId}: ${error.reason}`))
          )
        }
        yield* registry.release(workerId, jobId)
      })

    // --- queries -------------------------------------------------------------

    const status = Effect.fn("Coordinator.status")(function*() {
      const now = yield* Clock.currentTimeMillis
      const [active, all, money] = yield* Effect.all([store.listActive, registry.list(), budget.status()])
      const live = liveWorkers(all)
      const workers: Record<string, { busy: number; total: number; workers: number }> = {}
      for (const type of pipelineTypes) workers[type] = { busy: 0, total: 0, workers: 0 }
      for (const w of live) {
        const slot = workers[w.type] ?? { busy: 0, total: 0, workers: 0 }
        workers[w.type] = {
          busy: slot.busy + Math.min(w.currentJobs.length, w.capacity),
          total: slot.total + w.capacity,
          workers: slot.workers + 1
        }
      }
      return {
        active: active.map(({ job, research: r }): ActiveResearch => ({
          id: r.id,
          phase: r.phase,
          status: r.status,
          strategy: r.strategy?.name ?? null,
          elapsedSeconds: Math.max(0, Math.floor((now - r.createdAt) / 1000)),
          progress: progressOf(pipeline, r),
          waitingFor: r.waitingFor === null
            ? null
            : { workerType: r.waitingFor.workerType, seconds: Math.floor((now - r.waitingFor.since) / 1000) },
          job: job === null
            ? null
            : { id: job.id, kind: job.kind, workerId: job.workerId, progress: job.progress }
        })),
        workers,
        budget: money,
        capacity: { active: active.length, limit: concurrencyLimit(config, live.length) }
      }
    })

    /** One research with all its jobs. */
    const show = Effect.fn("Coordinator.show")(function*(id: ResearchId) {
      const research = yield* findResearch(id)
      const jobs = yield* store.jobsOf(id)
      return { research, jobs, progress: progressOf(pipeline, research) }
    })

    const list = (query: ResearchQuery) => store.list(query)

    // --- the loop ------------------------------------------------------------

    const runInProcess = (definition: PhaseDefinition, research: Research, job: Job) =>
      definition.runner._tag !== "InProcess" ? Effect.void : definition.runner.run(research).pipe(
        Effect.provide(agents),
        Effect.matchCauseEffect({
          onSuccess: (output) =>
            Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              yield* budget.charge({
                researchId: research.id,
                jobId: job.id,
                model: output.usage.model,
                inputTokens: output.usage.inputTokens,
                outputTokens: output.usage.outputTokens,
                amountUsd: output.usage.costUsd,
                at: now
              })
              yield* store.updateJob({
                ...job,
                status: "completed",
                progress: 1,
                result: output.result,
                usage: output.usage,
                updatedAt: now,
                finishedAt: now
              }, ["running"])
            }),
          onFailure: (cause) =>
            Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              const failure = Option.getOrUndefined(Cause.failureOption(cause))
              const error = failure !== undefined ? failure.message : Cause.pretty(cause)
              yield* store.updateJob({ ...job, status: "failed", error, updatedAt: now, finishedAt: now }, ["running"])
            }).pipe(Effect.unless(() => Cause.isInterruptedOnly(cause)))
        }),
        Effect.zipRight(wakeup.signal),
        Effect.catchAll((error) => Effect.logError(`could not record ${job.kind} job ${job.id}: ${error.message}`))
      )

    /**
     * A write after a dispatch, retried while storage fails for a moment; a job
     * whose dispatch stays unrecorded is dispatched again after the grace.
     */
    const bookkeeping = <A>(write: Effect.Effect<A, StorageError>) =>
      Effect.retry(write, { schedule: Schedule.exponential(Duration.millis(200)), times: 3 })

    const dispatch = (now: number) => ({ worker, job }: Dispatch) =>
      transport.dispatch(worker, {
        jobId: job.id,
        researchId: job.researchId,
        kind: job.kind,
        attempt: job.attempt,
        input: job.input
      }).pipe(
        Effect.matchEffect({
          onSuccess: () => bookkeeping(store.updateJob({ ...job, status: "running", updatedAt: now }, ["pending"])),
          onFailure: (error) =>
            Effect.gen(function*() {
              // A worker that is full or shutting down is a scheduling fact: the job goes
              // back to the queue uncounted and the worker gets no more until it says so.
              const refused = error.refused
              yield* Effect.logWarning(
                `${job.id}: ${error.message}; ${refused === undefined ? "will retry on another worker" : "back to the queue"}`
              )
              yield* bookkeeping(store.updateJob({
                ...job,
                status: refused === undefined ? "lost" : "refused",
                error: error.message,
                updatedAt: now,
                finishedAt: now
              }, ["pending"]))
              yield* bookkeeping(
                refused === undefined
                  ? registry.release(worker.id, job.id)
                  : registry.markRefusing(worker.id, job.id, refused)
              )
            })
        }),
        Effect.catchAll((error) => Effect.logError(`dispatch bookkeeping failed: ${error.message}`))
      )

    /** One pass over every active research. */
    const tick = (incarnation: Incarnation) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        // Heartbeats are seconds apart: expiring workers once a second is plenty.
        const expire = now - incarnation.expiredAt >= 1000
        if (expire) incarnation.expiredAt = now
        if (expire) yield* registry.expire
        const [active, listed] = yield* Effect.all([store.listActive, registry.list()], { concurrency: 2 })
        // Storage answers again after an outage: workers could not be heard meanwhile,
        // so their grace starts over now.
        if (incarnation.deaf) {
          incarnation.deaf = false
          incarnation.hearingSince = now
        }
        const workers = yield* releaseLeakedSlots(active, listed)
        const world = {
          now,
          epoch: incarnation.epoch,
          startedAt: incarnation.hearingSince,
          workers: new Map(workers.map((w) => [w.id, w])),
          config
        }
        const freeSlots = new Map<WorkerType, number>()
        for (const w of workers) {
          if (hasFreeSlot(w)) {
            freeSlots.set(w.type, (freeSlots.get(w.type) ?? 0) + w.capacity - w.currentJobs.length)
          }
        }

        const steps = active.map(({ job, research }) => ({
          before: research,
          step: advance(pipeline, research, job ?? undefined, world)
        }))
        // First come, first served: those waiting longest for a worker type claim first.
        const queued = steps
          .filter((s) => s.step.action._tag === "NeedWorker")
          .sort((a, b) => queuePosition(a.step.action) - queuePosition(b.step.action) || a.before.createdAt - b.before.createdAt)
        const ordered = [...steps.filter((s) => s.step.action._tag !== "NeedWorker"), ...queued]

        let committed = 0
        let started = 0
        let wakeAt: number | null = null
        const dispatches: Array<Dispatch> = []

        /** A transition to write, and what to do once it is (or is not) written. */
        interface Plan {
          readonly before: Research
          readonly after: Research
          readonly writes: ReadonlyArray<JobWrite>
          readonly onCommitted?: Effect.Effect<unknown, StorageError>
          readonly onStale?: Effect.Effect<unknown, StorageError>
        }
        const plans: Array<Plan> = []

        /** Publishes what a committed plan changed. */
        const announce = (before: Research, research: Research) =>
          Effect.gen(function*() {
            if (
              before.phase === research.phase && before.status === research.status &&
              before.waitingFor?.workerType === research.waitingFor?.workerType
            ) return
            yield* events.publish({
              _tag: "Transition",
              at: now,
              researchId: research.id,
              phase: research.phase,
              status: research.status,
              waitingFor: research.waitingFor,
              error: research.error
            })
            if (research.status === "failed") yield* Effect.logWarning(`research ${research.id} failed: ${research.error}`)
          })

        const newJob = (
          r: Research,
          definition: PhaseDefinition,
          id: JobId,
          worker: Worker | null,
          queuedSince?: number
        ): Job => ({
          id,
          researchId: r.id,
          kind: definition.kind,
          phase: r.phase,
          workerType: worker?.type ?? null,
          workerId: worker?.id ?? null,
          status: worker === null ? "running" : "pending",
          attempt: r.attempt + 1,
          progress: 0,
          message: null,
          input: definition.input(r),
          result: null,
          usage: null,
          error: null,
          epoch: incarnation.epoch,
          ...(queuedSince === undefined ? {} : { queuedSince }),
          createdAt: now,
          updatedAt: now,
          finishedAt: null
        })

        /** Plans a research's next job: committed with the research, then `then` runs. */
        const start = (
          before: Research,
          step: Step,
          job: Job,
          then: Effect.Effect<unknown, StorageError>,
          onStale: Effect.Effect<unknown, StorageError> = Effect.void
        ) =>
          plans.push({
            before,
            after: {
              ...step.research,
              status: "running",
              activeJobId: job.id,
              attempt: job.attempt,
              waitingFor: null,
              retryAt: null
            },
            writes: [...step.jobWrites, { job, expected: null }],
            onCommitted: Effect.zipRight(
              events.publish({
                _tag: "JobStarted",
                at: now,
                researchId: job.researchId,
                jobId: job.id,
                kind: job.kind,
                workerType: job.workerType,
                workerId: job.workerId,
                attempt: job.attempt,
                queuedSince: step.action._tag === "NeedWorker" ? step.action.since : now
              }),
              Effect.zipRight(Effect.sync(() => started++), then)
            ),
            onStale
          })

        // Free slots go to those waiting longest, one batched claim per worker type;
        // then every transition of the tick is committed in one batch.
        // Claiming, committing and handing back unneeded slots happen without
        // interruption: a coordinator deposed mid-tick must not leak a worker slot.
        const moving = ordered.filter(({ before, step }) => !isIdle(before, step, freeSlots))
        const { changed, results } = moving.length === 0 ? { changed: [], results: [] } : yield* Effect.uninterruptible(Effect.gen(function*() {
          const claims = yield* claimInQueueOrder(moving.map((s) => s.step), freeSlots)
          for (const { before, step } of moving) {
            for (const note of step.notes) yield* Effect.logWarning(note)
            const action = step.action
            switch (action._tag) {
              case "None": {
                if (action.wakeAt !== null) wakeAt = wakeAt === null ? action.wakeAt : Math.min(wakeAt, action.wakeAt)
                plans.push({ before, after: step.research, writes: step.jobWrites })
                break
              }
              case "Redispatch": {
                const worker = action.job.workerId === null ? undefined : world.workers.get(action.job.workerId)
                if (worker !== undefined) dispatches.push({ worker, job: action.job })
                plans.push({ before, after: step.research, writes: step.jobWrites })
                break
              }
              case "RunInProcess": {
                const job = newJob(step.research, action.definition, yield* Ids.jobId, null)
                const research = { ...step.research, activeJobId: job.id }
                start(before, step, job, FiberMap.run(incarnation.fibers, research.id, runInProcess(action.definition, research, job)))
                break
              }
              case "NeedWorker": {
                const claimed = claims.get(step)
                if (claimed !== undefined) {
                  const { jobId, worker } = claimed
                  const job = newJob(step.research, action.definition, jobId, worker, action.since)
                  start(
                    before,
                    step,
                    job,
                    Effect.sync(() => dispatches.push({ worker, job })),
                    registry.release(worker.id, jobId)
                  )
                  break
                }
                const waiting = step.research.waitingFor?.workerType === action.workerType
                  ? step.research
                  : { ...step.research, waitingFor: { workerType: action.workerType, since: action.since } }
                plans.push({ before, after: waiting, writes: step.jobWrites })
                break
              }
            }
          }
          const changed = plans.filter((p) => p.after !== p.before || p.writes.length > 0)
          const results = changed.length === 0 ? [] : yield* store.commitAll(changed.map((p) => ({
            research: { ...p.after, version: p.before.version + 1, updatedAt: now },
            expectedVersion: p.before.version,
            epoch: incarnation.epoch,
            jobs: p.writes
          }))).pipe(
            Effect.catchTag("StorageError", (e) => Effect.as(Effect.logError(e.message), changed.map(() => false)))
          )
          for (const [i, plan] of changed.entries()) {
            if (results[i] !== true && plan.onStale !== undefined) yield* plan.onStale
          }
          return { changed, results }
        }))
        for (const [i, plan] of changed.entries()) {
          if (results[i] !== true) continue
          committed++
          yield* announce(plan.before, plan.after)
          if (plan.onCommitted !== undefined) yield* plan.onCommitted
        }

        // Dispatches run beside the loop: a slow worker does not hold up the next tick,
        // and a failed one frees its worker, which wakes the loop again.
        for (const d of dispatches) yield* FiberSet.run(incarnation.dispatching, dispatch(now)(d))
        yield* reap(incarnation, active)
        return {
          researches: active.length,
          committed,
          started,
          wakeAt
        } satisfies TickSummary
      })

    /**
     * Frees slots held for jobs that no active research runs: a claim whose
     * transition was never committed (a coordinator killed in between). Every
     * claim of this leader's earlier ticks is committed or released by now, so
     * a slot without a live job behind it is a leak. Answers the workers as freed.
     */
    const releaseLeakedSlots = (active: ReadonlyArray<ActiveEntry>, workers: ReadonlyArray<Worker>) =>
      Effect.gen(function*() {
        const live = new Set<string>()
        for (const { job } of active) if (job !== null && job.workerId !== null && !isJobSettled(job.status)) live.add(job.id)
        const freed: Array<Worker> = []
        for (const w of workers) {
          const leaked = w.currentJobs.filter((id) => !live.has(id))
          if (leaked.length === 0) {
            freed.push(w)
            continue
          }
          yield* Effect.logWarning(`worker ${w.id} held slots for ${leaked.join(", ")}, which no research runs: freed`)
          for (const id of leaked) yield* registry.release(w.id, id)
          const currentJobs = w.currentJobs.filter((id) => live.has(id))
          freed.push({ ...w, currentJobs, status: loadStatus(w, currentJobs.length) })
        }
        return freed
      })

    /**
     * Claims slots for researches needing workers, in queue order: one atomic
     * batch per worker type, for as many as the snapshot shows free.
     */
    const claimInQueueOrder = (queue: ReadonlyArray<Step>, freeSlots: ReadonlyMap<WorkerType, number>) =>
      Effect.gen(function*() {
        const byType = new Map<WorkerType, Array<Step>>()
        for (const step of queue) {
          if (step.action._tag !== "NeedWorker") continue
          const type = step.action.workerType
          const steps = byType.get(type) ?? []
          if (steps.length < (freeSlots.get(type) ?? 0)) byType.set(type, [...steps, step])
        }
        const claims = new Map<Step, { readonly jobId: JobId; readonly worker: Worker }>()
        for (const [type, steps] of byType) {
          const jobIds: Array<JobId> = []
          for (let i = 0; i < steps.length; i++) jobIds.push(yield* Ids.jobId)
          const workers = yield* registry.claim(type, jobIds)
          workers.forEach((worker, i) => claims.set(steps[i]!, { jobId: jobIds[i]!, worker }))
        }
        return claims
      })

    /** Interrupts in-process jobs of researches that stopped being active elsewhere. */
    const reap = (incarnation: Incarnation, active: ReadonlyArray<ActiveEntry>) =>
      Effect.gen(function*() {
        const size = yield* FiberMap.size(incarnation.fibers)
        if (size === 0) return
        const live = new Set(active.map(({ research }) => research.id))
        const stale = Array.from(incarnation.fibers, ([key]) => key).filter((key) => !live.has(key))
        for (const key of stale) yield* FiberMap.remove(incarnation.fibers, key)
      })

    /** Starts an incarnation for `epoch` in the current scope. */
    const incarnate = (epoch: number) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const incarnation: Incarnation = {
          epoch,
          hearingSince: now,
          deaf: false,
          fibers: yield* FiberMap.make<ResearchId>(),
          dispatching: yield* FiberSet.make(),
          expiredAt: Number.NEGATIVE_INFINITY
        }
        yield* Ref.set(current, Option.some(incarnation))
        yield* Effect.addFinalizer(() => Ref.set(current, Option.none()))
        return { incarnation }
      })

    /** Leads while the lease is held: ticks on every wakeup, and at least every poll interval. */
    const lead: Effect.Effect<void, StorageError> = Effect.scoped(Effect.gen(function*() {
      const leadership = yield* lease.acquire
      const { incarnation } = yield* incarnate(leadership.epoch)
      yield* Effect.logInfo(`coordinator leading (epoch ${incarnation.epoch})`)
      // The loop waits on one local queue, fed by wakeups, by the poll fallback and
      // by a timer for the earliest retry backoff, so a wait forks nothing.
      const kick = yield* Signal.make
      const poke = kick.raise
      const retryTimer = yield* FiberHandle.make()
      yield* Effect.forkScoped(Effect.forever(Effect.zipRight(wakeup.await, poke)))
      yield* Effect.forkScoped(
        Effect.forever(Effect.zipRight(Effect.sleep(Duration.seconds(config.pollIntervalSeconds)), poke))
      )
      const loop = Effect.gen(function*() {
        const summary = yield* tick(incarnation).pipe(
          Effect.catchAllCause((cause) => {
            incarnation.deaf = true
            return Effect.as(Effect.logError("tick failed", cause), { wakeAt: null } as const)
          })
        )
        if (summary.wakeAt !== null) {
          const now = yield* Clock.currentTimeMillis
          yield* FiberHandle.run(retryTimer, Effect.zipRight(Effect.sleep(Duration.millis(summary.wakeAt - now)), poke))
        }
        yield* kick.await
      })
      yield* Effect.race(Effect.forever(loop), leadership.lost)
      yield* Effect.logWarning(`coordinator lost the lease (epoch ${incarnation.epoch})`)
    }))

    /** Runs the coordinator loop forever, re-acquiring the lease whenever it is lost. */
    const run: Effect.Effect<never> = Effect.forever(
      lead.pipe(
        Effect.catchAll((error) =>
          Effect.zipRight(Effect.logError(`lease: ${error.message}`), Effect.sleep(Duration.seconds(1)))
        )
      )
    )

    /**
     * Leads by hand in the caller's scope and returns the tick, for tests and
     * benchmarks that step the coordinator themselves instead of running the loop.
     */
    const manual = Effect.gen(function*() {
      const leadership = yield* lease.acquire
      const { incarnation } = yield* incarnate(leadership.epoch)
      return { epoch: incarnation.epoch, tick: tick(incarnation) }
    })

    return {
      trigger,
      cancel,
      status,
      show,
      list,
      report: registry.report,
      capacity,
      /** Whether this process runs the loop now (holds the lease). */
      leading: Effect.map(Ref.get(current), Option.isSome),
      run,
      manual
    } as const
  })
}) {}

/** A step that changes nothing and asks for nothing new: most of a busy lab's researches on most ticks. */
const isIdle = (before: Research, step: Step, freeSlots: ReadonlyMap<WorkerType, number>): boolean => {
  if (step.research !== before || step.jobWrites.length > 0 || step.notes.length > 0) return false
  const action = step.action
  switch (action._tag) {
    case "None":
      return action.wakeAt === null
    case "NeedWorker":
      return before.waitingFor?.workerType === action.workerType && (freeSlots.get(action.workerType) ?? 0) === 0
    default:
      return false
  }
}

/** Ids that do not even look like research ids are not looked up (library callers skip HTTP validation). */
const isResearchId = Schema.is(ResearchIdSchema)

const queuePosition = (action: Action): number => (action._tag === "NeedWorker" ? action.since : 0)
