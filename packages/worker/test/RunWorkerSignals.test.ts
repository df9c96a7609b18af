/**
 * `runWorker` as a process's main program: the snippet of docs/agents.md, run
 * as written in a child process against a real coordinator, drains,
 * deregisters and exits 0 on SIGTERM and on SIGINT (Ctrl+C), so the
 * coordinator stops listing it; a program that handles the signal itself
 * keeps the say over exiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { startServer } from "@foreman/testing/ApiHarness"
import { bundle } from "@foreman/testing/Bundle"
import { Duration, Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))
/** Inside the workspace, so that `@foreman/worker` resolves as in a user's project. */
const dir = join(root, "node_modules/.cache/foreman-run-worker-signals")

/** The `runWorker` block of docs/agents.md, as a user copies it. */
const snippet = (): string => {
  const doc = readFileSync(join(root, "docs/agents.md"), "utf8")
  const block = [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((code) => code.includes("runWorker("))
  if (block === undefined) throw new Error("docs/agents.md has no ts block calling runWorker")
  return block
}

/** Runs `code` as a module with node (bundled with the workspace's sources) in the caller's scope, its output collected. */
const program = (name: string, code: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `${name}.mts`)
      writeFileSync(file, code)
      const child = spawn(process.execPath, [await bundle(file)], {
        cwd: dir,
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("FOREMAN_"))),
          ...env
        }
      })
      const output = { text: "" }
      child.stdout.on("data", (chunk) => (output.text += String(chunk)))
      child.stderr.on("data", (chunk) => (output.text += String(chunk)))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      return { child, file, output, exited }
    }),
    ({ child, file }) =>
      Effect.sync(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        rmSync(file, { force: true })
      })
  )

/** The child's exit code, or a failure saying what it printed when it has not exited within `seconds`. */
const exitOf = (run: { readonly exited: Promise<number | null>; readonly output: { readonly text: string } }, seconds: number) =>
  Effect.promise(() => run.exited).pipe(
    Effect.timeoutFail({
      duration: Duration.seconds(seconds),
      onTimeout: () => new Error(`the worker did not exit within ${seconds} s; it printed:\n${run.output.text}`)
    })
  )

const signal = (child: ChildProcess, name: NodeJS.Signals) => Effect.sync(() => child.kill(name))

describe("runWorker as a process's main program", () => {
  for (const name of ["SIGTERM", "SIGINT"] as const) {
    it.scopedLive(`the docs/agents.md snippet drains, deregisters and exits 0 on ${name}`, () =>
      Effect.gen(function*() {
        const server = yield* startServer()
        const api = yield* server.client()
        const run = yield* program(`snippet-${name}`, snippet(), {
          FOREMAN_API_URL: server.baseUrl,
          FOREMAN_WORKER_ID: "snippet-1"
        })
        const registered = yield* waitUntil(api.workers.list({ urlParams: {} }), (ws) => ws.length === 1, run.output)
        assert.strictEqual(registered[0]!.id, "snippet-1")
        assert.strictEqual(registered[0]!.status, "available")
        yield* signal(run.child, name)
        yield* waitUntil(api.workers.list({ urlParams: {} }), (ws) => ws.length === 0, run.output)
        assert.strictEqual(yield* exitOf(run, 30), 0)
      }), 120_000)
  }

  it.scopedLive("deregisters on SIGTERM but leaves exiting to a program that handles the signal itself", () =>
    Effect.gen(function*() {
      const server = yield* startServer()
      const api = yield* server.client()
      const code = [
        `import { runWorker } from "@foreman/worker"`,
        `const worker = await runWorker({ type: "training", handlers: { training: async () => ({}) } })`,
        `process.on("SIGTERM", () => {`,
        `  void worker.stop().then(() => {`,
        `    console.log("stopped by the program")`,
        `    process.exit(7)`,
        `  })`,
        `})`
      ].join("\n")
      const run = yield* program("own-handler", code, { FOREMAN_API_URL: server.baseUrl })
      yield* waitUntil(api.workers.list({ urlParams: {} }), (ws) => ws.length === 1, run.output)
      yield* signal(run.child, "SIGTERM")
      yield* waitUntil(api.workers.list({ urlParams: {} }), (ws) => ws.length === 0, run.output)
      assert.strictEqual(yield* exitOf(run, 30), 7)
      assert.include(run.output.text, "stopped by the program")
    }), 120_000)
})

/** Asks `self` every 100 ms until `done` holds, for at most 60 s; the failure shows what the child printed. */
const waitUntil = <A, E, R>(self: Effect.Effect<A, E, R>, done: (a: A) => boolean, output: { readonly text: string }) =>
  Effect.gen(function*() {
    for (;;) {
      const value = yield* self
      if (done(value)) return value
      yield* Effect.sleep(Duration.millis(100))
    }
  }).pipe(
    Effect.timeoutFail({
      duration: Duration.seconds(60),
      onTimeout: () => new Error(`condition not reached in 60 s; the worker printed:\n${output.text}`)
    })
  )
