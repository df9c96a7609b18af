/**
 * The dashboard's views: functions from the API's JSON to HTML text. The
 * server renders the first view with them and the browser renders every
 * update with the very same code, so a page looks the same before and after
 * its script runs.
 *
 * The views come in parts (`viewParts`, then one per page), each a function
 * that refers to nothing outside itself but JavaScript's built-ins and the
 * parts it is given (types aside), and `assemble` puts them together. The page
 * ships their source text: `String(dashboardViews)` is a function that
 * assembles the parts' sources, and runs in the browser as `dashboardViews()`
 * does on the server. Times are shown in UTC, the same on both sides.
 */
import { overviewViews } from "./overviewViews.js"
import { researchesViews } from "./researchesViews.js"
import { researchViews } from "./researchViews.js"
import { viewParts } from "./viewParts.js"
import { workerViews } from "./workerViews.js"

export type {
  BudgetDayView,
  OverviewData,
  ResearchesData,
  ResearchFilterView,
  ResearchPageView,
  WorkersData
} from "./viewData.js"

/** Every view, from the parts it is given (the same functions on the server, their source in the browser). */
function assemble(
  parts: typeof viewParts,
  overview: typeof overviewViews,
  list: typeof researchesViews,
  one: typeof researchViews,
  fleet: typeof workerViews
) {
  const shared = parts()
  return { esc: shared.esc, usd: shared.usd, ...overview(shared), ...list(shared), ...one(shared), ...fleet(shared) }
}

const pieces = [viewParts, overviewViews, researchesViews, researchViews, workerViews] as const

/** Every view. */
export const dashboardViews = Object.assign(() => assemble(...pieces), {
  /** The source the page ships: a function of no arguments, self-contained, that answers what `dashboardViews()` does. */
  toString: () => `function dashboardViews() {\n  return (${String(assemble)})(\n${pieces.map(String).join(",\n")}\n  )\n}`
})

export type Views = ReturnType<typeof dashboardViews>
