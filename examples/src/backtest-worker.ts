/**
 * A backtest worker process running the example backtest function. Start a
 * coordinator (`npx foreman server`), then, on a port the training worker does
 * not use:
 *
 *   FOREMAN_API_URL=http://127.0.0.1:8000 FOREMAN_WORKER_PORT=5004 npx tsx examples/src/backtest-worker.ts
 *
 * Ctrl+C drains it: running jobs get 30 s to finish.
 */
import { WorkerHost } from "@foreman/worker"
import { exampleCapabilities, exampleWorkers } from "./workers.js"

WorkerHost.runNode(exampleWorkers.backtest, { type: "backtest", capabilities: exampleCapabilities })
