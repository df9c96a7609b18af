/**
 * The settings of a `Simulation` run and their defaults, in a module of their
 * own so that a caller can read them (the CLI's option descriptions) without
 * loading the simulator. `Simulation` re-exports everything here.
 */
export interface Faults {
  /** Probability that a worker job fails by itself. */
  readonly jobFailure: number
  /** Probability that a worker crashes while running a job (it comes back after `workerDowntimeSeconds`). */
  readonly workerCrash: number
  /** Probability, every 10 simulated minutes, that the coordinator is killed and restarted. */
  readonly coordinatorRestart: number
  /** Probability that one dispatch to a worker fails as if the network dropped it. */
  readonly dispatchFailure: number
  /** Probability that the operator cancels an accepted research within its first hour. */
  readonly cancel: number
}

export interface SimulationOptions {
  readonly seed: number
  readonly researches: number
  readonly arrivalEverySeconds: number
  readonly workers: { readonly training: number; readonly backtest: number }
  readonly phaseSeconds: {
    readonly design: number
    readonly training: number
    readonly backtest: number
    readonly assessment: number
  }
  readonly faults: Faults
  /** 0 means unlimited. */
  readonly dailyBudgetUsd: number
  readonly horizonSeconds: number
  readonly pollIntervalSeconds: number
  /** How long the head of the operator's line waits before trying a refused trigger again. */
  readonly retryTriggerEverySeconds: number
  readonly workerDowntimeSeconds: number
  /** 0 derives the limit from the workers. */
  readonly maxConcurrentResearches: number
  /**
   * How the simulated workers get their jobs: `push` (sent to them; the default,
   * whose traces earlier runs replay) or `pull` (they poll, as
   * docs/worker-protocol.md describes).
   */
  readonly workerProtocol: "push" | "pull"
}

export type SimulationInput = Partial<Omit<SimulationOptions, "workers" | "phaseSeconds" | "faults">> & {
  readonly workers?: Partial<SimulationOptions["workers"]>
  readonly phaseSeconds?: Partial<SimulationOptions["phaseSeconds"]>
  readonly faults?: Partial<Faults>
}

/** The settings of a run that is given none. */
export const defaults: SimulationOptions = {
  seed: 1,
  researches: 20,
  arrivalEverySeconds: 120,
  workers: { training: 2, backtest: 1 },
  phaseSeconds: { design: 30, training: 600, backtest: 300, assessment: 20 },
  faults: { jobFailure: 0, workerCrash: 0, coordinatorRestart: 0, dispatchFailure: 0, cancel: 0 },
  dailyBudgetUsd: 5,
  horizonSeconds: 86_400,
  pollIntervalSeconds: 2,
  retryTriggerEverySeconds: 60,
  workerDowntimeSeconds: 120,
  maxConcurrentResearches: 0,
  workerProtocol: "push"
}

/** `input` completed from `defaults` (nested settings key by key). */
export const withDefaults = (input: SimulationInput = {}): SimulationOptions => ({
  ...defaults,
  ...input,
  workers: { ...defaults.workers, ...input.workers },
  phaseSeconds: { ...defaults.phaseSeconds, ...input.phaseSeconds },
  faults: { ...defaults.faults, ...input.faults }
})
