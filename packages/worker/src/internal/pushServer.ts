/**
 * A push worker's server (the legacy protocol): `WorkerApi` served on an
 * `HttpServer` for the coordinator to call — submit (idempotent by job id,
 * refused with 503 while draining or when full), get, cancel, health — behind
 * the worker token. `WorkerHost` loads this module only for a push worker, so
 * a pull worker never loads an HTTP server.
 */
// Imported module by module: a module loaded on demand keeps whole whatever barrel it names in a bundle.
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as Domain from "@foreman/core/Domain"
import type { Scope } from "effect"
import { Effect, Layer, Option, Redacted } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import { Authorization, Unauthorized } from "@foreman/api/Wire"
import { UnknownJob, WorkerApi, WorkerUnavailable } from "@foreman/api/WorkerApi"
import type * as JobQueue from "../JobQueue.js"
import type * as WorkerConfig from "../WorkerConfig.js"
import { toJobState } from "./jobState.js"
import type * as Link from "./link.js"

const digest = (text: string) => createHash("sha256").update(text).digest()

/** Checks the coordinator's bearer token against `FOREMAN_WORKER_TOKEN` (anyone, when unset). */
const authorizationLayer = (token: Option.Option<Redacted.Redacted>) =>
  Layer.succeed(
    Authorization,
    Authorization.of({
      bearer: (presented) =>
        Option.match(token, {
          onNone: () => Effect.succeed({ operator: false, worker: true, speaksFor: () => true }),
          onSome: (expected) =>
            timingSafeEqual(digest(Redacted.value(presented)), digest(Redacted.value(expected)))
              ? Effect.succeed({ operator: false, worker: true, speaksFor: () => true })
              : Effect.fail(new Unauthorized({ message: "missing or wrong bearer token" }))
        })
    })
  )

/** The port the `HttpServer` listens on, when it listens on TCP. */
export const boundPort: Effect.Effect<Option.Option<number>, never, HttpServer.HttpServer> = Effect.map(
  HttpServer.HttpServer,
  (server) => server.address._tag === "TcpAddress" ? Option.some(server.address.port) : Option.none()
)

/** What the server answers from: the worker's settings, its queue and link, whether it drains. */
export interface Served {
  readonly config: WorkerConfig.WorkerConfigShape
  readonly queue: JobQueue.JobQueue<Domain.JobSpec, unknown>
  readonly link: Link.Link
  readonly draining: () => boolean
}

/** Serves `WorkerApi` on the `HttpServer` until the scope closes. */
export const serve = ({ config, draining, link, queue }: Served): Effect.Effect<void, never, HttpServer.HttpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const workerId = config.id
    const jobsLayer = HttpApiBuilder.group(WorkerApi, "jobs", (handlers) =>
      handlers
        .handle("submit", ({ payload }) =>
          link.take(payload).pipe(
            Effect.map((added) => toJobState(added.entry)),
            Effect.mapError((refusal) =>
              new WorkerUnavailable({ message: `worker ${workerId} ${refusal.why}`, reason: refusal.reason })
            )
          ))
        .handle("get", ({ path }) =>
          Effect.flatMap(queue.get(path.jobId), Option.match({
            onNone: () => Effect.fail(new UnknownJob({ jobId: path.jobId })),
            onSome: (entry) => Effect.succeed(toJobState(entry))
          })))
        .handle("cancel", ({ path }) =>
          Effect.flatMap(queue.cancel(path.jobId, "cancelled by the coordinator"), Option.match({
            onNone: () => Effect.fail(new UnknownJob({ jobId: path.jobId })),
            onSome: (entry) => Effect.succeed(toJobState(entry))
          }))))

    const healthLayer = HttpApiBuilder.group(WorkerApi, "health", (handlers) =>
      handlers.handle("health", () =>
        Effect.map(queue.summary, (summary) => ({
          status: draining() ? "draining" as const : "ok" as const,
          workerId,
          type: config.type,
          running: summary.running,
          capacity: config.capacity
        }))))

    const server = yield* HttpServer.HttpServer
    yield* Layer.build(
      HttpApiBuilder.serve().pipe(
        Layer.provide(HttpApiBuilder.api(WorkerApi)),
        Layer.provide([jobsLayer, healthLayer]),
        Layer.provide(authorizationLayer(config.token)),
        Layer.provide(HttpServer.layerContext),
        Layer.provide(Layer.succeed(HttpServer.HttpServer, server))
      )
    )
  })

/** Node's HTTP server on the configured host and port. */
export const layerNode = (config: WorkerConfig.WorkerConfigShape) =>
  NodeHttpServer.layer(createServer, { port: config.port, host: config.host })
