/**
 * worker-kill: a worker is SIGKILLed, mostly in the middle of a job, and
 * started again under the same id and port after a moment. Its job must be
 * retried once, elsewhere or on it, and never run twice at once.
 */
import { readFileSync } from "node:fs"
import { sleep } from "../lib/wait.js"
import { pythonWorkers, rngFor, type Scenario, withLab } from "./common.js"

const workers = [
  { id: "training-1", type: "training" },
  { id: "training-2", type: "training" },
  { id: "training-3", type: "training" },
  { id: "backtest-1", type: "backtest" },
  { id: "backtest-2", type: "backtest" },
  ...pythonWorkers
] as const

/** Workers whose current process has started a job it has not finished. */
const busyWorkers = (startsFile: string, pidOf: (id: string) => number | undefined): Array<string> => {
  let text = ""
  try {
    text = readFileSync(startsFile, "utf8")
  } catch {
    return []
  }
  const open = new Map<string, Set<string>>()
  for (const line of text.split("\n")) {
    const [event, jobId, , , workerId, pid] = line.split(" ")
    if (workerId === undefined || Number(pid) !== pidOf(workerId)) continue
    const jobs = open.get(workerId) ?? new Set()
    if (event === "start") jobs.add(jobId!)
    else jobs.delete(jobId!)
    open.set(workerId, jobs)
  }
  return Array.from(open).filter(([, jobs]) => jobs.size > 0).map(([id]) => id).sort()
}

export const workerKill: Scenario = {
  name: "worker-kill",
  description: "SIGKILL a worker mid-job and start it again under the same id",
  trials: { short: 8, long: 60 },
  // About four triggers go in between two kills.
  floor: (trials) => trials,
  run: (context) =>
    withLab(context, { coordinators: 1, workers, jobMs: "400-1500" }, async (lab, workload, facts) => {
      const faults = rngFor(context, "faults")
      workload.startStream(200, 700)
      let midJob = 0
      const restarts: Array<Promise<void>> = []
      for (let kill = 1; kill <= context.trials; kill++) {
        await sleep(faults.float(1_000, 3_000))
        const busy = busyWorkers(lab.startsFile, (id) => lab.workerPid(id)).filter((id) => lab.workerPid(id) !== undefined)
        const up = lab.workerIds.filter((id) => lab.workerPid(id) !== undefined)
        const preferBusy = faults.chance(0.85)
        const victim = preferBusy && busy.length > 0 ? faults.pick(busy) : up.length > 0 ? faults.pick(up) : undefined
        const downMs = faults.float(200, 2_000)
        if (victim === undefined) continue
        if (busy.includes(victim)) midJob++
        await lab.killWorker(victim)
        restarts.push(sleep(downMs).then(() => lab.startWorker(victim)))
      }
      await Promise.all(restarts)
      await lab.waitWorkersRegistered()
      await sleep(faults.float(500, 1_500))
      await workload.stopStream()
      facts.push(`${lab.workerKills.length} worker kills (${midJob} in the middle of a job), each started again under its id`)
      return { trials: lab.workerKills.length }
    })
}
