/**
 * The researches page's views: the trigger form, the filter, and one page of
 * the history with its totals and the links to the pages beside it.
 *
 * `researchesViews` refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside): the page ships its source text
 * (see `views.ts`).
 */
import type { ResearchesData, ResearchFilterView } from "./viewData.js"
import type { ViewParts } from "./viewParts.js"

export function researchesViews(parts: ViewParts) {
  const { esc, usd, duration, stamp, badge, researchLink, empty, verdict, triggerForm } = parts

  const statuses = ["pending", "running", "completed", "failed", "cancelled"]
  const verdicts = ["promising", "inconclusive", "rejected"]

  const select = (name: string, label: string, options: ReadonlyArray<string>, value: string | undefined): string =>
    `<label>${esc(label)} <select name="${esc(name)}"><option value="">any</option>${
      options.map((o) => `<option${o === value ? " selected" : ""}>${esc(o)}</option>`).join("")
    }</select></label>`

  const input = (name: string, label: string, type: string, value: string | undefined, extra = ""): string =>
    `<label>${esc(label)} <input type="${type}" name="${esc(name)}" value="${esc(value ?? "")}"${extra}></label>`

  /** The query string of a filter (empty fields left out), with `offset` replaced. */
  const queryOf = (filter: ResearchFilterView, offset: number): string => {
    const entries = Object.entries({ ...filter, offset: offset === 0 ? undefined : String(offset) })
      .filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== "")
    return entries.length === 0 ? "" : `?${entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}`
  }

  const researchesFilter = (filter: ResearchFilterView): string =>
    `<form id="filter" class="filter" method="get" action="researches">${select("status", "Status", statuses, filter.status)}${
      select("verdict", "Verdict", verdicts, filter.verdict)
    }${input("strategy", "Strategy", "text", filter.strategy, " placeholder=\"name\" size=\"14\"")}${
      input("since", "From", "date", filter.since)
    }${input("until", "Before", "date", filter.until)}${
      select("limit", "Per page", ["25", "50", "100"], filter.limit)
    }<button type="submit">Filter</button> <a href="researches">clear</a></form>`

  const researchesTable = (data: ResearchesData): string => {
    const { page, filter } = data
    const from = page.total === 0 ? 0 : page.offset + 1
    const to = page.offset + page.researches.length
    const rows = page.researches.map((r) =>
      `<tr data-research="${esc(r.id)}"><td>${researchLink(r.id)}</td><td>${stamp(r.createdAt)}</td><td>${badge(r.status)}</td>` +
      `<td>${esc(r.phase)}</td><td>${esc(r.strategy?.name ?? "–")}</td><td>${verdict(r)}</td><td class="num">${usd(r.costUsd)}</td>` +
      `<td>${r.finishedAt === null ? "–" : duration(r.finishedAt - r.createdAt)}</td>` +
      `<td class="brief" title="${esc(r.brief)}">${esc(r.brief.length > 80 ? `${r.brief.slice(0, 79)}…` : r.brief)}</td></tr>`
    )
    const prev = page.offset > 0 ? `<a rel="prev" href="researches${queryOf(filter, Math.max(0, page.offset - page.limit))}">← newer</a>` : ""
    const next = to < page.total ? `<a rel="next" href="researches${queryOf(filter, page.offset + page.limit)}">older →</a>` : ""
    return `<p class="totals" id="totals"><b>${page.total}</b> research${page.total === 1 ? "" : "es"} · <b>${usd(page.costUsd)}</b> in all` +
      ` · showing ${from}–${to}</p>` +
      `<table id="researches"><thead><tr><th>Research</th><th>Created (UTC)</th><th>Status</th><th>Phase</th><th>Strategy</th><th>Verdict</th>` +
      `<th class="num">Cost</th><th>Took</th><th>Brief</th></tr></thead><tbody>${
        rows.length === 0 ? empty(9, "No research matches.") : rows.join("")
      }</tbody></table><nav class="pager">${prev}${next}</nav>`
  }

  const researches = (data: ResearchesData): string =>
    `${triggerForm("")}${researchesFilter(data.filter)}<div data-part="list">${researchesTable(data)}</div>`

  return { researches, researchesTable }
}
