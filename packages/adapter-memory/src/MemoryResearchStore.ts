/**
 * In-memory storage of researches, their jobs and the strategy catalogue, with
 * the same conditional writes as the durable stores: one store that provides
 * the `Researches`, `Jobs` and `Strategies` ports.
 */
import { CoordinatorLease, Domain, Errors, Jobs, Researches, ResearchStore, Strategies, WorkerStore } from "@foreman/core"
import { Effect, Layer, Option } from "effect"
import { lowerBound } from "./internal/lowerBound.js"

type Research = Domain.Research
type Job = Domain.Job

export const make = Effect.gen(function*() {
  const lease = yield* CoordinatorLease.CoordinatorLease
  const workers = yield* WorkerStore.WorkerStore
  const researches = new Map<Domain.ResearchId, Research>()
  /** Every research's id in the order first stored, for `list` to walk from the newest. */
  const stored: Array<Domain.ResearchId> = []
  /** Pending and running researches, in trigger order. */
  const active = new Map<Domain.ResearchId, Research>()
  const jobs = new Map<Domain.JobId, Job>()
  const jobsByResearch = new Map<Domain.ResearchId, Array<Domain.JobId>>()
  /** The strategy catalogue by name, in the order stored. */
  const strategies = new Map<string, Domain.StoredStrategy>()
  /** The catalogue's names in code-unit order: the names with a prefix are one run of it. */
  const names: Array<string> = []
  /** The index of the first name not before `name`. */
  const firstFrom = (name: string): number => lowerBound(names.length, (i) => names[i]! < name)
  /** Request keys by id, with the research that holds each. */
  const byRequestId = new Map<string, { readonly key: Researches.RequestKey; readonly researchId: Domain.ResearchId }>()
  const requested = (requestId: string): Researches.Requested | undefined => {
    const held = byRequestId.get(requestId)
    const research = held === undefined ? undefined : researches.get(held.researchId)
    return held === undefined || research === undefined ? undefined : { research, key: held.key }
  }

  const put = (research: Research) => {
    if (!researches.has(research.id)) stored.push(research.id)
    researches.set(research.id, research)
    if (Domain.isTerminalStatus(research.status)) active.delete(research.id)
    else active.set(research.id, research)
  }
  const putJob = (job: Job) => {
    if (!jobs.has(job.id)) {
      const ids = jobsByResearch.get(job.researchId)
      if (ids === undefined) jobsByResearch.set(job.researchId, [job.id])
      else ids.push(job.id)
    }
    jobs.set(job.id, job)
  }

  const listActive = (): ReadonlyArray<Researches.ActiveEntry> =>
    Array.from(active.values(), (research) => ({
      research,
      job: research.activeJobId === null ? null : jobs.get(research.activeJobId) ?? null
    }))

  const commit = (t: Researches.Transition) =>
    Effect.gen(function*() {
      const id = t.research.id
      if (t.epoch !== null) {
        const epoch = yield* lease.current
        if (epoch !== t.epoch) {
          return yield* new Errors.StaleWrite({ researchId: id, reason: `epoch ${t.epoch} was superseded by ${epoch}` })
        }
      }
      const stored = researches.get(id)
      if (stored === undefined || stored.version !== t.expectedVersion) {
        return yield* new Errors.StaleWrite({
          researchId: id,
          reason: `expected version ${t.expectedVersion}, found ${stored?.version ?? "none"}`
        })
      }
      for (const { expected, job } of t.jobs) {
        const current = jobs.get(job.id)
        if (expected === null ? current !== undefined : current?.status !== expected) {
          return yield* new Errors.StaleWrite({ researchId: id, reason: `job ${job.id} changed meanwhile` })
        }
      }
      if (t.design !== undefined && strategies.has(t.design.name)) {
        return yield* new Errors.StaleWrite({ researchId: id, reason: `strategy ${t.design.name} is already stored` })
      }
      put(t.research)
      for (const { job } of t.jobs) putJob(job)
      if (t.design !== undefined) {
        strategies.set(t.design.name, { strategy: t.design, researchId: id, createdAt: t.research.updatedAt })
        names.splice(firstFrom(t.design.name), 0, t.design.name)
      }
    })

  /** Commits `t`: whether it was written (not stale). */
  const attempt = (t: Researches.Transition) =>
    commit(t).pipe(
      Effect.as(true),
      Effect.catchTag("StaleWrite", () => Effect.succeed(false))
    )

  /** The research holding `key` alive (recorded at or after `expiredBefore`), if one does. */
  const holding = (key: Researches.RequestKey | undefined, expiredBefore: number) => {
    const existing = key === undefined ? undefined : requested(key.id)
    return existing !== undefined && existing.key.recordedAt >= expiredBefore ? existing.research : undefined
  }
  /** Stores a new research; an expired key passes to it. */
  const create = (research: Research, key: Researches.RequestKey | undefined) => {
    put(research)
    if (key !== undefined) byRequestId.set(key.id, { key, researchId: research.id })
  }
  const exists = (id: Domain.ResearchId) => new Errors.StorageError({ reason: `research ${id} already exists` })

  const store: Researches.ResearchesShape & Jobs.JobsShape & Strategies.StrategiesShape = {
    insert: (research, key, expiredBefore = Number.NEGATIVE_INFINITY) =>
      Effect.suspend(() => {
        const held = holding(key, expiredBefore)
        if (held !== undefined) return Effect.succeed(held)
        if (researches.has(research.id)) return Effect.fail(exists(research.id))
        create(research, key)
        return Effect.succeed(research)
      }),
    insertAll: ({ activeAtMost, expiredBefore, researches: batch }) =>
      Effect.suspend(() => {
        if (active.size > activeAtMost || batch.some(({ key }) => holding(key, expiredBefore) !== undefined)) {
          return Effect.succeed(false)
        }
        const taken = batch.find(({ research }) => researches.has(research.id))
        if (taken !== undefined) return Effect.fail(exists(taken.research.id))
        for (const { key, research } of batch) create(research, key)
        return Effect.succeed(true)
      }),
    get: (id) => Effect.sync(() => Option.fromNullable(researches.get(id))),
    findByRequestId: (requestId) =>
      Effect.sync(() => Option.fromNullable(requested(requestId))),
    findByRequestIds: (requestIds) => Effect.sync(() => requestIds.flatMap((id) => requested(id) ?? [])),
    // Newest first, walking back only as far as the page needs (a design asks for the few
    // finished last, in a store that may hold every research of a long simulation).
    list: ({ limit, offset, ...filter }) =>
      Effect.sync(() => {
        const page: Array<Research> = []
        let skipped = 0
        for (let i = stored.length - 1; i >= 0 && page.length < limit; i--) {
          const research = researches.get(stored[i]!)!
          if (!Researches.matches(filter, research)) continue
          if (skipped < offset) skipped++
          else page.push(research)
        }
        return page
      }),
    jobCountsByWorker: Effect.sync(() => {
      const counts = new Map<Domain.WorkerId, { completed: number; failed: number }>()
      for (const job of jobs.values()) {
        if (job.workerId === null || (job.status !== "completed" && job.status !== "failed" && job.status !== "lost")) continue
        const c = counts.get(job.workerId) ?? { completed: 0, failed: 0 }
        counts.set(job.workerId, job.status === "completed" ? { ...c, completed: c.completed + 1 } : { ...c, failed: c.failed + 1 })
      }
      return Array.from(counts, ([workerId, c]) => ({ workerId, ...c }))
    }),
    totals: (filter) =>
      Effect.sync(() => {
        const selected = Array.from(researches.values()).filter((r) => Researches.matches(filter, r))
        return { count: selected.length, costUsd: selected.reduce((sum, r) => sum + r.costUsd, 0) }
      }),
    listActive: Effect.sync(listActive),
    // A full read costs no more than a read of what changed: always answer in full.
    activeChangedSince: () => Effect.sync(() => ({ complete: true, entries: listActive(), mark: null })),
    countActive: Effect.sync(() => active.size),
    activeAmong: (ids) => Effect.sync(() => new Set(ids.filter((id) => active.has(id)))),
    commit,
    commitAll: (ts) => Effect.forEach(ts, attempt),
    commitClaiming: ({ at, claims, transitions }) =>
      Effect.gen(function*() {
        const granted = yield* Effect.forEach(claims, ({ jobIds, workerType }) => workers.claim(workerType, jobIds, at))
        const written = yield* Effect.forEach(transitions, (t) => {
          if (!Researches.isSlotted(t)) return attempt(t)
          const claim = claims.findIndex((c) => c.workerType === t.workerType)
          const worker = granted[claim]?.[t.slot]
          const jobId = claims[claim]?.jobIds[t.slot]
          if (worker === undefined || jobId === undefined) return t.otherwise === null ? Effect.succeed(false) : attempt(t.otherwise)
          return attempt(Researches.withWorker(t.claimed, jobId, worker.id))
        })
        return { granted, written }
      }),
    getJob: (id) => Effect.sync(() => Option.fromNullable(jobs.get(id))),
    jobsOf: (researchId) =>
      Effect.sync(() => (jobsByResearch.get(researchId) ?? []).flatMap((id) => jobs.get(id) ?? [])),
    jobsOfResearchesBetween: (from, to) =>
      Effect.sync(() =>
        Array.from(researches.values())
          .filter((r) => r.createdAt >= from && r.createdAt < to)
          .flatMap((r) => (jobsByResearch.get(r.id) ?? []).flatMap((id) => jobs.get(id) ?? []))
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      ),
    jobsOnWorker: (workerId) =>
      Effect.sync(() =>
        Array.from(jobs.values()).filter((j) => j.workerId === workerId && !Domain.isJobSettled(j.status))
      ),
    patchJob: (id, workerId, patch, expected) =>
      Effect.sync(() => {
        const current = jobs.get(id)
        if (current === undefined || current.workerId !== workerId || !expected.includes(current.status)) {
          return Option.none()
        }
        const job = { ...current, ...patch }
        putJob(job)
        return Option.some(job)
      }),
    updateJob: (job, expected) =>
      Effect.sync(() => {
        const current = jobs.get(job.id)
        if (current === undefined || !expected.includes(current.status)) return false
        putJob(job)
        return true
      }),
    getStrategy: (name) => Effect.sync(() => Option.fromNullable(strategies.get(name))),
    listStrategies: Effect.sync(() => Array.from(strategies.values()).reverse()),
    // A binary search to the first name with the prefix, not a pass over the catalogue: a
    // simulation names every design it makes against a catalogue that grows with each.
    strategyNames: (prefix) =>
      Effect.sync(() => {
        const found: Array<string> = []
        for (let i = firstFrom(prefix); i < names.length && names[i]!.startsWith(prefix); i++) found.push(names[i]!)
        return found
      }),
    researchesUsing: (names) =>
      Effect.sync(() => {
        const wanted = new Set(names)
        return Array.from(researches.values()).filter((r) => r.strategy !== null && wanted.has(r.strategy.name))
      })
  }
  return store
})

/** The `Researches`, `Jobs` and `Strategies` ports, in memory, fenced by the lease's epoch, claiming slots on the worker store (and, for one release, the deprecated `ResearchStore` made of them). */
export const layer: Layer.Layer<
  Researches.Researches | Jobs.Jobs | Strategies.Strategies | ResearchStore.ResearchStore,
  never,
  CoordinatorLease.CoordinatorLease | WorkerStore.WorkerStore
> =
  Layer.effectContext(Effect.map(make, ResearchStore.portsOf))
