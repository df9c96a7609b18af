import { availableParallelism } from "node:os"
import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"
import SlowFirstSequencer from "./scripts/slow-first-sequencer.js"

// Most test files wait (on child processes, servers, PostgreSQL) more than they compute: run one more
// file at once than there are cores (vitest's default is one fewer: one at a time on a 2-core box). Twice
// the cores was faster still, but starved vitest's own process: its calls to the workers timed out.
const workers = availableParallelism() + 1

/**
 * Two pools, neither of which loads the modules again for each file (`isolate: false`): loading Effect
 * and the packages anew for each of 134 files cost about 4 s of CPU a file, a third of the run's CPU.
 * - `shared`: files that start no process and no server of their own (the pure core, the memory
 *   adapter, the agents, views and documentation checks), one after another in one worker thread.
 * - `processes`: every other file, in `workers` processes that each run one file at a time. A file
 *   must leave nothing running when it ends (its scopes closed, its children killed), and must not
 *   count on process-wide state being fresh: metrics are per process, so a test reads what a counter
 *   grew by, not its value.
 * A new file runs in `processes` until it is listed here (the simulator's long runs are not: they
 * would hold the one shared thread).
 */
const shared = [
  "packages/core/test/**/*.test.ts",
  "packages/adapter-memory/test/{AgentCalls,Budget,Coordinator,PortContract,PullWorkers,Referee,Reliability,StrategyCatalogue,TriggerIdempotency,UnreachableWorker,WorkerHearing,WorkerRegistry,WorkerStatusContract}.test.ts",
  "packages/agents/test/*.test.ts",
  "packages/adapter-postgres/test/RowDecoding.test.ts",
  "packages/server/test/{DashboardViews,ChartViews,OpenApi}.test.ts",
  "packages/cli/test/{Format,Client,DocCompare,Usage}.test.ts",
  "packages/testing/test/{DocsCoverage,PackageDependencies,PackageGraph,FakeLlm}.test.ts",
  "examples/test/{backtestWorker,designedStrategies,features,syntheticMarket,trainingWorker}.test.ts"
]

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the `source` export condition); other
  // packages as Node resolves them (not by bundlers' `module` condition, whose builds Node cannot always load).
  ssr: { resolve: { conditions: ["source", ...defaultServerConditions.filter((c) => c !== "module")] } },
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    sequence: { sequencer: SlowFirstSequencer },
    // Run once for the whole run, whichever project asks first (see the file).
    globalSetup: ["./scripts/vitest-global-setup.ts"],
    // FOREMAN_TEST_CPU=path: each file appends the CPU it cost, its children's included (see the file).
    setupFiles: process.env["FOREMAN_TEST_CPU"] ? ["./scripts/vitest-cpu-setup.ts"] : [],
    maxWorkers: workers,
    minWorkers: 1,
    poolOptions: {
      threads: { isolate: false, maxThreads: 1, minThreads: 1 },
      // As many processes from start to end: a pool that shrinks while a file still runs fails the run
      // with "Terminating worker thread" and leaves that process behind.
      forks: { isolate: false, minForks: workers, maxForks: workers }
    },
    // Files whose cases run side by side (the docs' scenes, the conformance cases) run three at once.
    maxConcurrency: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: "shared", include: shared, pool: "threads" } },
      {
        extends: true,
        test: {
          name: "processes",
          include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "chaos/test/**/*.test.ts"],
          exclude: shared,
          pool: "forks"
        }
      }
    ]
  }
})
