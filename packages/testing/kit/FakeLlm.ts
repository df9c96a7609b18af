/**
 * Test helper: a fake LLM provider, faked at the wire. A real `node:http`
 * server on 127.0.0.1 (a free port) that speaks just enough of Anthropic's
 * Messages API (`POST /v1/messages`) and OpenAI's Responses API
 * (`POST /v1/responses`) for the real `@effect/ai` clients to decode its
 * answers, plus `GET /v1/models` of both for a startup key check.
 *
 * Model requests take scripted answers from a queue, one each, in order; an
 * empty queue gives the default answer. Every model request is recorded.
 */
import { Effect } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"

export type Provider = "anthropic" | "openai"

/** Token counts of an answer; `cachedInputTokens` is Anthropic's cache reads, OpenAI's cached tokens. */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly cachedInputTokens?: number
}

/** A scripted answer to one model request. */
export type Answer =
  | { readonly _tag: "Object"; readonly value: Record<string, unknown>; readonly usage: Usage }
  | { readonly _tag: "Status"; readonly status: number; readonly retryAfter?: string; readonly body?: unknown }
  | { readonly _tag: "Malformed"; readonly usage: Usage; readonly notJson: boolean }
  | { readonly _tag: "Slow"; readonly ms: number; readonly answer: Answer }

export const defaultUsage: Usage = { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 0 }

/** A successful structured answer: the tool input (Anthropic) or output text (OpenAI) is `value`. */
export const object = (value: Record<string, unknown>, usage: Usage = defaultUsage): Answer => ({
  _tag: "Object",
  value,
  usage
})

/**
 * An error status with the provider's error JSON (or `body` as given), and a
 * `retry-after` header when `retryAfter` is given.
 */
export const status = (code: number, options: { readonly retryAfter?: string; readonly body?: unknown } = {}): Answer => ({
  _tag: "Status",
  status: code,
  ...options
})

/** A 200 whose structured answer is JSON missing the schema's fields: `{ "oops": true }`. */
export const malformed = (usage: Usage = defaultUsage): Answer => ({ _tag: "Malformed", usage, notJson: false })

/** A 200 whose answer is not JSON at all (Anthropic: a text block and no tool call). */
export const notJson = (usage: Usage = defaultUsage): Answer => ({ _tag: "Malformed", usage, notJson: true })

/** Waits `ms` before giving `answer`. */
export const slow = (ms: number, answer: Answer): Answer => ({ _tag: "Slow", ms, answer })

/** A model request as received: `body` is the parsed JSON (or the raw text when not JSON). */
export interface RecordedRequest {
  readonly provider: Provider
  readonly path: string
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: unknown
}

export interface FakeLlm {
  /** `http://127.0.0.1:PORT`: Anthropic's `apiUrl`. */
  readonly url: string
  /** The same as `url`. */
  readonly anthropicUrl: string
  /** `url + "/v1"`: OpenAI's `apiUrl`. */
  readonly openAiUrl: string
  /** Every model request (`/v1/messages`, `/v1/responses`), in arrival order. */
  readonly requests: Array<RecordedRequest>
  /** Queues answers for the next model requests. */
  readonly enqueue: (...answers: ReadonlyArray<Answer>) => void
  /** The answer given when the queue is empty (initially `object({})`). */
  readonly setDefault: (answer: Answer) => void
  /** Stops the server, dropping open connections and pending slow answers. */
  readonly close: () => Promise<void>
}

export interface Options {
  /** When set, any other key (`x-api-key` or `Authorization: Bearer`) gets a 401. */
  readonly apiKey?: string
}

/** Every text in a request's prompt (Anthropic `system` + `messages`, OpenAI `instructions` + `input`), one per line. */
export const promptText = (request: RecordedRequest): string => {
  const texts: Array<string> = []
  const collect = (value: unknown): void => {
    if (typeof value === "string") texts.push(value)
    else if (Array.isArray(value)) value.forEach(collect)
    else if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>
      if (typeof record["text"] === "string") texts.push(record["text"])
      collect(record["content"])
    }
  }
  const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<
    string,
    unknown
  >
  for (const key of ["system", "messages", "instructions", "input"]) collect(body[key])
  return texts.join("\n")
}

// -----------------------------------------------------------------------------
// Wire shapes
// -----------------------------------------------------------------------------

const anthropicErrorTypes: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error"
}

const anthropicError = (code: number, message: string) => ({
  type: "error",
  error: { type: anthropicErrorTypes[code] ?? (code >= 500 ? "api_error" : "invalid_request_error"), message }
})

const openAiError = (code: number, message: string) => ({
  error: {
    message,
    type: code === 429 ? "requests" : code >= 500 ? "server_error" : "invalid_request_error",
    param: null,
    code: code === 429 ? "rate_limit_exceeded" : code === 401 ? "invalid_api_key" : null
  }
})

const field = (body: unknown, key: string): unknown =>
  typeof body === "object" && body !== null ? (body as Record<string, unknown>)[key] : undefined

const anthropicMessage = (n: number, body: unknown, content: ReadonlyArray<unknown>, usage: Usage) => ({
  id: `msg_fake_${n}`,
  type: "message",
  role: "assistant",
  model: typeof field(body, "model") === "string" ? field(body, "model") : "claude-sonnet-4-5",
  content,
  stop_reason: content.some((block) => field(block, "type") === "tool_use") ? "tool_use" : "end_turn",
  stop_sequence: null,
  usage: {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cachedInputTokens ?? 0,
    cache_creation_input_tokens: 0
  }
})

