/**
 * The worker state machine, one table of cases run through its owner
 * (`WorkerTransitions` in core) and through a `WorkerStore` (every adapter):
 * for each status a worker can be in, with one of its two slots taken or
 * both, and each thing that can happen to it, the status it ends in. The
 * PostgreSQL store decides in SQL (a `CASE` tabulated from the core
 * functions, and the claim's transcription in `foreman_claim`), so this is
 * what keeps it and the in-memory store from drifting from core.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Domain, WorkerStore, WorkerTransitions } from "@foreman/core"
import { Effect, type Layer, Option, type Scope } from "effect"
import { worker } from "@foreman/adapter-memory/TestEngine"

type Status = WorkerTransitions.Status

/** What happens to the worker. */
export type Event =
  | { readonly _tag: "Register" }
  | { readonly _tag: "Heartbeat"; readonly healthy: boolean }
  | { readonly _tag: "Release" }
  | { readonly _tag: "Refuse"; readonly refused: WorkerTransitions.Refusal }
  | { readonly _tag: "Unreachable" }
  | { readonly _tag: "Claim" }
  | { readonly _tag: "Expire" }

const CAPACITY = 2

/**
 * The status after each event, for a worker in each status holding one job
 * (a free slot) or two (full), of two slots. `null`: a state the machine
 * never reaches (an available worker with every slot taken is busy).
 */
export const table: ReadonlyArray<{
  readonly name: string
  readonly event: Event
  readonly after: Record<Status, readonly [holdingOne: Status | null, holdingTwo: Status | null]>
}> = [
  {
    name: "registers again (it takes jobs, by load)",
    event: { _tag: "Register" },
    after: {
      available: ["available", null],
      busy: ["available", "busy"],
      draining: ["available", "busy"],
      error: ["available", "busy"],
      offline: ["available", "busy"]
    }
  },
  {
    name: "heartbeat, healthy (back by load; draining stays draining)",
    event: { _tag: "Heartbeat", healthy: true },
    after: {
      available: ["available", null],
      busy: ["available", "busy"],
      draining: ["draining", "draining"],
      error: ["available", "busy"],
      offline: ["available", "busy"]
    }
  },
  {
    name: "heartbeat, unhealthy (error)",
    event: { _tag: "Heartbeat", healthy: false },
    after: {
      available: ["error", null],
      busy: ["error", "error"],
      draining: ["error", "error"],
      error: ["error", "error"],
      offline: ["error", "error"]
    }
  },
  {
    name: "a job's slot is released (by load if it takes jobs)",
    event: { _tag: "Release" },
    after: {
      available: ["available", null],
      busy: ["available", "available"],
      draining: ["draining", "draining"],
      error: ["error", "error"],
      offline: ["offline", "offline"]
    }
  },
  {
    name: "refuses a job, full (busy if it takes jobs)",
    event: { _tag: "Refuse", refused: "full" },
    after: {
      available: ["busy", null],
      busy: ["busy", "busy"],
      draining: ["draining", "draining"],
      error: ["error", "error"],
      offline: ["offline", "offline"]
    }
  },
  {
    name: "refuses a job, shutting down (draining if it takes jobs)",
    event: { _tag: "Refuse", refused: "draining" },
    after: {
      available: ["draining", null],
      busy: ["draining", "draining"],
      draining: ["draining", "draining"],
      error: ["error", "error"],
      offline: ["offline", "offline"]
    }
  },
  {
    name: "a job could not be delivered to it (error if it takes jobs)",
    event: { _tag: "Unreachable" },
    after: {
      available: ["error", null],
      busy: ["error", "error"],
      draining: ["draining", "draining"],
      error: ["error", "error"],
      offline: ["offline", "offline"]
    }
  },
  {
    name: "a claim (only an available worker with a free slot is given the job)",
    event: { _tag: "Claim" },
    after: {
      available: ["busy", null],
      busy: ["busy", "busy"],
      draining: ["draining", "draining"],
      error: ["error", "error"],
      offline: ["offline", "offline"]
    }
  },
  {
    name: "silent past the offline delay (offline)",
    event: { _tag: "Expire" },
    after: {
      available: ["offline", null],
      busy: ["offline", "offline"],
      draining: ["offline", "offline"],
      error: ["offline", "offline"],
      offline: ["offline", "offline"]
    }
  }
]

/** One case of the table. */
export interface Case {
  readonly status: Status
  readonly held: 1 | 2
  readonly event: Event
  readonly expected: Status
}

/** Every reachable case of the table. */
export const cases = (event: (typeof table)[number]): ReadonlyArray<Case> =>
  WorkerTransitions.statuses.flatMap((status) =>
    ([1, 2] as const).flatMap((held) => {
      const expected = event.after[status][held - 1]
      return expected === null || expected === undefined ? [] : [{ status, held, event: event.event, expected }]
    })
  )

