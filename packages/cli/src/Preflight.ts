/**
 * Pre-flight checks before running research: the worker checks of
 * seeds/worker-preflight.md adapted to Foreman (no containers). Each check
 * passes or fails with a symptom, its likely cause and a cure:
 *
 * 1. the coordinator answers `GET /health` and at least one worker is registered;
 * 2. at least one training and one backtest worker are registered;
 * 3. no worker is in the `error` or `offline` state;
 * 4. every live push worker's endpoint answers its `GET /health` (pull workers have none).
 *
 * A failed first check stops the run: the others need the coordinator and workers.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Domain } from "@foreman/core"
import { Duration, Effect, Either } from "effect"
import type * as Client from "./Client.js"

/** One check's outcome; `detail` is the line after `OK:` or `FAIL:`. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
  /** What the operator would notice if they went ahead. */
  readonly symptom?: string
  readonly cause?: string
  readonly cure?: string
}

export interface Report {
  readonly checks: ReadonlyArray<Check>
  readonly ok: boolean
}

/** The worker types the research pipeline needs. */
export const requiredTypes = ["training", "backtest"] as const

/** How long a worker's health check may take. */
export const endpointTimeout = Duration.seconds(3)

const pass = (name: string, detail: string): Check => ({ name, ok: true, detail })
const fail = (name: string, detail: string, symptom: string, cause: string, cure: string): Check => ({
  name,
  ok: false,
  detail,
  symptom,
  cause,
  cure
})

const count = (workers: ReadonlyArray<Domain.Worker>, type: string) => workers.filter((w) => w.type === type).length

/** Whether `endpoint`'s `/health` answers 2xx in time; the failure reason otherwise. */
const probe = (endpoint: string) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    if (!/^https?:\/\//.test(endpoint)) return Either.left("not an http(s) URL")
    const outcome = yield* http.execute(HttpClientRequest.get(`${endpoint.replace(/\/+$/, "")}/health`)).pipe(
      Effect.timeoutFail({ duration: endpointTimeout, onTimeout: () => `no answer within ${Duration.format(endpointTimeout)}` }),
      Effect.scoped,
      Effect.either
    )
    if (Either.isLeft(outcome)) {
      const error = outcome.left
      return Either.left(typeof error === "string" ? error : error._tag === "RequestError" ? "unreachable" : error.message)
    }
    const status = outcome.right.status
    return status >= 200 && status < 300 ? Either.right(status) : Either.left(`HTTP ${status}`)
  })

const reachable = "coordinator reachable, workers registered"

/** The report when the coordinator cannot be reached (or `--api-url` is unusable): check 1 fails, the rest cannot run. */
export const unreachable = (failure: Client.CommandFailed): Report => ({
  checks: [fail(
    reachable,
    failure.message,
    "Every foreman command fails to connect; no research runs",
    "The coordinator is not running, or --api-url (FOREMAN_API_URL) points elsewhere",
    "Start it with: npx foreman server (or set FOREMAN_API_URL to its address)"
  )],
  ok: false
})

/** What check 4 says when the `probed` endpoints answered, beside `pulling` workers that have none. */
const endpointsAnswered = (probed: number, pulling: number): string => {
  if (probed === 0) return "No worker endpoints to check: every live worker pulls its jobs"
  const answered = probed === 1 ? "The live worker endpoint answers" : `All ${probed} live worker endpoints answer`
  return pulling === 0 ? answered : `${answered}; ${pulling} pull worker${pulling === 1 ? " needs" : "s need"} none`
}

