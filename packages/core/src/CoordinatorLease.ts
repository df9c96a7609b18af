/**
 * Port: leadership. One coordinator per store runs the loop; each holder gets
 * a strictly increasing epoch that fences the writes of any deposed leader.
 */
import type { Effect, Scope } from "effect"
import { Context } from "effect"
import type { StorageError } from "./Errors.js"

export interface Leadership {
  readonly epoch: number
  /** Completes if leadership is lost before the scope closes. */
  readonly lost: Effect.Effect<void>
}

export interface CoordinatorLeaseShape {
  /** Waits until this process leads; the lease is held until the scope closes. */
  readonly acquire: Effect.Effect<Leadership, StorageError, Scope.Scope>
  /** The newest epoch handed out. */
  readonly current: Effect.Effect<number, StorageError>
}

export class CoordinatorLease extends Context.Tag("@foreman/core/CoordinatorLease")<
  CoordinatorLease,
  CoordinatorLeaseShape
>() {}
