/**
 * Spans for the coordinator's hot paths (a tick, a trigger, a report, a
 * dispatch, an in-process phase) that cost nothing when nobody records them.
 * `Effect.withSpan` makes a span even with the tracer disabled (a no-op one)
 * and provides it as the parent, which copies the fiber's context: about 60
 * fiber operations a span, a sixth of all a simulation ran (which runs with
 * the tracer disabled); and `Effect.annotateCurrentSpan` with no span to
 * annotate builds a `NoSuchElementException`, a stack trace each time. Here a
 * disabled tracer runs the effect as it is and annotates nothing; an enabled
 * one gets the very span and attributes the `Effect` functions give.
 */
import { Effect, FiberRef, type Tracer } from "effect"

/** `Effect.withSpan(name, options)`, or the effect itself while the tracer is disabled. */
export const withSpan = (name: string, options?: Tracer.SpanOptions) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withSpan(self, name, options) : self
  )

/** `Effect.annotateCurrentSpan(attributes)`, or nothing while the tracer is disabled. */
export const annotate = (attributes: Record<string, unknown>): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.annotateCurrentSpan(attributes) : Effect.void
  )
