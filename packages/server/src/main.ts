/**
 * `foreman server`: the coordinator and its HTTP API. Stops cleanly on
 * SIGINT/SIGTERM (the loop, the API, and an embedded PostgreSQL, in order).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as Server from "./Server.js"

Effect.flatMap(Server.optionsFromEnv, (options) => Layer.launch(Server.layer(options))).pipe(
  NodeRuntime.runMain
)
