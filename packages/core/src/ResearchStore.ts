/**
 * Deprecated: the port that held researches, jobs and the strategy catalogue
 * together, now split into `Researches`, `Jobs` and `Strategies`. Kept for one
 * release: the engine still provides `ResearchStore` (made of the three ports),
 * its types are re-exported from their new modules, and `layerPorts` gives the
 * three ports from a store written against the old shape.
 */
import { Context, Effect, Layer } from "effect"
import { Jobs, type JobsShape } from "./Jobs.js"
import { Researches, type ResearchesShape } from "./Researches.js"
import { Strategies, type StrategiesShape } from "./Strategies.js"

export type {
  ActiveChanges,
  ActiveEntry,
  ChangeMark,
  JobWrite,
  ResearchFilter,
  ResearchQuery,
  ResearchTotals,
  Transition
} from "./Researches.js"
export type { JobPatch, WorkerJobCounts } from "./Jobs.js"
export { matches, verdictOf } from "./Researches.js"

/** @deprecated Use `Researches`, `Jobs` and `Strategies`. */
export type ResearchStoreShape = ResearchesShape & JobsShape & StrategiesShape

/** @deprecated Use `Researches`, `Jobs` and `Strategies`. */
export class ResearchStore extends Context.Tag("@foreman/core/ResearchStore")<ResearchStore, ResearchStoreShape>() {}

/** @deprecated The old port made of the three new ones (the engine provides it so). */
export const layerFromPorts: Layer.Layer<ResearchStore, never, Researches | Jobs | Strategies> = Layer.effect(
  ResearchStore,
  Effect.map(
    Effect.all([Researches, Jobs, Strategies]),
    ([researches, jobs, strategies]) => ResearchStore.of({ ...researches, ...jobs, ...strategies })
  )
)

/** The three ports from one object that serves them all. */
const threePorts = (store: ResearchesShape & JobsShape & StrategiesShape) =>
  Context.make(Researches, store).pipe(Context.add(Jobs, store), Context.add(Strategies, store))

/**
 * The three ports, and for one release the deprecated `ResearchStore`, from one
 * object that serves them all, as both adapters' stores do.
 */
export const portsOf = (store: ResearchesShape & JobsShape & StrategiesShape) =>
  threePorts(store).pipe(Context.add(ResearchStore, store))

/** @deprecated The three ports from a store written against the old shape: for an adapter not yet split. */
export const layerPorts: Layer.Layer<Researches | Jobs | Strategies, never, ResearchStore> = Layer.effectContext(
  Effect.map(ResearchStore, threePorts)
)
