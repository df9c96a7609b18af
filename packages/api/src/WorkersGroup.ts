/**
 * The worker protocol's endpoints (docs/worker-protocol.md): register, poll
 * for jobs, heartbeat, report, deregister; operators may list workers too.
 * Part of `ForemanApi` (Api.ts).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Domain from "@foreman/core/Domain"
import { Registration } from "@foreman/core/WorkerRegistration"
import { Schema } from "effect"
import {
  Authorization,
  Forbidden,
  JobNotAssigned,
  JobNotFound,
  StorageError,
  storageUnavailable,
  WorkerNotAuthenticated,
  WorkerNotFound
} from "./Wire.js"
import {
  Heartbeat,
  HeartbeatAnswer,
  PollAnswer,
  PollBody,
  RegistrationAccepted,
  ReportAnswer,
  ReportBody,
  WorkerCredential,
  workerProtocolDoc,
  WorkerQuery
} from "./WorkerMessages.js"

const workerId = HttpApiSchema.param("workerId", Domain.WorkerId)
const jobId = HttpApiSchema.param("jobId", Domain.JobId)

export class WorkersGroup extends HttpApiGroup.make("workers")
  .add(
    HttpApiEndpoint.post("register", "/workers/register")
      .setPayload(Registration)
      .addSuccess(RegistrationAccepted)
      .annotateContext(OpenApi.annotations({
        summary: "Register a worker",
        description: "Once at start and again after any 404, listing the jobs the worker runs and the final " +
          "reports it could not deliver. The answer's `secret` goes in `X-Foreman-Worker-Secret` on the worker's " +
          "later calls; `cancel` names jobs it must not run. Without `endpoint` the worker polls for jobs."
      }))
  )
  .add(
    HttpApiEndpoint.post("heartbeat")`/workers/${workerId}/heartbeat`
      .setPayload(Heartbeat)
      .setHeaders(WorkerCredential)
      .addSuccess(HeartbeatAnswer)
      .addError(WorkerNotFound, { status: 404 })
      .addError(WorkerNotAuthenticated, { status: 403 })
      .annotateContext(OpenApi.annotations({
        summary: "Send a heartbeat",
        description: "Every 10 s while the worker holds a job, listing the jobs it holds; the answer's `stop` " +
          "names those no longer its own. 404 or 403 (`WorkerNotAuthenticated`): register again."
      }))
  )
  .add(
    HttpApiEndpoint.post("poll")`/workers/${workerId}/poll`
      .setPayload(PollBody)
      .setHeaders(WorkerCredential)
      .addSuccess(PollAnswer)
      .addError(WorkerNotFound, { status: 404 })
      .addError(WorkerNotAuthenticated, { status: 403 })
      .annotateContext(OpenApi.annotations({
        summary: "Poll for jobs",
        description: "Waits up to `waitSeconds` and answers as soon as a job is assigned to the worker (only a " +
          "polling worker is given jobs). `jobs` are to start, `stop` names held jobs no longer its own. " +
          "Counts as a heartbeat."
      }))
  )
  .add(
    HttpApiEndpoint.del("deregister")`/workers/${workerId}`
      .setHeaders(WorkerCredential)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(WorkerNotFound, { status: 404 })
      .addError(WorkerNotAuthenticated, { status: 403 })
      .annotateContext(OpenApi.annotations({
        summary: "Deregister a worker",
        description: "Sent by a worker that stops: the coordinator stops counting it."
      }))
  )
  .add(
    HttpApiEndpoint.get("list", "/workers")
      .setUrlParams(WorkerQuery)
      .addSuccess(Schema.Array(Domain.Worker))
      .annotateContext(OpenApi.annotations({
        summary: "List workers",
        description: "The registered workers, optionally of one type or status. Operators and workers may call it."
      }))
  )
  .add(
    HttpApiEndpoint.get("get")`/workers/${workerId}`
      .addSuccess(Domain.Worker)
      .addError(WorkerNotFound, { status: 404 })
      .annotateContext(OpenApi.annotations({
        summary: "Get a worker",
        description: "One registered worker. Operators and workers may call it."
      }))
  )
  .add(
    HttpApiEndpoint.post("report")`/workers/${workerId}/jobs/${jobId}/report`
      .setPayload(ReportBody)
      .setHeaders(WorkerCredential)
      .addError(WorkerNotAuthenticated, { status: 403 })
      .addSuccess(ReportAnswer)
      .addError(JobNotFound, { status: 404 })
      .addError(WorkerNotFound, { status: 404 })
      .addError(JobNotAssigned, { status: 403 })
      .annotateContext(OpenApi.annotations({
        summary: "Report on a job",
        description: "`Progress` any number of times, then the result once (`Completed` or `Failed`). Reports are " +
          "idempotent: resend after a network failure or a 503. With `next` on a final report, the answer also " +
          "carries the worker's next poll."
      }))
  )
  .addError(StorageError, storageUnavailable)
  .addError(Forbidden)
  .middleware(Authorization)
  .annotate(
    OpenApi.Description,
    `[The worker protocol](${workerProtocolDoc}), for workers (a worker token): register, poll for jobs, ` +
      "send heartbeats, report, deregister; operators may list workers too. Calls about a worker carry its " +
      "registration's secret in `X-Foreman-Worker-Secret`."
  )
{}
