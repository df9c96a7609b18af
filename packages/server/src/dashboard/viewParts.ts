/**
 * What the dashboard's views share: text (escaped, money, percentages,
 * durations and times in UTC) and the small pieces of HTML every page uses
 * (badges, bars, links, empty rows, verdicts, the trigger form).
 *
 * `viewParts` refers to nothing outside itself but JavaScript's built-ins
 * (types aside), since the page ships its source text (see `views.ts`).
 * Every string that reaches HTML goes through `esc`.
 */
import type { Domain } from "@foreman/core"

/** The shared pieces, as every other part of the views receives them. */
export type ViewParts = ReturnType<typeof viewParts>

export function viewParts() {
  const esc = (value: unknown): string =>
    String(value ?? "").replace(/[&<>"']/g, (c) =>
      c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;")

  const usd = (n: number | null | undefined): string =>
    n === null || n === undefined ? "–" : n < 0.01 && n > 0 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`

  const pct = (n: number): string => `${Math.round(n * 100)}%`

  const two = (n: number): string => String(n).padStart(2, "0")

  /** `1h 02m`, `3m 05s`, `12s`. */
  const duration = (ms: number): string => {
    const s = Math.max(0, Math.round(ms / 1000))
    if (s < 60) return `${s}s`
    if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`
    return `${Math.floor(s / 3600)}h ${two(Math.floor((s % 3600) / 60))}m`
  }

  /** `14:05:09` (UTC). */
  const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19)

  /** `2026-12-02 14:05` (UTC). */
  const stamp = (ms: number | null | undefined): string =>
    ms === null || ms === undefined ? "–" : new Date(ms).toISOString().slice(0, 16).replace("T", " ")

  const ago = (ms: number, now: number): string => `${duration(now - ms)} ago`

  const badge = (status: string): string => `<span class="badge s-${esc(status)}">${esc(status)}</span>`

  const bar = (fraction: number): string =>
    `<span class="bar" title="${pct(fraction)}"><span style="width:${Math.max(0, Math.min(100, fraction * 100)).toFixed(1)}%"></span></span>`

  const researchLink = (id: string): string => `<a class="mono" href="researches/${esc(encodeURIComponent(id))}">${esc(id)}</a>`

  const empty = (colspan: number, text: string): string => `<tr><td colspan="${colspan}" class="empty">${esc(text)}</td></tr>`

  const verdictOf = (research: Domain.Research): string | null => {
    const assessment = research.results["assessment"] as { verdict?: unknown } | undefined
    return assessment !== undefined && typeof assessment.verdict === "string" ? assessment.verdict : null
  }

  const verdict = (research: Domain.Research): string => {
    const v = verdictOf(research)
    return v === null ? "<span class=\"muted\">–</span>" : `<span class="badge v-${esc(v)}">${esc(v)}</span>`
  }

  const isFinished = (status: string): boolean => status === "completed" || status === "failed" || status === "cancelled"

  /** The trigger form, its brief filled in; with `parentId`, what it triggers follows that research's assessment. */
  const triggerForm = (brief: string, parentId?: string): string =>
    `<form id="trigger-form" class="trigger"${parentId === undefined ? "" : ` data-parent="${esc(parentId)}"`}>` +
    `<label for="brief">Trigger a research${parentId === undefined ? "" : " (it follows this one's assessment)"}</label>` +
    `<textarea id="brief" name="brief" rows="2" maxlength="10000" placeholder="A brief: what to research" required>${esc(brief)}</textarea>` +
    `<button type="submit" class="primary">Trigger</button></form>`

  return {
    esc,
    usd,
    pct,
    two,
    duration,
    clock,
    stamp,
    ago,
    badge,
    bar,
    researchLink,
    empty,
    verdict,
    isFinished,
    triggerForm
  }
}
