/**
 * A queue kept in order by a comparison: a sorted array, so its first n are a
 * slice. New items usually go at the end (a research starts waiting now, later
 * than every one before it), and the first ones leave: both a binary search and
 * one move of the array's tail. Many added at once (a term's first tick) are
 * sorted in together, and many removed at once leave in one pass.
 */

/** A queue ordered by `order`, in which no two items compare equal. */
export interface WaitQueue<A> {
  readonly size: () => number
  /** Adds an item at its place. */
  readonly add: (item: A) => void
  /** Adds many items: one sort of the queue rather than a move per item. */
  readonly addAll: (items: ReadonlyArray<A>) => void
  /** Removes the item that compares equal to `item`, if any. */
  readonly remove: (item: A) => void
  /** Removes these items (the very objects added): many in one pass over the queue. */
  readonly removeAll: (items: ReadonlyArray<A>) => void
  /** The first `n` items, in order. */
  readonly first: (n: number) => ReadonlyArray<A>
}

/** An empty queue ordered by `order`. */
export const make = <A>(order: (a: A, b: A) => number): WaitQueue<A> => {
  const items: Array<A> = []
  /** Where `item` is, or would go: the first place whose item does not come before it. */
  const place = (item: A): number => {
    let low = 0
    let high = items.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (order(items[middle]!, item) < 0) low = middle + 1
      else high = middle
    }
    return low
  }
  const add = (item: A) => {
    if (items.length === 0 || order(items[items.length - 1]!, item) < 0) items.push(item)
    else items.splice(place(item), 0, item)
  }
  const remove = (item: A) => {
    const at = place(item)
    if (at < items.length && order(items[at]!, item) === 0) items.splice(at, 1)
  }
  return {
    size: () => items.length,
    add,
    remove,
    removeAll: (removed) => {
      if (removed.length < 16) {
        for (const item of removed) remove(item)
        return
      }
      const leaving = new Set(removed)
      let kept = 0
      for (const item of items) if (!leaving.has(item)) items[kept++] = item
      items.length = kept
    },
    addAll: (added) => {
      if (added.length < 16) {
        for (const item of added) add(item)
        return
      }
      for (const item of added) items.push(item)
      items.sort(order)
    },
    first: (n) => items.slice(0, Math.max(0, n))
  }
}
