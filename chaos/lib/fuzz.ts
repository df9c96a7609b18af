/**
 * Random and malformed requests at every endpoint of the coordinator's API,
 * each drawn from the seed: poisoned strings (NUL, lone surrogates, raw
 * invalid UTF-8) in every string field and key, wrong types, missing and extra
 * fields, deep nesting, bodies over the size limit (declared and chunked),
 * non-JSON, wrong content types, wrong and malformed tokens, wrong methods,
 * strange paths and query strings, and broken HTTP (lying Content-Length, bad
 * chunking, NUL in a header, oversized heads).
 *
 * Requests that would change the real lab's state legitimately are avoided:
 * registrations use worker types no pipeline runs (so no job is dispatched to
 * a fake worker), and cancels, deregistrations and heartbeats use ids of no
 * real research or worker (a DELETE, the cancel, never names a real research,
 * even as another endpoint's method changed). Reports may name real jobs, but from another
 * worker (they must be refused), or from the job's own worker only as a
 * progress report (so no mutation can complete or fail a real job).
 */
import type { RawRequest } from "./rawHttp.js"
import type { Rng } from "./rng.js"

export interface FuzzTargets {
  readonly operatorToken: string
  readonly workerToken: string
  /** Real research ids (read only). */
  readonly researchIds: ReadonlyArray<string>
  /** Real job ids (reported on by a worker that does not own them). */
  readonly jobIds: ReadonlyArray<string>
  /** Real worker ids (read only). */
  readonly workerIds: ReadonlyArray<string>
  /** Jobs running now with their worker: a poisoned progress report comes from the right worker. */
  readonly running: ReadonlyArray<{ readonly jobId: string; readonly workerId: string }>
}

export interface FuzzRequest extends RawRequest {
  /** What was done to the request. */
  readonly note: string
  /** Whether it is a trigger (an accepted one starts a research to track). */
  readonly trigger: boolean
}

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
type Role = "operator" | "worker" | "anyone"

interface Endpoint {
  readonly name: string
  readonly method: string
  readonly role: Role
  readonly path: (rng: Rng, t: FuzzTargets) => string
  readonly body?: (rng: Rng, t: FuzzTargets) => Json
}

