/**
 * The autopilot: keeps a number of researches running on its own. Each new one
 * follows the latest promising assessment not yet followed (its next brief,
 * with the assessed research as its parent), else the starting brief. It never
 * forces past capacity or budget; it stops once it has started `max`
 * researches, or when the budget cannot afford another cycle, and says why.
 * Its state is durable (`AutopilotStore`), so it goes on after a restart; the
 * leader runs it after each tick. `decide` is the pure decision; the
 * interpreter is `internal/autopilot.ts`.
 */
import { Context, type Effect, type Option, Schema } from "effect"
import { isTerminalStatus, Millis, type Research, ResearchId } from "./Domain.js"
import type { StorageError } from "./Errors.js"
import * as Storable from "./Storable.js"

/** Why the autopilot stopped: it started `max` researches, the budget ran out, or an operator stopped it. */
export const StopReason = Schema.Literal("max", "budget", "operator")
export type StopReason = typeof StopReason.Type

/** What starts the autopilot (`POST /api/v1/autopilot`, `foreman autopilot start`). */
export const StartRequest = Schema.Struct({
  /** The brief of a research that follows no assessment. */
  brief: Storable.filter(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(10_000))),
  /** How many of its researches to keep running. */
  keep: Schema.Number.pipe(Schema.int(), Schema.between(1, 100)),
  /** Stop after starting this many researches (none: until the budget runs out or an operator stops it). */
  max: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(1, 100_000)))
})
export type StartRequest = typeof StartRequest.Type

/** The autopilot as stored: what it was asked, what it started, whether and why it stopped. */
export const State = Schema.Struct({
  status: Schema.Literal("running", "stopped"),
  brief: Schema.String,
  keep: Schema.Number.pipe(Schema.int(), Schema.positive()),
  max: Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.positive())),
  /** The researches it started, oldest first. */
  started: Schema.Array(ResearchId),
  startedAt: Millis,
  updatedAt: Millis,
  stoppedAt: Schema.NullOr(Millis),
  stopReason: Schema.NullOr(StopReason),
  /** Why it stopped, in words. */
  stopMessage: Schema.NullOr(Schema.String),
  version: Schema.Number.pipe(Schema.int(), Schema.nonNegative())
})
export interface State extends Schema.Schema.Type<typeof State> {}

/** The autopilot now (null: never started), and which of its researches are running. */
export const Status = Schema.Struct({
  autopilot: Schema.NullOr(State),
  running: Schema.Array(ResearchId)
})
export type Status = typeof Status.Type

/** One research to trigger: a brief, and the research whose assessment it follows (null: the starting brief). */
export interface Next {
  readonly brief: string
  readonly parentId: ResearchId | null
}

/** What the autopilot does now. */
export type Decision =
  | { readonly _tag: "Wait" }
  | { readonly _tag: "Trigger"; readonly next: ReadonlyArray<Next> }
  | { readonly _tag: "Stop"; readonly reason: StopReason; readonly message: string }

/** What the decision reads. */
export interface Situation {
  readonly state: State
  /** Every research created since the autopilot started, in any order. */
  readonly recent: ReadonlyArray<Research>
  /** Active researches (all of them) and their limit. */
  readonly capacity: { readonly active: number; readonly limit: number }
  /** Whether today's budget covers another cycle's estimate. */
  readonly canAfford: boolean
}

/** The ids among `started` of researches still running (pending or running), in the order started. */
export const runningOf = (started: ReadonlyArray<ResearchId>, recent: ReadonlyArray<Research>): ReadonlyArray<ResearchId> => {
  const active = new Set(recent.filter((r) => !isTerminalStatus(r.status)).map((r) => r.id))
  return started.filter((id) => active.has(id))
}

