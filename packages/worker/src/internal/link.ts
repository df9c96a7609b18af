/**
 * A worker's side of the conversation with the coordinator, the same for both
 * protocols: the client derived from `WorkersApi`; the registration (with the
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
 *
 * This module composes the parts, which share one `LinkState`: registration,
 * heartbeat, jobIntake, progressReports, finalReports and farewell.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Domain from "@foreman/core/Domain"
import type { Duration, Scope } from "effect"
import { Effect, Queue } from "effect"
import type { workerSecretHeader } from "@foreman/api/WorkerMessages"
import type * as HttpFailure from "@foreman/api/HttpFailure"
import type * as JobQueue from "../JobQueue.js"
import { isNotRegistered, isPassing } from "./callFailures.js"
import { farewell } from "./farewell.js"
import { settled } from "./finalReports.js"
import { start } from "./heartbeat.js"
import { apply, take } from "./jobIntake.js"
import type { Client, Handover, Options, Refusal } from "./linkState.js"
import { credential, describe, held, limited, makeState, reregister, unsent } from "./linkState.js"
import { progress } from "./progressReports.js"
import { backoff } from "./registration.js"

export type { Client, Handover, Options, Poll, Refusal, Turn } from "./linkState.js"

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

/** The link of a worker with its coordinator, in the current scope. */
export const make = (options: Options): Effect.Effect<Link, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.map(makeState(options), (state) => ({
    coordinator: state.coordinator,
    credential: () => credential(state),
    limited: (after) => limited(state, after),
    describe: (error) => describe(state, error),
    mustRegister: (error) => isNotRegistered(error) || isPassing(error),
    registered: state.isRegistered.await,
    reregister: reregister(state),
    changed: Queue.take(state.bell),
    held: held(state),
    take: (spec) => take(state, spec),
    apply: (handover) => apply(state, handover),
    progress: (entry) => progress(state, entry),
    settled: (entry) => settled(state, entry),
    backoff: () => backoff(state),
    start: start(state),
    farewell: (within) => farewell(state, within),
    unreported: Effect.sync(() => unsent(state))
  } satisfies Link))
