/**
 * `foreman worker`: runs a worker process through `WorkerHost` — one of the
 * example workers by type, or the default export of the user's module — until
 * SIGINT/SIGTERM, then drains. It pulls its jobs from the coordinator (no
 * port) unless `--protocol push` has it serve them on `--host`/`--port`.
 * Settings come from the environment (`WorkerConfig`); flags override their
 * variables, and a bad value is told in one line naming the flag or the
 * variable it came from. With `--json`, stdout carries only the JSON line;
 * logs go to stderr. Its options are here; the worker host and the example
 * workers load only when the command runs (`workerRun.ts`).
 */
import { Command, Options } from "@effect/cli"
import type { exampleWorkers } from "@foreman/examples/workers"
import { Config, Effect } from "effect"
import { json, lazy } from "../internal/shared.js"

/** The example workers' types (every one, checked against `exampleWorkers` without loading them). */
export const exampleTypes = Object.keys({ training: true, backtest: true } satisfies Record<keyof typeof exampleWorkers, true>)

const optional = <A>(options: Options.Options<A>, description: string) =>
  options.pipe(Options.optional, Options.withDescription(description))

export const worker = Command.make(
  "worker",
  {
    json,
    type: optional(
      Options.text("type").pipe(Options.withFallbackConfig(Config.string("FOREMAN_WORKER_TYPE"))),
      `The worker type: ${exampleTypes.join(" or ")} for the example workers, any type with --module (env FOREMAN_WORKER_TYPE)`
    ),
    module: optional(
      Options.file("module", { exists: "yes" }),
      "Run the default export (a WorkerFunction) of this module instead of an example worker"
    ),
    apiUrl: optional(Options.text("api-url"), "The coordinator's URL (env FOREMAN_API_URL; default http://127.0.0.1:8000)"),
    protocol: optional(
      Options.choice("protocol", ["pull", "push"]),
      "pull: ask the coordinator for jobs, opening no port; push: serve them on --host and --port, the legacy protocol " +
        "(env FOREMAN_WORKER_PROTOCOL; default pull)"
    ),
    port: optional(
      Options.integer("port"),
      "Port a push worker listens on, 0 = any free port (env FOREMAN_WORKER_PORT; default 5003)"
    ),
    host: optional(
      Options.text("host"),
      "Address a push worker listens on, 0.0.0.0 to take jobs from other machines (env FOREMAN_WORKER_HOST; default 127.0.0.1)"
    ),
    id: optional(Options.text("id"), "The worker id (env FOREMAN_WORKER_ID; default <type>-worker-<8 hex>)"),
    capacity: optional(Options.integer("capacity"), "Jobs at once (env FOREMAN_WORKER_CAPACITY; default 1)")
  },
  (o) => Effect.flatMap(lazy(() => import("./workerRun.js")), (run) => run.worker(o))
).pipe(Command.withDescription("Run a worker: an example worker by --type, or your module's default export with --module"))
