/** Shared fixtures for the example worker tests: strategies, a fake job context, quick training settings. */
import { Domain } from "@foreman/core"
import type { WorkerHost } from "@foreman/worker"
import { Effect, Ref } from "effect"
import type { TrainingSettings } from "../src/trainingWorker.js"

export const rsiOnEurusd = {
  name: "rsi_test",
  spec: { indicators: [{ name: "rsi", period: 14 }], labelHorizonDays: 5, instrument: "EURUSD", timeframe: "1d" }
}

export const mixOnSpx = {
  name: "mix_test",
  spec: {
    indicators: [{ name: "macd", fast: 12, slow: 26, signal: 9 }, { name: "bollinger", period: 20, stddev: 2 }, {
      name: "momentum",
      period: 20
    }],
    labelHorizonDays: 3,
    instrument: "SPX",
    timeframe: "1d"
  }
}

/** Fewer epochs and units than the defaults, so most tests train in a fraction of a second. */
export const quick: TrainingSettings = { hiddenUnits: 8, epochs: 40, batchSize: 32, learningRate: 0.002, l2: 0.01 }

export const job = (kind: string, input: unknown): Domain.JobSpec => ({
  jobId: Domain.JobId.make("job_test1"),
  researchId: Domain.ResearchId.make("op_test1"),
  kind,
  attempt: 1,
  input
})

/** A job context that records every progress report. */
export const recordingContext = Effect.gen(function*() {
  const reports = yield* Ref.make<ReadonlyArray<{ fraction: number; message: string | undefined }>>([])
  const ctx: WorkerHost.JobContext = {
    workerId: Domain.WorkerId.make("test-worker"),
    attempt: 1,
    device: "slot-0",
    progress: (fraction, message) => Ref.update(reports, (r) => [...r, { fraction, message }])
  }
  return { ctx, reports: Ref.get(reports) }
})

export const noProgress = () => Effect.void
