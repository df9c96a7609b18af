/**
 * Random and malformed requests against every endpoint of the coordinator's
 * API: whatever arrives, the answer is never a 5xx, and a refused request
 * (4xx) leaves the researches and the workers exactly as they were.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Domain } from "@foreman/core"
import { Effect } from "effect"
import fc from "fast-check"
import { startServer } from "@foreman/testing/ApiHarness"

const tokens = { operator: "operator-secret", worker: "worker-secret" }
const asOperator = { authorization: `Bearer ${tokens.operator}` }

interface Probe {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string | undefined
}

const segment = fc.oneof(
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: "grapheme", maxLength: 10 }),
  fc.constantFrom("..", ".", "%", "%E0%A4%A", "%00", "%2F", "op_", "job_", "{id}", "-", "a".repeat(300))
)

const researchId = (known: string) =>
  fc.oneof(
    fc.constant(known),
    fc.stringMatching(/^op_[A-Za-z0-9_-]{1,64}$/),
    segment
  )
const workerId = fc.oneof(fc.constantFrom("gpu-1", "training-1", "ghost"), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/), segment)
const jobId = fc.oneof(fc.stringMatching(/^job_[A-Za-z0-9]{1,10}$/), segment)

const path = (known: string) =>
  fc.oneof(
    fc.constantFrom(
      "/api/v1/agent/trigger",
      "/api/v1/agent/status",
      "/api/v1/agent/budget",
      "/api/v1/agent/researches",
      "/api/v1/workers/register",
      "/api/v1/workers",
      "/api/v1/health",
      "/api/v1",
      "/api/v1/"
    ),
    researchId(known).map((id) => `/api/v1/agent/researches/${id}`),
    researchId(known).map((id) => `/api/v1/agent/cancel/${id}`),
    workerId.map((id) => `/api/v1/workers/${id}/heartbeat`),
    workerId.map((id) => `/api/v1/workers/${id}`),
    fc.tuple(workerId, jobId).map(([w, j]) => `/api/v1/workers/${w}/jobs/${j}/report`),
    fc.array(segment, { maxLength: 5 }).map((parts) => `/api/v1/${parts.join("/")}`)
  )

const query = fc.oneof(
  fc.constant(""),
  fc.dictionary(
    fc.constantFrom("status", "limit", "offset", "type", "force", "x"),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer().map(String), fc.constantFrom("running", "pending", "gpu", "-1", "1e3"))
  ).map((params) => `?${new URLSearchParams(params).toString()}`),
  fc.constantFrom("?limit=1&limit=2", "?%zz=1", "?status", "?&&&")
)

const json = (value: fc.Arbitrary<unknown>) => value.map((v) => JSON.stringify(v))

/** Payload-shaped bodies, so that some pass decoding and reach the engine. */
const triggerLike = json(fc.record(
  {
    brief: fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom("rsi\u0000", "", "  ")),
    strategy: fc.oneof(fc.string(), fc.anything()),
    model: fc.string(),
    force: fc.boolean(),
    bypassGates: fc.oneof(fc.boolean(), fc.anything())
  },
  { requiredKeys: ["brief"] }
))
const registrationLike = json(fc.record(
  {
    id: workerId,
    type: fc.constantFrom("gpu", "cpu", "Training", ""),
    endpoint: fc.string(),
    capacity: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer(), fc.double()),
    capabilities: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.anything()),
    runningJobs: fc.array(fc.string(), { maxLength: 3 }),
    finishedJobs: fc.oneof(fc.constant([]), fc.anything())
  },
  { requiredKeys: ["id", "type", "endpoint"] }
))
const reportLike = json(fc.record(
  {
    _tag: fc.constantFrom("Progress", "Completed", "Failed", "Other"),
    progress: fc.oneof(fc.double({ min: 0, max: 1 }), fc.double()),
    message: fc.string(),
    result: fc.jsonValue(),
    error: fc.string()
  },
  { requiredKeys: ["_tag"] }
))
const heartbeatLike = json(fc.oneof(fc.record({ healthy: fc.boolean() }, { requiredKeys: [] }), fc.anything()))