const POISON: ReadonlyArray<string> = [
  "\u0000", "a\u0000b", "\ud800", "x\udfff", "tail\ud83d", "\udc00head", "\u0000\ud800", "\\u0000", "\uffff", "\ufeff",
  "\u202erlt", "😀", "%00", "'; DROP TABLE foreman_researches; --", "{{7*7}}", "\r\n", "", " ", "a".repeat(10_001),
  "é".repeat(300)
]
/** Raw bytes put inside a JSON string as they are (not escaped). */
const RAW_BYTES: ReadonlyArray<Buffer> = [
  Buffer.from([0x00]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0x80]),
  Buffer.from([0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from([0x0a]), Buffer.from([0x1f])
]

const fakeId = (rng: Rng, prefix: string) => `${prefix}${rng.uint32().toString(16)}${rng.uint32().toString(16)}`

const RESEARCH_IDS = (rng: Rng): string =>
  rng.pick([fakeId(rng, "op_fz"), "op_", "op_%00", "op_%ED%A0%80", "nope", `op_${"a".repeat(70)}`, "op_..%2F..", "%E2%80%AE", "0", "op_a b"])

const strategyName = (rng: Rng) => rng.pick(["rsi_fuzz", "macd fuzz", "x"])

const trainingResult = (rng: Rng): Json => ({
  testAccuracy: rng.float(0, 1),
  testLoss: rng.float(0, 1),
  epochLosses: [0.9, 0.5],
  modelRef: "fuzz-model"
})

const report = (rng: Rng): Json =>
  rng.pick<Json>([
    { _tag: "Progress", progress: rng.float(0, 1), message: "fuzz progress" },
    { _tag: "Completed", result: trainingResult(rng) },
    { _tag: "Failed", error: "fuzz failure" }
  ])

const ENDPOINTS: ReadonlyArray<Endpoint> = [
  {
    name: "trigger",
    method: "POST",
    role: "operator",
    path: () => "/api/v1/agent/trigger",
    body: (rng) => {
      const body: Record<string, Json> = { brief: `fuzz brief ${rng.int(0, 1e6)}`, force: true }
      if (rng.chance(0.3)) body["strategy"] = rng.chance(0.5) ? strategyName(rng) : { name: strategyName(rng), spec: { period: 14, note: "n" } }
      if (rng.chance(0.3)) body["model"] = "fuzz-model"
      if (rng.chance(0.2)) body["bypassGates"] = rng.chance(0.5)
      return body
    }
  },
  { name: "status", method: "GET", role: "operator", path: () => "/api/v1/agent/status" },
  { name: "budget", method: "GET", role: "operator", path: () => "/api/v1/agent/budget" },
  {
    name: "list",
    method: "GET",
    role: "operator",
    path: (rng) => {
      const params: Array<string> = []
      if (rng.chance(0.5)) params.push(`status=${rng.pick(["pending", "running", "completed", "failed", "cancelled", "PENDING", "%00", "%ED%A0%80", "x".repeat(300)])}`)
      if (rng.chance(0.5)) params.push(`limit=${rng.pick(["1", "500", "501", "0", "-1", "abc", "1e3", "1.5", "%00", "99999999999999999999"])}`)
      if (rng.chance(0.5)) params.push(`offset=${rng.pick(["0", "10", "-5", "x", "1000001", "%ED%A0%80"])}`)
      if (rng.chance(0.1)) params.push("limit=1&limit=2")
      return `/api/v1/agent/researches${params.length === 0 ? "" : `?${params.join("&")}`}`
    }
  },
  {
    name: "show",
    method: "GET",
    role: "operator",
    path: (rng, t) => `/api/v1/agent/researches/${t.researchIds.length > 0 && rng.chance(0.4) ? rng.pick(t.researchIds) : RESEARCH_IDS(rng)}`
  },
  { name: "cancel", method: "DELETE", role: "operator", path: (rng) => `/api/v1/agent/researches/${RESEARCH_IDS(rng)}` },
  { name: "cancelAlias", method: "DELETE", role: "operator", path: (rng) => `/api/v1/agent/cancel/${RESEARCH_IDS(rng)}` },
  {
    name: "register",
    method: "POST",
    role: "worker",
    path: () => "/api/v1/workers/register",
    body: (rng) => ({
      id: `fz-${rng.int(0, 50)}`,
      type: rng.pick(["fuzz", "fuzz-other", "x_1"]),
      endpoint: rng.pick(["http://127.0.0.1:9", "not a url", "http://[::1]:0/", "ftp://x"]),
      capacity: rng.int(1, 4),
      capabilities: { gpu: rng.chance(0.5), note: "cap" },
      runningJobs: rng.chance(0.5) ? [] : [fakeId(rng, "job_fz")],
      finishedJobs: rng.chance(0.6) ? [] : [{ _tag: "Completed", jobId: fakeId(rng, "job_fz"), workerId: "fz-1", result: { a: "b" } }]
    })
  },
  {
    name: "heartbeat",
    method: "POST",
    role: "worker",
    path: (rng) => `/api/v1/workers/${rng.pick([`fz-${rng.int(0, 50)}`, "-bad", "%00", "a".repeat(200), "x%ED%A0%80"])}/heartbeat`,
    body: (rng) => (rng.chance(0.8) ? { healthy: rng.chance(0.5) } : {})
  },
  { name: "deregister", method: "DELETE", role: "worker", path: (rng) => `/api/v1/workers/${rng.pick([`fz-${rng.int(0, 50)}`, "%00", "-x", "."])}` },
  {
    name: "workers",
    method: "GET",
    role: "anyone",
    path: (rng) => `/api/v1/workers${rng.chance(0.5) ? `?type=${rng.pick(["training", "backtest", "%00", "BAD", "x".repeat(40)])}` : ""}${rng.chance(0.3) ? `${rng.chance(0.5) ? "&" : "?"}status=${rng.pick(["available", "busy", "offline", "zzz", "%ED%A0%80"])}` : ""}`
  },
  {
    name: "worker",
    method: "GET",
    role: "anyone",
    path: (rng, t) => `/api/v1/workers/${t.workerIds.length > 0 && rng.chance(0.5) ? rng.pick(t.workerIds) : rng.pick([`fz-${rng.int(0, 50)}`, "%00", "a".repeat(200)])}`
  },
  {
    // From the worker that runs the job, but only progress: every mutation of it must be refused or harmless.
    name: "progress",
    method: "POST",
    role: "worker",
    path: (rng, t) => {
      // Draws the same numbers whatever runs now, so the rest of the sequence does not depend on timing.
      const pick = rng.uint32()
      const fake = fakeId(rng, "job_fz")
      const job = t.running.length > 0 ? t.running[pick % t.running.length]! : { jobId: fake, workerId: "fz-1" }
      return `/api/v1/workers/${job.workerId}/jobs/${job.jobId}/report`
    },
    body: (rng) => ({ _tag: "Progress", progress: rng.float(0, 1), message: "fuzz progress" })
  },
  {
    name: "report",
    method: "POST",
    role: "worker",
    path: (rng, t) => {
      const job = t.jobIds.length > 0 && rng.chance(0.5) ? rng.pick(t.jobIds) : rng.pick([fakeId(rng, "job_fz"), "job_", "job_%00", "nojob"])
      return `/api/v1/workers/${rng.pick([`fz-${rng.int(0, 50)}`, "%00", "-"])}/jobs/${job}/report`
    },
    body: (rng) => report(rng)
  },
  { name: "health", method: "GET", role: "anyone", path: () => "/api/v1/health" },
  { name: "docs", method: "GET", role: "anyone", path: (rng) => rng.pick(["/docs", "/openapi.json"]) }
]

// --- body surgery ------------------------------------------------------------------------

type Path = ReadonlyArray<string | number>

/** Paths of every string leaf (and, with `keys`, of every object). */
const leaves = (value: Json, keys: boolean, at: Path = []): Array<Path> => {
  if (typeof value === "string") return [at]
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, keys, [...at, i]))
  if (value !== null && typeof value === "object") {
    const inner = Object.entries(value).flatMap(([k, v]) => leaves(v, keys, [...at, k]))
    return keys ? [at, ...inner] : inner
  }
  return []
}

