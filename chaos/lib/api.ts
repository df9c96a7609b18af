/** A small JSON client of the coordinator's API (node:http, keep-alive), with a time limit per request. */
import { Agent, request } from "node:http"

export interface Reply {
  readonly status: number
  readonly text: string
  readonly json: unknown
}

/** The network failed (refused, reset, timed out): the request may or may not have arrived. */
export class NetworkError extends Error {}

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

export interface CallOptions {
  readonly body?: unknown
  readonly token?: string | undefined
  readonly headers?: Record<string, string>
  readonly timeoutMs?: number
}

/** `method` `base` + `path`; answers any status, throws `NetworkError` when there is no answer. */
export const call = (base: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const url = new URL(path, base)
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), "utf8")
    const headers: Record<string, string> = { accept: "application/json", ...options.headers }
    if (payload !== undefined) {
      headers["content-type"] = "application/json"
      headers["content-length"] = String(payload.length)
    }
    if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
    const req = request({
      host: url.hostname,
      port: url.port,
      method,
      path: url.pathname + url.search,
      headers,
      agent
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("error", (error) => reject(new NetworkError(error.message)))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let json: unknown = undefined
        try {
          json = text === "" ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, text, json })
      })
    })
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error("no answer in time")))
    req.on("error", (error) => reject(new NetworkError(error.message)))
    req.end(payload)
  })
