/**
 * A worker's side of the conversation with the coordinator, the same for both
 * protocols: the client derived from `ForemanApi`; the registration (with the
 * jobs it runs and the results it could not deliver), heartbeats, and
 * registering again when the coordinator forgets the worker or cannot be
 * reached (backoff 1 s doubling, capped by what the coordinator tolerates);
 * jobs taken idempotently by id; reports of progress and results, a result
 * held while the coordinator cannot be told and replaced by a failure when it
 * cannot accept it; and the goodbye at the end of a drain.
 *
 * A pull worker also lists the jobs it holds in its heartbeats and stops those
 * the answer names, stops a job whose progress report is answered with another
 * status than `running`, and lets a final report carry its next poll when it
 * is its `Turn` to ask for work.
 */
import { HttpApiClient, HttpApiError, HttpClient, HttpClientRequest } from "@effect/platform"
import type { Domain } from "@foreman/core"
import { Errors } from "@foreman/core"
import type { Scope } from "effect"
import {
  Clock,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberSet,
  Option,
  ParseResult,
  Predicate,
  Queue,
  Redacted,
  Schedule,
  Schema
} from "effect"
import { ForemanApi, PayloadTooLarge, type PollAnswer, type PollBody, ReportBody, workerSecretHeader } from "@foreman/api/Api"
import * as HttpFailure from "@foreman/api/HttpFailure"
import type * as JobQueue from "../JobQueue.js"
import type * as WorkerConfig from "../WorkerConfig.js"

/** What a pull worker asks for work with: how long to wait, and every job it holds. */
export type Poll = typeof PollBody.Type

/** What a poll (or a final report's `next`) answers: jobs to start, held jobs to stop. */
export type Handover = typeof PollAnswer.Type

/**
 * Whose turn it is to ask the coordinator for work (pull workers): one call at
 * a time asks, either a poll or a final report carrying the next poll.
 */
export interface Turn {
  /** Takes the turn when it is free and the worker wants work with `running` held: the poll to send. */
  readonly claim: (running: ReadonlyArray<string>) => Effect.Effect<Option.Option<Poll>>
  readonly release: Effect.Effect<void>
  /** Completes when the worker stops asking for work (it drains). */
  readonly stopped: Effect.Effect<void>
}

export interface Options {
  readonly config: WorkerConfig.WorkerConfigShape
  readonly queue: JobQueue.JobQueue<Domain.JobSpec, unknown>
  /** Where the coordinator reaches a push worker; null for a pull worker. */
  readonly endpoint: string | null
  /** A pull worker's turn to ask for work, which its final reports take when they can. */
  readonly turn: Option.Option<Turn>
  readonly draining: () => boolean
}

/** Why a job is not taken: the worker drains, is full, or was told the job runs elsewhere. */
export interface Refusal {
  readonly reason: "full" | "draining" | "disowned"
  /** Completes "worker <id> …". */
  readonly why: string
}

const makeClient = (config: WorkerConfig.WorkerConfigShape) =>
  HttpApiClient.make(ForemanApi, {
    baseUrl: config.apiUrl,
    transformClient: Option.match(config.token, {
      onNone: () => (client: HttpClient.HttpClient) => client,
      onSome: (secret) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(secret)))
    })
  })

/** The coordinator's client. */
export type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>

