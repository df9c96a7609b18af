/**
 * Times at which keys come due, earliest first: a binary heap. A key's time is
 * whatever it was last set to; a time replaced or cleared stays in the heap
 * until it surfaces, and is skipped then (the heap is rebuilt when such left
 * times outnumber the live ones).
 */

/** Keys with the time each comes due. */
export interface DueTimes<K> {
  /** Sets (or, with null, clears) when `key` comes due. */
  readonly set: (key: K, at: number | null) => void
  /** When `key` comes due, if it does. */
  readonly get: (key: K) => number | null
  /** The earliest time set, if any. */
  readonly next: () => number | null
  /** Removes and answers the keys due at or before `now`. */
  readonly takeDue: (now: number) => ReadonlyArray<K>
}

interface Entry<K> {
  readonly at: number
  readonly key: K
}

/** No key due. */
export const make = <K>(): DueTimes<K> => {
  const times = new Map<K, number>()
  let heap: Array<Entry<K>> = []

  const up = (i: number) => {
    const entry = heap[i]!
    while (i > 0) {
      const parent = (i - 1) >>> 1
      if (heap[parent]!.at <= entry.at) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = entry
  }
  const down = (i: number) => {
    const entry = heap[i]!
    for (;;) {
      const left = 2 * i + 1
      if (left >= heap.length) break
      const right = left + 1
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left
      if (heap[child]!.at >= entry.at) break
      heap[i] = heap[child]!
      i = child
    }
    heap[i] = entry
  }
  const pop = () => {
    const last = heap.pop()!
    if (heap.length === 0) return
    heap[0] = last
    down(0)
  }
  /** Drops left times from the top, so the top is live. */
  const settle = () => {
    while (heap.length > 0 && times.get(heap[0]!.key) !== heap[0]!.at) pop()
  }
  const push = (entry: Entry<K>) => {
    heap.push(entry)
    up(heap.length - 1)
  }

  return {
    set: (key, at) => {
      if (at === null) times.delete(key)
      else if (times.get(key) !== at) {
        times.set(key, at)
        push({ at, key })
      }
      if (heap.length > 2 * times.size + 64) {
        heap = []
        for (const [key, at] of times) push({ at, key })
      }
    },
    get: (key) => times.get(key) ?? null,
    next: () => {
      settle()
      return heap.length === 0 ? null : heap[0]!.at
    },
    takeDue: (now) => {
      const due: Array<K> = []
      for (settle(); heap.length > 0 && heap[0]!.at <= now; settle()) {
        due.push(heap[0]!.key)
        times.delete(heap[0]!.key)
        pop()
      }
      return due
    }
  }
}
