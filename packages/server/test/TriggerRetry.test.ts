/**
 * Triggers a client can retry safely, over real HTTP: the `Idempotency-Key`
 * header (or `requestId`) makes a repeat answer the first research, the same
 * key with another body is 409 naming the key, and a key expires (in memory
 * and on PostgreSQL); a
 * failure no one planned for answers 503 with JSON, never an empty 500; and a
 * database connection lost once the trigger's write ran (through a proxy that
 * drops it there) answers 503, after which the retry answers the research that
 * was written.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Memory } from "@foreman/adapter-memory"
import { Coordinator } from "@foreman/core"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import { beforeAll } from "vitest"
import { engine } from "@foreman/testing/PgEngine"
import { faultProxy } from "@foreman/testing/FaultProxy"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { ApiServer } from "../src/index.js"
import { eventually, json, quiet, startServer, tokenConfig } from "@foreman/testing/ApiHarness"

let url = ""
/** A database of its own for the keys' test, whose researches would count against another test's capacity. */
let keysUrl = ""
beforeAll(async () => {
  url = await createDatabase("foreman_server_trigger")
  keysUrl = await createDatabase("foreman_server_trigger_keys")
})

const trigger = "/api/v1/agent/trigger"

const send = (baseUrl: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${trigger}`, json("POST", body, headers))
    const text = await response.text()
    return { status: response.status, type: response.headers.get("content-type"), text }
  })

const bodyOf = (answer: { readonly text: string }) => JSON.parse(answer.text) as Record<string, unknown>

/** Serves the API over `engine` on 127.0.0.1 in the test's scope, logging nothing; answers its base URL. */
const serveOver = <E>(engine: Layer.Layer<ApiServer.EngineServices, E>) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(ApiServer.serve({ host: "127.0.0.1", port: 0 }).pipe(Layer.provide(engine))).pipe(
      Effect.withConfigProvider(tokenConfig()),
      Logger.withMinimumLogLevel(LogLevel.None)
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })

describe("POST /agent/trigger, retried", () => {
  it.scopedLive("the same Idempotency-Key or requestId answers 202 with the first research", () =>
    Effect.gen(function*() {
      const server = yield* startServer({ engine: { config: { maxConcurrentResearches: 1 } } })
      const brief = { brief: "Explore RSI variations" }
      const first = yield* send(server.baseUrl, brief, { "Idempotency-Key": "key-1" })
      assert.strictEqual(first.status, 202)
      const again = yield* send(server.baseUrl, brief, { "Idempotency-Key": "key-1" })
      assert.strictEqual(again.status, 202, "no capacity check for a repeat")
      const id = bodyOf(first)["researchId"]
      assert.strictEqual(bodyOf(again)["researchId"], id)
      const inBody = yield* send(server.baseUrl, { ...brief, requestId: "key-1" })
      assert.strictEqual(bodyOf(inBody)["researchId"], id)
      const both = yield* send(server.baseUrl, { ...brief, requestId: "key-1" }, { "Idempotency-Key": "key-1" })
      assert.strictEqual(bodyOf(both)["researchId"], id)
      const other = yield* send(server.baseUrl, brief, { "Idempotency-Key": "key-2" })
      assert.strictEqual(other.status, 409, "another key is another trigger")
      const api = yield* server.client()
      assert.strictEqual((yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches.length, 1)
    }))

  for (const store of ["memory", "PostgreSQL"] as const) {
    it.scopedLive(`${store}: the same key with another body is 409 naming the key; an expired key starts a new research`, () =>
      Effect.gen(function*() {
        // Keys live one second here: long enough for the checks before, short enough to wait out.
        const config = { maxConcurrentResearches: 5, idempotencyKeyTtlSeconds: 1 }
        const baseUrl = store === "memory"
          ? (yield* startServer({ engine: { config } })).baseUrl
          : yield* serveOver(engine(keysUrl, { config }))
        const key = `key-${store}`
        const first = yield* send(baseUrl, { brief: "Explore RSI variations" }, { "Idempotency-Key": key })
        assert.strictEqual(first.status, 202)
        const same = yield* send(baseUrl, { brief: "Explore RSI variations", requestId: key })
        assert.strictEqual(bodyOf(same)["researchId"], bodyOf(first)["researchId"], "the same body answers the first research")
        const other = yield* send(baseUrl, { brief: "Explore MACD" }, { "Idempotency-Key": key })
        assert.strictEqual(other.status, 409)
        assert.deepStrictEqual(bodyOf(other), {
          _tag: "IdempotencyKeyReused",
          requestId: key,
          message: `Idempotency key ${key} was already used with a different request: ` +
            "send a new key for a new request, or repeat the first request as it was"
        })
        const inBody = yield* send(baseUrl, { brief: "Explore RSI variations", force: true, requestId: key })
        assert.strictEqual(inBody.status, 409, "force is part of the body")
        // Once the key has expired, the other body starts a research of its own.
        const next = yield* eventually(
          send(baseUrl, { brief: "Explore MACD" }, { "Idempotency-Key": key }),
          (answer) => answer.status === 202
        )
        assert.notStrictEqual(bodyOf(next)["researchId"], bodyOf(first)["researchId"])
      }).pipe(quiet))
  }

  it.scopedLive("400 for an invalid key, or a header and requestId that differ", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const brief = { brief: "Explore RSI variations" }
      for (const key of ["has space", "x".repeat(201), "a/b"]) {
        const answer = yield* send(server.baseUrl, brief, { "Idempotency-Key": key })
        assert.strictEqual(answer.status, 400, key)
        assert.strictEqual(bodyOf(answer)["_tag"], "InvalidInput")
        assert.include(String(bodyOf(answer)["message"]), "Idempotency-Key")
      }
      const differ = yield* send(server.baseUrl, { ...brief, requestId: "key-1" }, { "Idempotency-Key": "key-2" })
      assert.strictEqual(differ.status, 400)
      assert.include(String(bodyOf(differ)["message"]), "differ")
      const invalidInBody = yield* send(server.baseUrl, { ...brief, requestId: "" })
      assert.strictEqual(invalidInBody.status, 400)
      const api = yield* server.client()
      assert.strictEqual((yield* api.agent.list({ urlParams: { limit: 50, offset: 0 } })).researches.length, 0)
    }))

  it.scopedLive("a trigger that fails unexpectedly answers 503 with JSON, not an empty 500", () =>
    Effect.gen(function*() {
      const dying = Layer.effect(
        Coordinator.Coordinator,
        Effect.map(Coordinator.Coordinator, (coordinator) =>
          Coordinator.Coordinator.of({ ...coordinator, trigger: () => Effect.die(new Error("boom")) }))
      ).pipe(Layer.provideMerge(Memory.layer()))
      const baseUrl = yield* serveOver(dying)
      const answer = yield* send(baseUrl, { brief: "Explore RSI variations" }, { "Idempotency-Key": "key-1" })
      assert.strictEqual(answer.status, 503)
      assert.include(answer.type ?? "", "application/json")
      assert.strictEqual(bodyOf(answer)["_tag"], "Unavailable")
      assert.include(String(bodyOf(answer)["message"]), "send it again")
      assert.notInclude(answer.text, "boom", "no details of the defect")
    }))

  it.scopedLive("a database connection lost once the trigger is written answers 503; the retry answers the written research", () =>
    Effect.gen(function*() {
      const proxy = yield* faultProxy(url)
      const baseUrl = yield* serveOver(engine(proxy.url))
      const dropped = yield* proxy.dropAt({ containing: "foreman_admit" }, "after")
      const brief = { brief: "Explore RSI variations" }
      const lost = yield* send(baseUrl, brief, { "Idempotency-Key": "cli-5d1e" })
      yield* dropped
      assert.strictEqual(lost.status, 503)
      assert.include(lost.type ?? "", "application/json")
      assert.strictEqual(bodyOf(lost)["_tag"], "StorageError")
      const retried = yield* send(baseUrl, brief, { "Idempotency-Key": "cli-5d1e" })
      assert.strictEqual(retried.status, 202)
      const list = yield* Effect.promise(() =>
        fetch(`${baseUrl}/api/v1/agent/researches`).then((r) => r.json() as Promise<{ researches: Array<{ id: string }> }>)
      )
      assert.deepStrictEqual(list.researches.map((r) => r.id), [bodyOf(retried)["researchId"]])
    }).pipe(quiet))

  it.scopedLive("OpenAPI documents the Idempotency-Key header", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      type Parameter = { readonly name: string; readonly in: string; readonly required: boolean; readonly schema: object }
      const spec = yield* Effect.promise(() =>
        fetch(`${server.baseUrl}/openapi.json`).then((r) =>
          r.json() as Promise<{ paths: Record<string, { post?: { parameters?: Array<Parameter> } }> }>
        )
      )
      const header = spec.paths["/api/v1/agent/trigger"]?.post?.parameters?.find((p) => p.name === "Idempotency-Key")
      assert.deepInclude(header, { in: "header", required: false })
      assert.deepInclude(header?.schema, { type: "string", minLength: 1, maxLength: 200 })
    }))
})
