/**
 * Every HTTP answer the coordinators give during a scenario (to the runner,
 * to the workers through the proxy, to the fuzzer), with the database outage
 * windows, so 5xx answers can be judged: a 503 while the database is down (or
 * within a short grace after it is back) is expected; any other 5xx is a
 * failure, and so is a 503 outside an outage.
 */

export interface Answer {
  readonly at: number
  readonly endAt: number
  readonly status: number
  /** Who asked: operator (the runner), worker (through the proxy), fuzz. */
  readonly source: string
  /** Method and route, ids replaced by `{id}`. */
  readonly route: string
  /** A short description of the request (fuzz: what was malformed). */
  readonly note?: string | undefined
}

export interface Window {
  readonly from: number
  to: number
  readonly why: string
}

/** Turns a path into a route: ids and long segments become `{id}`, the query is dropped. */
export const routeOf = (method: string, path: string): string => {
  const bare = path.split("?")[0] ?? ""
  const parts = bare.split("/").map((part, i) =>
    i > 3 && (/^(op|job)_/.test(part) || /\d/.test(part) || part.length > 24) ? "{id}" : part.slice(0, 40)
  )
  return `${method} ${parts.join("/")}`
}

export class Recorder {
  readonly answers: Array<Answer> = []
  readonly outages: Array<Window> = []
  /** Time after an outage ends during which 503s are still expected (pools reconnecting). */
  constructor(readonly graceMs = 3_000) {}

  record(answer: Answer): void {
    this.answers.push(answer)
  }

  /** Opens an outage window; call the answer to close it. */
  outage(why: string): () => void {
    const window: Window = { from: Date.now(), to: Number.POSITIVE_INFINITY, why }
    this.outages.push(window)
    return () => {
      window.to = Date.now()
    }
  }

  private inOutage(answer: Answer): boolean {
    return this.outages.some((w) => answer.endAt >= w.from && answer.at <= w.to + this.graceMs)
  }

  /** The 5xx answers that count as failures, and the 503s that were expected. */
  judge(): { readonly bad: ReadonlyArray<Answer>; readonly expected503: number; readonly statuses: ReadonlyMap<number, number> } {
    const bad: Array<Answer> = []
    let expected503 = 0
    const statuses = new Map<number, number>()
    for (const answer of this.answers) {
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      if (answer.status < 500) continue
      if (answer.status === 503 && this.inOutage(answer)) expected503++
      else bad.push(answer)
    }
    return { bad, expected503, statuses }
  }
}
