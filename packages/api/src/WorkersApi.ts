/**
 * The coordinator's API as a worker sees it: the worker protocol's endpoints
 * (`WorkersGroup`) alone, under the same prefix and with the same API-wide
 * errors as `ForemanApi`. A worker's typed client is derived from it, so a
 * worker process neither loads nor builds the operators' endpoints (and the
 * coordinator's modules behind their schemas). Not to be confused with
 * `WorkerApi`, which a push worker serves to the coordinator.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import { apiPrefix, PayloadTooLarge, TooManyConnections } from "./Wire.js"
import { WorkersGroup } from "./WorkersGroup.js"

export class WorkersApi extends HttpApi.make("foreman")
  .add(WorkersGroup)
  .addError(PayloadTooLarge)
  .addError(TooManyConnections)
  .prefix(apiPrefix)
{}