export interface Link {
  readonly coordinator: Client
  /** The credential of the latest registration, for every call about this worker. */
  readonly credential: () => { readonly [workerSecretHeader]?: string }
  /** `effect` within `after` (one request's time by default), interruptible. */
  readonly limited: (
    after?: Duration.Duration
  ) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | HttpFailure.RequestTimeout, R>
  /** One line for a failed call. */
  readonly describe: (error: unknown) => string
  /** Whether a failed call means registering again: the coordinator forgot the worker, or cannot be reached. */
  readonly mustRegister: (error: unknown) => boolean
  /** Waits until the worker is registered (at once when it is). */
  readonly registered: Effect.Effect<void>
  /** Registers again now, as after a call the coordinator answered "not registered". */
  readonly reregister: Effect.Effect<void>
  /** Waits until something changed that asking for work depends on (registered, a job settled or let go). */
  readonly changed: Effect.Effect<void>
  /** Jobs the worker holds: waiting, running, or finished with a final report not yet answered. */
  readonly held: Effect.Effect<ReadonlyArray<string>>
  /** Takes a job, idempotently by id (a known one answers its entry and starts nothing), or says why not. */
  readonly take: (spec: Domain.JobSpec) => Effect.Effect<JobQueue.Enqueued<Domain.JobSpec, unknown>, Refusal>
  /** Starts the jobs a poll answer hands over and stops the held jobs it names. */
  readonly apply: (handover: Handover) => Effect.Effect<void>
  /** For `JobQueue`: reports a job's progress. */
  readonly progress: (entry: JobQueue.Entry<Domain.JobSpec, unknown>) => Effect.Effect<void>
  /** For `JobQueue`: reports a settled job's result (a cancelled one has none). */
  readonly settled: (entry: JobQueue.Entry<Domain.JobSpec, unknown>) => Effect.Effect<void>
  /** Pauses between attempts after failures: the configured first pause, doubling, capped as registrations are. */
  readonly backoff: () => { readonly next: () => Duration.Duration; readonly reset: () => void }
  /** Registers, heartbeats, and registers again when needed, in the current scope. */
  readonly start: Effect.Effect<void, never, Scope.Scope>
  /**
   * The end of a drain: waits at most `within` for results under way, stops
   * heartbeating, registers a last time with no running jobs (so the coordinator
   * runs the rest elsewhere now) and the results still held, then deregisters.
   */
  readonly farewell: (within: Duration.Duration) => Effect.Effect<void>
  /** Results the coordinator could not be given, held for the next registration. */
  readonly unreported: Effect.Effect<ReadonlyArray<Domain.JobReport>>
}

/** How the coordinator should read one finished job. */
const finalReport = (
  workerId: Domain.WorkerId,
  entry: JobQueue.Entry<Domain.JobSpec, unknown>
): Option.Option<Domain.JobReport> => {
  const jobId = entry.input.jobId
  switch (entry.status) {
    case "completed":
      return Option.some({ _tag: "Completed", jobId, workerId, result: entry.result })
    case "failed":
      return Option.some({ _tag: "Failed", jobId, workerId, error: (entry.error ?? "failed").slice(0, 10_000) })
    default:
      return Option.none()
  }
}

/** The coordinator forgot the worker, or does not know its credential: register again. */
const isNotRegistered = (error: unknown): boolean =>
  error instanceof Errors.WorkerNotFound || error instanceof Errors.WorkerNotAuthenticated

/** Calls to the coordinator that failed because of the network or a passing coordinator trouble. */
const isPassing = (error: unknown): boolean =>
  HttpFailure.isNetworkFailure(error) ||
  Predicate.isTagged(error, "StorageError") ||
  // A registration of this worker crossed the call: the next registration's credential will do.
  Predicate.isTagged(error, "WorkerNotAuthenticated") ||
  (HttpFailure.statusOf(error) ?? 0) >= 500

/** The distinct messages of a refusal's issues, or its one message when it lists none. */
const reasonOf = (issues: ReadonlyArray<{ readonly message: string }>, message: string): string =>
  issues.length === 0 ? message : Array.from(new Set(issues.map((issue) => issue.message))).join("; ")

/** Why the contract refuses a report as it stands (text storage cannot keep, too long, not JSON), if it does. */
const invalidity = (report: Domain.JobReport): Option.Option<string> => {
  try {
    return Either.match(Schema.validateEither(ReportBody)(report), {
      onLeft: (error) =>
        Option.some(reasonOf(ParseResult.ArrayFormatter.formatErrorSync(error), Errors.describeParseError(error))),
      onRight: () => Option.none()
    })
  } catch (cause) {
    // The storable check serializes: a BigInt or a cycle in a result throws.
    return Option.some(`result: not JSON (${cause instanceof Error ? cause.message : String(cause)})`)
  }
}