/** Every path in the value (for type changes and deletions). */
const allPaths = (value: Json, at: Path = []): Array<Path> => {
  if (Array.isArray(value)) return [at, ...value.flatMap((v, i) => allPaths(v, [...at, i]))]
  if (value !== null && typeof value === "object") return [at, ...Object.entries(value).flatMap(([k, v]) => allPaths(v, [...at, k]))]
  return [at]
}

const setAt = (value: Json, path: Path, next: Json | undefined): Json => {
  if (path.length === 0) return next ?? null
  const [head, ...rest] = path
  if (Array.isArray(value)) {
    const copy = [...value]
    if (rest.length === 0 && next === undefined) copy.splice(head as number, 1)
    else copy[head as number] = setAt(copy[head as number] ?? null, rest, next)
    return copy
  }
  if (value !== null && typeof value === "object") {
    const copy: Record<string, Json> = { ...(value as { readonly [key: string]: Json }) }
    if (rest.length === 0 && next === undefined) delete copy[head as string]
    else copy[head as string] = setAt(copy[head as string] ?? null, rest, next)
    return copy
  }
  return value
}

const describePath = (path: Path) => (path.length === 0 ? "(body)" : path.join("."))

const escapeForNote = (text: string) =>
  JSON.stringify(text.length > 12 ? `${text.slice(0, 8)}…(${text.length})` : text).replace(/"/g, "")

const otherValue = (rng: Rng): Json =>
  rng.pick<Json>([42, -1, 0, 1.5, 1e308, -0, true, false, null, [], {}, [1, "a"], { nested: { x: 1 } }, "x".repeat(2000), "0"])

const nested = (depth: number, array: boolean): string =>
  array ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`

/** Percent-encodes like encodeURIComponent, but a lone surrogate becomes its WTF-8 bytes (%ED%A0%80) instead of an error. */
const encodeLoose = (text: string): string => {
  let out = ""
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    const next = text.charCodeAt(i + 1)
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2))
      i++
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("")
    } else {
      out += encodeURIComponent(text[i]!)
    }
  }
  return out
}

const json = (value: Json) => Buffer.from(JSON.stringify(value), "utf8")

// --- the generator ---------------------------------------------------------------------------

const tokenFor = (role: Role, t: FuzzTargets, rng: Rng) =>
  role === "operator" ? t.operatorToken : role === "worker" ? t.workerToken : rng.pick([t.operatorToken, t.workerToken])

const MUTATIONS = [
  ["valid", 4], ["poison-string", 24], ["poison-all", 8], ["poison-key", 5], ["raw-bytes", 6], ["wrong-type", 8],
  ["missing", 4], ["extra", 3], ["deep", 7], ["huge", 4], ["not-json", 5], ["content-type", 4], ["token", 10],
  ["method", 3], ["path", 6], ["http", 5]
] as const

type Mutation = (typeof MUTATIONS)[number][0]

const pickMutation = (rng: Rng): Mutation => {
  const total = MUTATIONS.reduce((sum, [, w]) => sum + w, 0)
  let roll = rng.int(0, total - 1)
  for (const [name, weight] of MUTATIONS) {
    if (roll < weight) return name
    roll -= weight
  }
  return "valid"
}

/** One request, drawn from `rng`. */
export const generate = (rng: Rng, t: FuzzTargets): FuzzRequest => {
  const endpoint = rng.pick(ENDPOINTS)
  const mutation = pickMutation(rng)
  let method = endpoint.method
  let target = endpoint.path(rng, t)
  let body: Buffer | undefined
  let note: string = `${endpoint.name} ${mutation}`
  const headers: Array<[string, string]> = [["Authorization", `Bearer ${tokenFor(endpoint.role, t, rng)}`]]
  let chunked = false
  let lengthDelta: number | undefined
  const base = endpoint.body?.(rng, t)
  const withJson = () => headers.push(["Content-Type", "application/json"])

  switch (mutation) {
    case "valid":
      if (base !== undefined) body = json(base)
      break
    case "poison-string":
    case "poison-all": {
      if (base === undefined) {
        // No body: poison the path or the query instead.
        const poison = rng.pick(POISON)
        target = `${target}${target.includes("?") ? "&" : "?"}q=${encodeLoose(poison).slice(0, 4000)}`
        note += ` query ${escapeForNote(poison)}`
        break
      }
      const paths = leaves(base, false)
      const chosen = mutation === "poison-all" ? paths : paths.length === 0 ? [] : [rng.pick(paths)]
      let value = base
      const poison = rng.pick(POISON)
      for (const path of chosen) value = setAt(value, path, mutation === "poison-all" ? poison : rng.pick(POISON))
      body = json(value)
      note += mutation === "poison-all" ? ` all strings ${escapeForNote(poison)}` : ` ${chosen.map(describePath).join(",")}`
      break
    }
    case "poison-key": {
      if (base === undefined) {
        target = `${target}${target.includes("?") ? "&" : "?"}${encodeLoose(rng.pick(POISON))}=1`
        break
      }
      const objects = leaves(base, true).filter((p) => {
        let v: Json = base
        for (const k of p) v = (v as Record<string, Json>)[k as string] ?? null
        return v !== null && typeof v === "object" && !Array.isArray(v)
      })
      const at = objects.length === 0 ? [] : rng.pick(objects)
      const key = rng.pick(POISON)
      body = json(setAt(base, [...at, key], "v"))
      note += ` key in ${describePath(at)} ${escapeForNote(key)}`
      break
    }
    case "raw-bytes": {
      if (base === undefined) {
        target = `${target}${target.includes("?") ? "&" : "?"}q=%ED%A0%80%00%FF`
        break
      }
      const paths = leaves(base, false)
      if (paths.length === 0) {
        body = Buffer.concat([json(base).subarray(0, 1), rng.pick(RAW_BYTES), json(base).subarray(1)])
        break
      }
      const path = rng.pick(paths)
      const marker = "\u0001MARK\u0001"
      const text = JSON.stringify(setAt(base, path, marker))
      const [before, after] = text.split(JSON.stringify(marker).slice(1, -1)) as [string, string]
      const bytes = rng.pick(RAW_BYTES)
      body = Buffer.concat([Buffer.from(before, "utf8"), Buffer.from("x", "utf8"), bytes, Buffer.from(after, "utf8")])
      note += ` ${describePath(path)} bytes ${bytes.toString("hex")}`
      break
    }
    case "wrong-type": {
      if (base === undefined) {
        body = json(otherValue(rng))
        method = rng.pick(["POST", "PUT", method])
        break
      }
      const path = rng.pick(allPaths(base))
      body = json(setAt(base, path, otherValue(rng)))
      note += ` ${describePath(path)}`
      break
    }
    case "missing": {
      if (base === undefined) break
      const paths = allPaths(base).filter((p) => p.length > 0)
      const path = paths.length === 0 ? [] : rng.pick(paths)
      body = json(path.length === 0 ? {} : setAt(base, path, undefined))
      note += ` ${describePath(path)}`
      break
    }
    case "extra": {
      const extra: Record<string, Json> = {}
      for (let i = 0; i < rng.pick([1, 5, 1000, 50_000]); i++) extra[`extra${i}`] = i
      body = json(base !== undefined && typeof base === "object" && base !== null && !Array.isArray(base) ? { ...base, ...extra } : extra)
      if (base === undefined) method = rng.pick(["POST", method])
      break
    }
    case "deep": {
      const depth = rng.pick([100, 1_000, 10_000, 100_000, 300_000])
      const array = rng.chance(0.5)
      const deep = nested(depth, array)
      if (base === undefined || rng.chance(0.3)) {
        body = Buffer.from(deep, "utf8")
        if (base === undefined) method = "POST"
        note += ` body depth ${depth}`
      } else {
        const into = endpoint.name === "trigger"
          ? (rng.chance(0.5) ? ["strategy", "spec", "x"] : ["brief"])
          : endpoint.name === "register"
          ? (rng.chance(0.5) ? ["capabilities", "x"] : ["finishedJobs", 0, "result"])
          : endpoint.name === "report"
          ? ["result"]
          : ["x"]
        let value: Json = base
        if (endpoint.name === "trigger" && into[0] === "strategy") value = setAt(value, ["strategy"], { name: "deep", spec: {} })
        if (endpoint.name === "report") value = { _tag: "Completed", result: null }
        if (endpoint.name === "register") value = setAt(value, ["finishedJobs"], [{ _tag: "Completed", jobId: "job_fzdeep", workerId: "fz-1", result: null }])
        const marker = "\u0001DEEP\u0001"
        const text = JSON.stringify(setAt(value, into, marker))
        body = Buffer.from(text.replace(JSON.stringify(marker), deep), "utf8")
        note += ` ${describePath(into)} depth ${depth}`
      }
      break
    }
    case "huge": {
      const size = rng.pick([900_000, 1_048_577, 1_500_000, 3_000_000])
      const filler = "x".repeat(size)
      body = base === undefined
        ? Buffer.from(JSON.stringify({ filler }), "utf8")
        : json(setAt(base, leaves(base, false)[0] ?? ["filler"], filler))
      if (base === undefined) method = "POST"
      chunked = rng.chance(0.4)
      note += ` ${size} bytes${chunked ? " chunked" : ""}`
      break
    }
    case "not-json": {
      const text = rng.pick([
        "", " ", "{", "{\"brief\":", "null", "[]", "\"str\"", "12", "NaN", "{\"brief\":\"x\",}", "\ufeff{\"brief\":\"x\"}",
        "brief=x&force=true", "<xml/>", "{'brief':'x'}", "{\"a\":1}{\"b\":2}", "\u0000"
      ])
      body = Buffer.from(text, "utf8")
      if (base === undefined) method = rng.pick(["POST", method])
      note += ` ${escapeForNote(text)}`
      break
    }
    case "content-type": {
      if (base !== undefined) body = json(base)
      const type = rng.pick([
        "text/plain", "application/json; charset=latin1", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/vnd.api+json", "application/json\u0000", "*/*", "", "application/problem+json", "APPLICATION/JSON"
      ])
      headers.push(["Content-Type", type])
      note += ` ${escapeForNote(type)}`
      break
    }
    case "token": {
      if (base !== undefined) body = json(base)
      const variant = rng.pick([
        "none", "wrong", "other-kind", "basic", "empty", "lower", "spaces", "huge", "nul", "two", "unicode"
      ])
      headers.length = 0
      const other = endpoint.role === "operator" ? t.workerToken : t.operatorToken
      const values: Record<string, string | undefined> = {
        none: undefined,
        wrong: `Bearer wrong-${rng.int(0, 1e6)}`,
        "other-kind": `Bearer ${other}`,
        basic: "Basic dXNlcjpwYXNz",
        empty: "Bearer ",
        lower: `bearer ${tokenFor(endpoint.role, t, rng)}`,
        spaces: `Bearer   ${tokenFor(endpoint.role, t, rng)}  `,
        huge: `Bearer ${"t".repeat(rng.pick([4_000, 12_000, 70_000]))}`,
        nul: `Bearer ${tokenFor(endpoint.role, t, rng)}\u0000`,
        two: `Bearer a, Bearer ${tokenFor(endpoint.role, t, rng)}`,
        unicode: "Bearer tökén"
      }
      const value = values[variant]
      if (value !== undefined) headers.push(["Authorization", value])
      note += ` ${variant}`
      break
    }
    case "method": {
      method = rng.pick(["PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "DELETE", "GET", "POST", "FOO"])
      // A DELETE of a real research is a cancel the operator may send: it would change the lab legitimately.
      if (method === "DELETE" && t.researchIds.some((id) => target.includes(id))) method = "PATCH"
      if (base !== undefined) body = json(base)
      note += ` ${method}`
      break
    }
    case "path": {
      target = rng.pick([
        `${target}/extra`, `${target}%00`, `${target}/..`, target.replace("/api/v1", "/api/v2"), target.replace("/api/v1", "//api//v1"),
        `/api/v1/${"a".repeat(rng.pick([100, 5_000, 20_000]))}`, "/api/v1/agent/researches/op_%ED%A0%80", "/api/v1/agent/researches/%F0%9F%98%80",
        "*", "/", "/api/v1", `${target}?${"x=1&".repeat(2000)}`, `${target}#frag`, "/api/v1/agent/trigger%2F..%2Fstatus",
        "http://127.0.0.1/api/v1/health", `/api/v1/agent/researches/op_${"é".repeat(20)}`
      ])
      if (base !== undefined) body = json(base)
      note += ` ${escapeForNote(target)}`
      break
    }
    case "http": {
      const variant = rng.pick(["short-body", "long-body", "bad-chunk", "nul-header", "bad-header-name", "huge-header", "bad-line", "http10", "expect"])
      note += ` ${variant}`
      const payload = json(base ?? { a: 1 })
      const token = tokenFor(endpoint.role, t, rng)
      const head = (lines: Array<string>) => Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1")
      switch (variant) {
        case "short-body":
          return { method: "POST", target, headers: [...headers, ["Content-Type", "application/json"]], body: payload, lengthDelta: rng.pick([1, 100, 100_000]), note, trigger: false }
        case "long-body":
          return { method: "POST", target, headers: [...headers, ["Content-Type", "application/json"]], body: payload, lengthDelta: -Math.min(payload.length, rng.int(1, 5)), note, trigger: false }
        case "bad-chunk":
          return {
            method: "POST", target, headers: [], note, trigger: false,
            raw: Buffer.concat([head([`POST ${target} HTTP/1.1`, "Host: x", "Connection: close", `Authorization: Bearer ${token}`, "Content-Type: application/json", "Transfer-Encoding: chunked"]), Buffer.from(`zz\r\n${payload.toString("latin1")}\r\n0\r\n\r\n`, "latin1")])
          }
        case "nul-header":
          return { method, target, headers: [["Authorization", `Bearer ${token}`], ["X-Fuzz", "a\u0000b"]], body, note, trigger: false }
        case "bad-header-name":
          return { method, target, headers: [["Authorization", `Bearer ${token}`], ["Bad Header", "x"], ["\u00e9", "y"]], note, trigger: false }
        case "huge-header":
          return { method, target, headers: [["Authorization", `Bearer ${token}`], ["X-Big", "b".repeat(rng.pick([9_000, 20_000, 100_000]))]], note, trigger: false }
        case "bad-line":
          return { method, target, headers: [], note, trigger: false, raw: Buffer.from(rng.pick(["GARBAGE\r\n\r\n", `${method} ${target}\r\n\r\n`, `${method}  ${target} HTTP/9.9\r\n\r\n`, "\u0000\u0001\u0002\r\n\r\n", `${method} ${target} HTTP/1.1\nHost: x\n\n`]), "latin1") }
        case "http10":
          return { method, target, headers: [], note, trigger: false, raw: head([`${method} ${target} HTTP/1.0`, `Authorization: Bearer ${token}`]) }
        case "expect":
          return { method: "POST", target, headers: [...headers, ["Content-Type", "application/json"], ["Expect", "100-continue"]], body: payload, note, trigger: false }
      }
      break
    }
  }
  if (body !== undefined && mutation !== "content-type") withJson()
  return {
    method,
    target,
    headers,
    body,
    ...(chunked ? { chunked } : {}),
    ...(lengthDelta === undefined ? {} : { lengthDelta }),
    note,
    trigger: endpoint.name === "trigger" && method === "POST"
  }
}
