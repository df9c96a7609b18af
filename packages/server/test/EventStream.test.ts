/**
 * `GET /api/v1/events` over real HTTP: a research's events arrive as they
 * happen, each with an id; a client that reconnects with `Last-Event-ID`
 * receives what it missed, one with an id the server cannot resume from is
 * told to start over (`reset`); the stream is for operators.
 */
import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { EventStream } from "@foreman/api"
import { startLabServer, startServer } from "@foreman/testing/ApiHarness"
import { Chunk, Deferred, Effect, Fiber, Stream } from "effect"

/** Follows the stream until `done` holds for an event, and returns every event up to it. */
const collect = (
  options: EventStream.FollowOptions,
  done: (event: EventStream.StreamEvent) => boolean,
  onEvent: (event: EventStream.StreamEvent) => Effect.Effect<unknown> = () => Effect.void
) =>
  EventStream.follow(options).pipe(
    Stream.tap(onEvent),
    Stream.takeUntil(done),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray),
    Effect.timeout("20 seconds"),
    Effect.provide(FetchHttpClient.layer)
  )

const researchOf = (event: EventStream.StreamEvent): unknown =>
  typeof event.data === "object" && event.data !== null && "researchId" in event.data ? event.data.researchId : undefined

const completed = (id: string) => (event: EventStream.StreamEvent) =>
  event.name === "Transition" && researchOf(event) === id &&
  (event.data as { readonly status: string }).status === "completed"

describe("GET /api/v1/events", () => {
  it.scopedLive("streams a research's events with ids, resumes after Last-Event-ID, and resets an unknown id", () =>
    Effect.gen(function*() {
      const server = yield* startLabServer

      // Trigger once the stream says it is connected, then follow until the research completes.
      const connected = yield* Deferred.make<void>()
      const following = yield* Effect.fork(collect(
        { baseUrl: server.baseUrl },
        (e) => e.name === "Transition" && (e.data as { status: string }).status === "completed",
        (e) => e.name === "connected" ? Deferred.succeed(connected, undefined) : Effect.void
      ))
      yield* Deferred.await(connected)
      const research = yield* server.coordinator.trigger({ brief: "Explore RSI variations" })
      const [hello, ...events] = yield* Fiber.join(following)
      assert.strictEqual(hello!.name, "connected")

      const names = events.filter((e) => researchOf(e) === research.id).map((e) => e.name)
      assert.strictEqual(names[0], "Triggered")
      for (const name of ["Transition", "JobStarted", "JobReported", "Charged"]) assert.include(names, name)
      assert.isTrue(completed(research.id)(events[events.length - 1]!))
      const ids = events.map((e) => e.id!)
      const seqs = ids.map((id) => Number(id.split(".")[1]))
      assert.deepStrictEqual(seqs, [...seqs].sort((a, b) => a - b), "ids increase")
      assert.strictEqual(new Set(ids.map((id) => id.split(".")[0])).size, 1, "one boot")

      // Reconnecting after the third event replays the rest, in order.
      const resumed = yield* collect({ baseUrl: server.baseUrl, lastEventId: ids[2]! }, completed(research.id))
      assert.deepStrictEqual(resumed.map((e) => e.id), ids.slice(3))

      // An id from another start (or nonsense) cannot be resumed: reset first.
      const [reset] = yield* collect({ baseUrl: server.baseUrl, lastEventId: "0000beef.5" }, () => true)
      assert.strictEqual(reset!.name, "reset")
      assert.include(String((reset!.data as { reason: string }).reason), "read the state again")
    }))

  it.scopedLive("is for operators: no token 401, the worker token 403", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ tokens: { operator: "op-secret", worker: "worker-secret" } })
      const none = yield* server.fetch("/api/v1/events")
      assert.strictEqual(none.status, 401)
      const worker = yield* server.fetch("/api/v1/events", { headers: { authorization: "Bearer worker-secret" } })
      assert.strictEqual(worker.status, 403)
      const operator = yield* server.fetch("/api/v1/events", { headers: { authorization: "Bearer op-secret" } })
      assert.strictEqual(operator.status, 200)
      assert.strictEqual(operator.headers.get("content-type"), "text/event-stream")
      yield* Effect.promise(() => operator.body!.cancel())
      const failure = yield* Effect.flip(collect({ baseUrl: server.baseUrl, token: "wrong" }, () => true))
      assert.strictEqual(failure._tag, "ResponseError")
    }))
})
