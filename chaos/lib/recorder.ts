/**
 * Every HTTP answer the coordinators give during a scenario (to the runner,
 * to the workers through the proxy, to the fuzzer), with the database outage
 * windows, so 5xx answers can be judged: a 503 while the database is down (or
 * within a short grace after it is back) is expected; any other 5xx is a
 * failure, and so is a 503 outside an outage.
 *
 * It also records every request that got no answer at all (the connection
 * refused by every coordinator, reset, or closed, or no answer in time), with
 * the windows in which a coordinator was down because we killed it: silence
 * from a coordinator we killed (or, for a refused connection, while any was
 * down) is expected; any other is a failure (`unanswered`).
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
  /** The coordinator's port (a down window); undefined for a database outage. */
  readonly port?: number | undefined
}

/** A request that got no answer. */
export interface Silence {
  readonly at: number
  readonly endAt: number
  /** Who asked: operator (the runner), worker (through the proxy), fuzz. */
  readonly source: string
  readonly route: string
  /**
   * refused: no coordinator took the connection; reset: the connection broke
   * (reset, or closed without an answer); timeout: no answer in time.
   */
  readonly why: "refused" | "reset" | "timeout"
  /** The coordinator that went silent (undefined: none took the connection). */
  readonly port?: number | undefined
  readonly note?: string | undefined
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
  readonly silences: Array<Silence> = []
  /** Coordinators down because we killed them: from the kill until the new process answers. */
  readonly downs: Array<Window> = []
  /** By job id: when a worker's final report of it (its result or failure) was first accepted (a 2xx answer). */
  readonly reportsAccepted = new Map<string, number>()
  /** Time after an outage ends during which 503s are still expected (pools reconnecting). */
  constructor(readonly graceMs = 3_000) {}

  record(answer: Answer): void {
    this.answers.push(answer)
  }

  /** Notes a worker's report of `jobId` accepted at `at` (the first one counts). */
  reportAccepted(jobId: string, at: number): void {
    if (!this.reportsAccepted.has(jobId)) this.reportsAccepted.set(jobId, at)
  }

  /** Opens an outage window; call the answer to close it. */
  outage(why: string): () => void {
    const window: Window = { from: Date.now(), to: Number.POSITIVE_INFINITY, why }
    this.outages.push(window)
    return () => {
      window.to = Date.now()
    }
  }

  /** Records a request that got no answer. */
  silence(silence: Silence): void {
    this.silences.push(silence)
  }

  /** Opens a window in which the coordinator on `port` is down because we killed it; call the answer to close it. */
  down(why: string, port: number): () => void {
    const window: Window = { from: Date.now(), to: Number.POSITIVE_INFINITY, why, port }
    this.downs.push(window)
    return () => {
      window.to = Date.now()
    }
  }

  /**
   * The silences that count as failures, and those explained by a coordinator
   * we killed: a connection that broke or timed out on a coordinator while it
   * was down (the request overlapped the window, give or take half a second), or one refused by every
   * coordinator while any was down. A database outage explains no silence: a
   * coordinator must answer (503) while its database is away.
   */
  judgeSilences(): { readonly bad: ReadonlyArray<Silence>; readonly expected: number } {
    const bad: Array<Silence> = []
    let expected = 0
    for (const s of this.silences) {
      const explained = this.downs.some((w) =>
        (s.port === undefined || w.port === s.port) && s.endAt >= w.from - 100 && s.at <= w.to + 500
      )
      if (explained) expected++
      else bad.push(s)
    }
    return { bad, expected }
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
