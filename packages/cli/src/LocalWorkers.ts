/**
 * Example workers as child processes of `foreman server --local-workers`.
 * Each child is a pull worker pointed at the server (it opens no port): by
 * default this CLI's `worker` command running the TypeScript example worker of
 * its type; with the Python runtime, the repository's
 * `examples/python/<type>_worker.py` under an interpreter that has
 * scikit-learn and pandas (`python`). A child inherits the environment (so
 * `FOREMAN_WORKER_TOKEN` and `FOREMAN_WORKER_CAPACITY` pass through). Children
 * run in their own process group, so a terminal's Ctrl+C reaches only the
 * server, which then stops them with SIGTERM (they drain) before it stops
 * itself; a TypeScript child also exits on its own if the server disappears.
 * A child that dies unexpectedly is logged and restarted with backoff (1 s
 * doubling to 30 s).
 */
import { Config, Console, Data, Duration, Effect, Option, Queue, Ref, type Scope } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** How many workers of one type. */
export interface WorkerCount {
  readonly type: string
  readonly count: number
}

/** Which example workers run: this CLI's TypeScript ones, or the repository's Python ones under `python`. */
export type Runtime =
  | { readonly _tag: "TypeScript" }
  | { readonly _tag: "Python"; readonly python: string }

export interface Options {
  /** The coordinator the workers register with. */
  readonly apiUrl: string
  readonly workers: ReadonlyArray<WorkerCount>
  /** TypeScript by default. */
  readonly runtime?: Runtime
  /** The program and leading arguments that run this CLI; by default `node <this package>/bin/foreman.mjs`. */
  readonly command?: { readonly executable: string; readonly args: ReadonlyArray<string> }
  /** How long a child gets to drain after SIGTERM before it is killed. */
  readonly stopTimeout?: Duration.DurationInput
  /** First pause before restarting a dead child; doubles up to 30 s. */
  readonly restartBackoff?: Duration.DurationInput
}

/** A started child, for tests and status lines. */
export interface LocalWorker {
  readonly id: string
  readonly type: string
  /** Its current process id (it changes when the child is restarted). */
  readonly pid: () => number | undefined
}

/**
 * This package's folder, the one with `bin/foreman.mjs`: this module runs from
 * `src/`, from the bundle in `dist/`, or from one of its chunks in `dist/chunks/`.
 */
const packageRoot = (): string => {
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "bin", "foreman.mjs"))) return dir
    if (dirname(dir) === dir) return dirname(start)
  }
}

/** `node <this package>/bin/foreman.mjs`. */
export const defaultCommand = (): { readonly executable: string; readonly args: ReadonlyArray<string> } => ({
  executable: process.execPath,
  args: [join(packageRoot(), "bin", "foreman.mjs")]
})

/** The repository this CLI package sits in (`<root>/packages/cli`). */
const repositoryRoot = (): string => join(packageRoot(), "..", "..")

/** The Python example worker of `type`. */
export const pythonWorker = (type: string): string => join(repositoryRoot(), "examples", "python", `${type}_worker.py`)

/** The Python runtime cannot run: no interpreter with what the workers import, or the workers are not there. */
export class PythonUnavailable extends Data.TaggedError("PythonUnavailable")<{ readonly message: string }> {}

/** Interpreters tried in order when `FOREMAN_PYTHON` is not set. */
export const pythonCandidates: ReadonlyArray<string> = ["/usr/bin/python3", "python3"]

/** Whether `python` runs and imports scikit-learn and pandas. */
const hasLibraries = (python: string): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const child = execFile(python, ["-c", "import sklearn, pandas"], { timeout: 60_000 }, (error) =>
      resume(Effect.succeed(error === null)))
    return Effect.sync(() => void child.kill())
  })

/**
 * The Python runtime for workers of `types`: `FOREMAN_PYTHON` when set, else
 * the first of `candidates` that imports scikit-learn and pandas. Fails with
 * one line when there is none, or when the repository's Python workers are not
 * beside this CLI.
 */
export const python = (
  types: ReadonlyArray<string>,
  candidates: ReadonlyArray<string> = pythonCandidates
): Effect.Effect<Runtime, PythonUnavailable> =>
  Effect.gen(function*() {
    const missing = types.map(pythonWorker).filter((script) => !existsSync(script))
    if (missing.length > 0) {
      return yield* new PythonUnavailable({
        message: `--worker-runtime python runs the repository's Python example workers: ${missing.join(", ")} not found`
      })
    }
    const configured = yield* Config.option(Config.nonEmptyString("FOREMAN_PYTHON")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )
    if (Option.isSome(configured)) return { _tag: "Python", python: configured.value } as const
    for (const candidate of candidates) {
      if (yield* hasLibraries(candidate)) return { _tag: "Python", python: candidate } as const
    }
    return yield* new PythonUnavailable({
      message: "--worker-runtime python needs a python3 with scikit-learn and pandas " +
        "(apt-get install python3-sklearn python3-pandas), or FOREMAN_PYTHON set to one"
    })
  })

