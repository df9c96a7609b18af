/**
 * The active researches as this process last read them, refreshed cheaply.
 * Every tick reads the whole active set; decoding thousands of unchanged rows
 * each time was most of a tick's cost. A refresh first reads only each active
 * research's row version and its active job's (PostgreSQL's `xmin`, which
 * every UPDATE renews), oldest first; then reads in full, and decodes, only the
 * rows whose versions differ from the ones kept. An entry whose versions match
 * is the very row version read before, so the answer is what a full read would
 * give. The kept entries carry the versions of the read that produced them, so
 * refreshes racing each other can only cause an extra read, never a stale entry.
 */
import type { ResearchStore } from "@foreman/core"
import { Effect } from "effect"

/** One active research's row versions: the research's, then its active job's (empty without one). */
export interface Mark {
  readonly id: string
  readonly mark: string
}

/** An active research read in full, with the row versions it was read at. */
export interface Read {
  readonly id: string
  readonly mark: string
  readonly entry: ResearchStore.ActiveEntry
}

export interface Reads<E> {
  /** Every active research's versions, oldest first. */
  readonly marks: Effect.Effect<ReadonlyArray<Mark>, E>
  /** These active researches in full (those no longer active are left out); `null` means all of them. */
  readonly read: (ids: ReadonlyArray<string> | null) => Effect.Effect<ReadonlyArray<Read>, E>
}

/** A refreshing `listActive` over the two reads. */
export const make = <E>(reads: Reads<E>): Effect.Effect<ReadonlyArray<ResearchStore.ActiveEntry>, E> => {
  const kept = new Map<string, { readonly mark: string; readonly entry: ResearchStore.ActiveEntry }>()
  return Effect.gen(function*() {
    const marks = yield* reads.marks
    const changed: Array<string> = []
    for (const { id, mark } of marks) if (kept.get(id)?.mark !== mark) changed.push(id)
    if (changed.length > 0) {
      const fresh = yield* reads.read(changed.length === marks.length ? null : changed)
      const found = new Set<string>()
      for (const { entry, id, mark } of fresh) {
        found.add(id)
        kept.set(id, { mark, entry })
      }
      // Changed and no longer active since the versions were read.
      for (const id of changed) if (!found.has(id)) kept.delete(id)
    }
    const active: Array<ResearchStore.ActiveEntry> = []
    const listed = new Set<string>()
    for (const { id } of marks) {
      const entry = kept.get(id)?.entry
      if (entry === undefined) continue
      active.push(entry)
      listed.add(id)
    }
    if (kept.size > listed.size) for (const id of kept.keys()) if (!listed.has(id)) kept.delete(id)
    return active
  })
}
