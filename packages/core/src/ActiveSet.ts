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

/** One kept research: its entry, its rank, and the last answer in full that named it. */
interface Slot {
  entry: ActiveEntry
  readonly rank: number
  seen: number
}

/** An empty active set, with no mark. */
export const make = (): ActiveSet => {
  /** Kept in read order: the map's own order is always the order of the ranks. */
  let kept = new Map<ResearchId, Slot>()
  let nextRank = 0
  /** Answers in full so far: a slot's `seen` says whether the current one named it. */
  let answers = 0
  const jobs = new Map<JobId, ResearchId>()
  let mark: ChangeMark | null = null
  /** The newest research kept (or last kept): a new one after it keeps the read order. */
  let newest: ActiveEntry | undefined

  const unlinkJob = (entry: ActiveEntry) => {
    if (entry.job !== null && jobs.get(entry.job.id) === entry.research.id) jobs.delete(entry.job.id)
  }
  const linkJob = (entry: ActiveEntry) => {
    if (entry.job !== null) jobs.set(entry.job.id, entry.research.id)
  }
  const add = (entry: ActiveEntry) => {
    kept.set(entry.research.id, { entry, rank: nextRank++, seen: answers })
    linkJob(entry)
  }
  /** Keeps `entry` in place of what `slot` held (its rank unchanged). */
  const update = (slot: Slot, entry: ActiveEntry) => {
    unlinkJob(slot.entry)
    slot.entry = entry
    linkJob(entry)
  }
  const drop = (id: ResearchId, slot: Slot) => {
    kept.delete(id)
    unlinkJob(slot.entry)
  }

  /** Keeps `entries` in this order, ranked anew. */
  const rebuild = (entries: ReadonlyArray<ActiveEntry>): Delta => {
    kept = new Map()
    jobs.clear()
    nextRank = 0
    for (const entry of entries) add(entry)
    newest = entries[entries.length - 1]
    return { all: true, changed: entries, removed: [] }
  }

  /**
   * An answer in full: what differs from what is kept (by identity), when its
   * order is the kept order. Kept entries are replaced in place and new ones go
   * to the end, so the map stays in rank order; only when the answer left some
   * kept research out is the kept set walked to find which.
   */
  const replace = (answer: ReadonlyArray<ActiveEntry>): Delta => {
    const active = (entry: ActiveEntry) => !isTerminalStatus(entry.research.status)
    if (kept.size === 0) return rebuild(answer.filter(active))
    const answered = ++answers
    const changed: Array<ActiveEntry> = []
    const added: Array<ActiveEntry> = []
    let lastRank = -1
    let known = 0
    for (const entry of answer) {
      if (!active(entry)) continue
      const slot = kept.get(entry.research.id)
      if (slot === undefined) {
        added.push(entry)
        continue
      }
      // A kept research after a new one, or out of its kept order: ranked anew.
      if (added.length > 0 || slot.rank < lastRank) return rebuild(answer.filter(active))
      lastRank = slot.rank
      known++
      slot.seen = answered
      if (slot.entry.research === entry.research && slot.entry.job === entry.job) continue
      update(slot, entry)
      changed.push(entry)
    }
    const removed: Array<ResearchId> = []
    if (known < kept.size) {
      for (const [id, slot] of kept) {
        if (slot.seen === answered) continue
        removed.push(id)
        drop(id, slot)
      }
    }
    for (const entry of added) add(entry)
    if (added.length > 0) newest = added[added.length - 1]
    return { all: false, changed: [...changed, ...added], removed }
  }

  /** A partial answer: kept while active, dropped once terminal, a new one after the newest or sorted in. */
  const merge = (entries: ReadonlyArray<ActiveEntry>): Delta => {
    const changed: Array<ActiveEntry> = []
    const removed: Array<ResearchId> = []
    let sorted = true
    for (const entry of entries) {
      const id = entry.research.id
      const slot = kept.get(id)
      if (isTerminalStatus(entry.research.status)) {
        if (slot === undefined) continue
        drop(id, slot)
        removed.push(id)
        continue
      }
      changed.push(entry)
      if (slot !== undefined) {
        update(slot, entry)
        continue
      }
      // A research newer than every kept one keeps the read order; another means a sort.
      if (newest === undefined || before(newest, entry) < 0) newest = entry
      else sorted = false
      add(entry)
    }
    if (sorted) return { all: false, changed, removed }
    return rebuild(Array.from(kept.values(), (slot) => slot.entry).sort(before))
  }

  return {
    entries: () => Array.from(kept.values(), (slot) => slot.entry),
    size: () => kept.size,
    get: (id) => kept.get(id)?.entry,
    rank: (id) => kept.get(id)?.rank ?? Number.MAX_SAFE_INTEGER,
    byJob: (id) => {
      const researchId = jobs.get(id)
      return researchId === undefined ? undefined : kept.get(researchId)?.entry
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