const NOW = 5000

/** What core decides for a case: the status the worker ends in. */
export const decide = ({ event, held, status }: Case): Status => {
  const full = (jobs: number) => WorkerTransitions.isFull(jobs, CAPACITY)
  switch (event._tag) {
    case "Register":
      return WorkerTransitions.registered("available", full(held))
    case "Heartbeat":
      return WorkerTransitions.heartbeat(status, full(held), event.healthy)
    case "Release":
      return WorkerTransitions.released(status, full(held - 1))
    case "Refuse":
      return WorkerTransitions.refused(status, WorkerTransitions.refusal(event.refused))
    case "Unreachable":
      return WorkerTransitions.unreachable(status)
    case "Claim": {
      const slots = { status, capacity: CAPACITY, currentJobs: Array.from({ length: held }, (_, i) => `job_${i}`) }
      return WorkerTransitions.canTake(slots, NOW) ? WorkerTransitions.claimed(status, full(held + 1)) : status
    }
    case "Expire":
      return WorkerTransitions.expired(status)
  }
}

const idOf = (c: Case) => `w-${c.status}-${c.held}` as Domain.WorkerId
const typeOf = (c: Case) => `t-${c.status}-${c.held}`
const jobsOf = (c: Case) => Array.from({ length: c.held }, (_, i) => `job_${c.status}_${i}` as Domain.JobId)

/** Puts the case's worker in its status, holding its jobs, through the store's own operations. */
const setUp = (store: WorkerStore.WorkerStoreShape, c: Case) =>
  Effect.gen(function*() {
    const jobs = jobsOf(c)
    const base = worker(idOf(c), { type: typeOf(c), capacity: CAPACITY, lastHeartbeatAt: 1000 })
    if (c.status === "busy" && c.held === 1) {
      // Busy with a free slot: it said it was full when it refused a job.
      yield* store.register({ ...base, currentJobs: [...jobs, "job_refused" as Domain.JobId] }, [], null, null)
      yield* store.markRefusing(base.id, "job_refused" as Domain.JobId, "busy")
    } else {
      const status = WorkerTransitions.takesJobs(c.status) ? "available" : c.status
      yield* store.register({ ...base, status, currentJobs: jobs }, [], null, null)
    }
    const stored = Option.getOrThrow(yield* store.get(base.id))
    assert.deepStrictEqual([stored.status, stored.currentJobs], [c.status, jobs], `set up ${idOf(c)}`)
  })

/** Applies the case's event to its worker (all of an `Expire` table's at once). */
const apply = (store: WorkerStore.WorkerStoreShape, c: Case) => {
  const id = idOf(c)
  const [first] = jobsOf(c)
  switch (c.event._tag) {
    case "Register":
      return store.register(worker(id, { type: typeOf(c), capacity: CAPACITY, currentJobs: jobsOf(c) }), [], null, null)
    case "Heartbeat":
      return store.heartbeat(id, 2000, c.event.healthy)
    case "Release":
      return store.release(id, first!)
    case "Refuse":
      return store.markRefusing(id, first!, WorkerTransitions.refusal(c.event.refused))
    case "Unreachable":
      return store.markUnreachable(id, first!)
    case "Claim":
      return Effect.map(store.claim(typeOf(c), [`job_claimed_${c.status}` as Domain.JobId], NOW), (claimed) => {
        assert.strictEqual(claimed.length, c.status === "available" ? 1 : 0, `claimed ${id}`)
      })
    case "Expire":
      return Effect.void
  }
}

export const workerStatusContract = (
  name: string,
  makeLayer: () => Layer.Layer<WorkerStore.WorkerStore, unknown>
) => {
  const run = <A, E>(self: Effect.Effect<A, E, WorkerStore.WorkerStore | Scope.Scope>) =>
    Effect.scoped(Effect.provide(self, makeLayer()))

  describe(`${name}: the worker state machine, as WorkerTransitions decides it`, () => {
    for (const row of table) {
      it.live(row.name, () =>
        run(Effect.gen(function*() {
          const store = yield* WorkerStore.WorkerStore
          const all = cases(row)
          for (const c of all) assert.strictEqual(decide(c), c.expected, `core: ${idOf(c)}`)
          for (const c of all) yield* setUp(store, c)
          for (const c of all) yield* apply(store, c)
          if (row.event._tag === "Expire") {
            const expired = yield* store.expire(1500, 0)
            assert.deepStrictEqual(
              expired.offline,
              all.filter((c) => c.expected !== c.status).map(idOf).sort(),
              "those whose status changed"
            )
          }
          for (const c of all) {
            const stored = Option.getOrThrow(yield* store.get(idOf(c)))
            assert.strictEqual(stored.status, c.expected, `${name}: ${idOf(c)}`)
          }
        })))
    }
  })
}
