import { Layer } from "effect"
import { portContract } from "@foreman/testing/PortContract"
import { MemoryAutopilotStore, MemoryBudgetLedger, MemoryLease, MemoryResearchStore, MemoryWorkerStore } from "../src/index.js"

portContract(
  "memory",
  () =>
    Layer.mergeAll(
      MemoryResearchStore.layer,
      MemoryBudgetLedger.layer,
      MemoryAutopilotStore.layer
    ).pipe(Layer.provideMerge(Layer.merge(MemoryLease.layer, MemoryWorkerStore.layer)))
)
