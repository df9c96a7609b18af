/**
 * Calls from many fibers handled in batches: each call queues its item and
 * waits for its own answer; one fiber takes every item queued (up to a
 * maximum) and handles them together, in the order they came. While one batch
 * is handled the next one gathers, so the cost of a batch (a transaction, a
 * lock) is paid once for all the calls that arrived meanwhile.
 */
import { Deferred, Effect, Exit, Queue, type Scope } from "effect"

interface Call<I, A, E> {
  readonly item: I
  readonly answer: Deferred.Deferred<A, E>
}

/**
 * Starts the batching fiber in the current scope and answers the function to
 * call. `handle` answers one exit per item, in order; when it fails, every
 * call of the batch fails with its cause.
 */
export const make = <I, A, E>(
  handle: (items: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<Exit.Exit<A, E>>, E>,
  maxBatch: number
): Effect.Effect<(item: I) => Effect.Effect<A, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    // Calls still queued when the scope closes are interrupted, not left waiting.
    const queue = yield* Effect.acquireRelease(Queue.unbounded<Call<I, A, E>>(), (queue) =>
      Effect.zipRight(
        Effect.flatMap(Queue.takeAll(queue), Effect.forEach((call) => Deferred.interrupt(call.answer), { discard: true })),
        Queue.shutdown(queue)
      ))
    const handleBatch = (calls: ReadonlyArray<Call<I, A, E>>) =>
      handle(calls.map((call) => call.item)).pipe(
        Effect.onExit((exit) =>
          Effect.forEach(calls, (call, i) =>
            Deferred.done(
              call.answer,
              Exit.flatMap(exit, (exits) => exits[i] ?? Exit.die(new Error("a batch answered too few items")))
            ), { discard: true })
        ),
        Effect.ignore
      )
    yield* Queue.takeBetween(queue, 1, maxBatch).pipe(
      Effect.flatMap((calls) => handleBatch(Array.from(calls))),
      Effect.forever,
      Effect.forkScoped
    )
    return (item: I) =>
      Effect.flatMap(Deferred.make<A, E>(), (answer) =>
        Effect.zipRight(Queue.offer(queue, { item, answer }), Deferred.await(answer)))
  })
