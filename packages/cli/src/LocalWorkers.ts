/**
 * Example workers as child processes of `foreman server --local-workers`.
 * Each child is this CLI's `worker` command on a free loopback port, pointed
 * at the server; it inherits the environment (so `FOREMAN_WORKER_TOKEN`
 * passes through). Children run in their own process group, so a terminal's
 * Ctrl+C reaches only the server, which then stops them with SIGTERM (they
 * drain) before it stops itself; they also exit on their own if the server
 * disappears. A child that dies unexpectedly is logged and restarted with
 * backoff (1 s doubling to 30 s).
 */
import { Console, Duration, Effect, Queue, Ref, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** How many workers of one type. */
export interface WorkerCount {
  readonly type: string
  readonly count: number
}

export interface Options {
  /** The coordinator the workers register with. */
  readonly apiUrl: string
  readonly workers: ReadonlyArray<WorkerCount>
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

/** `node <this package>/bin/foreman.mjs`. */
export const defaultCommand = (): { readonly executable: string; readonly args: ReadonlyArray<string> } => ({
  executable: process.execPath,
  args: [fileURLToPath(new URL("../bin/foreman.mjs", import.meta.url))]
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

    const spawnChild = (id: string, type: string) =>
      Effect.sync(() => {
        const child = spawn(
          command.executable,
          [
            ...command.args,
            // Workers' routine logs would drown the server's activity lines.
            "--log-level",
            "warning",
            "worker",
            "--type",
            type,
            "--id",
            id,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--api-url",
            options.apiUrl
          ],
          {
            env: { ...process.env, FOREMAN_PARENT_PID: String(process.pid) },
            stdio: ["ignore", "pipe", "pipe"],
            detached: true
          }
        )
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
          yield* Console.log(`Started ${type} worker ${id} (pid ${child.pid ?? "?"})`)
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