/** The tool `generateObject` forced (`tool_choice.name`), else the first tool. */
const toolName = (body: unknown): string => {
  const chosen = field(field(body, "tool_choice"), "name")
  const tools = field(body, "tools")
  const first = Array.isArray(tools) ? field(tools[0], "name") : undefined
  return typeof chosen === "string" ? chosen : typeof first === "string" ? first : "answer"
}

const anthropicAnswer = (n: number, body: unknown, answer: Answer) => {
  const toolUse = (input: Record<string, unknown>) => ({ type: "tool_use", id: `toolu_fake_${n}`, name: toolName(body), input })
  switch (answer._tag) {
    case "Object":
      return anthropicMessage(n, body, [toolUse(answer.value)], answer.usage)
    case "Malformed":
      return anthropicMessage(
        n,
        body,
        [answer.notJson ? { type: "text", text: "I would rather not answer in JSON." } : toolUse({ oops: true })],
        answer.usage
      )
    default:
      return undefined
  }
}

const openAiResponse = (n: number, body: unknown, text: string, usage: Usage) => ({
  id: `resp_fake_${n}`,
  object: "response",
  created_at: Math.floor(Date.now() / 1000),
  status: "completed",
  error: null,
  incomplete_details: null,
  instructions: null,
  model: typeof field(body, "model") === "string" ? field(body, "model") : "gpt-5",
  output: [{
    id: `msg_fake_${n}`,
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text, annotations: [] }]
  }],
  parallel_tool_calls: true,
  tool_choice: "auto",
  tools: [],
  metadata: {},
  temperature: 1,
  top_p: 1,
  usage: {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens
  }
})

const openAiAnswer = (n: number, body: unknown, answer: Answer) => {
  switch (answer._tag) {
    case "Object":
      return openAiResponse(n, body, JSON.stringify(answer.value), answer.usage)
    case "Malformed":
      return openAiResponse(n, body, answer.notJson ? "Sure! Here is the design." : "{\"oops\":true}", answer.usage)
    default:
      return undefined
  }
}

const models = {
  anthropic: {
    data: [{ type: "model", id: "claude-sonnet-4-5", display_name: "Claude Sonnet 4.5", created_at: "2025-09-29T00:00:00Z" }],
    has_more: false,
    first_id: "claude-sonnet-4-5",
    last_id: "claude-sonnet-4-5"
  },
  openai: { object: "list", data: [{ id: "gpt-5", object: "model", created: 1754006400, owned_by: "openai" }] }
}

// -----------------------------------------------------------------------------
// Server
// -----------------------------------------------------------------------------

const header = (request: IncomingMessage, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** Anthropic's clients send `x-api-key` and `anthropic-version`; OpenAI's a bearer token. */
const providerOf = (request: IncomingMessage, path: string): Provider | undefined =>
  path === "/v1/messages"
    ? "anthropic"
    : path === "/v1/responses"
    ? "openai"
    : path === "/v1/models"
    ? header(request, "x-api-key") !== undefined || header(request, "anthropic-version") !== undefined
      ? "anthropic"
      : "openai"
    : undefined

const keyOf = (request: IncomingMessage, provider: Provider): string | undefined =>
  provider === "anthropic" ? header(request, "x-api-key") : header(request, "authorization")?.replace(/^Bearer /i, "")

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    request.on("error", reject)
  })

const parse = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text)
  } catch {
    return text
  }
}

/** Starts the fake; `close()` it when done (or use `scoped`). */
export const start = async (options: Options = {}): Promise<FakeLlm> => {
  const requests: Array<RecordedRequest> = []
  const queue: Array<Answer> = []
  let fallback: Answer = object({})
  let answered = 0
  const sockets = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const send = (response: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
    if (response.destroyed || response.writableEnded) return
    response.writeHead(code, { "content-type": "application/json", ...headers })
    response.end(JSON.stringify(body))
  }

  const reply = (response: ServerResponse, provider: Provider, n: number, body: unknown, answer: Answer): void => {
    switch (answer._tag) {
      case "Slow": {
        const timer = setTimeout(() => {
          timers.delete(timer)
          reply(response, provider, n, body, answer.answer)
        }, answer.ms)
        timers.add(timer)
        return
      }
      case "Status": {
        const message = `Fake ${provider} error ${answer.status}`
        const errorBody = answer.body ??
          (provider === "anthropic" ? anthropicError(answer.status, message) : openAiError(answer.status, message))
        send(response, answer.status, errorBody, answer.retryAfter === undefined ? {} : { "retry-after": answer.retryAfter })
        return
      }
      default:
        send(response, 200, provider === "anthropic" ? anthropicAnswer(n, body, answer) : openAiAnswer(n, body, answer))
    }
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname
    const provider = providerOf(request, path)
    const text = await readBody(request)
    if (provider === undefined) {
      return send(response, 404, { error: { message: `No route for ${request.method} ${path}` } })
    }
    if (options.apiKey !== undefined && keyOf(request, provider) !== options.apiKey) {
      const message = provider === "anthropic" ? "invalid x-api-key" : "Incorrect API key provided."
      return send(response, 401, provider === "anthropic" ? anthropicError(401, message) : openAiError(401, message))
    }
    if (path === "/v1/models") return send(response, 200, models[provider])
    const body = parse(text)
    requests.push({ provider, path, headers: { ...request.headers }, body })
    answered += 1
    reply(response, provider, answered, body, queue.shift() ?? fallback)
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy())
  })
  server.on("connection", (socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`

  return {
    url,
    anthropicUrl: url,
    openAiUrl: `${url}/v1`,
    requests,
    enqueue: (...answers) => {
      queue.push(...answers)
    },
    setDefault: (answer) => {
      fallback = answer
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** `start` for the scope: closed when the scope closes. */
export const scoped = (options: Options = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (fake) => Effect.promise(() => fake.close())
  )
