/** Text primitives of the CLI's layouts: durations, money, percentages, progress bars, tables, times. */

/** `2m 15s`, `0m 30s`, `1h 02m 05s`; a negative or non-finite number of seconds reads `0m 0s`. */
export const duration = (seconds: number): string => {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m ${String(s).padStart(2, "0")}s`
  return `${m}m ${s}s`
}

/**
 * `text` on one line: each line break, with the blanks around it, becomes one
 * space. For text shown where one line is expected (a table cell, a log line):
 * a provider's error may carry a "Suggestion: …" paragraph after a blank line.
 */
export const oneLine = (text: string): string => text.replace(/\s*[\r\n]\s*/g, " ").trimEnd()

/** `$3.42`. */
export const usd = (amount: number): string => `$${amount.toFixed(2)}`

/** `55.0%` from a fraction. */
export const percent = (fraction: number, digits = 1): string => `${(fraction * 100).toFixed(digits)}%`

/** `[██████░░░░] 60%` for a fraction 0–1. */
export const progressBar = (fraction: number, width = 20): string => {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const filled = Math.round(clamped * width)
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`
}

/** Left-aligned columns separated by two spaces, with a header row; trailing spaces trimmed. */
export const table = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()
  return [line(headers), ...rows.map(line)].join("\n")
}


/** A UTC time to the second: `2026-01-01T00:00:00Z`. */
export const iso = (millis: number): string => new Date(millis).toISOString().replace(/\.\d{3}Z$/, "Z")

/** `-` for a missing figure, else the figure shown by `show`. */
export const orDash = (value: number | null | undefined, show: (n: number) => string): string =>
  value === null || value === undefined ? "-" : show(value)
