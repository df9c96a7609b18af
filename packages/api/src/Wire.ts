/**
 * What every endpoint of the coordinator's API shares on the wire: the error
 * bodies (core's errors with a `message` a person reads, and the API's own),
 * who is calling (`Caller`), and the bearer-token middleware that decides it.
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Errors from "@foreman/core/Errors"
import { Context, Schema } from "effect"

/** The path every endpoint of the coordinator's API lives under. */
export const apiPrefix = "/api/v1"

/** Missing or wrong bearer token. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

/** A valid token of the wrong kind (a worker calling an operator endpoint, or the reverse). */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/** A request body over the server's size limit. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 413 })
) {}

/**
 * One credential (a bearer token, or a worker's secret) already holds as many
 * open requests as the server allows it: finish some, then send again.
 */
export class TooManyConnections extends Schema.TaggedError<TooManyConnections>()(
  "TooManyConnections",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 429 })
) {}

/**
 * A request failed unexpectedly (answered 503, never an empty 500): sending
 * it again is safe, and a trigger sent again with its request id does not
 * start a second research.
 */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/**
 * A core error on the wire: its fields plus `message`, the line a person reads.
 * Core computes messages from the fields, so `message` is written when encoding
 * and ignored when decoding. A `cause` (the driver's error under a
 * `StorageError`) is for the server's logs and never crosses the wire.
 */
const withMessage = <Self extends { readonly message: string }, Tag extends string, Fields extends Schema.Struct.Fields>(
  error: Schema.TaggedErrorClass<Self, Tag, Fields> & Schema.Schema<Self, Schema.Struct.Encoded<Fields>, never>
) => {
  const decodeError = Schema.decodeUnknownSync<Self, Schema.Struct.Encoded<Fields>>(error)
  const { cause: _cause, ...fields } = error.fields as Fields & { readonly cause?: unknown }
  return Schema.transform(
    Schema.Struct({ ...(fields as Omit<Fields, "cause">), message: Schema.String }),
    Schema.typeSchema(error),
    {
      strict: false,
      decode: (wire) => {
        const { message: _, ...fields } = wire as Record<string, unknown>
        return decodeError(fields)
      },
      encode: (self) => {
        const { cause: _, ...fields } = self as Self & { readonly cause?: unknown }
        return { ...fields, message: self.message }
      }
    }
  ).annotations({ identifier: error.identifier })
}

export const AtCapacity = withMessage(Errors.AtCapacity)
export const BudgetExhausted = withMessage(Errors.BudgetExhausted)
export const IdempotencyKeyReused = withMessage(Errors.IdempotencyKeyReused)
export const InvalidInput = withMessage(Errors.InvalidInput)
export const ResearchNotFound = withMessage(Errors.ResearchNotFound)
export const NotCancellable = withMessage(Errors.NotCancellable)
export const WorkerNotFound = withMessage(Errors.WorkerNotFound)
export const WorkerNotAuthenticated = withMessage(Errors.WorkerNotAuthenticated)
export const JobNotFound = withMessage(Errors.JobNotFound)
export const JobNotAssigned = withMessage(Errors.JobNotAssigned)
export const StorageError = withMessage(Errors.StorageError)

/** How every group answers a `StorageError`: storage is down, try again. */
export const storageUnavailable = { status: 503 } as const
export const CancelConflict = withMessage(Errors.CancelConflict)
export const StrategyNotFound = withMessage(Errors.StrategyNotFound)

/** Who is calling: decided by the token, or both when the server runs without tokens. */
export interface Caller {
  readonly operator: boolean
  readonly worker: boolean
  /** Whether the caller may speak for a worker id (a token bound to ids speaks only for those). */
  readonly speaksFor: (workerId: string) => boolean
}
export class CurrentCaller extends Context.Tag("@foreman/api/CurrentCaller")<CurrentCaller, Caller>() {}

export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@foreman/api/Authorization", {
  failure: Unauthorized,
  provides: CurrentCaller,
  security: {
    bearer: HttpApiSecurity.annotate(
      HttpApiSecurity.bearer,
      OpenApi.Description,
      "`FOREMAN_API_TOKEN` for operators, `FOREMAN_WORKER_TOKEN` (or a token `FOREMAN_WORKER_TOKENS` binds to " +
        "worker ids) for workers. A server without tokens trusts every caller as both."
    )
  }
}) {}

