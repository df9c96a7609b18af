/**
 * The chaos run's worker function, loaded by `foreman worker --module` (plain
 * JavaScript: a TypeScript module would load through tsx, which adds a second
 * and a half to every worker start on a busy machine). Fast fake work that
 * never fails on its own: it sleeps a time drawn from the job id and the run's
 * seed (CHAOS_JOB_MS, "min-max" milliseconds), reports progress half way, and
 * returns a valid TrainingResult or BacktestResult.
 *
 * Whether a result passes its gate is decided by the research's brief
 * (`training:fail`, `backtest:fail`), so gate outcomes are deterministic and
 * never depend on the infrastructure. The training result carries the brief's
 * backtest verdict on to the backtest job (`chaosBacktest`).
 *
 * Every start and finish is appended to CHAOS_STARTS_FILE, one line each
 * (`start|done jobId researchId kind workerId pid attempt time`), with a
 * synchronous write that survives a SIGKILL of this process, so the runner can
 * count how many times each job started.
 */
import { Duration, Effect } from "effect"
import { appendFileSync } from "node:fs"

const startsFile = process.env["CHAOS_STARTS_FILE"]
const seed = process.env["CHAOS_SEED"] ?? "0"
const [minMs, maxMs] = (process.env["CHAOS_JOB_MS"] ?? "200-1500").split("-").map(Number)

/** @param {string} text */
const hash = (text) => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

/**
 * @param {"start" | "done"} event
 * @param {{ jobId: string, researchId: string, kind: string }} job
 * @param {{ workerId: string, attempt: number }} ctx
 */
const record = (event, job, ctx) => {
  if (startsFile === undefined) return
  appendFileSync(
    startsFile,
    `${event} ${job.jobId} ${job.researchId} ${job.kind} ${ctx.workerId} ${process.pid} ${ctx.attempt} ${Date.now()}\n`
  )
}

/** @param {unknown} value @param {string} key */
const field = (value, key) => (typeof value === "object" && value !== null ? /** @type {Record<string, unknown>} */ (value)[key] : undefined)

/** @param {unknown} input */
const trainingResult = (input) => {
  const brief = String(field(input, "brief") ?? "")
  const pass = !brief.includes("training:fail")
  return {
    testAccuracy: pass ? 0.62 : 0.04,
    testLoss: 0.41,
    epochLosses: [0.9, 0.6, 0.45],
    chaosBacktest: brief.includes("backtest:fail") ? "fail" : "pass"
  }
}

/** @param {unknown} input */
const backtestResult = (input) => {
  const pass = field(field(input, "training"), "chaosBacktest") !== "fail"
  return {
    sharpeRatio: pass ? 1.3 : -2,
    winRate: 0.55,
    totalReturn: 0.12,
    totalTrades: 40,
    maxDrawdown: 0.1,
    netReturn: 0.11,
    tradeCount: 40
  }
}

/**
 * @param {{ jobId: string, researchId: string, kind: string, attempt: number, input: unknown }} job
 * @param {{ workerId: string, attempt: number, progress: (fraction: number, message?: string) => Effect.Effect<void> }} ctx
 */
export default (job, ctx) =>
  Effect.gen(function*() {
    record("start", job, ctx)
    const ms = minMs + (hash(`${seed}:${job.jobId}`) % Math.max(1, maxMs - minMs + 1))
    yield* Effect.sleep(Duration.millis(ms / 2))
    yield* ctx.progress(0.5, "half way")
    yield* Effect.sleep(Duration.millis(ms / 2))
    const result = job.kind === "backtest" ? backtestResult(job.input) : trainingResult(job.input)
    record("done", job, ctx)
    return result
  })
