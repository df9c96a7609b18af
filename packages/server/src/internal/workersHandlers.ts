/**
 * The handlers of the workers' endpoints (`ForemanApi`'s `workers` group)
 * over the `WorkerRegistry`: a worker registers and gets a secret, then speaks
 * about itself with its worker token and that secret (kept as its digest);
 * a poll waits for a job and ends at once when the server begins to stop.
 */
import { HttpApiBuilder } from "@effect/platform"
import { type Domain, WorkerRegistry } from "@foreman/core"
import { Context, Deferred, Effect, Option } from "effect"
import { createHash, randomBytes } from "node:crypto"
import {
  ForemanApi,
  type PollBody,
  pollRequest,
  type WorkerCredential,
  workerProtocolVersion,
  workerSecretHeader
} from "@foreman/api/Api"
import { requireAnyone, speakingFor } from "./authorization.js"

/** The digest a worker's secret is kept and compared as. */
const secretDigest = (secret: string): string => createHash("sha256").update(secret, "utf8").digest("hex")

/**
 * Completes when the server begins to stop: a waiting poll answers at once
 * (no job) instead of holding the server open until its wait ends. Provided by
 * `serve`; an API mounted elsewhere polls until its wait ends.
 */
export class Stopping extends Context.Tag("@foreman/server/ApiServer/Stopping")<Stopping, Deferred.Deferred<void>>() {}

const noWork: WorkerRegistry.PollAnswer = { jobs: [], stop: [] }

/** The workers' endpoints: registration, heartbeats, polls, reports, and the list of workers. */
export const WorkersLive = HttpApiBuilder.group(ForemanApi, "workers", (handlers) =>
  Effect.gen(function*() {
    const registry = yield* WorkerRegistry.WorkerRegistry
    const stopping = yield* Effect.serviceOption(Stopping)
    /** A poll that ends, with no job, when the server begins to stop. */
    const poll = (workerId: Domain.WorkerId, body: typeof PollBody.Type) =>
      Option.match(stopping, {
        onNone: () => registry.poll(workerId, pollRequest(body)),
        onSome: (stopped) =>
          Effect.raceFirst(registry.poll(workerId, pollRequest(body)), Effect.as(Deferred.await(stopped), noWork))
      })
    /** A worker speaking about itself: a worker token that may speak for it, and its registration's credential. */
    const asWorker = (workerId: Domain.WorkerId, headers: typeof WorkerCredential.Type) =>
      Effect.zipRight(
        speakingFor(workerId),
        registry.authenticate(workerId, Option.getOrNull(Option.map(Option.fromNullable(headers[workerSecretHeader]), secretDigest)))
      )
    return handlers
      .handle("register", ({ payload }) =>
        Effect.gen(function*() {
          yield* speakingFor(payload.id)
          const secret = randomBytes(32).toString("base64url")
          const answer = yield* registry.register(payload, secretDigest(secret))
          return { ...answer, secret, protocolVersion: workerProtocolVersion }
        }))
      .handle("heartbeat", ({ headers, path, payload }) =>
        Effect.gen(function*() {
          yield* asWorker(path.workerId, headers)
          const worker = yield* registry.heartbeat(path.workerId, payload.healthy)
          return { ...worker, stop: yield* registry.toStop(path.workerId, payload.running ?? []) }
        }))
      .handle("poll", ({ headers, path, payload }) =>
        Effect.zipRight(asWorker(path.workerId, headers), poll(path.workerId, payload)))
      .handle("deregister", ({ headers, path }) =>
        Effect.zipRight(asWorker(path.workerId, headers), registry.deregister(path.workerId)))
      .handle("list", ({ urlParams }) =>
        Effect.zipRight(requireAnyone, registry.list({ type: urlParams.type, status: urlParams.status })))
      .handle("get", ({ path }) => Effect.zipRight(requireAnyone, registry.get(path.workerId)))
      .handle("report", ({ headers, path, payload }) =>
        Effect.gen(function*() {
          yield* asWorker(path.workerId, headers)
          const { next, ...report } = "next" in payload ? payload : { ...payload, next: undefined }
          const full = { ...report, jobId: path.jobId, workerId: path.workerId }
          if (next === undefined) return yield* registry.report(full)
          // The worker asks for its next job beside the report's writes, so the tick they wake can give it one.
          const ended = Option.match(stopping, { onNone: () => Effect.never, onSome: Deferred.await })
          const answer = yield* registry.reportAndPoll(full, pollRequest(next), ended)
          return { ...answer.job, next: answer.next }
        }))
  }))
