/**
 * register-storm: two workers (one training, one backtest) register again
 * every 30–150 ms while 30 researches queue for them. The re-registrations are
 * the real `WorkerHost`'s: the proxy answers a worker's heartbeat with 404
 * `WorkerNotFound` when its next re-registration is due, so the worker
 * registers at once with the jobs it runs and handles the answer itself.
 * Researches must all finish, none failed and none repeated.
 */
import { secs } from "../lib/wait.js"
import type { Rng } from "../lib/rng.js"
import { settle } from "../lib/measure.js"
import { rngFor, type Scenario, withLab } from "./common.js"

const workers = [
  { id: "training-1", type: "training" },
  { id: "backtest-1", type: "backtest" }
] as const

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

export const registerStorm: Scenario = {
  name: "register-storm",
  description: "two workers re-register every 30-150 ms while 30 researches wait for them",
  trials: { short: 2, long: 6 },
  // 30 researches a round.
  floor: (trials) => 25 * trials,
  run: (context) =>
    withLab(context, {
      coordinators: 1,
      workers,
      jobMs: "100-400",
      // Heartbeats every 20 ms, so a 404 can come whenever a re-registration is due.
      workerEnv: { FOREMAN_HEARTBEAT_INTERVAL_SECONDS: "0.02" }
    }, async (lab, workload, facts) => {
      const storm: Rng = rngFor(context, "storm")
      const due = new Map<string, number>()
      lab.proxy.intercept = (method, path) => {
        const match = /^\/api\/v1\/workers\/([^/]+)\/heartbeat$/.exec(path)
        if (method !== "POST" || match === null) return { _tag: "Pass" }
        const id = decodeURIComponent(match[1]!)
        const now = Date.now()
        if (now < (due.get(id) ?? 0)) return { _tag: "Pass" }
        due.set(id, now + storm.int(30, 150))
        return { _tag: "Answer", status: 404, body: { _tag: "WorkerNotFound", workerId: id, message: `Worker not found: ${id}` } }
      }
      const rounds: Array<string> = []
      for (let round = 1; round <= context.trials; round++) {
        const began = Date.now()
        await workload.burst(30, 10)
        await settle(lab, workload, undefined, context.settleMs)
        rounds.push(secs(Date.now() - began))
      }
      lab.proxy.intercept = undefined
      const counts = Array.from(lab.proxy.registrations, ([id, times]) => {
        const gaps = times.slice(1).map((t, i) => t - times[i]!)
        return `${id} ${times.length} (median gap ${median(gaps)} ms)`
      })
      facts.push(`${context.trials} rounds of 30 researches (${rounds.join(", ")}); registrations: ${counts.join(", ")}`)
      return { trials: context.trials }
    })
}
