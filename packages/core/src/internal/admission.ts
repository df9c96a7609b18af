/**
 * Admission: whether a trigger starts a research. A request is checked and
 * resolved into an `Admission` (`admissionOf`); admissions arriving together
 * are then admitted in one pass, where each is refused or accepted by
 * `verdict` (capacity, then budget; `force` overrides both) and the ones
 * accepted before it count against the capacity. The pass decides on storage
 * as read (no lock held meanwhile), then writes its new researches in one
 * conditional write (`Researches.insertAll`); if another process admitted
 * meanwhile, the pass is decided again on a fresh read. A request id makes a trigger
 * idempotent, as Stripe's idempotency keys do: repeated with the same request
 * (by its fingerprint), it answers the research the first one started; with
 * another request, it is refused (`IdempotencyKeyReused`). A key lasts
 * `idempotencyKeyTtlSeconds` from when it was recorded; after that it may
 * start a new research.
 */
import { Clock, Effect, Either, Exit, Metric, Option } from "effect"
import { Models } from "../Agents.js"
import { Budget, type BudgetStatus } from "../Budget.js"
import { type CoordinatorEvent, CoordinatorEvents, type CoordinatorEventsShape } from "../CoordinatorEvents.js"
import type { Phase, Research, ResearchId, Strategy } from "../Domain.js"
import { AtCapacity, BudgetExhausted, IdempotencyKeyReused, InvalidInput, type StorageError } from "../Errors.js"
import { ForemanConfig } from "../ForemanConfig.js"
import * as Metrics from "../Metrics.js"
import { Pipeline } from "../Pipeline.js"
import { type NewResearch, type Requested, Researches } from "../Researches.js"
import * as ResearchTransitions from "../ResearchTransitions.js"
import { Wakeup } from "../Wakeup.js"
import * as Batcher from "./batcher.js"
import * as Fingerprint from "./fingerprint.js"
import * as Ids from "./ids.js"
import * as Queries from "./queries.js"
import * as Spans from "./spans.js"

/** A trigger request as decoded (see `Coordinator.TriggerRequest`). */
export interface Request {
  readonly requestId?: string | undefined
  readonly brief?: string | undefined
  readonly strategy?: string | Strategy | undefined
  readonly model?: string | undefined
  readonly bypassGates?: boolean | undefined
  readonly force?: boolean | undefined
  readonly parentId?: ResearchId | undefined
}

/** A trigger checked and resolved, waiting to be admitted. */
export interface Admission {
  readonly requestId: string | undefined
  /**
   * The fingerprint of the request, without its request id: what a repeat must
   * match. None without a request id, which nothing can repeat (a SHA-256 saved
   * per anonymous trigger, most of them refusals when the lab is full).
   */
  readonly fingerprint: string | null
  readonly brief: string
  readonly strategy: Strategy | null
  readonly model: string | null
  readonly bypassGates: boolean
  readonly force: boolean
  readonly parentId: ResearchId | null
}

/**
 * Checks a request whose strategy is resolved (`strategy`: the catalogued or
 * given one) against `refusal`, why the agents cannot run its model, if they
 * cannot: a brief or a strategy is needed, and a model the agents can run.
 */
export const admissionOf = (
  request: Request,
  strategy: Strategy | null,
  refusal: Option.Option<string>
): Either.Either<Admission, InvalidInput> => {
  const brief = request.brief?.trim() ?? ""
  if (brief === "" && strategy === null) {
    return Either.left(new InvalidInput({ reason: "give a brief to design from, or an existing strategy" }))
  }
  if (request.model !== undefined && Option.isSome(refusal)) {
    return Either.left(new InvalidInput({ reason: `model: ${refusal.value}` }))
  }
  const { requestId, ...body } = request
  return Either.right({
    requestId,
    fingerprint: requestId === undefined ? null : Fingerprint.of(body),
    brief,
    strategy,
    model: request.model ?? null,
    bypassGates: request.bypassGates === true,
    force: request.force === true,
    parentId: request.parentId ?? null
  })
}

/** Whether one admission gets in, and if not, why. */
export type Verdict =
  | { readonly _tag: "Admit" }
  | { readonly _tag: "Refuse"; readonly reason: "capacity" | "budget"; readonly error: AtCapacity | BudgetExhausted }

/** Whether capacity alone refuses a trigger: `active` researches reach `limit` and it is not forced. */
export const overCapacity = (force: boolean, active: number, limit: number): boolean => !force && active >= limit

/** A forced trigger's verdict, whatever capacity and budget say (`verdict` with `force`). */
const forcedIn: Verdict = { _tag: "Admit" }

/**
 * `make()` with no stack trace captured: a refusal is an answer, not a fault,
 * and capturing the stack was the costliest part of building one.
 */
const withoutStack = <A>(make: () => A): A => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

// A refusal's error holds two counts the pass computed: its fields are not checked against
// the schema again (most triggers into a full lab are refused: this is the common answer).
const capacityRefusal = (active: number, limit: number): Verdict => ({
  _tag: "Refuse",
  reason: "capacity",
  error: withoutStack(() => new AtCapacity({ active, limit }, { disableValidation: true }))
})

