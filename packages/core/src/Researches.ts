/**
 * Port: durable storage of researches. Every phase transition is one atomic
 * `commit` of a research with its jobs (and the strategy it designed),
 * conditional on the research's version and on the coordinator epoch, so a
 * stale writer gets `StaleWrite`, never an overwrite. Admission writes a batch
 * of new researches in one conditional write (`insertAll`), on the condition
 * it decided them on. Jobs are read and patched through `Jobs`, the strategy
 * catalogue through `Strategies`.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type {
  Assessment,
  Job,
  JobId,
  JobStatus,
  Research,
  ResearchId,
  ResearchStatus,
  Strategy,
  Worker,
  WorkerId,
  WorkerType
} from "./Domain.js"
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

/** Worker slots to claim: a slot on a worker of `workerType` for each job, in order (see `WorkerStore.claim`). */
export interface SlotClaim {
  readonly workerType: WorkerType
  readonly jobIds: ReadonlyArray<JobId>
}

/**
 * A transition that starts a job on a worker slot claimed with it: slot
 * `slot` of the claim of `workerType`. When that slot is granted, `claimed`
 * is written, the job it inserts with the slot's id given the granted worker
 * (`withWorker`); when it is not, `otherwise` (null: nothing).
 */
export interface SlottedTransition {
  readonly workerType: WorkerType
  readonly slot: number
  readonly claimed: Transition
  readonly otherwise: Transition | null
}

/** What `commitClaiming` writes: slot claims, then transitions, some taking a claimed slot. */
export interface ClaimingBatch {
  /** At most one claim per worker type, claimed in this order. */
  readonly claims: ReadonlyArray<SlotClaim>
  /** When the slots are claimed (a pull worker takes one only while its poll waits then). */
  readonly at: number
  readonly transitions: ReadonlyArray<Transition | SlottedTransition>
}

/** What a `ClaimingBatch` came to. */
export interface ClaimingResult {
  /** For each claim, the workers granted, in slot order: a prefix of its jobs got one. */
  readonly granted: ReadonlyArray<ReadonlyArray<Worker>>
  /** For each transition, whether it (or, for a slot not granted, its `otherwise`) was written. */
  readonly written: ReadonlyArray<boolean>
}

/** Whether a batch's transition takes a slot. */
export const isSlotted = (t: Transition | SlottedTransition): t is SlottedTransition => "slot" in t

/** `transition` with its job `jobId` given the worker `workerId`: a slotted transition as written when granted. */
export const withWorker = (transition: Transition, jobId: JobId, workerId: WorkerId): Transition => ({
  ...transition,
  jobs: transition.jobs.map((w) => w.job.id === jobId ? { ...w, job: { ...w.job, workerId } } : w)
})

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

/** A new research and the request key it records, if any. */
export interface NewResearch {
  readonly research: Research
  readonly key?: RequestKey | undefined
}

/**
 * New researches to insert together (a batch of triggers admitted), with the
 * condition they were decided on: at most `activeAtMost` researches active, and
 * each key free, or held by a research since `expiredBefore` (see `insertAll`).
 */
export interface Insertion {
  readonly researches: ReadonlyArray<NewResearch>
  /** How many researches were active when the batch was decided. */
  readonly activeAtMost: number
  /** Keys recorded before this moment have expired. */
  readonly expiredBefore: number
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
  /**
   * Inserts every research of `insertion` in one atomic write, or none, and
   * says whether it wrote them. None when more than `activeAtMost` researches
   * are active, or when one of their keys is held by a research that recorded
   * it at or after `expiredBefore`: the batch was decided on a world that
   * changed, and must be decided again. An expired key passes to the new
   * research (the research that held it lets it go). These writes are
   * serialised with each other across processes, so each sees every batch
   * written before it; none waits on a lock held across round trips.
   */
  readonly insertAll: (insertion: Insertion) => Effect.Effect<boolean, StorageError>
  readonly get: (id: ResearchId) => Effect.Effect<Option.Option<Research>, StorageError>
  /** The research that holds this request key (expired or not), with the key as recorded. */
  readonly findByRequestId: (requestId: string) => Effect.Effect<Option.Option<Requested>, StorageError>
  /** The researches that hold these request keys (expired or not), each with its key as recorded, in any order. */
  readonly findByRequestIds: (requestIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Requested>, StorageError>
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
   * Claims worker slots and commits transitions in one step (on PostgreSQL,
   * one statement): first each claim, atomically as `WorkerStore.claim`
   * does; then each transition, atomic on its own as in `commitAll`, a
   * slotted one as its slot came out. A slot granted to a transition that is
   * stale stays held: the caller releases it. Answers the slots granted and
   * which transitions were written.
   */
  readonly commitClaiming: (batch: ClaimingBatch) => Effect.Effect<ClaimingResult, StorageError>
  /** Researches whose strategy has one of these names. */
  readonly researchesUsing: (names: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Research>, StorageError>
}

export class Researches extends Context.Tag("@foreman/core/Researches")<Researches, ResearchesShape>() {}
