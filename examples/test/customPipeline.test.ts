/**
 * A lab's own pipeline, simulated with its own invariants: design, then
 * labelling on a worker type of its own, then training. docs/simulation.md
 * walks through this file and quotes it (the last test checks the quotes).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulation } from "@foreman/adapter-memory"
import { Pipeline } from "@foreman/core"
import { Effect, Random } from "effect"
import { readFileSync } from "node:fs"

// The pipeline: the research pipeline's design, then labelling, then training, which ends it.
const research = Pipeline.research.phases
const labelled: Pipeline.PipelineShape = {
  initialPhase: () => "designing",
  phases: {
    designing: {
      ...research["designing"]!,
      onResult: (r, result, gates) => {
        const designed = research["designing"]!.onResult(r, result, gates)
        return designed._tag === "Next" ? { ...designed, phase: "labelling" } : designed
      }
    },
    labelling: {
      phase: "labelling",
      kind: "labelling",
      progress: 0.3,
      runner: { _tag: "Worker", workerType: "labelling" },
      input: (r) => ({ strategy: r.strategy }),
      onResult: (r, result) => ({
        _tag: "Next",
        phase: "training",
        research: { ...r, results: { ...r.results, labelling: result } }
      })
    },
    training: {
      ...research["training"]!,
      progress: 0.6,
      onResult: (r, result) => ({ _tag: "Done", research: { ...r, results: { ...r.results, training: result } } })
    }
  }
}

// Invariants: functions of the world after each step, answering what they see broken.
const invariants: Record<string, Simulation.Invariant> = {
  "labelled before trained": ({ researches }) =>
    researches
      .filter((r) => r.results["training"] !== undefined && r.results["labelling"] === undefined)
      .map((r) => `${r.id} was trained on unlabelled data`),
  "no research waits 15 minutes for labelling": ({ now, researches }) =>
    researches
      .filter((r) => r.waitingFor?.workerType === "labelling" && now - r.waitingFor.since > 15 * 60_000)
      .map((r) => `${r.id} has waited for a labelling worker since ${new Date(r.waitingFor!.since).toISOString()}`)
}

// The lab: its workers, its arrivals, how long its jobs take.
const lab = (labellingWorkers: number, perHour: number): Simulation.SimulationInput => ({
  seed: 7,
  researches: 16,
  pipeline: labelled,
  workers: { labelling: labellingWorkers, training: 2 },
  arrivals: Simulation.Arrivals.poisson(perHour),
  jobs: {
    labelling: { duration: Simulation.Durations.lognormal(240, 0.5), failureRate: 0 },
    training: { duration: Simulation.Durations.empirical([420, 480, 610, 530, 900]) }
  },
  results: { labelling: () => Effect.map(Random.nextIntBetween(1000, 5000), (rows) => ({ rows })) },
  llmCost: Simulation.LlmCosts.fixed(0.01),
  dailyBudgetUsd: 0,
  maxConcurrentResearches: 10,
  invariants
})

describe("a custom pipeline under simulation", () => {
  it.effect("runs every research through design, labelling and training with every invariant held", () =>
    Effect.gen(function*() {
      const report = yield* Simulation.run(lab(2, 6))
      assert.deepStrictEqual(report.invariantViolations, [])
      assert.strictEqual(report.outcomes.completed, 16)
      assert.isTrue(report.utilisation["labelling"]! > 0)
      // One design call a research, at a fixed $0.01.
      assert.closeTo(report.spentUsd, 0.16, 1e-9)
    }))

  it.effect("reports a broken invariant, and the run replays from its seed", () =>
    Effect.gen(function*() {
      // One labelling worker and twice the arrivals: the line for labelling grows past 15 minutes.
      const report = yield* Simulation.run(lab(1, 12))
      const late = report.invariantViolations.filter((v) => v.startsWith("no research waits 15 minutes for labelling: "))
      assert.isAbove(late.length, 0)
      assert.deepStrictEqual(report.invariantViolations, late, "the other invariants hold")
      assert.isAbove(report.maxWaitSeconds["labelling"]!, 15 * 60)
      assert.deepStrictEqual(yield* Simulation.run(lab(1, 12)), report)
    }))

  it("docs/simulation.md quotes this file as it is", () => {
    const doc = readFileSync(new URL("../../docs/simulation.md", import.meta.url), "utf8")
    const source = readFileSync(new URL(import.meta.url), "utf8")
    const quoted = [...doc.matchAll(/<!-- quoted from examples\/test\/customPipeline\.test\.ts -->\n```ts\n([\s\S]*?)```/g)]
    assert.isAbove(quoted.length, 0)
    for (const [, block] of quoted) assert.include(source, block!, "a quote in docs/simulation.md")
  })
})
