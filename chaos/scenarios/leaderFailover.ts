/**
 * leader-failover: two coordinators on one database; the one that leads (GET
 * /health `leading`) is SIGKILLed again and again and started again as a
 * standby. Workers and the runner reach whichever coordinator answers (the
 * proxy tries them in a random order). Each time, the other must take over.
 *
 * Two coordinators that both say they lead, for a moment, is by design (a
 * deposed leader learns it lost the lease at its next keep-alive, and its
 * epoch fences its writes meanwhile), so it is only noted; what counts is in
 * the verdict's stale-epoch figure, from the rows: a job written by an epoch
 * already superseded, or run on a worker with no row behind it.
 */
import { secs, sleep, until } from "../lib/wait.js"
import { rngFor, type Scenario, standardWorkers, withLab } from "./common.js"

export const leaderFailover: Scenario = {
  name: "leader-failover",
  description: "two coordinators on one database, the leader SIGKILLed repeatedly",
  trials: { short: 5, long: 25 },
  // About three triggers go in between two kills.
  floor: (trials) => trials,
  run: (context) => {
    const routing = rngFor(context, "routing")
    return withLab(context, {
      coordinators: 2,
      workers: standardWorkers,
      jobMs: "200-1500",
      backendOrder: (ports) => routing.shuffle(ports)
    }, async (lab, workload, facts) => {
      const faults = rngFor(context, "faults")
      let bothLeading = 0
      const findLeader = () =>
        until("a coordinator to lead", async () => {
          const leading = await Promise.all([0, 1].map((i) => lab.leading(i)))
          const leaders = leading.flatMap((l, i) => (l === true ? [i] : []))
          if (leaders.length > 1) bothLeading++
          return leaders.length === 1 ? leaders[0]! : undefined
        }, { timeoutMs: 60_000, everyMs: 50 })
      const failovers: Array<number> = []
      workload.startStream(250, 1_000)
      let leader = await findLeader()
      for (let kill = 1; kill <= context.trials; kill++) {
        await sleep(faults.float(1_500, 4_500))
        const killedAt = Date.now()
        await lab.killCoordinator(leader)
        lab.startCoordinator(leader)
        const next = await findLeader()
        failovers.push(Date.now() - killedAt)
        leader = next
      }
      await Promise.all([0, 1].map((i) => lab.waitCoordinator(i)))
      await workload.stopStream()
      const worst = Math.max(...failovers)
      const average = failovers.reduce((a, b) => a + b, 0) / Math.max(1, failovers.length)
      facts.push(`${context.trials} leader kills; a new leader after ${secs(average)} on average, ${secs(worst)} at worst`)
      if (bothLeading > 0) facts.push(`note: both coordinators said leading=true at once in ${bothLeading} sample(s) (by design for a moment; writes by a deposed epoch are counted as stale-epoch)`)
      return { trials: context.trials }
    })
  }
}
