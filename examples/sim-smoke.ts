import { Effect } from "effect"
import { Simulation } from "@foreman/adapter-memory"
const input = JSON.parse(process.argv[2] ?? "{}")
for (let i = 0; i < 2; i++) {
  const t0 = performance.now()
  const report = await Effect.runPromise(Simulation.run(input))
  console.log(JSON.stringify({ ...report, invariantViolations: report.invariantViolations.slice(0, 8) }))
  console.log("wall ms", performance.now() - t0)
}
