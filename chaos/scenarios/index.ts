/** Every scenario, in the order a full run goes through them. */
import type { Scenario } from "./common.js"
import { coordinatorKill } from "./coordinatorKill.js"
import { httpFuzz } from "./httpFuzz.js"
import { leaderFailover } from "./leaderFailover.js"
import { postgresRestart } from "./postgresRestart.js"
import { registerStorm } from "./registerStorm.js"
import { terminateBackends } from "./terminateBackends.js"
import { workerKill } from "./workerKill.js"

export const scenarios: ReadonlyArray<Scenario> = [
  coordinatorKill,
  postgresRestart,
  terminateBackends,
  workerKill,
  registerStorm,
  leaderFailover,
  httpFuzz
]
