/**
 * coordinator-kill: the coordinator is SIGKILLed at random moments (a third
 * while starting, the rest 0.3–4.5 s after it answers again: ticking,
 * committing, dispatching, answering) and started again at once on the same
 * port and database, while researches are triggered. Workers
 * keep running their jobs and register again with them.
 */
import { sleep } from "../lib/wait.js"
import { pythonWorkers, rngFor, type Scenario, standardWorkers, withLab } from "./common.js"

export const coordinatorKill: Scenario = {
  name: "coordinator-kill",
  description: "SIGKILL the coordinator at random moments (start it again at once) while researches are triggered",
  trials: { short: 10, long: 60 },
  // A third of the kills come before the coordinator answers again: about 1.3 researches went in per kill
  // (13 for 10) when every kill was timed from the start.
  floor: (trials) => Math.ceil(trials / 2),
  run: (context) =>
    withLab(context, { coordinators: 1, workers: [...standardWorkers, ...pythonWorkers], jobMs: "200-1500" }, async (lab, workload, facts) => {
      const faults = rngFor(context, "faults")
      workload.startStream(250, 1_000)
      let uptime = 0
      for (let kill = 1; kill <= context.trials; kill++) {
        // A third of the kills land during start-up and recovery (timed from the start); the rest on a
        // coordinator that answers, timed from then: from the start alone, a machine slow to start the
        // process left it few moments to serve, and the floor measured the machine, not the coordinator.
        const duringStartUp = faults.chance(1 / 3)
        if (!duringStartUp) await lab.waitCoordinator(0)
        const delay = faults.float(300, 4_500)
        await sleep(delay)
        uptime += delay
        await lab.killCoordinator(0)
        lab.startCoordinator(0)
      }
      await lab.waitCoordinator(0)
      await workload.stopStream()
      facts.push(`${context.trials} kills, ${(uptime / context.trials / 1000).toFixed(1)} s after the start or the first answer on average`)
      return { trials: context.trials }
    })
}
