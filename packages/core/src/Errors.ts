/**
 * Typed errors of the engine. Those that cross a wire are `Schema.TaggedError`s
 * with plain fields; their `message` is the line a person reads.
 */
import { ParseResult, Schema } from "effect"
import { LlmCall } from "./Domain.js"

const usd = (n: number): string => `$${n.toFixed(2)}`

/** Trigger refused: active researches reached the concurrency limit. */
export class AtCapacity extends Schema.TaggedError<AtCapacity>()("AtCapacity", {
  active: Schema.Number,
  limit: Schema.Number
}) {
  override get message(): string {
    return `Cannot trigger: at capacity (${this.active} active researches, limit is ${this.limit})`
  }
}

/** Trigger refused: today's budget cannot cover one more cycle. */
export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  remainingUsd: Schema.Number,
  estimateUsd: Schema.Number,
  active: Schema.Number
}) {
  override get message(): string {
    return `Cannot trigger: daily budget exhausted (${usd(this.remainingUsd)} remaining)`
  }
}

/**
 * Trigger refused: its idempotency key was used, within the keys' lifetime, by
 * a trigger that said something else (the same key with the same request
 * answers the research the first one started).
 */
export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()("IdempotencyKeyReused", {
  requestId: Schema.String
}) {
  override get message(): string {
    return `Idempotency key ${this.requestId} was already used with a different request: ` +
      `send a new key for a new request, or repeat the first request as it was`
  }
}

export class ResearchNotFound extends Schema.TaggedError<ResearchNotFound>()("ResearchNotFound", {
  researchId: Schema.String
}) {
  override get message(): string {
    return `Research not found: ${this.researchId}`
  }
}

export class NotCancellable extends Schema.TaggedError<NotCancellable>()("NotCancellable", {
  researchId: Schema.String,
  status: Schema.String
}) {
  override get message(): string {
    return `Research ${this.researchId} is ${this.status} and cannot be cancelled`
  }
}

/** No strategy in the catalogue has this name; `closest` are the nearest names it has. */
export class StrategyNotFound extends Schema.TaggedError<StrategyNotFound>()("StrategyNotFound", {
  name: Schema.String,
  closest: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `Unknown strategy: ${this.name}` +
      (this.closest.length > 0 ? ` (closest: ${this.closest.join(", ")})` : "")
  }
}

/** Unknown worker; over HTTP this tells a worker to register again. */
export class WorkerNotFound extends Schema.TaggedError<WorkerNotFound>()("WorkerNotFound", {
  workerId: Schema.String
}) {
  override get message(): string {
    return `Worker not registered: ${this.workerId} (register again)`
  }
}

/** A worker call without the credential its registration handed out (another worker's id, or a stale one). */
export class WorkerNotAuthenticated extends Schema.TaggedError<WorkerNotAuthenticated>()("WorkerNotAuthenticated", {
  workerId: Schema.String
}) {
  override get message(): string {
    return `Worker ${this.workerId} did not present the credential of its current registration: register again`
  }
}

export class JobNotFound extends Schema.TaggedError<JobNotFound>()("JobNotFound", {
  jobId: Schema.String
}) {
  override get message(): string {
    return `Job not found: ${this.jobId}`
  }
}

/** A worker reported on a job that is not assigned to it. */
export class JobNotAssigned extends Schema.TaggedError<JobNotAssigned>()("JobNotAssigned", {
  jobId: Schema.String,
  workerId: Schema.String
}) {
  override get message(): string {
    return `Job ${this.jobId} is not assigned to worker ${this.workerId}`
  }
}

export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  reason: Schema.String
}) {
  override get message(): string {
    return `Invalid input: ${this.reason}`
  }
}

/**
 * Storage could not be read or written; adapters map their own errors to this.
 * `cause` keeps the failure underneath (the driver's error, a parse error) for
 * logs and for the adapter that needs to tell failures apart (by the error's
 * tag or code, never by its text); it stays out of the wire (see `@foreman/api`).
 */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Storage failure: ${this.reason}`
  }
}

/**
 * A cancel lost to concurrent changes of the research every time it tried
 * (another replica or the coordinator's loop wrote it meanwhile): nothing was
 * cancelled; sending the cancel again is safe.
 */
export class CancelConflict extends Schema.TaggedError<CancelConflict>()("CancelConflict", {
  researchId: Schema.String,
  attempts: Schema.Number
}) {
  override get message(): string {
    return `Research ${this.researchId} kept changing while being cancelled (${this.attempts} attempts): cancel it again`
  }
}

/** A conditional write lost: the row changed, or a newer coordinator epoch exists. */
export class StaleWrite extends Schema.TaggedError<StaleWrite>()("StaleWrite", {
  researchId: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Stale write to ${this.researchId}: ${this.reason}`
  }
}

/** A worker could not be reached or refused the job. */
export class DispatchError extends Schema.TaggedError<DispatchError>()("DispatchError", {
  workerId: Schema.String,
  reason: Schema.String,
  /**
   * Set when the worker answered that it will not take the job now: `full`, or
   * `draining` (shutting down). A scheduling fact, not a failed attempt.
   */
  refused: Schema.optional(Schema.Literal("full", "draining")),
  /**
   * Set when the worker could not be reached: `unsent` when no request got
   * to it (every attempt failed before a connection was made: refused, host
   * unknown or unreachable), so it cannot have the job; `unanswered` when a
   * request may have got to it but no answer came back (a time-out, a
   * connection dropped once open), so it may be running the job. Unset when
   * the worker answered.
   */
  unreachable: Schema.optional(Schema.Literal("unsent", "unanswered"))
}) {
  override get message(): string {
    return `Dispatch to ${this.workerId} failed: ${this.reason}`
  }
}

/** An LLM agent (designer, assessor) failed. */
export class AgentError extends Schema.TaggedError<AgentError>()("AgentError", {
  agent: Schema.String,
  reason: Schema.String,
  /** The model calls made before it failed; they are charged all the same. */
  calls: Schema.optionalWith(Schema.Array(LlmCall), { default: () => [] })
}) {
  override get message(): string {
    return `${this.agent} failed: ${this.reason}`
  }
}

/** A parse error as one line: `path: problem; …`. */
export const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message))
    .join("; ")
