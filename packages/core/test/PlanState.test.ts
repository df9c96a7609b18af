/**
 * The leader's incremental plan against the full one: random sequences of
 * writes, worker changes and time, read in full (as the memory store answers)
 * or as changes since a mark (as PostgreSQL does), with a fixed seed each; at
 * every tick the plan made from what changed must equal `TickPlan.make` over
 * every active research, and most ticks must advance only a few of them.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fixtures from "@foreman/adapter-memory/TestEngine"
import * as ActiveSet from "../src/ActiveSet.js"
import type { Job, JobId, ResearchId, Worker, WorkerId } from "../src/Domain.js"
import * as ForemanConfig from "../src/ForemanConfig.js"
import * as Pipeline from "../src/Pipeline.js"
import * as PlanSteps from "../src/internal/planSteps.js"
import * as PlanState from "../src/PlanState.js"
import type { ActiveChanges, ActiveEntry } from "../src/Researches.js"
import * as TickPlan from "../src/TickPlan.js"

const EPOCH = 7
const config = ForemanConfig.make()
const strategy = { name: "rsi_momentum", spec: { indicator: "rsi", period: 14 } }

/** A small deterministic generator (mulberry32), so each seed replays. */
const generator = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(xs.length)]!
  return { int, pick, chance: (p: number) => next() < p }
}
type Generator = ReturnType<typeof generator>

const WORKERS = ["w-0", "w-1", "w-2", "w-3", "w-4", "w-5"] as const

/** The world one test drives: researches with their jobs, workers, the clock and the reads' answers. */
const world = (g: Generator, partial: boolean) => {
  let now = 1_000_000
  let hearingSince = 0
  let serial = 0
  const entries = new Map<ResearchId, ActiveEntry>()
  let written = new Map<ResearchId, ActiveEntry>()
  const workers = new Map<WorkerId, Worker>()

  const put = (entry: ActiveEntry) => {
    if (entry.research.status === "completed" || entry.research.status === "cancelled") entries.delete(entry.research.id)
    else entries.set(entry.research.id, entry)
    written.set(entry.research.id, entry)
  }

  /** A research in a random state, with its job. */
  const state = (id: string, createdAt: number): ActiveEntry => {
    const base = {
      status: "running" as const,
      strategy,
      results: { design: strategy, training: fixtures.goodTraining },
      createdAt,
      updatedAt: createdAt,
      version: g.int(5)
    }
    const phase = g.pick(["training", "backtesting"] as const)
    const type = phase === "training" ? "training" : "backtest"
    const since = now - g.pick([0, 0, 1000, 5000])
    const job = (overrides: Partial<Job>): ActiveEntry => {
      const j = fixtures.job(`job_${serial++}`, id, {
        kind: phase === "training" ? "training" : "backtest",
        phase,
        workerType: type,
        workerId: g.pick(WORKERS) as WorkerId,
        status: g.pick(["pending", "running", "running", "running", "running", "completed", "lost", "refused"] as const),
        epoch: g.pick([EPOCH, EPOCH, EPOCH - 1]),
        result: phase === "training" ? fixtures.goodTraining : fixtures.goodBacktest,
        createdAt: now - g.int(120_000),
        updatedAt: now - g.int(120_000),
        ...overrides
      })
      return { research: fixtures.research(id, { ...base, phase, activeJobId: j.id }), job: j }
    }
    switch (g.int(12)) {
      case 0:
        return { research: fixtures.research(id, { createdAt, updatedAt: createdAt }), job: null }
      case 1:
      case 2:
      case 3:
      case 4:
        return { research: fixtures.research(id, { ...base, phase, waitingFor: { workerType: type, since } }), job: null }
      case 5:
        return { research: fixtures.research(id, { ...base, phase, retryAt: now + g.pick([-1, 1, 5000, 60_000]) }), job: null }
      case 6:
      case 7:
        return job({ workerId: null, kind: "design", phase: "designing", status: "running" })
      case 8:
        return g.chance(0.3)
          ? { research: fixtures.research(id, { ...base, phase, activeJobId: "job_gone" as JobId }), job: null }
          : job({})
      default:
        return job({})
    }
  }

  const worker = (id: string): Worker =>
    fixtures.worker(id, {
      type: id < "w-3" ? "training" : "backtest",
      capacity: 1 + g.int(3),
      currentJobs: g.chance(0.5) ? [] : [`job_held_${id}` as JobId],
      status: g.pick(["available", "available", "busy", "offline", "draining"] as const),
      protocol: g.pick(["push", "push", "pull"] as const),
      pollingUntil: g.chance(0.5) ? now + 10_000 : null,
      lastHeartbeatAt: now - g.int(60_000)
    })

  const change = () => {
    const ids = Array.from(entries.keys())
    switch (g.int(7)) {
      case 0:
      case 1: {
        const createdAt = g.chance(0.7) ? now : g.pick([0, 500_000, now - 1])
        const id = `op_${g.int(1_000_000).toString(36)}${serial++}`
        put(state(id, createdAt))
        break
      }
      case 2:
      case 3: {
        if (ids.length === 0) break
        const old = entries.get(g.pick(ids))!
        put(state(old.research.id, old.research.createdAt))
        break
      }
      case 4: {
        if (ids.length === 0) break
        const old = entries.get(g.pick(ids))!
        put({ ...old, research: { ...old.research, status: g.pick(["completed", "cancelled"] as const) } })
        break
      }
      case 5: {
        const id = g.pick(WORKERS) as WorkerId
        if (workers.has(id) && g.chance(0.3)) workers.delete(id)
        else workers.set(id, worker(id))
        break
      }
      default: {
        const w = workers.get(g.pick(WORKERS) as WorkerId)
        if (w !== undefined) workers.set(w.id, { ...w, lastHeartbeatAt: now })
      }
    }
  }

  let first = true
  const read = (): ActiveChanges => {
    // Now and then every research read anew, in full (after a failed read, on PostgreSQL): new objects.
    const anew = g.chance(0.05)
    const answer: ActiveChanges = partial && !first && !anew
      ? { complete: false, entries: Array.from(written.values()), mark: "m" }
      : {
        complete: true,
        entries: Array.from(entries.values(), (e) => anew ? { research: { ...e.research }, job: e.job && { ...e.job } } : e),
        mark: partial ? "m" : null
      }
    first = false
    written = new Map()
    return answer
  }

  return {
    step: () => {
      for (let i = g.int(5); i > 0; i--) change()
      now += g.pick([0, 1, 1000, 10_000, 31_000, 61_000, 300_000])
      if (g.chance(0.03)) hearingSince = now
    },
    read,
    now: () => now,
    hearingSince: () => hearingSince,
    workers: () => Array.from(workers.values())
  }
}

