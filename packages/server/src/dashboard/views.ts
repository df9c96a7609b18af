/**
 * The dashboard's views: functions from the API's JSON to HTML text. The
 * server renders the first view with them and the browser renders every
 * update with the very same code, so a page looks the same before and after
 * its script runs.
 *
 * The views come in pieces (`viewParts`, then a few per page), each a
 * function that refers to nothing outside itself but JavaScript's built-ins
 * and the pieces it is given (types aside), and `assemble` puts them
 * together. The page ships their source text: `dashboardViewsSource()` is a
 * function that assembles the pieces' sources, and runs in the browser as
 * `dashboardViews()` does on the server. Times are shown in UTC, the same on
 * both sides.
 */
import { budgetViews } from "./budgetViews.js"
import { chartViews } from "./chartViews.js"
import { metricViews } from "./metricViews.js"
import { overviewViews } from "./overviewViews.js"
import { planViews } from "./planViews.js"
import { researchesViews } from "./researchesViews.js"
import { researchViews } from "./researchViews.js"
import { resultViews } from "./resultViews.js"
import { statusViews } from "./statusViews.js"
import { strategiesViews } from "./strategiesViews.js"
import { timelineViews } from "./timelineViews.js"
import { viewParts } from "./viewParts.js"
import { workerViews } from "./workerViews.js"

export type {
  BudgetDayView,
  CompareData,
  LeaderboardData,
  LeaderboardFilterView,
  OverviewData,
  ResearchesData,
  ResearchFilterView,
  ResearchPageView,
  WorkersData
} from "./viewData.js"
export type { PlanData, PlanFilterView } from "./planViews.js"

const pieces = {
  viewParts,
  statusViews,
  budgetViews,
  overviewViews,
  researchesViews,
  timelineViews,
  resultViews,
  chartViews,
  metricViews,
  researchViews,
  strategiesViews,
  workerViews,
  planViews
}

/** Every view, from the pieces it is given (the same functions on the server, their source in the browser). */
function assemble(given: typeof pieces) {
  const parts = given.viewParts()
  const status = given.statusViews(parts)
  const budget = given.budgetViews(parts)
  const overview = given.overviewViews(parts, status, budget)
  const timeline = given.timelineViews(parts)
  const charts = given.chartViews(parts)
  const metrics = given.metricViews(parts, charts)
  const research = given.researchViews(parts, timeline, { ...given.resultViews(parts), ...metrics })
  return {
    esc: parts.esc,
    usd: parts.usd,
    overview: overview.overview,
    ...status,
    ...budget,
    recentTable: overview.recentTable,
    ...given.researchesViews(parts),
    researchDetail: research.researchDetail,
    waterfall: timeline.waterfall,
    ...charts,
    formatNumber: metrics.formatNumber,
    ...given.workerViews(parts),
    ...given.strategiesViews(parts, charts, metrics),
    ...given.planViews(parts, charts)
  }
}

/** Every view, as the server renders them. */
export const dashboardViews = () => assemble(pieces)

/** The source the page ships: a function of no arguments, self-contained, that answers what `dashboardViews()` does. */
export const dashboardViewsSource = (): string =>
  `function dashboardViews() {\n  return (${String(assemble)})({\n${
    Object.entries(pieces).map(([name, piece]) => `${name}: ${String(piece)}`).join(",\n")
  }\n  })\n}`

export type Views = ReturnType<typeof dashboardViews>