/** Text storage can keep: NUL and lone surrogates become U+FFFD (one code unit each, so lengths hold). */
const storableText = (text: string): string =>
  text.replaceAll("\u0000", "\ufffd").replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")

/** The failure that replaces a report the coordinator cannot accept: why, and the job's own error if it had one. */
const refusedAsFailure = (report: Domain.JobReport, reason: string): Domain.JobReport => ({
  _tag: "Failed",
  jobId: report.jobId,
  workerId: report.workerId,
  error: storableText(
    (report._tag === "Failed"
      ? `the coordinator refused the job's report (${reason}); the job failed: ${report.error}`
      : `the coordinator refused the job's result: ${reason}`).slice(0, 10_000)
  )
})

/** The link of a worker with its coordinator, in the current scope. */
export const make = (options: Options): Effect.Effect<Link, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const { config, endpoint, queue } = options
    const workerId = config.id
    const pulls = endpoint === null
    const coordinator = yield* makeClient(config)
    const requestTimeout = Duration.seconds(config.requestTimeoutSeconds)
    // A report carrying the next poll may wait that long for the answer.
    const pollTimeout = Duration.seconds(config.pollWaitSeconds + 10)
    // Interruptible, so the time limit holds during the drain (finalizers run uninterruptibly).
    const limited = (after: Duration.Duration = requestTimeout) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.timeoutFail(Effect.interruptible(effect), {
        duration: after,
        onTimeout: () => new HttpFailure.RequestTimeout({ after })
      })
    const describe = (error: unknown) => HttpFailure.describe(config.apiUrl, error)

    /** Finished jobs not yet acknowledged; `sending` while a delivery is under way. */
    const unreported = new Map<string, { readonly report: Domain.JobReport; sending: boolean }>()
    const deliveries = yield* FiberSet.make()
    const progressSends = yield* FiberSet.make()
    const stops = yield* FiberSet.make()
    /** Per job: whether a progress report is in flight, and the latest one waiting behind it. */
    const progressState = new Map<string, { sending: boolean; next: Domain.JobReport | null }>()

    /** The credential of the latest registration, sent with every call about this worker. */
    let secret: string | undefined
    const credential = () => (secret === undefined ? {} : { [workerSecretHeader]: secret })

    /** Rung when something asking for work depends on changes; one waiter (a pull worker's poll loop). */
    const bell = yield* Queue.sliding<void>(1)
    const ring = Effect.asVoid(Queue.offer(bell, undefined))
    /** Rung to cut the pause between heartbeats short: a registration is needed now. */
    const wake = yield* Queue.sliding<void>(1)

    let registered = false
    const isRegistered = yield* Effect.makeLatch(false)
    const setRegistered = (yes: boolean) =>
      Effect.suspend(() => {
        const was = registered
        registered = yes
        if (!yes) return isRegistered.close
        return was ? Effect.void : Effect.zipRight(isRegistered.open, ring)
      })
    const reregister = Effect.zipRight(setRegistered(false), Queue.offer(wake, undefined))

    const held = Effect.map(
      queue.active,
      (active) => Array.from(new Set([...active.map((entry) => entry.id), ...unreported.keys()]))
    )

    /** Forgets a held result (answered, or not wanted), waking whoever waits for a free slot. */
    const release = (report: Domain.JobReport) =>
      Effect.suspend(() => {
        if (unreported.get(report.jobId)?.report !== report) return Effect.void
        unreported.delete(report.jobId)
        return ring
      })

    // --- reports ------------------------------------------------------------------

    const sendReport = (report: Domain.JobReport, next?: Poll) =>
      Effect.suspend(() => {
        const request = { path: { workerId, jobId: report.jobId }, headers: credential() }
        const carry = next === undefined ? {} : { next }
        const within = limited(next === undefined ? requestTimeout : pollTimeout)
        switch (report._tag) {
          case "Progress":
            return coordinator.workers.report({
              ...request,
              payload: {
                _tag: "Progress",
                progress: report.progress,
                ...(report.message === undefined ? {} : { message: report.message })
              }
            }).pipe(within)
          case "Completed":
            return coordinator.workers.report({ ...request, payload: { _tag: "Completed", result: report.result, ...carry } })
              .pipe(within)
          case "Failed":
            return coordinator.workers.report({ ...request, payload: { _tag: "Failed", error: report.error, ...carry } })
              .pipe(within)
        }
      })

    /** Stops held jobs the coordinator says are no longer this worker's, and drops their results. */
    const stopJobs = (jobIds: ReadonlyArray<string>, reason: string) =>
      Effect.forEach(jobIds, (jobId) =>
        Effect.gen(function*() {
          const result = unreported.get(jobId)
          if (result !== undefined) yield* release(result.report)
          const entry = yield* queue.get(jobId)
          if (Option.isNone(entry) || (entry.value.status !== "pending" && entry.value.status !== "running")) return
          yield* Effect.logWarning(`stopping job ${jobId}: ${reason}`)
          yield* FiberSet.run(stops, queue.cancel(jobId, reason))
        }), { discard: true })

    /** Sends the latest progress of a job, never more than one at a time per job. */
    const progress = (entry: JobQueue.Entry<Domain.JobSpec, unknown>) =>
      Effect.suspend(() => {
        const report: Domain.JobReport = {
          _tag: "Progress",
          jobId: entry.input.jobId,
          workerId,
          progress: entry.progress,
          ...(entry.message === null ? {} : { message: entry.message.slice(0, 1000) })
        }
        const existing = progressState.get(entry.id)
        if (existing !== undefined && existing.sending) {
          existing.next = report
          return Effect.void
        }
        const state = { sending: true, next: null as Domain.JobReport | null }
        progressState.set(entry.id, state)
        const loop = (next: Domain.JobReport): Effect.Effect<void> =>
          sendReport(next).pipe(
            Effect.flatMap((job) =>
              // A pull worker hears about a cancel in the answer, too.
              pulls && job.status !== "running"
                ? stopJobs([next.jobId], `the coordinator has it ${job.status}`)
                : Effect.void
            ),
            Effect.catchAll((error) => Effect.logDebug(`progress of ${next.jobId} not delivered: ${describe(error)}`)),
            Effect.zipRight(Effect.suspend(() => {
              const waiting = state.next
              state.next = null
              if (waiting === null) {
                state.sending = false
                return Effect.void
              }
              return loop(waiting)
            }))
          )
        return Effect.asVoid(FiberSet.run(progressSends, loop(report)))
      })

    /** Why the coordinator refused a report as such (400: invalid body, 413: too large), if that is the failure. */
    const refusalOf = (error: unknown): Option.Option<string> => {
      if (error instanceof HttpApiError.HttpApiDecodeError) return Option.some(reasonOf(error.issues, error.message))
      if (error instanceof PayloadTooLarge) return Option.some(error.message)
      const status = HttpFailure.statusOf(error)
      return status === 400 || status === 413 ? Option.some(describe(error)) : Option.none()
    }

    /**
     * Sends a final report, carrying the next poll when it is this worker's turn
     * to ask for work; the answer's jobs are taken at once. A drain cuts the wait
     * for a next job short: the report is then sent again without it.
     */
    const sendFinal = (report: Domain.JobReport) =>
      Option.match(options.turn, {
        onNone: () => Effect.asVoid(sendReport(report)),
        onSome: (turn) =>
          Effect.gen(function*() {
            const running = (yield* held).filter((jobId) => jobId !== report.jobId)
            const next = yield* turn.claim(running)
            if (Option.isNone(next)) return yield* Effect.asVoid(sendReport(report))
            const answered = yield* Effect.gen(function*() {
              const job = yield* sendReport(report, next.value).pipe(
                Effect.map(Option.some),
                Effect.raceFirst(Effect.as(turn.stopped, Option.none()))
              )
              if (Option.isSome(job) && job.value.next !== undefined) yield* apply(job.value.next)
              return Option.isSome(job)
            }).pipe(Effect.ensuring(Effect.zipRight(turn.release, ring)))
            if (!answered) yield* sendReport(report)
          })
      })

    /**
     * Delivers a final report; kept for the next registration when the coordinator cannot be told.
     * A report the coordinator cannot accept as such (invalid, too large) is never held, since
     * sending it again cannot help: the job is reported failed instead, saying why, once.
     */
    const deliver = (report: Domain.JobReport, replaceable = true): Effect.Effect<void> =>
      Effect.suspend(() => {
        const invalid = invalidity(report)
        return Option.isSome(invalid)
          ? refused(report, invalid.value, replaceable)
          : sendFinal(report).pipe(
            Effect.retry({ schedule: Schedule.exponential(Duration.millis(100)), times: 2, while: isPassing }),
            Effect.matchEffect({
              onSuccess: () => release(report),
              onFailure: (error) =>
                Effect.suspend(() => {
                  const result = unreported.get(report.jobId)
                  // Dropped meanwhile: the coordinator said the job is no longer this worker's.
                  if (result?.report !== report) return Effect.void
                  if (isPassing(error) || error instanceof Errors.WorkerNotFound) {
                    result.sending = false
                    return Effect.zipRight(
                      Effect.logWarning(
                        `could not report job ${report.jobId} (${describe(error)}); will send it with the next registration`
                      ),
                      error instanceof Errors.WorkerNotFound ? reregister : Effect.void
                    )
                  }
                  const refusal = refusalOf(error)
                  if (Option.isSome(refusal)) return refused(report, refusal.value, replaceable)
                  // The coordinator answered and does not want this report (unknown job, not ours).
                  return Effect.zipRight(
                    release(report),
                    Effect.logWarning(`coordinator refused the report on job ${report.jobId}: ${describe(error)}`)
                  )
                })
            })
          )
      })

    /** A report the coordinator cannot accept: replaced by a failure saying why, or dropped if it was that failure. */
    const refused = (report: Domain.JobReport, reason: string, replaceable: boolean): Effect.Effect<void> =>
      Effect.suspend(() => {
        const result = unreported.get(report.jobId)
        if (result?.report !== report) return Effect.void
        if (!replaceable) {
          return Effect.zipRight(
            release(report),
            Effect.logError(`coordinator refused the failure report on job ${report.jobId} (${reason}): dropping it`)
          )
        }
        const failure = refusedAsFailure(report, reason)
        unreported.set(report.jobId, { report: failure, sending: true })
        return Effect.zipRight(
          Effect.logWarning(`coordinator cannot accept the report on job ${report.jobId} (${reason}): reporting it failed`),
          deliver(failure, false)
        )
      })

    const settled = (entry: JobQueue.Entry<Domain.JobSpec, unknown>) =>
      Effect.gen(function*() {
        progressState.delete(entry.id)
        const report = finalReport(workerId, entry)
        if (Option.isNone(report)) {
          yield* Effect.logInfo(`job ${entry.id} ${entry.status}: ${entry.error ?? ""}`)
          return yield* ring
        }
        yield* Effect.logInfo(
          `job ${entry.id} ${entry.status} after ${entry.attempts} attempt(s)${entry.error === null ? "" : `: ${entry.error}`}`
        )
        unreported.set(entry.id, { report: report.value, sending: true })
        yield* FiberSet.run(deliveries, deliver(report.value))
      })

    // --- taking jobs ----------------------------------------------------------------

    /** Jobs the coordinator said are not this worker's (from registration answers). */
    const disowned = new Set<string>()

    /**
     * Held while a registration is under way and while a job is taken: the
     * running jobs a registration lists are exactly those taken before it, and
     * a job taken after it is checked against its answer. Without it a job
     * taken while the registration was in flight is declared lost by the
     * coordinator and runs here to the end all the same.
     */
    const accepting = yield* Effect.makeSemaphore(1)

    const refuse = (reason: Refusal["reason"], why: string): Refusal => ({ reason, why })

    const take = (spec: Domain.JobSpec) =>
      accepting.withPermits(1)(Effect.gen(function*() {
        const known = yield* queue.get(spec.jobId)
        if (Option.isSome(known)) return { entry: known.value, created: false }
        if (options.draining()) return yield* Effect.fail(refuse("draining", "is shutting down"))
        if (disowned.has(spec.jobId)) {
          return yield* Effect.fail(refuse("disowned", `was told job ${spec.jobId} runs elsewhere`))
        }
        const added = yield* queue.enqueue(spec.jobId, spec).pipe(
          Effect.catchTags({
            QueueFull: (e) => Effect.fail(refuse("full", `is full (${e.limit} jobs running or waiting)`)),
            QueueClosed: () => Effect.fail(refuse("draining", "is shutting down"))
          })
        )
        if (added.created) yield* Effect.logInfo(`accepted job ${spec.jobId} (${spec.kind}, attempt ${spec.attempt})`)
        return added
      }))

    const apply = (handover: Handover) =>
      Effect.gen(function*() {
        yield* stopJobs(handover.stop, "the coordinator says it is no longer this worker's")
        for (const spec of handover.jobs) {
          const taken = yield* Effect.either(take(spec))
          if (Either.isLeft(taken)) {
            yield* Effect.logWarning(`not running job ${spec.jobId}: worker ${workerId} ${taken.left.why}`)
          } else if (!taken.right.created) {
            yield* Effect.logDebug(`job ${spec.jobId} handed over again: already ${taken.right.entry.status}, not run twice`)
          }
        }
      })

    // --- registration and heartbeats ----------------------------------------------

    /** The last registration's sequence: this worker's clock, and never twice the same. */
    let lastSequence = 0
    const nextSequence = Effect.map(Clock.currentTimeMillis, (now) => (lastSequence = Math.max(lastSequence + 1, now)))

    const registration = (
      runningJobs: ReadonlyArray<string>,
      finishedJobs: ReadonlyArray<Domain.JobReport>,
      sequence: number
    ) => ({
      id: workerId,
      sequence,
      type: config.type,
      ...(endpoint === null ? { runtime: `node ${process.versions.node}` } : { endpoint }),
      capacity: config.capacity,
      capabilities: { ...config.capabilities, devices: config.devices },
      runningJobs,
      finishedJobs
    })

    const hasUnsent = () => Array.from(unreported.values()).some((result) => !result.sending)

    const register = accepting.withPermits(1)(Effect.gen(function*() {
      const finished = Array.from(unreported.values()).filter((result) => !result.sending).map((result) => result.report)
      // A job whose result is being delivered right now still counts as running here:
      // its report follows, and the coordinator must not declare it lost meanwhile.
      const delivering = Array.from(unreported.values()).filter((result) => result.sending).map((result) => result.report.jobId)
      const running = [...(yield* queue.active).map((entry) => entry.id), ...delivering]
      const payload = registration(running, finished, yield* nextSequence)
      const answer = yield* coordinator.workers.register({ payload }).pipe(limited())
      secret = answer.secret
      // Keep retrying within what the coordinator tolerates, or its jobs are declared lost.
      backoffMax = Duration.min(configuredBackoffMax, Duration.seconds(answer.retryWithinSeconds))
      for (const report of finished) yield* release(report)
      for (const jobId of answer.cancel) {
        // A job not here yet is a dispatch that crossed this registration: refuse it when it comes.
        disowned.add(jobId)
        if (Option.isNone(yield* queue.get(jobId))) continue
        yield* Effect.logWarning(`coordinator does not assign job ${jobId} to this worker: stopping it`)
        yield* FiberSet.run(stops, queue.cancel(jobId, "the coordinator assigned this job elsewhere"))
      }
      return finished.length
    }))

    const heartbeat = Effect.gen(function*() {
      if (!pulls) {
        yield* coordinator.workers.heartbeat({ path: { workerId }, headers: credential(), payload: { healthy: true } })
          .pipe(limited())
        return
      }
      const running = yield* held
      const answer = yield* coordinator.workers.heartbeat({
        path: { workerId },
        headers: credential(),
        payload: { healthy: true, running }
      }).pipe(limited())
      yield* stopJobs(answer.stop, "the coordinator says it is no longer this worker's")
    })

    const backoffBase = Duration.seconds(config.registerBackoffSeconds)
    const configuredBackoffMax = Duration.seconds(config.registerBackoffMaxSeconds)
    let backoffMax = configuredBackoffMax
    const backoff = () => {
      let pause = backoffBase
      return {
        next: () => {
          const now = Duration.min(pause, backoffMax)
          pause = Duration.min(Duration.times(pause, 2), backoffMax)
          return now
        },
        reset: () => void (pause = backoffBase)
      }
    }
    const interval = Duration.seconds(config.heartbeatIntervalSeconds)
    const where = endpoint === null ? "to pull jobs" : `at ${endpoint}`

    /** Registers, heartbeats, and registers again when needed, until interrupted. */
    const link = Effect.gen(function*() {
      let everRegistered = false
      const pause = backoff()
      while (true) {
        const registering = !registered || hasUnsent()
        const outcome = yield* Effect.either(registering ? register : Effect.as(heartbeat, 0))
        if (Either.isRight(outcome)) {
          if (registering) {
            const sent = outcome.right > 0 ? ` with ${outcome.right} held result(s)` : ""
            yield* Effect.logInfo(
              `${everRegistered ? "registered again" : "registered"} with ${config.apiUrl} as ${workerId} ${where}${sent}`
            )
          }
          yield* setRegistered(true)
          everRegistered = true
          pause.reset()
          yield* Effect.raceFirst(Effect.sleep(interval), Queue.take(wake))
          continue
        }
        const error = outcome.left
        if (isNotRegistered(error)) {
          yield* Effect.logWarning(`${error.message}: registering again`)
          yield* setRegistered(false)
          continue
        }
        const wait = pause.next()
        yield* Effect.logWarning(
          `${registering ? "registration" : "heartbeat"} failed: ${describe(error)}; retrying in ${Duration.format(wait)}`
        )
        if (isPassing(error)) yield* setRegistered(false)
        yield* Effect.sleep(wait)
      }
    })

    let linkFiber: Fiber.RuntimeFiber<never> | undefined
    const start = Effect.map(Effect.forkScoped(Effect.interruptible(link)), (fiber) => void (linkFiber = fiber))

    const farewell = (within: Duration.Duration) =>
      Effect.gen(function*() {
        // Reports under way get what is left of the deadline, and at least one request's time.
        yield* Effect.interruptible(FiberSet.awaitEmpty(deliveries)).pipe(
          Effect.timeoutOption(Duration.max(within, requestTimeout))
        )
        if (linkFiber !== undefined) yield* Fiber.interrupt(linkFiber)
        // The last word: results still held, and no running jobs, so the coordinator runs the
        // interrupted and unstarted ones elsewhere now instead of waiting for them to be lost.
        const finished = Array.from(unreported.values(), (result) => result.report)
        yield* coordinator.workers.register({ payload: registration([], finished, yield* nextSequence) }).pipe(
          limited(),
          // The last registration's credential is the one the goodbye needs.
          Effect.flatMap((answer) =>
            coordinator.workers.deregister({ path: { workerId }, headers: { [workerSecretHeader]: answer.secret } })
              .pipe(limited())
          ),
          Effect.zipRight(Effect.logInfo(`drained and deregistered from ${config.apiUrl}`)),
          Effect.catchAll((error) =>
            Effect.logWarning(`could not say goodbye to the coordinator (${describe(error)}); it will notice the silence`)
          )
        )
      })

    return {
      coordinator,
      credential,
      limited,
      describe,
      mustRegister: (error) => isNotRegistered(error) || isPassing(error),
      registered: isRegistered.await,
      reregister,
      changed: Queue.take(bell),
      held,
      take,
      apply,
      progress,
      settled,
      backoff,
      start,
      farewell,
      unreported: Effect.sync(() =>
        Array.from(unreported.values()).filter((result) => !result.sending).map((result) => result.report)
      )
    } satisfies Link
  })
