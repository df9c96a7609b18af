import { workerStatusContract } from "@foreman/testing/WorkerStatusContract"
import { MemoryWorkerStore } from "../src/index.js"

workerStatusContract("memory", () => MemoryWorkerStore.layer)
