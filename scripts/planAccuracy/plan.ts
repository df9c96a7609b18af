/**
 * Asks the real `foreman plan` (the bundle under test) to predict a recorded
 * run: `foreman plan --since <run start> --until <run end> --seeds N --workers
 * <what-if> --json --api-url <the run's server>`, its JSON decoded by
 * `verdict.ts`.
 */
import { execFile } from "node:child_process"
import * as Foreman from "../../chaos/lib/foreman.js"
import { decodePlan, type PlanReport } from "./verdict.js"

export interface PlanRequest {
  readonly bundle: string
  readonly apiUrl: string
  /** The window, epoch milliseconds. */
  readonly since: number
  readonly until: number
  readonly seeds: number
  /** The what-if, e.g. `training=+1`; none: the replay alone. */
  readonly workers?: string
}

/** The plan's command line (for the report: it can be run by hand while the server is up). */
export const planArgs = (request: PlanRequest): ReadonlyArray<string> => [
  "plan",
  "--since", new Date(request.since).toISOString(),
  "--until", new Date(request.until).toISOString(),
  "--seeds", String(request.seeds),
  ...(request.workers === undefined ? [] : ["--workers", request.workers]),
  "--json",
  "--api-url", request.apiUrl
]

/** Runs `foreman plan` and decodes its answer; throws with its output when it fails. */
export const runPlan = (request: PlanRequest): Promise<PlanReport> =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, [request.bundle, ...planArgs(request)], {
      cwd: Foreman.repoRoot,
      env: Foreman.childEnv({}),
      maxBuffer: 64 * 1024 * 1024,
      timeout: 15 * 60_000
    }, (error, stdout, stderr) => {
      if (error !== null) {
        const unknown = /unknown command plan/i.test(stderr)
        reject(new Error(
          unknown
            ? `this foreman bundle has no \`plan\` command: rebuild it (npm run build --workspace @foreman/cli)\n${stderr.trim()}`
            : `foreman plan failed (${error.message.split("\n")[0]}):\n${stderr.trim() || stdout.trim()}`
        ))
        return
      }
      try {
        resolve(decodePlan(stdout))
      } catch (decodeError) {
        reject(decodeError)
      }
    })
  })
