/**
 * The coordinator's events as a resumable Server-Sent Events stream. The log
 * subscribes to `CoordinatorEvents` when the server starts, numbers every
 * event (`<boot>.<n>`: the boot part changes with each server start) and keeps
 * the latest `capacity` of them, so a client that reconnects with
 * `Last-Event-ID` gets what it missed. A client whose id is unknown, from an
 * earlier start, or older than what is kept first receives a `reset` event:
 * it should read the state again (`/agent/status`, the researches it shows).
 * A new client first receives `connected`, whose id it can resume from.
 */
import { Sse } from "@effect/experimental"
import { CoordinatorEvents } from "@foreman/core"
import { Context, Duration, Effect, Layer, PubSub, Queue, Stream } from "effect"
import { randomBytes } from "node:crypto"

/** An event with its place in the log. */
export interface Logged {
  readonly seq: number
  readonly event: CoordinatorEvents.CoordinatorEvent
}

export interface EventLogShape {
  /** Identifies this server start in event ids. */
  readonly boot: string
  /**
   * The stream's text: `connected` (a new client) or a `reset` event when needed, the kept
   * events after `lastEventId`, then every new event as it happens, with a
   * comment line every `keepAlive` so proxies keep the connection open.
   */
  readonly stream: (lastEventId: string | undefined) => Stream.Stream<string>
}

export class EventLog extends Context.Tag("@foreman/server/EventLog")<EventLog, EventLogShape>() {}

/** How many events a reconnecting client can catch up on. */
export const defaultCapacity = 10_000

const frame = (id: string, event: string, data: unknown): string =>
  Sse.encoder.write({ _tag: "Event", id, event, data: JSON.stringify(data) })

export const make = (options: { readonly capacity?: number; readonly keepAlive?: Duration.DurationInput } = {}) =>
  Effect.gen(function*() {
    const capacity = options.capacity ?? defaultCapacity
    const keepAlive = Duration.decode(options.keepAlive ?? Duration.seconds(15))
    const boot = randomBytes(4).toString("hex")
    const kept: Array<Logged> = []
    let seq = 0
    const hub = yield* PubSub.unbounded<Logged>()
    const source = yield* (yield* CoordinatorEvents.CoordinatorEvents).subscribe
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(source), (event) => {
      const logged = { seq: ++seq, event }
      kept.push(logged)
      if (kept.length > capacity) kept.splice(0, kept.length - capacity)
      return PubSub.publish(hub, logged)
    })))

    const idOf = (n: number) => `${boot}.${n}`
    const toFrame = ({ event, seq: n }: Logged) => frame(idOf(n), event._tag, event)

    /** The sequence number to resume after, or null when the client must start over. */
    const resumeAfter = (lastEventId: string): number | null => {
      const match = /^([0-9a-f]+)\.(\d+)$/.exec(lastEventId.trim())
      if (match === null || match[1] !== boot) return null
      const n = Number(match[2])
      const oldest = kept[0]?.seq ?? seq + 1
      return n > seq || n < oldest - 1 ? null : n
    }

    const stream = (lastEventId: string | undefined): Stream.Stream<string> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        // Subscribe before reading what is kept, so nothing falls between the two.
        const live = yield* PubSub.subscribe(hub)
        const snapshot = kept.slice()
        const upTo = snapshot[snapshot.length - 1]?.seq ?? seq
        const after = lastEventId === undefined || lastEventId === "" ? upTo : resumeAfter(lastEventId)
        const head = [
          // Something at once, so the client sees the stream open even when nothing is replayed.
          ": stream open\n\n",
          ...(after === null
            ? [frame(idOf(upTo), "reset", { reason: `cannot resume after ${JSON.stringify(lastEventId)}: read the state again` })]
            : lastEventId === undefined || lastEventId === ""
            ? [frame(idOf(upTo), "connected", { boot })]
            : snapshot.filter((l) => l.seq > after).map(toFrame))
        ]
        const events = Stream.fromQueue(live).pipe(Stream.filter((l) => l.seq > upTo), Stream.map(toFrame))
        const pings = Stream.tick(keepAlive).pipe(Stream.drop(1), Stream.as(": keep-alive\n\n"))
        return Stream.concat(Stream.fromIterable(head), Stream.merge(events, pings, { haltStrategy: "left" }))
      }))

    return EventLog.of({ boot, stream })
  })

/** The log of this server's events; it starts following the coordinator when built. */
export const layer = (
  options: { readonly capacity?: number; readonly keepAlive?: Duration.DurationInput } = {}
): Layer.Layer<EventLog, never, CoordinatorEvents.CoordinatorEvents> => Layer.scoped(EventLog, make(options))
