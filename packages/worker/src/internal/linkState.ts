/**
 * What the parts of a worker's link to its coordinator share: the options it
 * was made with, the coordinator's client, and one record of state (results
 * not yet acknowledged, progress in flight, the latest registration's
 * credential and sequence, whether the worker is registered), with the small
 * operations on it that every part uses.
 */
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Domain from "@foreman/core/Domain"
import type { Fiber, Scope } from "effect"
import { Duration, Effect, FiberSet, Option, Queue, Redacted } from "effect"
import { type PollAnswer, type PollBody, workerSecretHeader } from "@foreman/api/WorkerMessages"
import { WorkersApi } from "@foreman/api/WorkersApi"
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
  HttpApiClient.make(WorkersApi, {
    baseUrl: config.apiUrl,
    transformClient: Option.match(config.token, {
      onNone: () => (client: HttpClient.HttpClient) => client,
      onSome: (secret) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(secret)))
    })
  })

/** The coordinator's client. */
export type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>

/** A finished job's result not yet acknowledged; `sending` while a delivery is under way. */
export interface Unreported {
  readonly report: Domain.JobReport
  sending: boolean
}

/** Whether a job's progress report is in flight, and the latest one waiting behind it. */
export interface ProgressInFlight {
  sending: boolean
  next: Domain.JobReport | null
  /** Open while no progress report of the job is in flight: its final report waits for it. */
  readonly idle: Effect.Latch
}

/** The state the link's parts share; the fields that change are the last five. */
export interface LinkState {
  readonly options: Options
  readonly workerId: Domain.WorkerId
  /** A pull worker: it has no endpoint. */
  readonly pulls: boolean
  readonly coordinator: Client
  readonly requestTimeout: Duration.Duration
  /** A report carrying the next poll may wait that long for the answer. */
  readonly pollTimeout: Duration.Duration
  /** Finished jobs not yet acknowledged, by job id. */
  readonly unreported: Map<string, Unreported>
  readonly deliveries: FiberSet.FiberSet
  readonly progressSends: FiberSet.FiberSet
  readonly stops: FiberSet.FiberSet
  /** Per job: its progress report in flight. */
  readonly progress: Map<string, ProgressInFlight>
  /** Rung when something asking for work depends on changes; one waiter (a pull worker's poll loop). */
  readonly bell: Queue.Queue<void>
  /** Rung to cut the pause between heartbeats short: a registration is needed now. */
  readonly wake: Queue.Queue<void>
  /** Open while the worker is registered. */
  readonly isRegistered: Effect.Latch
  /**
   * Held while a registration is under way and while a job is taken: the
   * running jobs a registration lists are exactly those taken before it, and
   * a job taken after it is checked against its answer. Without it a job
   * taken while the registration was in flight is declared lost by the
   * coordinator and runs here to the end all the same.
   */
  readonly accepting: Effect.Semaphore
  /** Jobs the coordinator said are not this worker's (from registration answers). */
  readonly disowned: Set<string>
  /** The credential of the latest registration, sent with every call about this worker. */
  secret: string | undefined
  registered: boolean
  /** The last registration's sequence: this worker's clock, and never twice the same. */
  lastSequence: number
  /** The longest pause between registrations: configured, and capped by what the coordinator tolerates. */
  backoffMax: Duration.Duration
  /** The fiber that registers and heartbeats, once started. */
  heartbeats: Fiber.RuntimeFiber<never> | undefined
}

/** The link's state in the current scope, with nothing reported and not registered. */
export const makeState = (options: Options): Effect.Effect<LinkState, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const { config, endpoint } = options
    const coordinator = yield* makeClient(config)
    const deliveries = yield* FiberSet.make()
    const progressSends = yield* FiberSet.make()
    const stops = yield* FiberSet.make()
    const bell = yield* Queue.sliding<void>(1)
    const wake = yield* Queue.sliding<void>(1)
    const isRegistered = yield* Effect.makeLatch(false)
    const accepting = yield* Effect.makeSemaphore(1)
    return {
      options,
      workerId: config.id,
      pulls: endpoint === null,
      coordinator,
      requestTimeout: Duration.seconds(config.requestTimeoutSeconds),
      pollTimeout: Duration.seconds(config.pollWaitSeconds + 10),
      unreported: new Map(),
      deliveries,
      progressSends,
      stops,
      progress: new Map(),
      bell,
      wake,
      isRegistered,
      accepting,
      disowned: new Set(),
      secret: undefined,
      registered: false,
      lastSequence: 0,
      backoffMax: Duration.seconds(config.registerBackoffMaxSeconds),
      heartbeats: undefined
    }
  })

/** The credential of the latest registration, for every call about this worker. */
export const credential = (state: LinkState): { readonly [workerSecretHeader]?: string } =>
  state.secret === undefined ? {} : { [workerSecretHeader]: state.secret }

/** `effect` within `after`, interruptible, so the time limit holds during the drain (finalizers run uninterruptibly). */
export const limited = (state: LinkState, after: Duration.Duration = state.requestTimeout) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | HttpFailure.RequestTimeout, R> =>
  Effect.timeoutFail(Effect.interruptible(effect), {
    duration: after,
    onTimeout: () => new HttpFailure.RequestTimeout({ after })
  })

/** One line for a failed call. */
export const describe = (state: LinkState, error: unknown): string =>
  HttpFailure.describe(state.options.config.apiUrl, error)

/** Tells whoever waits to ask for work that something it depends on changed. */
export const ring = (state: LinkState): Effect.Effect<void> => Effect.asVoid(Queue.offer(state.bell, undefined))

export const setRegistered = (state: LinkState, yes: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    const was = state.registered
    state.registered = yes
    if (!yes) return state.isRegistered.close
    return was ? Effect.void : Effect.zipRight(state.isRegistered.open, ring(state))
  })

/** Registers again now, as after a call the coordinator answered "not registered". */
export const reregister = (state: LinkState): Effect.Effect<void> =>
  Effect.zipRight(setRegistered(state, false), Queue.offer(state.wake, undefined))

/** Jobs the worker holds: waiting, running, or finished with a final report not yet answered. */
export const held = (state: LinkState): Effect.Effect<ReadonlyArray<string>> =>
  Effect.map(
    state.options.queue.active,
    (active) => Array.from(new Set([...active.map((entry) => entry.id), ...state.unreported.keys()]))
  )

/** Held results no delivery is sending now: those the next registration carries. */
export const unsent = (state: LinkState): ReadonlyArray<Domain.JobReport> =>
  Array.from(state.unreported.values()).filter((result) => !result.sending).map((result) => result.report)

/** Forgets a held result (answered, or not wanted), waking whoever waits for a free slot. */
export const release = (state: LinkState, report: Domain.JobReport): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (state.unreported.get(report.jobId)?.report !== report) return Effect.void
    state.unreported.delete(report.jobId)
    return ring(state)
  })
