/**
 * postgres-restart: PostgreSQL is restarted under a running lab, alternately
 * with a fast shutdown (SIGINT, as `pg_ctl restart -m fast`) and with a
 * SIGKILL of the postmaster (crash recovery on start), in a seeded order, plus
 * one longer outage (15 s in the long run). 503 answers while the database is
 * down are expected; nothing may be lost, repeated or left behind.
 */
import type { StopMode } from "../lib/postgres.js"
import { secs, sleep } from "../lib/wait.js"
import { rngFor, type Scenario, standardWorkers, withLab } from "./common.js"

export const postgresRestart: Scenario = {
  name: "postgres-restart",
  description: "restart PostgreSQL (fast, and kill -9 of the postmaster) and one long outage, while researches run",
  trials: { short: 5, long: 15 },
  // About seven triggers go in per restart.
  floor: (trials) => 2 * trials,
  needsOwnPostgres: true,
  run: (context) =>
    withLab(context, { coordinators: 1, workers: standardWorkers, jobMs: "200-1500" }, async (lab, workload, facts) => {
      const cluster = context.cluster!
      const faults = rngFor(context, "faults")
      const outageMs = context.mode === "long" ? 15_000 : 5_000
      // The long outage comes somewhere in the second half; the others alternate in a seeded order.
      const outageAt = faults.int(Math.ceil(context.trials / 2), context.trials)
      const first: StopMode = faults.chance(0.5) ? "fast" : "kill9"
      workload.startStream(150, 700)
      const downs: Array<string> = []
      for (let trial = 1; trial <= context.trials; trial++) {
        await sleep(faults.float(1_500, 4_500))
        const mode: StopMode = trial === outageAt ? faults.pick(["fast", "kill9"] as const) : trial % 2 === 1 ? first : first === "fast" ? "kill9" : "fast"
        const downMs = trial === outageAt ? outageMs : 0
        const began = Date.now()
        const ended = lab.recorder.outage(`postgres ${mode}`)
        await cluster.restart(mode, downMs)
        ended()
        downs.push(`${mode}${downMs > 0 ? ` + ${downMs / 1000} s outage` : ""} (${secs(Date.now() - began)} down)`)
      }
      await sleep(faults.float(1_000, 3_000))
      await workload.stopStream()
      facts.push(`${context.trials} restarts: ${downs.join(", ")}`)
      return { trials: context.trials }
    })
}
