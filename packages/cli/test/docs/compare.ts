/**
 * Compares what a command printed with what its doc example shows. Both sides
 * are masked first (ids, ports, times, durations, costs, traces, pids,
 * generated strategy names, measured figures) and their runs of spaces made
 * one, so a table whose columns widen still matches; then `…` matches any
 * text within a line, and a line of only `…` any number of lines.
 */

/** What changes from run to run, and what stands for it. */
const MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\u001b\[[0-9;]*[A-Za-z]/g, ""],
  [/\b(127\.0\.0\.1|localhost):\d+/g, "HOST:PORT"],
  [/\bop_[0-9a-z]+/g, "op_ID"],
  [/\bjob_[0-9a-z]+/g, "job_ID"],
  [/\b(\w+)-worker-[0-9a-f]{8}\b/g, "$1-worker-ID"],
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z/g, "TIME"],
  [/\b\d{4}-\d\d-\d\d\b/g, "DATE"],
  [/\b\d\d:\d\d:\d\d\b/g, "TIME"],
  [/\b\d+h \d+m\b|\b\d+m \d+s\b/g, "DURATION"],
  [/\b\d+(\.\d+)? ?(ms|s)\b/g, "DURATION"],
  [/\$\d+(\.\d+)?/g, "$AMOUNT"],
  [/\b[0-9a-f]{16}\b/g, "TRACE"],
  [/\bpid \d+/g, "pid N"],
  [/\b(node|python) \d+(\.\d+)*/g, "$1 VERSION"],
  [/\b(trades|affordable:) \d+/g, "$1 N"],
  [/\b[a-z]+_variant_\d+(_\d+)*\b/g, "STRATEGY"],
  [/-?\b\d+(\.\d+)?%/g, "N%"],
  [/-?\b\d+\.\d+\b/g, "N.N"],
  [/[ \t]+/g, " "]
]

/** `text` with what changes between runs masked (unless `exact`), runs of spaces made one, without trailing spaces. */
export const mask = (text: string, exact = false): string =>
  (exact ? MASKS.slice(-1) : MASKS).reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), text)
    .replace(/ +$/gm, "")

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Whether one expected line (masked, `…` for any text) matches one printed line (masked). */
const lineMatches = (expected: string, actual: string): boolean =>
  new RegExp(`^${expected.split("…").map(escape).join(".*")}$`).test(actual)

/** Lines of `text`, masked, with blank lines at either end dropped. */
export const maskedLines = (lines: ReadonlyArray<string>, exact = false): ReadonlyArray<string> => {
  const masked = lines.map((line) => mask(line, exact))
  let start = 0
  let end = masked.length
  while (start < end && masked[start]!.trim() === "") start++
  while (end > start && masked[end - 1]!.trim() === "") end--
  return masked.slice(start, end)
}

/** Whether the printed lines match the expected ones (both already masked). */
export const matches = (expected: ReadonlyArray<string>, actual: ReadonlyArray<string>): boolean => {
  const memo = new Map<number, boolean>()
  const from = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === expected.length) result = j === actual.length
    else if (expected[i]!.trim() === "…") result = from(i + 1, j) || (j < actual.length && from(i, j + 1))
    else result = j < actual.length && lineMatches(expected[i]!, actual[j]!) && from(i + 1, j + 1)
    memo.set(key, result)
    return result
  }
  return from(0, 0)
}
