/**
 * The first index in `[0, length)` at which `before(i)` is false, for a
 * `before` that is true on a prefix of the indices and false after it (a
 * binary search of a sorted array: `before(i)` says its item `i` comes before
 * the one sought); `length` when it is true everywhere.
 */
export const lowerBound = (length: number, before: (i: number) => boolean): number => {
  let lo = 0
  let hi = length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (before(mid)) lo = mid + 1
    else hi = mid
  }
  return lo
}
