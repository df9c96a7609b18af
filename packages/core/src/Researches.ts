/**
 * Port: durable storage of researches. Every phase transition is one atomic
 * `commit` of a research with its jobs (and the strategy it designed),
 * conditional on the research's version and on the coordinator epoch, so a
 * stale writer gets `StaleWrite`, never an overwrite. Triggers are serialised
 * here too, so admission's reads and its insert are one step. Jobs are read
 * and patched through `Jobs`, the strategy catalogue through `Strategies`.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { Assessment, Job, JobStatus, Research, ResearchId, ResearchStatus, Strategy } from "./Domain.js"
import type { StaleWrite, StorageError } from "./Errors.js"

/** A job row to write: inserted when `expected` is null, else only if its status is still `expected`. */
export interface JobWrite {
  readonly job: Job
  readonly expected: JobStatus | null
}

/** One atomic transition of one research. */
export interface Transition {
  /** The new state; its `version` must be `expectedVersion + 1`. */
  readonly research: Research
  readonly expectedVersion: number
  /** The writer's coordinator epoch, which must still be current; null for operator actions. */
  readonly epoch: number | null
  readonly jobs: ReadonlyArray<JobWrite>
  /**
   * A strategy this transition designed, stored in the catalogue with it, under
   * its name, as designed by the research at its `updatedAt`. The transition is
   * stale when the catalogue already holds the name.
   */
  readonly design?: Strategy | undefined
}

/** Which researches: every condition given must hold. */
export interface ResearchFilter {
  readonly statuses?: ReadonlyArray<ResearchStatus> | undefined
  /** Created at or after this moment. */
  readonly since?: number | undefined
  /** Created before this moment. */
  readonly until?: number | undefined
  /** Its strategy's name. */
  readonly strategy?: string | undefined
  /** Its assessment's verdict. */
  readonly verdict?: Assessment["verdict"] | undefined
  /** The research it follows (its children). */
  readonly parentId?: ResearchId | undefined
}

/** A page of researches, newest first. */
export interface ResearchQuery extends ResearchFilter {
  readonly limit: number
  readonly offset: number
}

/** How many researches a filter selects, and what they cost. */
export interface ResearchTotals {
  readonly count: number
  readonly costUsd: number
}

/** The verdict of a research's assessment, if it has one. */
export const verdictOf = (research: Research): string | undefined => {
  const assessment = research.results["assessment"]
  return typeof assessment === "object" && assessment !== null && "verdict" in assessment &&
      typeof assessment.verdict === "string"
    ? assessment.verdict
    : undefined
}

/** Whether `research` is one `filter` selects (what a storage adapter's query must agree with). */
export const matches = (filter: ResearchFilter, research: Research): boolean =>
  (filter.statuses === undefined || filter.statuses.includes(research.status)) &&
  (filter.since === undefined || research.createdAt >= filter.since) &&
  (filter.until === undefined || research.createdAt < filter.until) &&
  (filter.strategy === undefined || research.strategy?.name === filter.strategy) &&
  (filter.verdict === undefined || verdictOf(research) === filter.verdict) &&
  (filter.parentId === undefined || research.parentId === filter.parentId)

/** An active research and its active job (null when it has none, or the job is missing). */
export interface ActiveEntry {
  readonly research: Research
  readonly job: Job | null
}

/** A point in storage's history of research and job writes, as an adapter marks it: opaque to its readers. */
export type ChangeMark = string

/** What changed among the researches since a mark (see `activeChangedSince`). */
export interface ActiveChanges {
  /**
   * True: `entries` are every active research, oldest first, and replace what
   * the reader kept. False: `entries` are the researches written since the mark,
   * or whose jobs were, in any order; a terminal one is no longer active.
   */
  readonly complete: boolean
  readonly entries: ReadonlyArray<ActiveEntry>
  /** The mark to ask from next time; null asks for every active research again. */
  readonly mark: ChangeMark | null
}

/** The idempotency key a research was triggered under, as stored with it. */
export interface RequestKey {
  /** The key (`Coordinator.RequestId`). */
  readonly id: string
  /**
   * The fingerprint of the request that recorded it (a hash of its canonical
   * body); null for a key recorded before fingerprints were.
   */
  readonly fingerprint: string | null
  /** When it was recorded. */
  readonly recordedAt: number
}

/** A research and the request key it holds. */
export interface Requested {
  readonly research: Research
  readonly key: RequestKey
}

/** The researches port. */
export interface ResearchesShape {

  /**
   * Inserts a new research and answers it. With a request `key` the insert is
   * idempotent by the key's id, atomically: when a research holds that id,
   * recorded at or after `expiredBefore` (by default, ever), nothing is written
   * and that research is answered instead. A key recorded before
   * `expiredBefore` has expired: the research that held it lets it go, and the
   * new one takes it.
   */
  readonly insert: (
    research: Research,
    key?: RequestKey,
    expiredBefore?: number
  ) => Effect.Effect<Research, StorageError>
  readonly get: (id: ResearchId) => Effect.Effect<Option.Option<Research>, StorageError>
  /** The research that holds this request key (expired or not), with the key as recorded. */
  readonly findByRequestId: (requestId: string) => Effect.Effect<Option.Option<Requested>, StorageError>
  /** Newest first. */
  readonly list: (query: ResearchQuery) => Effect.Effect<ReadonlyArray<Research>, StorageError>
  /** How many researches the filter selects and their cost, summed. */
  readonly totals: (filter: ResearchFilter) => Effect.Effect<ResearchTotals, StorageError>
  /** Every pending or running research, oldest first, each read with its active job in one statement. */
  readonly listActive: Effect.Effect<ReadonlyArray<ActiveEntry>, StorageError>
  /**
   * What changed among the researches since `mark`, for a reader that keeps the
   * active set between reads (the leader does: see `ActiveSet`); with a null
   * mark, every active research. Every write committed before this read began,
   * by any process, is in it or in an earlier answer since the mark. An
   * adapter may always answer in full (`complete`, with a null mark).
   */
  readonly activeChangedSince: (mark: ChangeMark | null) => Effect.Effect<ActiveChanges, StorageError>
  readonly countActive: Effect.Effect<number, StorageError>
  /** Which of these researches are pending or running. */
  readonly activeAmong: (ids: ReadonlyArray<ResearchId>) => Effect.Effect<ReadonlySet<ResearchId>, StorageError>
  readonly commit: (transition: Transition) => Effect.Effect<void, StaleWrite | StorageError>
  /**
   * Commits many transitions in one go, each atomic on its own: says for each
   * whether it was written (false: it was stale and wrote nothing).
   */
  readonly commitAll: (transitions: ReadonlyArray<Transition>) => Effect.Effect<ReadonlyArray<boolean>, StorageError>
  /**
   * Runs `self` while no other trigger runs against this store (in any process),
   * so a capacity or budget check and the insert that follows it are one step.
   */
  readonly serializeTriggers: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
  /** Researches whose strategy has one of these names. */
  readonly researchesUsing: (names: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Research>, StorageError>
}

export class Researches extends Context.Tag("@foreman/core/Researches")<Researches, ResearchesShape>() {}
