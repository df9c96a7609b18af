/**
 * A training worker process running the example training function. Start a
 * coordinator (`npx foreman server`), then:
 *
 *   FOREMAN_API_URL=http://127.0.0.1:8000 npx tsx examples/src/training-worker.ts
 *
 * It listens on port 5003 (`FOREMAN_WORKER_PORT` to change it; run a second
 * worker on another port). Ctrl+C drains it: running jobs get 30 s to finish.
 */
import { WorkerHost } from "@foreman/worker"
import { exampleCapabilities, exampleWorkers } from "./workers.js"

WorkerHost.runNode(exampleWorkers.training, { type: "training", capabilities: exampleCapabilities })
