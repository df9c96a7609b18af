/**
 * The simulation's referee: follows the coordinator's event stream and the
 * workers' state, folds every event into a trace hash, and records a message
 * for each broken invariant.
 */
import { type CoordinatorEvents, Domain } from "@foreman/core"

type Event = CoordinatorEvents.CoordinatorEvent

/** The kinds of event folded into the trace. */
const traced = new Set<Event["_tag"]>(["Triggered", "Refused", "Transition", "JobStarted"])

/** 53-bit string hash (cyrb53), folded event by event. */
const cyrb53 = (text: string, h1: number, h2: number): [number, number] => {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return [h1 >>> 0, h2 >>> 0]
}

interface Tracked {
  status: Domain.ResearchStatus
  waiting: { readonly workerType: string; readonly since: number } | null
  forced: boolean
  terminalEvents: number
}

export class Referee {
  readonly violations: Array<string> = []
  readonly refusals = { capacity: 0, budget: 0 }
  readonly maxWaitSeconds: Record<string, number> = {}
  /** Every finished wait for a worker, in seconds, by worker type. */
  readonly waitSamples: Record<string, Array<number>> = {}
  events = 0
  private h1 = 0xdeadbeef
  private h2 = 0x41c6ce57
  private readonly researches = new Map<string, Tracked>()
  /** Researches waiting for a worker, by id. */
  private readonly waiting = new Map<string, { readonly workerType: string; readonly since: number }>()
  private active = 0
  /** Bumped whenever the set of waiting researches changes (the worker check depends on it). */
  waitingChanges = 0

  /** Researches triggered and not yet ended, by the events. */
  get activeCount(): number {
    return this.active
  }

  get traceHash(): string {
    return this.h2.toString(16).padStart(8, "0") + this.h1.toString(16).padStart(8, "0")
  }

  private violate(message: string): void {
    if (this.violations.length < 100) this.violations.push(message)
  }

  /** Folds one step's events (all at one simulated moment) and checks them. */
  observe(events: ReadonlyArray<Event>): void {
    const started: Array<Extract<Event, { _tag: "JobStarted" }>> = []
    for (const event of events) {
      // The trace is the coordinator's decisions; reports, worker changes and charges follow from them.
      if (!traced.has(event._tag)) continue
      this.events++
      ;[this.h1, this.h2] = cyrb53(JSON.stringify(event), this.h1, this.h2)
      switch (event._tag) {
        case "Refused":
          this.refusals[event.reason]++
          break
        case "Triggered": {
          if (!event.forced && this.active >= event.limit) {
            this.violate(`${event.researchId} accepted with ${this.active} active, limit ${event.limit}`)
          }
          this.researches.set(event.researchId, { status: "pending", waiting: null, forced: event.forced, terminalEvents: 0 })
          this.active++
          break
        }
        case "Transition": {
          const r = this.researches.get(event.researchId)
          if (r === undefined) {
            this.violate(`${event.researchId} moved without being triggered`)
            break
          }
          if (Domain.isTerminalStatus(r.status)) {
            this.violate(`${event.researchId} left terminal status ${r.status} for ${event.status}`)
          }
          if (Domain.isTerminalStatus(event.status)) {
            r.terminalEvents++
            if (!Domain.isTerminalStatus(r.status)) this.active--
          }
          r.status = event.status
          r.waiting = event.waitingFor
          if (r.waiting === null || Domain.isTerminalStatus(r.status)) {
            if (this.waiting.delete(event.researchId)) this.waitingChanges++
          } else {
            this.waiting.set(event.researchId, r.waiting)
            this.waitingChanges++
          }
          break
        }
        case "JobStarted": {
          const r = this.researches.get(event.researchId)
          if (r !== undefined) r.waiting = null
          if (this.waiting.delete(event.researchId)) this.waitingChanges++
          if (event.workerType !== null) {
            started.push(event)
            const waited = (event.at - event.queuedSince) / 1000
            this.maxWaitSeconds[event.workerType] = Math.max(this.maxWaitSeconds[event.workerType] ?? 0, waited)
            ;(this.waitSamples[event.workerType] ??= []).push(waited)
          }
          break
        }
      }
    }
    // First come, first served: nobody still waiting was queued before one who got a worker.
    for (const s of started) {
      for (const [id, w] of this.waiting) {
        if (w.workerType === s.workerType && w.since < s.queuedSince) {
          this.violate(`${id} (waiting since ${w.since}) was passed over by ${s.researchId} (since ${s.queuedSince})`)
        }
      }
    }
  }

  /** The longest wait per worker type in seconds, counting the waits still open at `at` up to `at`. */
  longestWaits(at: number): Record<string, number> {
    const longest = { ...this.maxWaitSeconds }
    for (const w of this.waiting.values()) {
      longest[w.workerType] = Math.max(longest[w.workerType] ?? 0, (at - w.since) / 1000)
    }
    return longest
  }

  /** The waits still open at `at`, counted up to `at`, in seconds, by worker type. */
  openWaits(at: number): Record<string, Array<number>> {
    const open: Record<string, Array<number>> = {}
    for (const w of this.waiting.values()) (open[w.workerType] ??= []).push((at - w.since) / 1000)
    return open
  }

  /** Checks the workers as they stand after a step. */
  checkWorkers(workers: ReadonlyArray<Domain.Worker>, at: number): void {
    const holders = new Map<string, string>()
    const free = new Set<string>()
    for (const w of workers) {
      if (w.currentJobs.length > w.capacity) {
        this.violate(`${w.id} holds ${w.currentJobs.length} jobs beyond its capacity ${w.capacity}`)
      }
      for (const job of w.currentJobs) {
        const other = holders.get(job)
        if (other !== undefined) this.violate(`${job} held by both ${other} and ${w.id}`)
        holders.set(job, w.id)
      }
      if (Domain.hasFreeSlot(w, at)) free.add(w.type)
    }
    if (free.size === 0) return
    for (const [id, w] of this.waiting) {
      if (free.has(w.workerType)) {
        this.violate(`at ${at}: ${id} waits for ${w.workerType} while one is free`)
        return
      }
    }
  }

  /** Final accounting: every triggered research ended once or is still progressing. */
  checkEnd(researches: ReadonlyArray<Domain.Research>): void {
    for (const [id, r] of this.researches) {
      if (r.terminalEvents > 1) this.violate(`${id} ended ${r.terminalEvents} times`)
    }
    for (const r of researches) {
      const tracked = this.researches.get(r.id)
      if (tracked === undefined) this.violate(`${r.id} exists but was never triggered`)
      else if (tracked.status !== r.status) this.violate(`${r.id} is ${r.status} but its events say ${tracked.status}`)
      const progressing = Domain.isTerminalStatus(r.status) || r.activeJobId !== null || r.waitingFor !== null ||
        r.retryAt !== null || r.status === "pending"
      if (!progressing) this.violate(`${r.id} is stuck in ${r.phase}`)
    }
    if (researches.length !== this.researches.size) {
      this.violate(`${this.researches.size} researches triggered but ${researches.length} stored`)
    }
  }
}
