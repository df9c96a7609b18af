/** How a worker reads a failed call: passing troubles (sent again later) and refusals. */
import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@foreman/core"
import { PayloadTooLarge, TooManyConnections } from "@foreman/api/Api"
import * as CallFailures from "../src/internal/callFailures.js"

describe("callFailures", () => {
  it("a credential with too many requests open, or storage away, is passing: send again later", () => {
    assert.isTrue(CallFailures.isPassing(new TooManyConnections({ message: "too many" })))
    assert.isTrue(CallFailures.isPassing(new Errors.StorageError({ reason: "down" })))
  })

  it("a refusal of the body as such is not passing", () => {
    assert.isFalse(CallFailures.isPassing(new PayloadTooLarge({ message: "too large" })))
    assert.isFalse(CallFailures.isPassing(new Errors.JobNotFound({ jobId: "job_1" })))
  })
})
