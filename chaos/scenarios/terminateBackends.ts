/**
 * terminate-backends: during each burst of triggers, every connection to the
 * lab's database (the coordinator's pool, its leader-lease connection, its
 * LISTEN connection) is terminated with `pg_terminate_backend`, several times.
 * A 503 within a moment of a termination is expected; nothing may be lost or
 * repeated, and a trigger answered 202 must exist.
 */
import * as Postgres from "../lib/postgres.js"
import { sleep } from "../lib/wait.js"
import { rngFor, type Scenario, standardWorkers, withLab } from "./common.js"

export const terminateBackends: Scenario = {
  name: "terminate-backends",
  description: "pg_terminate_backend of every connection of the coordinator, repeatedly, during bursts of triggers",
  trials: { short: 3, long: 15 },
  // Each burst sends 20-30 triggers.
  floor: (trials) => 15 * trials,
  run: (context) =>
    withLab(context, { coordinators: 1, workers: standardWorkers, jobMs: "200-1200" }, async (lab, workload, facts) => {
      const faults = rngFor(context, "faults")
      const database = new URL(lab.databaseUrl).pathname.slice(1)
      let terminations = 0
      let connections = 0
      for (let burst = 1; burst <= context.trials; burst++) {
        let bursting = true
        const triggers = workload.burst(faults.int(20, 30), 8).finally(() => (bursting = false))
        while (bursting) {
          await sleep(faults.float(50, 400))
          const ended = lab.recorder.outage("pg_terminate_backend")
          connections += await Postgres.terminateBackends(context.adminUrl, database)
          ended()
          terminations++
        }
        await triggers
        await sleep(faults.float(500, 2_000))
      }
      facts.push(`${context.trials} bursts, ${terminations} rounds of pg_terminate_backend, ${connections} connections terminated`)
      return { trials: context.trials }
    })
}
