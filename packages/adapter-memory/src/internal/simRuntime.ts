/**
 * A discrete-event runtime for simulations: a `Clock` whose sleeps are timers
 * in a priority queue, and a `Scheduler` that runs every fiber step in one
 * microtask drain. Between events the driver waits until the scheduler's queue
 * runs dry, when every fiber is blocked; then it jumps the clock to the next
 * timer. No real time passes, and the order of everything is a function of the seed.
 */
import { Clock, Duration, Effect, Scheduler } from "effect"

interface Timer {
  readonly at: number
  readonly seq: number
  readonly fire: () => void
  cancelled: boolean
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** A binary min-heap of timers ordered by (time, creation order). */
class TimerHeap {
  private readonly items: Array<Timer> = []

  get size(): number {
    return this.items.length
  }

  push(timer: Timer): void {
    const items = this.items
    items.push(timer)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  peek(): Timer | undefined {
    return this.items[0]
  }

  pop(): Timer | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && before(items[l]!, items[m]!)) m = l
      if (r < items.length && before(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
}

export class SimRuntime {
  private readonly timers = new TimerHeap()
  private seq = 0
  private readonly tasks: Array<() => void> = []
  private draining = false
  /** The driver, waiting for every other fiber to block. */
  private idle: (() => void) | undefined = undefined
  /** Wall time of the last wait through the host's event loop. */
  private yieldedAt = performance.now()
  now: number

  constructor(start: number) {
    this.now = start
  }

  readonly clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => this.now,
    unsafeCurrentTimeNanos: () => BigInt(this.now) * 1_000_000n,
    currentTimeMillis: Effect.sync(() => this.now),
    currentTimeNanos: Effect.sync(() => BigInt(this.now) * 1_000_000n),
    sleep: (duration: Duration.Duration) =>
      Effect.async<void>((resume) => {
        const timer: Timer = {
          at: this.now + Math.max(0, Duration.toMillis(duration)),
          seq: this.seq++,
          fire: () => resume(Effect.void),
          cancelled: false
        }
        this.timers.push(timer)
        return Effect.sync(() => {
          timer.cancelled = true
        })
      })
  }

  readonly scheduler: Scheduler.Scheduler = {
    // A fiber never yields for having run many operations (Effect's default yields after
    // 2,048): the order of a step's work then follows only from what fibers wait for, so
    // an engine change that runs fewer or more operations does not change a trace.
    shouldYield: () => false,
    scheduleTask: (task) => {
      this.tasks.push(task)
      if (!this.draining) {
        this.draining = true
        queueMicrotask(this.drain)
      }
    }
  }

  private readonly drain = () => {
    const tasks = this.tasks
    for (;;) {
      for (let i = 0; i < tasks.length; i++) tasks[i]!()
      tasks.length = 0
      // Every fiber step goes through this scheduler, so an empty queue means every
      // fiber is blocked on a timer or on another fiber: the driver may look now.
      const idle = this.idle
      if (idle === undefined) break
      this.idle = undefined
      idle()
      if (tasks.length === 0) break
    }
    this.draining = false
  }

  /**
   * Waits until every other fiber of the simulation is blocked (the task queue ran
   * dry). Usually that is seen in the same drain; about every 20 ms of wall time the
   * wait goes through a host macrotask instead, so a long run does not starve the
   * host's event loop (I/O, a test runner's heartbeats). Either way the simulation is
   * blocked when the driver resumes, so the choice does not change what happens.
   */
  readonly settle: Effect.Effect<void> = Effect.async<void>((resume) => {
    const wall = performance.now()
    if (wall - this.yieldedAt >= 20) {
      this.yieldedAt = wall
      setImmediate(() => resume(Effect.void))
      return
    }
    this.idle = () => resume(Effect.void)
    if (!this.draining) {
      this.draining = true
      queueMicrotask(this.drain)
    }
  })

  /** The time of the next live timer, if any. */
  next(): number | undefined {
    for (let top = this.timers.peek(); top !== undefined; top = this.timers.peek()) {
      if (!top.cancelled) return top.at
      this.timers.pop()
    }
    return undefined
  }

  /** Moves the clock to `at` and fires every timer due then. */
  advanceTo(at: number): void {
    this.now = Math.max(this.now, at)
    for (let top = this.timers.peek(); top !== undefined && top.at <= this.now; top = this.timers.peek()) {
      this.timers.pop()
      if (!top.cancelled) top.fire()
    }
  }
}