/**
 * Capacity first, then budget: refused when `active` researches (those
 * admitted before in the same pass included) reach `limit`, or when today's
 * budget cannot cover a cycle's estimate, unless `force`.
 */
export const verdict = (force: boolean, active: number, limit: number, money: BudgetStatus): Verdict => {
  if (force) return { _tag: "Admit" }
  if (overCapacity(force, active, limit)) return capacityRefusal(active, limit)
  if (!money.canAfford) {
    return {
      _tag: "Refuse",
      reason: "budget",
      error: new BudgetExhausted({ remainingUsd: money.remainingUsd ?? 0, estimateUsd: money.estimateUsd, active })
    }
  }
  return { _tag: "Admit" }
}

/** The research an admission starts; a strategy given without a brief names it. */
export const researchOf = (admission: Admission, id: ResearchId, phase: Phase, now: number): Research =>
  ResearchTransitions.create({
    id,
    parentId: admission.parentId,
    brief: admission.brief === "" && admission.strategy !== null ? `strategy ${admission.strategy.name}` : admission.brief,
    model: admission.model,
    bypassGates: admission.bypassGates,
    forced: admission.force,
    phase,
    strategy: admission.strategy,
    now
  })

type Outcome = Exit.Exit<Research, AtCapacity | BudgetExhausted | IdempotencyKeyReused | StorageError>

/**
 * What a trigger under a key already held answers: the research, when the key
 * is alive and the requests match (a key recorded before fingerprints were
 * matches any); a refusal when they differ; nothing when the key expired.
 */
export const repeatOf = (held: Requested, a: Admission, expiredBefore: number): Outcome | undefined => {
  if (held.key.recordedAt < expiredBefore) return undefined
  if (held.key.fingerprint !== null && held.key.fingerprint !== a.fingerprint) {
    return Exit.fail(new IdempotencyKeyReused({ requestId: held.key.id }))
  }
  return Exit.succeed(held.research)
}

/** What a pass tells observers once it is written. */
export type Announcement = Extract<CoordinatorEvent, { readonly _tag: "Triggered" | "Refused" }>

/**
 * One pass's running state: admitted so far, today's budget (read once, by the
 * first admission that needs a verdict on it: not forced, not refused for
 * capacity), what is left of it (for announcements: from that budget if it
 * was read, else read alone, once), the researches holding the pass's request
 * keys (as stored, then as the pass admits), the new researches to write,
 * what to announce and answer.
 */
interface Pass {
  admitted: number
  readonly money: Effect.Effect<BudgetStatus, StorageError>
  readonly remainingUsd: Effect.Effect<number | null, StorageError>
  readonly byRequestId: Map<string, Requested>
  readonly created: Array<NewResearch>
  readonly announcements: Array<Announcement>
  readonly outcomes: Array<Outcome>
}

/** Triggers arriving together are admitted together: one pass, and one write, for up to this many. */
const MAX_BATCH = 64

/**
 * `effect` run the first time it is asked for and its value kept (not its
 * failure, which fails the pass). A pass asks from one fiber, one admission
 * after another, so this needs none of `Effect.cached`'s synchronisation,
 * which cost about 60 fiber operations a pass, most passes being one refusal.
 */
const once = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> => {
  let kept: { readonly value: A } | undefined
  return Effect.suspend(() =>
    kept !== undefined ? Effect.succeed(kept.value) : Effect.tap(effect, (value) => Effect.sync(() => (kept = { value })))
  )
}

/** Publishes one announcement of a pass and counts it. */
const announce = (events: CoordinatorEventsShape, a: Announcement): Effect.Effect<void> =>
  a._tag === "Refused"
    ? Effect.zipRight(events.publish(a), Metric.increment(Metrics.labelled(Metrics.triggersRefused, { reason: a.reason })))
    : Effect.gen(function*() {
      yield* events.publish(a)
      yield* Metric.increment(Metrics.labelled(Metrics.researchesTriggered, { forced: String(a.forced) }))
      yield* Effect.logDebug(`research ${a.researchId} triggered${a.forced ? " (forced)" : ""}`)
    })

