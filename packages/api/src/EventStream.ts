/**
 * The coordinator's event stream (`GET /api/v1/events`, Server-Sent Events)
 * as a client follows it: every event with its id, name (`Transition`,
 * `JobStarted`, …, or `reset`) and JSON data. A dropped connection is opened
 * again with `Last-Event-ID`, so nothing is missed while the server keeps it; a
 * refused one (401, 403) fails.
 */
import { Sse } from "@effect/experimental"
import { HttpClient, type HttpClientError, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, Option, Ref, Schedule, Stream } from "effect"

/** One event of the stream. */
export interface StreamEvent {
  readonly id: string | undefined
  /**
   * The event's kind: a coordinator event's `_tag`; `connected` (first, on a
   * new connection) or `reset` (read the state again: what was missed is gone).
   */
  readonly name: string
  /** The event, parsed from JSON. */
  readonly data: unknown
}

export interface FollowOptions {
  /** The coordinator's base URL (`http://127.0.0.1:8000`). */
  readonly baseUrl: string
  /** The operator token, when the server has tokens. */
  readonly token?: string | undefined
  /** Resume after this event. */
  readonly lastEventId?: string | undefined
  /** The wait before a dropped connection is opened again (default 1 s). */
  readonly reconnectAfter?: Duration.DurationInput
}

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

/** A response the server refused: following again would not help. */
const refused = (error: HttpClientError.HttpClientError): boolean =>
  error._tag === "ResponseError" && error.response.status >= 400 && error.response.status < 500

/** Follows the event stream until the consumer stops, reconnecting after drops. */
export const follow = (
  options: FollowOptions
): Stream.Stream<StreamEvent, HttpClientError.HttpClientError, HttpClient.HttpClient> =>
  Stream.unwrap(Effect.gen(function*() {
    const client = HttpClient.filterStatusOk(yield* HttpClient.HttpClient)
    const last = yield* Ref.make(Option.fromNullable(options.lastEventId))
    const once = Stream.unwrapScoped(Effect.gen(function*() {
      const resumeAfter = yield* Ref.get(last)
      const request = HttpClientRequest.get(`${options.baseUrl}/api/v1/events`).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeader("accept", "text/event-stream"),
        options.token === undefined ? (r) => r : HttpClientRequest.bearerToken(options.token),
        Option.match(resumeAfter, { onNone: () => (r) => r, onSome: (id) => HttpClientRequest.setHeader("last-event-id", id) })
      )
      const response = yield* client.execute(request)
      return response.stream.pipe(
        Stream.decodeText(),
        Stream.pipeThroughChannel(Sse.makeChannel()),
        Stream.tap((event) => event.id === undefined ? Effect.void : Ref.set(last, Option.some(event.id))),
        Stream.map((event): StreamEvent => ({ id: event.id, name: event.event, data: parse(event.data) }))
      )
    }))
    const pause = Schedule.spaced(Duration.decode(options.reconnectAfter ?? Duration.seconds(1)))
    return once.pipe(
      Stream.retry(Schedule.whileInput(pause, (error: HttpClientError.HttpClientError) => !refused(error))),
      Stream.repeat(pause)
    )
  }))