/** Runs the checks against the coordinator behind `client`. */
export const run = (client: Client.Client): Effect.Effect<Report, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const checks: Array<Check> = []
    const done = () => ({ checks, ok: checks.every((c) => c.ok) })

    // 1. coordinator reachable, workers registered
    const health = yield* Effect.either(client.call(client.api.health.health()))
    if (Either.isLeft(health)) return unreachable(health.left)
    const listed = yield* Effect.either(client.call(client.api.workers.list({ urlParams: {} })))
    if (Either.isLeft(listed)) {
      checks.push(fail(
        reachable,
        listed.left.message,
        "The coordinator answers but refuses to list its workers",
        listed.left.hints.join(" ") || "The coordinator answered /health but not the workers list",
        "Check FOREMAN_API_TOKEN (or --token), then run pre-flight again"
      ))
      return done()
    }
    const workers = listed.right
    if (workers.length === 0) {
      checks.push(fail(
        reachable,
        `No workers registered with the coordinator at ${client.apiUrl}`,
        "Researches wait forever for a training worker",
        "Workers are not running, or cannot reach the coordinator (wrong FOREMAN_API_URL or FOREMAN_WORKER_TOKEN)",
        "Start workers: npx foreman worker --type training (and --type backtest), or " +
          "npx foreman server --local-workers training=1,backtest=1; check the worker logs for registration errors"
      ))
      return done()
    }
    checks.push(pass(reachable, `Coordinator at ${client.apiUrl} answers; ${workers.length === 1 ? "1 worker" : `${workers.length} workers`} registered`))

    // 2. both worker types
    const counts = requiredTypes.map((type) => `${type}=${count(workers, type)}`).join(", ")
    const missing = requiredTypes.filter((type) => count(workers, type) === 0)
    checks.push(
      missing.length === 0
        ? pass("worker types", `Both worker types available (${counts})`)
        : fail(
          "worker types",
          `Missing worker type: ${missing.join(" and ")} (${counts})`,
          `Researches wait forever for a ${missing.join(" or ")} worker`,
          `No ${missing.join(" or ")} worker started or registered`,
          missing.map((type) => `npx foreman worker --type ${type}`).join("; ") +
            " (or check that worker's logs for registration errors)"
        )
    )

    // 3. no worker in error or offline
    const unwell = workers.filter((w) => w.status === "error" || w.status === "offline")
    checks.push(
      unwell.length === 0
        ? pass("worker states", `No workers in error or offline state`)
        : fail(
          "worker states",
          `Workers in error or offline state: ${unwell.map((w) => `${w.id} (${w.status})`).join(", ")}`,
          "Fewer workers take jobs; jobs on a vanished worker are retried elsewhere only after a grace period",
          "A worker reported itself unhealthy, crashed, or stopped heartbeating",
          "Check those workers' logs, fix their configuration, and restart them (they register again on start)"
        )
    )

    // 4. live endpoints answer (a pull worker has none: it calls the coordinator)
    const alive = workers.filter((w) => w.status !== "offline")
    const live = alive.filter((w) => !Domain.pulls(w))
    const pulling = alive.length - live.length
    const probes = yield* Effect.forEach(live, (w) => Effect.map(probe(w.endpoint), (r) => [w, r] as const), {
      concurrency: 8
    })
    const silent = probes.flatMap(([w, r]) => (Either.isLeft(r) ? [`${w.id} at ${w.endpoint} (${r.left})`] : []))
    checks.push(
      silent.length === 0
        ? pass("worker endpoints", endpointsAnswered(live.length, pulling))
        : fail(
          "worker endpoints",
          `Worker endpoints do not answer: ${silent.join(", ")}`,
          "Dispatches to those workers fail and their researches retry with backoff",
          "The coordinator cannot dispatch to them: wrong FOREMAN_WORKER_ENDPOINT_URL / FOREMAN_WORKER_PUBLIC_BASE_URL, " +
            "a firewall, or the worker hung",
          "Set the worker's endpoint to an address the coordinator can reach and restart it"
        )
    )
    return done()
  })

/** The human layout: `OK: …` / `FAIL: …` with cause and cure lines, then a verdict. */
export const format = (report: Report): string => {
  const lines = report.checks.flatMap((check) =>
    check.ok
      ? [`OK: ${check.detail}`]
      : [
        `FAIL: ${check.detail}`,
        `  Symptom: ${check.symptom ?? "-"}`,
        `  Cause: ${check.cause ?? "-"}`,
        `  Cure: ${check.cure ?? "-"}`
      ]
  )
  const failed = report.checks.filter((c) => !c.ok).length
  lines.push(report.ok ? "Pre-flight passed" : `Pre-flight failed (${failed} check${failed === 1 ? "" : "s"} failed)`)
  return lines.join("\n")
}