/** Arrays or objects nested around the server's limit (64) and far beyond it. */
const nestedValue = fc.tuple(
  fc.oneof(fc.integer({ min: 60, max: 70 }), fc.integer({ min: 70, max: 5_000 }), fc.integer({ min: 5_000, max: 100_000 })),
  fc.constantFrom<readonly [string, string]>(["[", "]"], ["{\"a\":", "}"], ["[{\"a\":", "}]"])
).map(([levels, [open, close]]) => `${open.repeat(levels)}1${close.repeat(levels)}`)

/** Where a deep value goes: each endpoint's payload shape, `%` standing for the value. */
const deepShapes = [
  ["/api/v1/agent/trigger", "%"],
  ["/api/v1/agent/trigger", "{\"brief\":\"rsi\",\"strategy\":%}"],
  ["/api/v1/workers/register", "{\"id\":\"gpu-1\",\"type\":\"gpu\",\"endpoint\":\"x\",\"capabilities\":{\"x\":%}}"],
  ["/api/v1/workers/gpu-1/jobs/job_1/report", "{\"_tag\":\"Completed\",\"result\":%}"],
  ["/api/v1/workers/gpu-1/jobs/job_1/report", "{\"_tag\":\"Progress\",\"progress\":%}"]
] as const

/** A POST of an endpoint's payload shape holding a deeply nested value. */
const deepRequest = fc.tuple(nestedValue, fc.constantFrom(...deepShapes)).map(([value, [path, shape]]) => ({
  method: "POST",
  path,
  body: shape.replace("%", value)
}))

const anyBody = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: deepRequest.map((request) => request.body), weight: 1 },
  { arbitrary: fc.oneof(triggerLike, registrationLike, reportLike, heartbeatLike), weight: 3 },
  { arbitrary: fc.json(), weight: 2 },
  { arbitrary: fc.string(), weight: 2 },
  { arbitrary: fc.constantFrom("{", "null", "[]", "\"\"", "{\"brief\":\"\\ud800\"}", "{\"__proto__\":{\"force\":true}}"), weight: 1 },
  { arbitrary: fc.constant(`{"brief":"${"x".repeat(1536 * 1024)}"}`), weight: 1 }
)

const contentType = fc.option(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=zz",
    "application/octet-stream",
    "application/problem+json"
  ),
  { nil: undefined, freq: 3 }
)

const authorization = fc.oneof(
  { arbitrary: fc.constantFrom(`Bearer ${tokens.operator}`, `Bearer ${tokens.worker}`, `bearer ${tokens.operator}`), weight: 6 },
  { arbitrary: fc.constantFrom(undefined, "Bearer", "Bearer wrong", `Basic ${tokens.operator}`, tokens.worker), weight: 1 },
  { arbitrary: fc.stringMatching(/^[\x21-\x7e ]{0,40}$/), weight: 1 }
)

/** An endpoint's method and path with a body of its kind (or anything, sometimes). */
const endpoint = (known: string) =>
  fc.oneof(
    fc.record({ method: fc.constant("POST"), path: fc.constant("/api/v1/agent/trigger"), body: triggerLike }),
    fc.record({
      method: fc.constant("GET"),
      path: fc.constantFrom("/api/v1/agent/status", "/api/v1/agent/budget", "/api/v1/agent/researches", "/api/v1/workers", "/api/v1/health"),
      body: fc.constant(undefined)
    }),
    fc.record({ method: fc.constant("GET"), path: researchId(known).map((id) => `/api/v1/agent/researches/${id}`), body: fc.constant(undefined) }),
    fc.record({
      method: fc.constant("DELETE"),
      path: fc.oneof(
        researchId(known).map((id) => `/api/v1/agent/researches/${id}`),
        researchId(known).map((id) => `/api/v1/agent/cancel/${id}`)
      ),
      body: fc.option(fc.string(), { nil: undefined })
    }),
    fc.record({ method: fc.constant("POST"), path: fc.constant("/api/v1/workers/register"), body: registrationLike }),
    fc.record({ method: fc.constant("POST"), path: workerId.map((id) => `/api/v1/workers/${id}/heartbeat`), body: heartbeatLike }),
    fc.record({ method: fc.constantFrom("GET", "DELETE"), path: workerId.map((id) => `/api/v1/workers/${id}`), body: fc.constant(undefined) }),
    fc.record({
      method: fc.constant("POST"),
      path: fc.tuple(workerId, jobId).map(([w, j]) => `/api/v1/workers/${w}/jobs/${j}/report`),
      body: reportLike
    }),
    { arbitrary: deepRequest, weight: 2 }
  )