/** The next brief a completed research's promising assessment proposes, if any. */
const proposal = (r: Research): string | undefined => {
  if (r.status !== "completed") return undefined
  const a = r.results["assessment"] as { readonly verdict?: unknown; readonly nextBrief?: unknown } | undefined
  return a?.verdict === "promising" && typeof a.nextBrief === "string" && a.nextBrief.trim() !== ""
    ? a.nextBrief
    : undefined
}

/**
 * Promising assessments no research follows yet, the latest first (by when
 * their research finished), as the researches that would follow them.
 */
export const unfollowed = (recent: ReadonlyArray<Research>): ReadonlyArray<Next> => {
  const followed = new Set(recent.flatMap((r) => r.parentId === null ? [] : [r.parentId]))
  return recent
    .flatMap((r) => {
      const brief = proposal(r)
      return brief === undefined || followed.has(r.id) ? [] : [{ research: r, brief }]
    })
    .sort((a, b) => (b.research.finishedAt ?? 0) - (a.research.finishedAt ?? 0) || (a.research.id < b.research.id ? -1 : 1))
    .map(({ brief, research }) => ({ brief, parentId: research.id }))
}

/**
 * The decision: stopped, nothing; at `max` researches started, stop; when
 * the budget cannot afford another cycle, stop; else as many triggers as
 * keep `keep` of its researches running without passing the capacity or
 * `max`, each following the latest promising assessment not yet followed,
 * then the starting brief.
 */
export const decide = ({ canAfford, capacity, recent, state }: Situation): Decision => {
  if (state.status !== "running") return { _tag: "Wait" }
  const started = state.started.length
  if (state.max !== null && started >= state.max) {
    return {
      _tag: "Stop",
      reason: "max",
      message: `started ${started} research${started === 1 ? "" : "es"}, its maximum (--max ${state.max})`
    }
  }
  if (!canAfford) return { _tag: "Stop", reason: "budget", message: "today's budget cannot afford another cycle" }
  const want = Math.min(
    state.keep - runningOf(state.started, recent).length,
    capacity.limit - capacity.active,
    state.max === null ? Number.POSITIVE_INFINITY : state.max - started
  )
  if (want <= 0) return { _tag: "Wait" }
  const follow = unfollowed(recent).slice(0, want)
  const fresh = Array.from({ length: want - follow.length }, (): Next => ({ brief: state.brief, parentId: null }))
  return { _tag: "Trigger", next: [...follow, ...fresh] }
}

/** A running autopilot, just started at `now`. */
export const started = (request: StartRequest, now: number, version: number): State => ({
  status: "running",
  brief: request.brief.trim(),
  keep: request.keep,
  max: request.max ?? null,
  started: [],
  startedAt: now,
  updatedAt: now,
  stoppedAt: null,
  stopReason: null,
  stopMessage: null,
  version
})

/** `state` stopped at `now` for `reason`. */
export const stopped = (state: State, reason: StopReason, message: string, now: number): State => ({
  ...state,
  status: "stopped",
  stoppedAt: now,
  stopReason: reason,
  stopMessage: message,
  updatedAt: now,
  version: state.version + 1
})

/** `state` having started `ids` at `now`. */
export const recorded = (state: State, ids: ReadonlyArray<ResearchId>, now: number): State => ({
  ...state,
  started: [...state.started, ...ids],
  updatedAt: now,
  version: state.version + 1
})

/** Where the autopilot's state is kept: one state, written conditionally on its version. */
export interface AutopilotStoreShape {
  /** The state stored, if the autopilot ever started. */
  readonly get: Effect.Effect<Option.Option<State>, StorageError>
  /**
   * Stores `state` if the stored one has version `expected` (null: none is
   * stored); answers whether it did.
   */
  readonly save: (state: State, expected: number | null) => Effect.Effect<boolean, StorageError>
}

/** The autopilot's storage port; an adapter without it leaves the autopilot unavailable. */
export class AutopilotStore extends Context.Tag("@foreman/core/AutopilotStore")<AutopilotStore, AutopilotStoreShape>() {}
