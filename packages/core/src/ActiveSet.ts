/**
 * The active researches as a reader last read them, kept up to date by reading
 * only what changed since a mark (`Researches.activeChangedSince`). The
 * leader keeps one for its term of leadership: a new term starts empty, so its
 * first read asks for every active research. The status view keeps one of its
 * own in every process (it must see every write committed before it reads,
 * which the leader's set, read at each tick, may not have yet). After a
 * failed read the next one asks for everything again.
 *
 * Each read also says what it changed (`Delta`), so the leader plans only the
 * researches that can have changed (`PlanState`); each kept research has a rank
 * in the read order (oldest first), and the set answers by job which research
 * runs it, so a tick need not pass over every research to learn either.
 */
import { Effect } from "effect"
import { isTerminalStatus, type JobId, type ResearchId } from "./Domain.js"
import type { ActiveChanges, ActiveEntry, ChangeMark } from "./Researches.js"

/** What one read changed in the kept set. */
export interface Delta {
  /**
   * True when the read order of the kept researches changed (or the set was
   * empty): count every kept research as changed, with new ranks.
   */
  readonly all: boolean
  /** The researches new or written since the last read (or whose job was), as now kept. */
  readonly changed: ReadonlyArray<ActiveEntry>
  /** The researches no longer kept (terminal, or missing from an answer in full). */
  readonly removed: ReadonlyArray<ResearchId>
}

