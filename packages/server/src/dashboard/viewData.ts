/**
 * The JSON the dashboard's views render: what the API answers, and what the
 * pages gather from it.
 */
import type { Coordinator, Domain, StrategyCatalogue } from "@foreman/core"

/** `GET /api/v1/agent/budget/today`. */
export interface BudgetDayView {
  readonly day: string
  readonly limitUsd: number | null
  readonly spentUsd: number
  readonly points: ReadonlyArray<{ readonly at: number; readonly spentUsd: number }>
}

/** `GET /api/v1/agent/researches`. */
export interface ResearchPageView {
  readonly researches: ReadonlyArray<Domain.Research>
  readonly limit: number
  readonly offset: number
  readonly total: number
  readonly costUsd: number
}

/** The researches page's filter, as the page's query string holds it. */
export interface ResearchFilterView {
  readonly status?: string | undefined
  readonly verdict?: string | undefined
  readonly strategy?: string | undefined
  readonly since?: string | undefined
  readonly until?: string | undefined
  readonly limit?: string | undefined
  readonly offset?: string | undefined
}

export interface OverviewData {
  readonly status: Coordinator.CoordinatorStatus
  /** Null until read (the script reads it when the server could not). */
  readonly budget: BudgetDayView | null
  /** The latest researches, newest first; the finished ones are shown. */
  readonly recent: ReadonlyArray<Domain.Research>
  readonly now: number
}

export interface ResearchesData {
  readonly page: ResearchPageView
  readonly filter: ResearchFilterView
}

export interface WorkersData {
  readonly workers: ReadonlyArray<Coordinator.WorkerActivity>
  /** Active researches, to name what each worker's jobs belong to. */
  readonly active: ReadonlyArray<Coordinator.ActiveResearch>
  readonly now: number
}

/** The leaderboard page's filter, as the page's query string holds it. */
export interface LeaderboardFilterView {
  readonly sort?: string | undefined
  readonly indicator?: string | undefined
  readonly instrument?: string | undefined
  readonly verdict?: string | undefined
  readonly limit?: string | undefined
}

/** `GET /api/v1/leaderboard` with the filter it was read with. */
export interface LeaderboardData {
  readonly board: {
    readonly sort: string
    readonly total: number
    readonly strategies: ReadonlyArray<StrategyCatalogue.StrategySummary>
  }
  readonly filter: LeaderboardFilterView
}

/** The researches a comparison shows, in the order asked, and the ids not found. */
export interface CompareData {
  readonly details: ReadonlyArray<Coordinator.ResearchDetail>
  readonly missing: ReadonlyArray<string>
}
