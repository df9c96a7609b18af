// `npm run sweep`: the nightly seed sweep, `foreman simulate --seeds 1..10000`
// of 120 researches with every fault on, on all cores (docs/simulation.md,
// "Seed sweeps", has its wall time). Meant for a scheduled machine, not CI.
// Flags after `--` replace the default of the same name and add the others:
// `npm run sweep -- --seeds 1..200 --jobs 1`, `npm run sweep -- --time-budget 60s --min-seeds 50`.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const foreman = fileURLToPath(new URL("../packages/cli/bin/foreman.mjs", import.meta.url))

/** The nightly size; each fault at the rate the simulator's own fault tests use. */
const defaults = [
  ["--seeds", "1..10000"],
  ["--researches", "120"],
  ["--faults", "job-failure=0.05,worker-crash=0.1,coordinator-restart=0.2,dispatch-failure=0.05,cancel=0.1"]
]

const given = process.argv.slice(2)
const named = new Set(given.filter((arg) => arg.startsWith("--")).map((arg) => arg.split("=")[0]))
const args = ["simulate", ...defaults.filter(([flag]) => !named.has(flag)).flat(), ...given]

const child = spawn(process.execPath, [foreman, ...args], { stdio: "inherit" })
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal))
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