const exited = (child: ChildProcess): Promise<{ readonly code: number | null; readonly signal: string | null }> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode })
      return
    }
    child.once("exit", (code, signal) => resolve({ code, signal }))
    child.once("error", () => resolve({ code: null, signal: null }))
  })

/**
 * Starts the workers in the current scope; closing the scope sends each
 * SIGTERM and waits for it to drain (SIGKILL after `stopTimeout`).
 */
export const start = (options: Options): Effect.Effect<ReadonlyArray<LocalWorker>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const command = options.command ?? defaultCommand()
    const runtime = options.runtime ?? { _tag: "TypeScript" }
    const stopTimeout = Duration.decode(options.stopTimeout ?? Duration.seconds(40))
    const firstBackoff = Duration.decode(options.restartBackoff ?? Duration.seconds(1))
    const stopping = yield* Ref.make(false)
    const children = new Map<string, ChildProcess>()
    // Children's output, one prefixed line at a time, printed through Console by one fiber.
    const lines = yield* Queue.unbounded<string>()
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(lines), Console.log)))

    const forward = (id: string, stream: NodeJS.ReadableStream | null) => {
      if (stream === null) return
      createInterface({ input: stream }).on("line", (line) => Queue.unsafeOffer(lines, `[${id}] ${line}`))
    }

    /** The program, its arguments and its settings for the worker `id` of `type`. */
    const invocation = (id: string, type: string) =>
      runtime._tag === "Python"
        ? {
          executable: runtime.python,
          args: [pythonWorker(type)],
          env: { FOREMAN_API_URL: options.apiUrl, FOREMAN_WORKER_ID: id, FOREMAN_WORKER_TYPE: type }
        }
        : {
          executable: command.executable,
          args: [
            ...command.args,
            // Workers' routine logs would drown the server's activity lines.
            "--log-level",
            "warning",
            "worker",
            "--type",
            type,
            "--id",
            id,
            "--protocol",
            "pull",
            "--api-url",
            options.apiUrl
          ],
          env: {}
        }

    const spawnChild = (id: string, type: string) =>
      Effect.sync(() => {
        const { args, env, executable } = invocation(id, type)
        const child = spawn(executable, args, {
          env: { ...process.env, ...env, FOREMAN_PARENT_PID: String(process.pid) },
          stdio: ["ignore", "pipe", "pipe"],
          detached: true
        })
        forward(id, child.stdout)
        forward(id, child.stderr)
        children.set(id, child)
        return child
      })

    /** Runs one worker, restarting it when it dies, until the scope closes. */
    const supervise = (id: string, type: string) =>
      Effect.gen(function*() {
        let backoff = firstBackoff
        for (;;) {
          const started = Date.now()
          const child = yield* spawnChild(id, type)
          const language = runtime._tag === "Python" ? "python, " : ""
          yield* Console.log(`Started ${type} worker ${id} (${language}pid ${child.pid ?? "?"})`)
          const exit = yield* Effect.promise(() => exited(child))
          if (yield* Ref.get(stopping)) return
          // A child that ran a while had a transient problem: start again from the shortest pause.
          if (Date.now() - started > 60_000) backoff = firstBackoff
          const how = exit.signal === null ? `with code ${exit.code ?? "?"}` : `by ${exit.signal}`
          yield* Console.error(`Worker ${id} exited unexpectedly ${how}; restarting in ${Duration.format(backoff)}`)
          yield* Effect.sleep(backoff)
          if (yield* Ref.get(stopping)) return
          backoff = Duration.min(Duration.times(backoff, 2), Duration.seconds(30))
        }
      })

    const stopAll = Effect.gen(function*() {
      yield* Ref.set(stopping, true)
      const running = Array.from(children.entries()).filter(([, c]) => c.exitCode === null && c.signalCode === null)
      if (running.length === 0) return
      yield* Console.log(`Stopping ${running.length} local worker${running.length === 1 ? "" : "s"} (they drain first)…`)
      yield* Effect.forEach(running, ([id, child]) =>
        Effect.gen(function*() {
          child.kill("SIGTERM")
          const done = yield* Effect.promise(() => exited(child)).pipe(Effect.timeoutOption(stopTimeout))
          if (done._tag === "None") {
            child.kill("SIGKILL")
            yield* Console.error(`Worker ${id} did not stop within ${Duration.format(stopTimeout)}: killed`)
          }
        }), { concurrency: "unbounded", discard: true })
      yield* Console.log("Local workers stopped")
    })

    const started: Array<LocalWorker> = []
    for (const { count, type } of options.workers) {
      for (let i = 1; i <= count; i++) {
        const id = `${type}-${i}`
        yield* Effect.forkScoped(supervise(id, type))
        started.push({ id, type, pid: () => children.get(id)?.pid })
      }
    }
    // Added last, so it runs first when the scope closes: the supervisors see `stopping`.
    yield* Effect.addFinalizer(() => stopAll)
    return started
  })
