/**
 * An HTTP proxy in front of the coordinator(s): the workers and the runner
 * reach the coordinators through it. It records every answer (so 5xx answers
 * to workers are counted too), fails over between several coordinators (the
 * leader-failover scenario: a worker has one URL, whichever replica answers),
 * and closes the client's connection when no coordinator answers, as a refused
 * connection would; every such silence is recorded (refused by every
 * coordinator, reset, or no answer within `answerTimeoutMs`), for the
 * `unanswered` figure. A request sent on a kept-alive connection that the
 * coordinator had closed meanwhile (reset before any answer, on a reused
 * socket: Node's keep-alive race) is sent once more on a fresh connection,
 * since the coordinator never read it. For the register-storm scenario it can answer a worker's
 * heartbeat with 404 `WorkerNotFound` at chosen moments, which makes the real
 * `WorkerHost` register again at once, with its real job list, and handle the
 * answer's `cancel` list itself.
 */
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http"
import type { Recorder } from "./recorder.js"
import { routeOf } from "./recorder.js"

/** A worker's report of a job: `POST /api/v1/workers/{workerId}/jobs/{jobId}/report`. */
const reportPath = /^\/api\/v1\/workers\/[^/]+\/jobs\/([^/?]+)\/report(?:\?|$)/

/** Whether a report's body is a job's final report (its result or failure), not a progress report. */
const isFinalReport = (body: Buffer): boolean => {
  try {
    const tag = (JSON.parse(body.toString("utf8")) as { _tag?: unknown } | null)?._tag
    return tag === "Completed" || tag === "Failed"
  } catch {
    return false
  }
}

export interface ProxyOptions {
  readonly recorder: Recorder
  /** Ports of the coordinators, in the order to try for this request. */
  readonly backends: () => ReadonlyArray<number>
  /** How long a coordinator may take to answer before the request counts as unanswered (default 30 s; pull polls wait 20 s). */
  readonly answerTimeoutMs?: number
}

type Outcome = "answered" | "refused" | "reset" | "timeout"

/** What the interceptor says about a request: pass it on, or answer it here. */
export type Interception = { readonly _tag: "Pass" } | { readonly _tag: "Answer"; readonly status: number; readonly body: unknown }

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "host", "content-length"])

export class Proxy {
  private server: Server | undefined
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 })
  /** Optional hook deciding per request (register-storm). */
  intercept: ((method: string, path: string) => Interception) | undefined = undefined
  /** Registrations passed on, per worker id (register-storm cadence). */
  readonly registrations = new Map<string, Array<number>>()
  port = 0

  constructor(private readonly options: ProxyOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res))
    server.keepAliveTimeout = 5_000
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    this.port = typeof address === "object" && address !== null ? address.port : 0
    this.server = server
  }

  async close(): Promise<void> {
    this.agent.destroy()
    const server = this.server
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now()
    const chunks: Array<Buffer> = []
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer)
    } catch {
      req.socket.destroy()
      return
    }
    const body = Buffer.concat(chunks)
    const method = req.method ?? "GET"
    const path = req.url ?? "/"
    const source = path.includes("/workers") ? "worker" : "operator"
    const interception = this.intercept?.(method, path) ?? { _tag: "Pass" }
    if (interception._tag === "Answer") {
      const text = JSON.stringify(interception.body)
      res.writeHead(interception.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
      res.end(text)
      return
    }
    if (method === "POST" && path === "/api/v1/workers/register") {
      const id = workerIdOf(body)
      if (id !== undefined) this.registrations.set(id, [...(this.registrations.get(id) ?? []), at])
    }
    const headers: Record<string, string | Array<string>> = {}
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined && !hopByHop.has(key)) headers[key] = value
    }
    headers["content-length"] = String(body.length)
    let silent: { why: "refused" | "reset" | "timeout"; port: number | undefined } = { why: "refused", port: undefined }
    for (const port of this.options.backends()) {
      const outcome = await this.forward(port, method, path, headers, body, res)
      if (outcome === "answered") {
        this.options.recorder.record({ at, endAt: Date.now(), status: res.statusCode, source, route: routeOf(method, path) })
        // Only a final report: a process killed after its progress went through but before its result did
        // is rightly offered the job again, which is not a duplicate.
        const reported = method === "POST" && res.statusCode < 300 ? reportPath.exec(path) : null
        if (reported !== null && isFinalReport(body)) this.options.recorder.reportAccepted(decodeURIComponent(reported[1]!), at)
        return
      }
      if (outcome !== "refused") {
        silent = { why: outcome, port }
        break
      }
      // refused: try the next coordinator
    }
    this.options.recorder.silence({ at, endAt: Date.now(), source, route: routeOf(method, path), ...silent })
    req.socket.destroy()
  }

  /** Sends the request to one coordinator and streams its answer back. */
  private forward(
    port: number,
    method: string,
    path: string,
    headers: Record<string, string | Array<string>>,
    body: Buffer,
    res: ServerResponse,
    fresh = false
  ): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false
      let answered = false
      const done = (outcome: Outcome) => {
        if (settled) return
        settled = true
        resolve(outcome)
      }
      const agent = fresh ? false : this.agent
      const upstream = request({ host: "127.0.0.1", port, method, path, headers, agent }, (answer) => {
        answered = true
        const out: Record<string, string | Array<string>> = {}
        for (const [key, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !hopByHop.has(key)) out[key] = value
        }
        const chunks: Array<Buffer> = []
        answer.on("data", (chunk: Buffer) => chunks.push(chunk))
        answer.on("error", () => done("reset"))
        answer.on("end", () => {
          const data = Buffer.concat(chunks)
          out["content-length"] = String(data.length)
          res.writeHead(answer.statusCode ?? 502, out)
          res.end(data)
          done("answered")
        })
      })
      let timedOut = false
      upstream.setTimeout(this.options.answerTimeoutMs ?? 30_000, () => {
        timedOut = true
        upstream.destroy(new Error("timeout"))
      })
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (settled) return
        // Nothing was sent to a coordinator that refused the connection: another may take it.
        if (error.code === "ECONNREFUSED") return done("refused")
        if (timedOut) return done("timeout")
        // The coordinator closed this kept-alive connection before reading the request: send it again, once.
        if (!fresh && !answered && upstream.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
          settled = true
          void this.forward(port, method, path, headers, body, res, true).then(resolve)
          return
        }
        done("reset")
      })
      upstream.end(body)
    })
  }
}

const workerIdOf = (body: Buffer): string | undefined => {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { id?: unknown }
    return typeof parsed.id === "string" ? parsed.id : undefined
  } catch {
    return undefined
  }
}