/** A kept active set. Change it only through `apply`, `reset` and `refresh`. */
export interface ActiveSet {
  /** The active researches kept, oldest first (in read order). */
  readonly entries: () => ReadonlyArray<ActiveEntry>
  /** How many researches are kept. */
  readonly size: () => number
  /** A kept research with its job. */
  readonly get: (id: ResearchId) => ActiveEntry | undefined
  /** A kept research's place in the read order: a lower rank comes first. Ranks change only with a `Delta.all`. */
  readonly rank: (id: ResearchId) => number
  /** The kept research whose active job this is, if any. */
  readonly byJob: (id: JobId) => ActiveEntry | undefined
  /** The mark to read from next; null reads everything. */
  readonly mark: () => ChangeMark | null
  /** Applies the changes read from `mark()` and says what they changed. */
  readonly apply: (changes: ActiveChanges) => Delta
  /** Forgets the mark: the next read asks for every active research. */
  readonly reset: () => void
  /** Runs one read at a time, so what is kept always comes from the latest read. */
  readonly oneAtATime: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** Oldest first: by creation, then by id. */
export const before = (a: ActiveEntry, b: ActiveEntry): number =>
  a.research.createdAt - b.research.createdAt || (a.research.id < b.research.id ? -1 : a.research.id > b.research.id ? 1 : 0)

/** An empty active set, with no mark. */
export const make = (): ActiveSet => {
  /** Kept in read order: the map's own order is always the order of the ranks. */
  let kept = new Map<ResearchId, ActiveEntry>()
  let ranks = new Map<ResearchId, number>()
  let nextRank = 0
  const jobs = new Map<JobId, ResearchId>()
  let mark: ChangeMark | null = null
  /** The newest research kept (or last kept): a new one after it keeps the read order. */
  let newest: ActiveEntry | undefined

  const unlinkJob = (entry: ActiveEntry | undefined) => {
    if (entry?.job != null && jobs.get(entry.job.id) === entry.research.id) jobs.delete(entry.job.id)
  }
  const linkJob = (entry: ActiveEntry) => {
    if (entry.job !== null) jobs.set(entry.job.id, entry.research.id)
  }

  /** Keeps `entries` in this order, ranked anew. */
  const rebuild = (entries: ReadonlyArray<ActiveEntry>): Delta => {
    kept = new Map()
    ranks = new Map()
    jobs.clear()
    nextRank = 0
    for (const entry of entries) {
      kept.set(entry.research.id, entry)
      ranks.set(entry.research.id, nextRank++)
      linkJob(entry)
    }
    newest = entries[entries.length - 1]
    return { all: true, changed: entries, removed: [] }
  }

  /** An answer in full: what differs from what is kept, when its order is the kept order. */
  const replace = (answer: ReadonlyArray<ActiveEntry>): Delta => {
    const entries = answer.filter((entry) => !isTerminalStatus(entry.research.status))
    if (kept.size === 0) return rebuild(entries)
    const next = new Map<ResearchId, ActiveEntry>()
    const changed: Array<ActiveEntry> = []
    let lastRank = -1
    let added = false
    for (const entry of entries) {
      const id = entry.research.id
      next.set(id, entry)
      const old = kept.get(id)
      if (old === undefined) {
        added = true
        changed.push(entry)
        continue
      }
      const rank = ranks.get(id)!
      // A kept research after a new one, or out of its kept order: ranked anew.
      if (added || rank < lastRank) return rebuild(entries)
      lastRank = rank
      if (old.research !== entry.research || old.job !== entry.job) changed.push(entry)
    }
    const removed: Array<ResearchId> = []
    for (const [id, entry] of kept) {
      if (next.has(id)) continue
      removed.push(id)
      ranks.delete(id)
      unlinkJob(entry)
    }
    for (const entry of changed) {
      unlinkJob(kept.get(entry.research.id))
      linkJob(entry)
      if (!ranks.has(entry.research.id)) ranks.set(entry.research.id, nextRank++)
    }
    kept = next
    if (entries.length > 0) newest = entries[entries.length - 1]
    return { all: false, changed, removed }
  }

  /** A partial answer: kept while active, dropped once terminal, a new one after the newest or sorted in. */
  const merge = (entries: ReadonlyArray<ActiveEntry>): Delta => {
    const changed: Array<ActiveEntry> = []
    const removed: Array<ResearchId> = []
    let sorted = true
    for (const entry of entries) {
      const id = entry.research.id
      const old = kept.get(id)
      unlinkJob(old)
      if (isTerminalStatus(entry.research.status)) {
        if (old === undefined) continue
        kept.delete(id)
        ranks.delete(id)
        removed.push(id)
        continue
      }
      kept.set(id, entry)
      linkJob(entry)
      changed.push(entry)
      if (old !== undefined) continue
      if (newest === undefined || before(newest, entry) < 0) {
        ranks.set(id, nextRank++)
        newest = entry
      } else {
        sorted = false
      }
    }
    if (sorted) return { all: false, changed, removed }
    return rebuild(Array.from(kept.values()).sort(before))
  }

  return {
    entries: () => Array.from(kept.values()),
    size: () => kept.size,
    get: (id) => kept.get(id),
    rank: (id) => ranks.get(id) ?? Number.MAX_SAFE_INTEGER,
    byJob: (id) => {
      const researchId = jobs.get(id)
      return researchId === undefined ? undefined : kept.get(researchId)
    },
    mark: () => mark,
    apply: (changes) => {
      // In full, in the order answered.
      const delta = changes.complete ? replace(changes.entries) : merge(changes.entries)
      mark = changes.mark
      return delta
    },
    reset: () => {
      mark = null
    },
    oneAtATime: Effect.unsafeMakeSemaphore(1).withPermits(1)
  }
}

/**
 * Reads what changed since the set's mark through `read`, applies it and
 * answers what it changed; a failed read resets the mark.
 */
export const refreshDelta = <E, R>(
  set: ActiveSet,
  read: (mark: ChangeMark | null) => Effect.Effect<ActiveChanges, E, R>
): Effect.Effect<Delta, E, R> =>
  set.oneAtATime(
    Effect.suspend(() => read(set.mark())).pipe(
      Effect.map((changes) => set.apply(changes)),
      Effect.tapError(() => Effect.sync(set.reset))
    )
  )

/**
 * Reads what changed since the set's mark through `read`, applies it and
 * answers the active researches, oldest first; a failed read resets the mark.
 */
export const refresh = <E, R>(
  set: ActiveSet,
  read: (mark: ChangeMark | null) => Effect.Effect<ActiveChanges, E, R>
): Effect.Effect<ReadonlyArray<ActiveEntry>, E, R> =>
  Effect.map(refreshDelta(set, read), () => set.entries())
