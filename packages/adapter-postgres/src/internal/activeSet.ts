/**
 * The active researches as this process last read them, kept up to date by
 * reading only what changed. Every research and job row records the
 * transaction that last wrote it (`changed_xid`, migration 0007). A read also
 * answers its snapshot's horizon: the oldest transaction still running then.
 * Every write the read could not see belongs to a transaction at or past that
 * horizon, so the next read asks for the researches whose row, or one of whose
 * jobs, was written by a transaction at or past it, and applies them: kept
 * while active, dropped once not. The first read, and any read after a
 * failure, reads every active research instead.
 */
import type { ResearchStore } from "@foreman/core"
import { Effect } from "effect"

/** A research read in full, with the horizon of the read. */
export interface Read {
  readonly active: boolean
  readonly entry: ResearchStore.ActiveEntry
  readonly horizon: string
}

export interface Reads<E> {
  /** Every active research. */
  readonly all: Effect.Effect<ReadonlyArray<Read>, E>
  /** Every research written, or whose job was written, by a transaction at or past `horizon`. */
  readonly since: (horizon: string) => Effect.Effect<ReadonlyArray<Read>, E>
}

/** Oldest first, as `listActive` answers. */
const before = (a: ResearchStore.ActiveEntry, b: ResearchStore.ActiveEntry) =>
  a.research.createdAt - b.research.createdAt || (a.research.id < b.research.id ? -1 : a.research.id > b.research.id ? 1 : 0)

/** A `listActive` over the two reads. */
export const make = <E>(reads: Reads<E>): Effect.Effect<ReadonlyArray<ResearchStore.ActiveEntry>, E> => {
  const kept = new Map<string, ResearchStore.ActiveEntry>()
  /** The horizon to read from next; null: read everything. */
  let horizon: string | null = null
  /** The ids of the kept entries oldest first, or null when they must be sorted again. */
  let ordered: Array<string> | null = []

  const apply = (reads: ReadonlyArray<Read>) => {
    for (const read of reads) {
      const id = read.entry.research.id
      const known = kept.has(id)
      if (!read.active) {
        if (known) {
          kept.delete(id)
          ordered = null
        }
        continue
      }
      kept.set(id, read.entry)
      if (known) continue
      // A research newer than every kept one keeps the order; another means a sort.
      const last = ordered === null ? undefined : kept.get(ordered[ordered.length - 1]!)
      if (ordered !== null && (last === undefined || before(last, read.entry) < 0)) ordered.push(id)
      else ordered = null
    }
  }

  // One read at a time, so the entries kept always come from the latest read.
  const oneAtATime = Effect.unsafeMakeSemaphore(1).withPermits(1)
  return oneAtATime(Effect.gen(function*() {
    if (horizon === null) {
      const all = yield* reads.all
      kept.clear()
      ordered = []
      apply(all)
      horizon = all[0]?.horizon ?? null
    } else {
      const changed = yield* reads.since(horizon)
      apply(changed)
      // No row, no horizon: nothing was written since, so reading from the same one again is right.
      if (changed.length > 0) horizon = changed[0]!.horizon
    }
    if (ordered === null) ordered = Array.from(kept.values()).sort(before).map((entry) => entry.research.id)
    return ordered.map((id) => kept.get(id)!)
  }).pipe(Effect.tapError(() =>
    Effect.sync(() => {
      horizon = null
    })
  )))
}
