/**
 * An execution queue with its own pool of runners: jobs are enqueued by id
 * (idempotently: an id already known returns its entry and starts nothing),
 * run at most `concurrency` at a time, each holding one resource of a
 * `ResourcePool` that is always given back; failed jobs are retried at the
 * back of the queue up to `maxRetries` times. Jobs can be cancelled, counted,
 * waited for, cleared, and the whole queue drained with a deadline.
 */
import type { Scope } from "effect"
import { Cause, Clock, Data, Deferred, Duration, Effect, Exit, Fiber, FiberId, Option, Queue, Stream, SubscriptionRef } from "effect"
import * as ResourcePool from "./ResourcePool.js"

export type JobStatus = "pending" | "running" | "completed" | "failed" | "cancelled"

/** A job as the queue sees it (a snapshot). */
export interface Entry<I, A> {
  readonly id: string
  readonly input: I
  readonly status: JobStatus
  /** Runs started so far (1 for the first run). */
  readonly attempts: number
  readonly progress: number
  readonly message: string | null
  readonly result: A | undefined
  /** The last failure, or why the job was cancelled. */
  readonly error: string | null
  readonly enqueuedAt: number
  readonly startedAt: number | null
  readonly finishedAt: number | null
}

/** What a running job is given. */
export interface RunContext {
  readonly id: string
  /** 1 for the first run, 2 for the first retry, … */
  readonly attempt: number
  /** The resource borrowed from the pool for this run. */
  readonly resource: string
  /** Records progress (clamped to 0–1) and an optional message. */
  readonly progress: (fraction: number, message?: string) => Effect.Effect<void>
}

export interface Options<I, A, E> {
  /** Jobs running at once. */
  readonly concurrency: number
  /** Re-runs of a failed job before it is marked failed (default 0). */
  readonly maxRetries?: number
  /** Jobs held at once, pending or running; more are refused with `QueueFull` (default unbounded). */
  readonly limit?: number
  /** Resources a run borrows one of (default: one slot per runner). */
  readonly resources?: readonly [string, ...Array<string>]
  /** Settled jobs remembered for idempotency and status (default 1000; the oldest are forgotten). */
  readonly history?: number
  readonly run: (input: I, context: RunContext) => Effect.Effect<A, E>
  /** Called after each progress update. */
  readonly onProgress?: (entry: Entry<I, A>) => Effect.Effect<void>
  /** Called once when a job settles (completed, failed or cancelled). Keep it short: it runs on a runner. */
  readonly onSettled?: (entry: Entry<I, A>) => Effect.Effect<void>
}

/** The queue holds `limit` jobs already. */
export class QueueFull extends Data.TaggedError("QueueFull")<{ readonly limit: number }> {
  override get message(): string {
    return `queue full (${this.limit} jobs pending or running)`
  }
}

/** The queue is draining or closed and takes no new jobs. */
export class QueueClosed extends Data.TaggedError("QueueClosed") {
  override get message(): string {
    return "queue closed: shutting down"
  }
}

export interface Enqueued<I, A> {
  readonly entry: Entry<I, A>
  /** False when the id was already known (nothing new was started). */
  readonly created: boolean
}

export interface Summary {
  readonly total: number
  readonly pending: number
  readonly running: number
  readonly completed: number
  readonly failed: number
  readonly cancelled: number
  /** Re-runs made after failures, over all jobs. */
  readonly retries: number
}

export interface DrainResult {
  /** Jobs that had not started and were cancelled. */
  readonly notStarted: ReadonlyArray<string>
  /** Jobs still running at the deadline, interrupted. */
  readonly interrupted: ReadonlyArray<string>
}

export interface JobQueue<I, A> {
  readonly enqueue: (id: string, input: I) => Effect.Effect<Enqueued<I, A>, QueueFull | QueueClosed>
  /** Enqueues every item or none (when the new ones do not all fit). */
  readonly enqueueAll: (
    items: Iterable<{ readonly id: string; readonly input: I }>
  ) => Effect.Effect<ReadonlyArray<Enqueued<I, A>>, QueueFull | QueueClosed>
  readonly get: (id: string) => Effect.Effect<Option.Option<Entry<I, A>>>
  /** Every remembered job, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Entry<I, A>>>
  /** Jobs pending or running. */
  readonly active: Effect.Effect<ReadonlyArray<Entry<I, A>>>
  /**
   * Cancels a pending job, or interrupts a running one and waits until it has
   * stopped. A settled job is left as it is. Returns the job's final state.
   */
  readonly cancel: (id: string, reason?: string) => Effect.Effect<Option.Option<Entry<I, A>>>
  readonly summary: Effect.Effect<Summary>
  /** Waits until no job is pending or running. */
  readonly awaitEmpty: Effect.Effect<void>
  /** Cancels every pending and running job and forgets every job. */
  readonly clear: Effect.Effect<void>
  /**
   * Stops taking jobs, cancels those not started, lets running ones finish
   * within `deadline`, then interrupts the rest. Failed jobs are not retried
   * during a drain (they are cancelled with their last error).
   */
  readonly drain: (deadline: Duration.DurationInput) => Effect.Effect<DrainResult>
  readonly accepting: Effect.Effect<boolean>
}

