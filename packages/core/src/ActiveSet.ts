/**
 * The active researches as a reader last read them, kept up to date by reading
 * only what changed since a mark (`Researches.activeChangedSince`). The
 * leader keeps one for its term of leadership: a new term starts empty, so its
 * first read asks for every active research. The status view keeps one of its
 * own in every process (it must see every write committed before it reads,
 * which the leader's set, read at each tick, may not have yet). After a
 * failed read the next one asks for everything again.
 */
import { Effect } from "effect"
import { isTerminalStatus } from "./Domain.js"
import type { ActiveChanges, ActiveEntry, ChangeMark } from "./Researches.js"

/** A kept active set. Change it only through `apply`, `reset` and `refresh`. */
export interface ActiveSet {
  /** The active researches kept, oldest first. */
  readonly entries: () => ReadonlyArray<ActiveEntry>
  /** The mark to read from next; null reads everything. */
  readonly mark: () => ChangeMark | null
  /** Applies the changes read from `mark()`. */
  readonly apply: (changes: ActiveChanges) => void
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
  const kept = new Map<string, ActiveEntry>()
  let mark: ChangeMark | null = null
  /** The ids of the kept entries oldest first, or null when they must be sorted again. */
  let ordered: Array<string> | null = []

  const merge = (entries: ReadonlyArray<ActiveEntry>) => {
    for (const entry of entries) {
      const id = entry.research.id
      const known = kept.has(id)
      if (isTerminalStatus(entry.research.status)) {
        if (known) {
          kept.delete(id)
          ordered = null
        }
        continue
      }
      kept.set(id, entry)
      if (known) continue
      // A research newer than every kept one keeps the order; another means a sort.
      const last = ordered === null ? undefined : kept.get(ordered[ordered.length - 1]!)
      if (ordered !== null && (last === undefined || before(last, entry) < 0)) ordered.push(id)
      else ordered = null
    }
  }

  return {
    entries: () => {
      if (ordered === null) ordered = Array.from(kept.values()).sort(before).map((entry) => entry.research.id)
      return ordered.map((id) => kept.get(id)!)
    },
    mark: () => mark,
    apply: (changes) => {
      if (changes.complete) {
        // In full, in the order answered.
        kept.clear()
        for (const entry of changes.entries) if (!isTerminalStatus(entry.research.status)) kept.set(entry.research.id, entry)
        ordered = Array.from(kept.keys())
      } else {
        merge(changes.entries)
      }
      mark = changes.mark
    },
    reset: () => {
      mark = null
    },
    oneAtATime: Effect.unsafeMakeSemaphore(1).withPermits(1)
  }
}

/**
 * Reads what changed since the set's mark through `read`, applies it and
 * answers the active researches, oldest first; a failed read resets the mark.
 */
export const refresh = <E, R>(
  set: ActiveSet,
  read: (mark: ChangeMark | null) => Effect.Effect<ActiveChanges, E, R>
): Effect.Effect<ReadonlyArray<ActiveEntry>, E, R> =>
  set.oneAtATime(
    Effect.suspend(() => read(set.mark())).pipe(
      Effect.map((changes) => {
        set.apply(changes)
        return set.entries()
      }),
      Effect.tapError(() => Effect.sync(set.reset))
    )
  )