/** Any method on any path under /api/v1, with any body. */
const anything = (known: string) =>
  fc.record({
    method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
    path: path(known),
    body: anyBody
  })

const probe = (known: string): fc.Arbitrary<Probe> =>
  fc.record({
    target: fc.oneof(endpoint(known), anything(known)),
    query,
    contentType,
    authorization
  }).map(({ authorization, contentType, query, target }) => ({
    method: target.method,
    path: target.path + query,
    headers: {
      ...(contentType === undefined ? {} : { "content-type": contentType }),
      ...(authorization === undefined ? {} : { authorization })
    },
    body: target.method === "GET" || target.method === "HEAD" ? undefined : target.body
  }))

describe("ApiServer under random requests", () => {
  it.scopedLive("never answers 5xx, and refused requests change nothing", () =>
    Effect.gen(function*() {
      // The registered worker never sends a heartbeat: it must not go offline by itself (after 30 s of a
      // slow machine's run) between the two snapshots a check compares.
      const server = yield* startServer({ tokens, engine: { config: { maxConcurrentResearches: 3, workerOfflineAfterSeconds: 86_400 } } })
      const operator = yield* server.client(tokens.operator)
      const worker = yield* server.client(tokens.worker)
      // No training worker: researches wait after design, so nothing moves by itself.
      const seeded = yield* operator.agent.trigger({ payload: { brief: "Explore RSI variations" } })
      yield* worker.workers.register({
        payload: {
          id: "gpu-1" as Domain.WorkerId,
          type: "gpu",
          endpoint: "http://10.0.0.7:5005",
          capacity: 1,
          capabilities: {},
          runningJobs: [],
          finishedJobs: []
        }
      })

      const read = async (path: string) => {
        const response = await fetch(`${server.baseUrl}${path}`, { headers: asOperator })
        assert.strictEqual(response.status, 200, path)
        return response.json() as Promise<Record<string, unknown>>
      }
      /** Status, every research and every worker, without the fields that move with the clock. */
      const snapshot = async () => {
        const [status, researches, workers] = await Promise.all([
          read("/api/v1/agent/status"),
          read("/api/v1/agent/researches?limit=500"),
          read("/api/v1/workers")
        ])
        const active = (status["active"] as Array<Record<string, unknown>>).map(
          ({ elapsedSeconds: _, waitingFor, ...rest }) => ({
            ...rest,
            waitingFor: (waitingFor as { workerType?: string } | null)?.workerType ?? null
          })
        )
        return JSON.stringify({ status: { ...status, active }, researches, workers })
      }
      /** The state once in-process work started by an accepted request has settled. */
      const settled = async () => {
        let previous = await snapshot()
        for (let i = 0; i < 50; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20))
          const next = await snapshot()
          if (next === previous) return next
          previous = next
        }
        throw new Error("state kept changing")
      }

      let before = yield* Effect.promise(settled)
      const seen = new Map<number, number>()
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(probe(seeded.researchId), async (request) => {
            const response = await fetch(`${server.baseUrl}${request.path}`, {
              method: request.method,
              headers: request.headers,
              ...(request.body === undefined ? {} : { body: request.body })
            })
            await response.arrayBuffer()
            seen.set(response.status, (seen.get(response.status) ?? 0) + 1)
            assert.isBelow(response.status, 500, `${request.method} ${request.path}`)
            if (response.status >= 400) {
              assert.strictEqual(await snapshot(), before, `${response.status} to ${request.method} ${request.path} changed state`)
            } else {
              before = await settled()
            }
          }),
          { numRuns: 400 }
        )
      )
      process.stdout.write(JSON.stringify([...seen].sort()) + "\n")
      // The run reached past authorization and decoding, into the engine.
      for (const status of [200, 400, 401, 403, 404, 413]) assert.isTrue(seen.has(status), `no ${status} seen`)
    }), 180_000)
})
