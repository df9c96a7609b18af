/**
 * The autopilot's interpreter: `step` (run by the leader after each tick)
 * reads the situation, asks `Autopilot.decide`, and triggers or stops as it
 * says; `start`, `stop` and `status` serve the API on any replica. A refusal
 * at capacity waits for the next step; a refusal for budget stops it.
 */
import { Clock, Effect, Option } from "effect"
import * as Autopilot from "../Autopilot.js"
import { Budget } from "../Budget.js"
import type { Research, ResearchId } from "../Domain.js"
import { InvalidInput, type StorageError } from "../Errors.js"
import { Researches } from "../Researches.js"
import { Wakeup } from "../Wakeup.js"
import type { AutopilotSummary, Capacity } from "../CoordinatorStatus.js"
import type * as Admission from "./admission.js"

/** Researches read per step: those created since the autopilot started, newest first. */
const RECENT = 1000

export const make = (
  trigger: (request: Admission.Request) => Effect.Effect<Research, unknown>,
  capacity: Effect.Effect<Capacity, StorageError>
) =>
  Effect.gen(function*() {
    const store = yield* Effect.serviceOption(Autopilot.AutopilotStore)
    const researches = yield* Researches
    const budget = yield* Budget
    const wakeup = yield* Wakeup

    const recentSince = (state: Autopilot.State) =>
      researches.list({ since: state.startedAt, limit: RECENT, offset: 0 })

    const unavailable = new InvalidInput({ reason: "this storage keeps no autopilot state" })

    const stopWith = (store: Autopilot.AutopilotStoreShape, state: Autopilot.State, reason: Autopilot.StopReason, message: string) =>
      Effect.gen(function*() {
        const stopped = Autopilot.stopped(state, reason, message, yield* Clock.currentTimeMillis)
        if (yield* store.save(stopped, state.version)) yield* Effect.logInfo(`autopilot stopped: ${message}`)
        return stopped
      })

    /** One step on the leader: triggers what the decision asks, or stops. */
    const stepWith = (store: Autopilot.AutopilotStoreShape) =>
      Effect.gen(function*() {
        const current = yield* store.get
        if (Option.isNone(current) || current.value.status !== "running") return
        const state = current.value
        const [recent, cap, money] = yield* Effect.all([recentSince(state), capacity, budget.status()])
        const decision = Autopilot.decide({ state, recent, capacity: cap, canAfford: money.canAfford })
        if (decision._tag === "Wait") return
        if (decision._tag === "Stop") return yield* stopWith(store, state, decision.reason, decision.message)
        const ids: Array<ResearchId> = []
        let refusal: "budget" | undefined
        for (const next of decision.next) {
          const outcome = yield* Effect.either(trigger({
            brief: next.brief,
            ...(next.parentId === null ? {} : { parentId: next.parentId })
          }))
          if (outcome._tag === "Right") {
            ids.push(outcome.right.id)
            continue
          }
          const tag = (outcome.left as { readonly _tag?: string })._tag
          if (tag === "BudgetExhausted") refusal = "budget"
          else if (tag !== "AtCapacity") yield* Effect.logWarning("autopilot: a trigger failed", outcome.left)
          break
        }
        const now = yield* Clock.currentTimeMillis
        const after = ids.length === 0 ? state : Autopilot.recorded(state, ids, now)
        if (ids.length > 0) {
          if (!(yield* store.save(after, state.version))) return
          yield* Effect.logInfo(`autopilot started ${ids.join(", ")}`)
        }
        if (refusal === "budget") yield* stopWith(store, after, "budget", "today's budget cannot afford another cycle")
      })

    const step: Effect.Effect<void> = Option.match(store, {
      onNone: () => Effect.void,
      onSome: (s) => stepWith(s).pipe(Effect.catchAllCause((cause) => Effect.logError("autopilot step failed", cause)))
    })

    const status = Effect.fn("Coordinator.autopilotStatus")(function*() {
      if (Option.isNone(store)) return yield* unavailable
      const state = yield* store.value.get
      if (Option.isNone(state)) return { autopilot: null, running: [] } satisfies Autopilot.Status
      const running = Autopilot.runningOf(state.value.started, yield* recentSince(state.value))
      return { autopilot: state.value, running } satisfies Autopilot.Status
    })

    /** The status view's line: none when never started (or no store). */
    const summary: Effect.Effect<AutopilotSummary | undefined, StorageError> = Effect.gen(function*() {
      if (Option.isNone(store)) return undefined
      const state = yield* store.value.get
      if (Option.isNone(state)) return undefined
      const a = state.value
      const running = a.status === "running" ? (yield* researches.activeAmong(a.started)).size : 0
      return { status: a.status, keep: a.keep, max: a.max, started: a.started.length, running, stopMessage: a.stopMessage }
    })

    const start = Effect.fn("Coordinator.autopilotStart")(function*(request: Autopilot.StartRequest) {
      if (Option.isNone(store)) return yield* unavailable
      const current = yield* store.value.get
      if (Option.isSome(current) && current.value.status === "running") {
        return yield* new InvalidInput({ reason: "the autopilot is already running: stop it first" })
      }
      const expected = Option.isSome(current) ? current.value.version : null
      const state = Autopilot.started(request, yield* Clock.currentTimeMillis, (expected ?? -1) + 1)
      if (!(yield* store.value.save(state, expected))) {
        return yield* new InvalidInput({ reason: "the autopilot changed meanwhile: try again" })
      }
      yield* Effect.logInfo(`autopilot started: keep ${state.keep}${state.max === null ? "" : `, at most ${state.max}`}`)
      yield* wakeup.signal
      return state
    })

    const stop = Effect.fn("Coordinator.autopilotStop")(function*() {
      if (Option.isNone(store)) return yield* unavailable
      const current = yield* store.value.get
      if (Option.isSome(current) && current.value.status === "running") {
        yield* stopWith(store.value, current.value, "operator", "stopped by an operator")
      }
      return yield* status()
    })

    return { step, status, start, stop, summary } as const
  })

/** The autopilot's API, as the coordinator offers it. */
export interface AutopilotApi {
  readonly status: () => Effect.Effect<Autopilot.Status, InvalidInput | StorageError>
  readonly start: (request: Autopilot.StartRequest) => Effect.Effect<Autopilot.State, InvalidInput | StorageError>
  readonly stop: () => Effect.Effect<Autopilot.Status, InvalidInput | StorageError>
}