const drive = (seed: number, partial: boolean, ticks: number) => {
  const g = generator(seed)
  const w = world(g, partial)
  const set = ActiveSet.make()
  const state = PlanState.make()
  let advanced = 0
  let planned = 0
  for (let tick = 0; tick < ticks; tick++) {
    w.step()
    const delta = set.apply(w.read())
    const snapshot = {
      pipeline: Pipeline.research,
      config,
      now: w.now(),
      epoch: EPOCH,
      hearingSince: w.hearingSince(),
      workers: w.workers()
    }
    const whole = TickPlan.make({ ...snapshot, active: set.entries() })
    const incremental = state.plan({ ...snapshot, active: set, delta })
    assert.deepStrictEqual(incremental, whole, `seed ${seed}, tick ${tick}`)
    advanced += state.advanced()
    planned += set.entries().filter((e) => PlanSteps.stillQueued(Pipeline.research, e) === null).length
  }
  return { advanced, full: planned }
}

describe("PlanState", () => {
  for (const partial of [false, true]) {
    it(`plans what the full plan does at every tick, read ${partial ? "as changes" : "in full"} (fixed seeds)`, () => {
      let advanced = 0
      let full = 0
      for (let seed = 1; seed <= 40; seed++) {
        const run = drive(seed, partial, 150)
        advanced += run.advanced
        full += run.full
      }
      // Researches sitting quietly on their jobs are left alone (this world never writes a plan, so
      // those with something to do stay so: the test below shows a quiet one).
      assert.isBelow(advanced, full)
    })
  }

  it("advances only the researches that changed, and takes the next in queue for a freed slot", () => {
    const now = 5_000_000
    const queued = Array.from({ length: 1_000 }, (_, i): ActiveEntry => ({
      research: fixtures.research(`op_q${i}`, {
        phase: "training",
        status: "running",
        strategy,
        results: { design: strategy },
        createdAt: i,
        waitingFor: { workerType: "training", since: 1_000 + i }
      }),
      job: null
    }))
    const running = Array.from({ length: 5 }, (_, i): ActiveEntry => {
      const job = fixtures.job(`job_r${i}`, `op_r${i}`, { workerId: `w-${i}` as WorkerId, epoch: EPOCH, updatedAt: now })
      return {
        research: fixtures.research(`op_r${i}`, { phase: "training", status: "running", strategy, activeJobId: job.id, createdAt: 2_000 + i }),
        job
      }
    })
    const busy = running.map(({ job }) =>
      fixtures.worker(job!.workerId!, { status: "busy", currentJobs: [job!.id], lastHeartbeatAt: now })
    )
    const set = ActiveSet.make()
    const state = PlanState.make()
    const tick = (at: number, changes: ActiveChanges, workers: ReadonlyArray<Worker>) => {
      const delta = set.apply(changes)
      const snapshot = { pipeline: Pipeline.research, config, now: at, epoch: EPOCH, hearingSince: 0, workers }
      const plan = state.plan({ ...snapshot, active: set, delta })
      assert.deepStrictEqual(plan, TickPlan.make({ ...snapshot, active: set.entries() }))
      return plan
    }
    tick(now, { complete: true, entries: [...queued, ...running], mark: "1" }, busy)
    assert.strictEqual(state.advanced(), 5)
    assert.deepStrictEqual(tick(now + 1, { complete: false, entries: [], mark: "2" }, busy).actions, [])
    assert.strictEqual(state.advanced(), 0)
    // The first job completes and frees its worker: one research advanced (now waiting for a backtest
    // worker), the longest waiting one claims the slot.
    const done: ActiveEntry = { ...running[0]!, job: { ...running[0]!.job!, status: "completed", result: fixtures.goodTraining } }
    const freed = [{ ...busy[0]!, status: "available" as const, currentJobs: [] }, ...busy.slice(1)]
    const plan = tick(now + 2, { complete: false, entries: [done], mark: "3" }, freed)
    assert.strictEqual(state.advanced(), 1)
    assert.deepStrictEqual(
      plan.actions.map((a) => [a._tag, a.before.id]),
      [["ClaimWorker", "op_q0"], ["Commit", "op_r0"]]
    )
  })
})