type State<I, A> = { -readonly [K in keyof Entry<I, A>]: Entry<I, A>[K] }

interface Slot<I, A> {
  readonly state: State<I, A>
  /** Set when the job was asked to stop: the reason recorded when it does. */
  stop: string | null
  fiber: Fiber.RuntimeFiber<A, unknown> | null
  /** Completed when the job settles for good. */
  readonly done: Deferred.Deferred<void>
}

/** A failure, defect or thrown value as one line. */
export const describeFailure = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  const error = Option.isSome(failure) ? failure.value : Cause.squash(cause)
  if (typeof error === "string") return error
  if (error instanceof Error) return error.message === "" ? error.name : error.message
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    return error.message
  }
  return String(error)
}

const isActive = (status: JobStatus) => status === "pending" || status === "running"

/**
 * Makes a queue whose runners live in the current scope. Closing the scope
 * interrupts running jobs (use `drain` first for a graceful stop).
 */
export const make = <I, A, E>(options: Options<I, A, E>): Effect.Effect<JobQueue<I, A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const maxRetries = options.maxRetries ?? 0
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    const history = options.history ?? 1000
    const pool = options.resources === undefined
      ? yield* ResourcePool.slots(options.concurrency)
      : yield* ResourcePool.make(options.resources)
    const slots = new Map<string, Slot<I, A>>()
    // The pending and running slots (in the order they came), so that what a handover asks costs
    // the jobs in hand, not the `history` remembered.
    const live = new Set<Slot<I, A>>()
    const ready = yield* Queue.unbounded<string>()
    const activeCount = yield* SubscriptionRef.make(0)
    let accepting = true
    let retries = 0

    const snapshot = (slot: Slot<I, A>): Entry<I, A> => ({ ...slot.state })
    const refresh = Effect.suspend(() => SubscriptionRef.set(activeCount, live.size))

    /** Forgets the oldest settled jobs beyond `history`. */
    const prune = () => {
      let settled = slots.size - live.size
      for (const [id, slot] of slots) {
        if (settled <= history) break
        if (!isActive(slot.state.status)) {
          slots.delete(id)
          settled--
        }
      }
    }

    /** Records the final state, wakes waiters, and tells `onSettled`. */
    const settle = (slot: Slot<I, A>, update: Partial<State<I, A>>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        Object.assign(slot.state, update, { finishedAt: now })
        slot.fiber = null
        live.delete(slot)
        prune()
        yield* refresh
        yield* Deferred.succeed(slot.done, undefined)
        if (options.onSettled !== undefined) yield* options.onSettled(snapshot(slot))
      })

    const progress = (slot: Slot<I, A>, attempt: number) => (fraction: number, message?: string) =>
      Effect.suspend(() => {
        if (slot.state.status !== "running" || slot.state.attempts !== attempt) return Effect.void
        slot.state.progress = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : slot.state.progress
        if (message !== undefined) slot.state.message = message
        return options.onProgress === undefined ? Effect.void : options.onProgress(snapshot(slot))
      })

    /** After a run ends: complete, fail, retry at the back of the queue, or record the cancel. */
    const finish = (slot: Slot<I, A>, exit: Exit.Exit<A, unknown>) =>
      Effect.gen(function*() {
        if (Exit.isSuccess(exit)) {
          return yield* settle(slot, { status: "completed", progress: 1, result: exit.value, error: null })
        }
        if (slot.stop !== null) return yield* settle(slot, { status: "cancelled", error: slot.stop })
        if (Cause.isInterruptedOnly(exit.cause)) return yield* settle(slot, { status: "cancelled", error: "interrupted" })
        const error = describeFailure(exit.cause)
        if (slot.state.attempts > maxRetries) return yield* settle(slot, { status: "failed", error })
        if (!accepting) {
          return yield* settle(slot, { status: "cancelled", error: `not retried: the queue is shutting down (last error: ${error})` })
        }
        retries++
        Object.assign(slot.state, { status: "pending", error })
        slot.fiber = null
        yield* Effect.logInfo(`job ${slot.state.id} failed (attempt ${slot.state.attempts}): ${error}; retrying`)
        yield* Queue.offer(ready, slot.state.id)
      })

    /** One runner: takes ids in order and runs them one at a time. */
    const runner = Effect.gen(function*() {
      const id = yield* Queue.take(ready)
      const now = yield* Clock.currentTimeMillis
      const slot = slots.get(id)
      if (slot === undefined || slot.state.status !== "pending") return
      slot.state.status = "running"
      slot.state.attempts++
      slot.state.startedAt = now
      slot.state.progress = 0
      const attempt = slot.state.attempts
      const fiber = yield* Effect.fork(pool.use((resource) =>
        options.run(slot.state.input, { id, attempt, resource, progress: progress(slot, attempt) })
      ))
      slot.fiber = fiber
      // A cancel that came between marking the job running and forking it.
      if (slot.stop !== null) yield* Fiber.interruptFork(fiber)
      const exit = yield* Fiber.await(fiber)
      yield* finish(slot, exit)
    }).pipe(Effect.forever)

    // Runners (and the jobs they fork) stay interruptible even when the queue is made in an
    // uninterruptible region, so cancel and drain can always stop them.
    for (let i = 0; i < options.concurrency; i++) yield* Effect.forkScoped(Effect.interruptible(runner))

    const add = (id: string, input: I, now: number): Enqueued<I, A> => {
      const existing = slots.get(id)
      if (existing !== undefined) return { entry: snapshot(existing), created: false }
      const slot: Slot<I, A> = {
        state: {
          id,
          input,
          status: "pending",
          attempts: 0,
          progress: 0,
          message: null,
          result: undefined,
          error: null,
          enqueuedAt: now,
          startedAt: null,
          finishedAt: null
        },
        stop: null,
        fiber: null,
        done: Deferred.unsafeMake<void>(FiberId.none)
      }
      slots.set(id, slot)
      live.add(slot)
      Queue.unsafeOffer(ready, id)
      return { entry: snapshot(slot), created: true }
    }

    const enqueueAll = (items: Iterable<{ readonly id: string; readonly input: I }>) =>
      Effect.gen(function*() {
        const list = Array.from(items)
        const fresh = new Set(list.map((item) => item.id).filter((id) => !slots.has(id)))
        if (fresh.size > 0 && !accepting) return yield* new QueueClosed()
        if (live.size + fresh.size > limit) return yield* new QueueFull({ limit })
        const now = yield* Clock.currentTimeMillis
        const added = list.map((item) => add(item.id, item.input, now))
        yield* refresh
        return added
      })

    const enqueue = (id: string, input: I) =>
      Effect.map(enqueueAll([{ id, input }]), (added) => added[0] as Enqueued<I, A>)

    const cancelSlot = (slot: Slot<I, A>, reason: string) =>
      Effect.gen(function*() {
        if (slot.state.status === "pending") {
          yield* settle(slot, { status: "cancelled", error: reason })
        } else if (slot.state.status === "running") {
          if (slot.stop === null) slot.stop = reason
          if (slot.fiber !== null) yield* Fiber.interruptFork(slot.fiber)
          yield* Deferred.await(slot.done)
        }
        return snapshot(slot)
      })

    const cancel = (id: string, reason = "cancelled") =>
      Effect.suspend(() => {
        const slot = slots.get(id)
        return slot === undefined ? Effect.succeedNone : Effect.asSome(cancelSlot(slot, reason))
      })

    const cancelAll = (statuses: ReadonlyArray<JobStatus>, reason: string) =>
      Effect.suspend(() => {
        const chosen = Array.from(slots.values()).filter((slot) => statuses.includes(slot.state.status))
        return Effect.as(
          Effect.forEach(chosen, (slot) => cancelSlot(slot, reason), { concurrency: "unbounded", discard: true }),
          chosen.map((slot) => slot.state.id)
        )
      })

    const awaitEmpty = activeCount.changes.pipe(Stream.takeUntil((n) => n === 0), Stream.runDrain)

    const drain = (deadline: Duration.DurationInput) =>
      Effect.gen(function*() {
        accepting = false
        const notStarted = yield* cancelAll(["pending"], "not started: the queue is shutting down")
        // Interruptible, so the deadline holds inside finalizers (which run uninterruptibly).
        const inTime = yield* Effect.interruptible(awaitEmpty).pipe(Effect.timeoutOption(deadline))
        const interrupted = Option.isSome(inTime)
          ? []
          : yield* cancelAll(["pending", "running"], "interrupted: the queue is shutting down")
        return { notStarted, interrupted } satisfies DrainResult
      })

    yield* Effect.addFinalizer(() => Effect.asVoid(drain(Duration.zero)))

    return {
      enqueue,
      enqueueAll,
      get: (id) => Effect.sync(() => Option.map(Option.fromNullable(slots.get(id)), snapshot)),
      list: Effect.sync(() => Array.from(slots.values(), snapshot)),
      active: Effect.sync(() => Array.from(live, snapshot)),
      cancel,
      summary: Effect.sync(() => {
        const count = (status: JobStatus) => Array.from(slots.values()).filter((s) => s.state.status === status).length
        return {
          total: slots.size,
          pending: count("pending"),
          running: count("running"),
          completed: count("completed"),
          failed: count("failed"),
          cancelled: count("cancelled"),
          retries
        }
      }),
      awaitEmpty,
      clear: Effect.gen(function*() {
        yield* cancelAll(["pending", "running"], "cleared")
        slots.clear()
        live.clear()
        yield* refresh
      }),
      drain,
      accepting: Effect.sync(() => accepting)
    } satisfies JobQueue<I, A>
  })
