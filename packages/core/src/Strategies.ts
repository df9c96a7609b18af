/**
 * Port: the strategy catalogue as stored, read only. A strategy is stored with
 * the transition of the research that designed it (`Researches.commit`), under
 * a name no other strategy has.
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { StoredStrategy } from "./Domain.js"
import type { StorageError } from "./Errors.js"

/** The strategies port. */
export interface StrategiesShape {
  /** The catalogued strategy with this name. */
  readonly getStrategy: (name: string) => Effect.Effect<Option.Option<StoredStrategy>, StorageError>
  /** Every catalogued strategy, newest first. */
  readonly listStrategies: Effect.Effect<ReadonlyArray<StoredStrategy>, StorageError>
  /** Names in the catalogue that start with `prefix` (every name for ""). */
  readonly strategyNames: (prefix: string) => Effect.Effect<ReadonlyArray<string>, StorageError>
}

export class Strategies extends Context.Tag("@foreman/core/Strategies")<Strategies, StrategiesShape>() {}
