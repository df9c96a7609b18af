/**
 * The work a scenario asks for: researches triggered through the API as an
 * operator would, each with a brief that names it (`chaos <scenario> <seed>
 * #n`) and its expected gate outcomes. A trigger that gets no answer, or a 5xx,
 * is sent again (same brief, same `Idempotency-Key`) until it is accepted (202)
 * or refused (4xx), as a careful client would; so a research created by an
 * attempt whose answer was lost shows up as a second research with that brief.
 */
import * as Api from "./api.js"
import type { Rng } from "./rng.js"
import { sleep } from "./wait.js"

export interface Trigger {
  readonly index: number
  readonly brief: string
  readonly expectTraining: boolean
  readonly expectBacktest: boolean
  /** The research id of the accepting answer. */
  researchId: string | undefined
  /** The final refusal, if any (status and body). */
  refused: string | undefined
  attempts: number
  /** Attempts that got no answer (the request may have arrived). */
  unanswered: number
  /** Attempts answered 5xx. */
  failed5xx: number
}

export interface WorkloadOptions {
  readonly scenario: string
  readonly seed: number
  readonly apiUrl: () => string
  readonly token?: string | undefined
  readonly rng: Rng
  /** How long one trigger keeps trying. */
  readonly patienceMs?: number
}

const tagOf = (brief: string): string | undefined => /^chaos \S+ \d+ #\d+/.exec(brief)?.[0]

export class Workload {
  readonly triggers: Array<Trigger> = []
  private readonly inFlight = new Set<Promise<void>>()
  private streaming = false
  private streamDone: Promise<void> = Promise.resolve()

  constructor(readonly options: WorkloadOptions) {}

  /** The trigger a brief belongs to (a brief's tag is `chaos <scenario> <seed> #n`). */
  static tag(brief: string): string | undefined {
    return tagOf(brief)
  }

  /** Triggers one research and resolves when it is accepted or refused (or patience runs out). */
  trigger(): Promise<void> {
    const index = this.triggers.length
    const { rng } = this.options
    // One in four fails the training gate (skips the backtest); one in four of the rest fails the backtest gate.
    const expectTraining = !rng.chance(0.25)
    const expectBacktest = !rng.chance(0.25)
    const brief = `chaos ${this.options.scenario} ${this.options.seed} #${index} ` +
      `training:${expectTraining ? "pass" : "fail"} backtest:${expectBacktest ? "pass" : "fail"}`
    const trigger: Trigger = {
      index,
      brief,
      expectTraining,
      expectBacktest,
      researchId: undefined,
      refused: undefined,
      attempts: 0,
      unanswered: 0,
      failed5xx: 0
    }
    this.triggers.push(trigger)
    const run = this.send(trigger)
    this.inFlight.add(run)
    void run.finally(() => this.inFlight.delete(run))
    return run
  }

  private async send(trigger: Trigger): Promise<void> {
    const deadline = Date.now() + (this.options.patienceMs ?? 120_000)
    while (Date.now() < deadline) {
      trigger.attempts++
      try {
        const reply = await Api.call(this.options.apiUrl(), "POST", "/api/v1/agent/trigger", {
          body: { brief: trigger.brief, force: true },
          token: this.options.token,
          headers: { "idempotency-key": `chaos-${this.options.scenario}-${this.options.seed}-${trigger.index}` }
        })
        if (reply.status === 202) {
          trigger.researchId = (reply.json as { researchId?: string }).researchId
          return
        }
        if (reply.status < 500) {
          trigger.refused = `${reply.status} ${reply.text.slice(0, 200)}`
          return
        }
        trigger.failed5xx++
      } catch (error) {
        if (!(error instanceof Api.NetworkError)) throw error
        trigger.unanswered++
      }
      await sleep(250)
    }
    trigger.refused = `gave up after ${trigger.attempts} attempts`
  }

  /** Triggers `count` researches, `concurrency` at a time. */
  async burst(count: number, concurrency = 6): Promise<void> {
    let left = count
    const lane = async () => {
      while (left > 0) {
        left--
        await this.trigger()
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
  }

  /** Triggers in the background, one every `minMs`–`maxMs` (seeded), until `stopStream`; at most 8 waiting at once. */
  startStream(minMs: number, maxMs: number): void {
    this.streaming = true
    this.streamDone = (async () => {
      while (this.streaming) {
        if (this.inFlight.size < 8) void this.trigger()
        await sleep(this.options.rng.int(minMs, maxMs))
      }
    })()
  }

  async stopStream(): Promise<void> {
    this.streaming = false
    await this.streamDone
  }

  /** Waits for every trigger still trying. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(Array.from(this.inFlight))
  }

  get accepted(): ReadonlyArray<Trigger> {
    return this.triggers.filter((t) => t.researchId !== undefined)
  }
}