/** The trigger: checks a decoded request, then admits it in the next pass. Starts the batching fiber in the scope. */
export const make = Effect.gen(function*() {
  const researches = yield* Researches
  const budget = yield* Budget
  const events = yield* CoordinatorEvents
  const wakeup = yield* Wakeup
  const pipeline = yield* Pipeline
  const models = yield* Effect.serviceOption(Models)
  const queries = yield* Queries.make
  const keyLifetime = (yield* ForemanConfig).idempotencyKeyTtlSeconds * 1000

  /** Answers a repeat of a live key (or refuses it), and says whether it did. */
  const answeredAgain = (pass: Pass, a: Admission, expiredBefore: number) =>
    Effect.gen(function*() {
      const held = a.requestId === undefined ? undefined : pass.byRequestId.get(a.requestId)
      const again = held === undefined ? undefined : repeatOf(held, a, expiredBefore)
      if (again === undefined) return false
      yield* Exit.isSuccess(again)
        ? Effect.logDebug(`trigger ${a.requestId} repeated: answering research ${again.value.id}`)
        : Effect.logInfo(`trigger ${a.requestId} refused: the key was used with a different request`)
      pass.outcomes.push(again)
      return true
    })

  /** Admits (or refuses, or answers again) one admission of a pass. */
  const admitOne = (pass: Pass, a: Admission, now: number, limit: number) =>
    Effect.gen(function*() {
      const expiredBefore = now - keyLifetime
      if (yield* answeredAgain(pass, a, expiredBefore)) return
      // A forced trigger needs no budget, nor one refused for capacity: a full lab's refusals read none.
      const decided = a.force
        ? forcedIn
        : overCapacity(a.force, pass.admitted, limit)
        ? capacityRefusal(pass.admitted, limit)
        : verdict(a.force, pass.admitted, limit, yield* pass.money)
      if (decided._tag === "Refuse") {
        pass.announcements.push({ _tag: "Refused", at: now, reason: decided.reason })
        pass.outcomes.push(Exit.fail(decided.error))
        return
      }
      const research = researchOf(a, yield* Ids.researchId, pipeline.initialPhase({ hasStrategy: a.strategy !== null }), now)
      const key = a.requestId === undefined ? undefined : { id: a.requestId, fingerprint: a.fingerprint, recordedAt: now }
      if (key !== undefined) pass.byRequestId.set(key.id, { research, key })
      pass.created.push({ research, key })
      pass.outcomes.push(Exit.succeed(research))
      pass.announcements.push({
        _tag: "Triggered",
        at: now,
        researchId: research.id,
        forced: a.force,
        activeBefore: pass.admitted++,
        limit,
        remainingUsd: yield* pass.remainingUsd
      })
    })

  /** The researches holding the request keys of these admissions, by key. */
  const holders = (admissions: ReadonlyArray<Admission>) => {
    const keys = admissions.flatMap((a) => a.requestId ?? [])
    return keys.length === 0
      ? Effect.succeed(new Map<string, Requested>())
      : Effect.map(researches.findByRequestIds(keys), (held) => new Map(held.map((h) => [h.key.id, h])))
  }

  /**
   * One pass over a batch of triggers, decided on storage as read now:
   * capacity, the keys' holders and the budget are read once (the budget only
   * as a pass needs it, see `Pass`), then each trigger in arrival order is
   * admitted or refused. Its new researches are written by one conditional
   * write; none when the world it read changed (answered as None).
   */
  const admitOnce = (admissions: ReadonlyArray<Admission>) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { active, limit } = yield* queries.capacity
      let read: BudgetStatus | undefined
      const money = once(Effect.tap(budget.status(), (status) => Effect.sync(() => (read = status))))
      const remainingUsd = once(Effect.suspend(() => read === undefined ? budget.remaining() : Effect.succeed(read.remainingUsd)))
      const pass: Pass = {
        admitted: active,
        money,
        remainingUsd,
        byRequestId: yield* holders(admissions),
        created: [],
        announcements: [],
        outcomes: []
      }
      for (const a of admissions) yield* admitOne(pass, a, now, limit)
      const insertion = { researches: pass.created, activeAtMost: active, expiredBefore: now - keyLifetime }
      const written = pass.created.length === 0 || (yield* researches.insertAll(insertion))
      return written ? Option.some(pass) : Option.none()
    })

  /**
   * Admits a batch of triggers in one pass, decided again while another
   * process's admissions change what it read. What happened is announced
   * once the pass is written.
   */
  const admitAll = (admissions: ReadonlyArray<Admission>) =>
    Effect.gen(function*() {
      let written = yield* admitOnce(admissions)
      while (Option.isNone(written)) {
        yield* Effect.logDebug("another process admitted triggers meanwhile: deciding the batch again")
        written = yield* admitOnce(admissions)
      }
      const { announcements, outcomes } = written.value
      for (const a of announcements) yield* announce(events, a)
      if (outcomes.some(Exit.isSuccess)) yield* wakeup.signal
      return outcomes
    }).pipe(
      Spans.withSpan("Coordinator.admit", { attributes: { "foreman.triggers": admissions.length }, captureStackTrace: false })
    )

  const admit = yield* Batcher.make(admitAll, MAX_BATCH)

  /** Refuses a parent that is not a stored research. */
  const checkParent = (parentId: ResearchId | undefined) =>
    parentId === undefined ? Effect.void : Effect.flatMap(researches.get(parentId), (found) =>
      Option.isSome(found)
        ? Effect.void
        : Effect.fail(new InvalidInput({ reason: `parentId: no research ${parentId}` })))

  /** Resolves a named strategy from the catalogue, checks the request, and admits it. */
  const trigger = (request: Request) =>
    Effect.gen(function*() {
      yield* checkParent(request.parentId)
      const strategy = typeof request.strategy === "string"
        ? (yield* queries.catalogued(request.strategy)).strategy
        : request.strategy ?? null
      const refusal = Option.flatMap(models, (m) => request.model === undefined ? Option.none() : m.refusal(request.model))
      return yield* admit(yield* admissionOf(request, strategy, refusal))
    })

  return { trigger }
})
