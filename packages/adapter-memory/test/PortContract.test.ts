import { Layer } from "effect"
import { portContract } from "@foreman/testing/PortContract"
import { MemoryAutopilotStore, MemoryBudgetLedger, MemoryLease, MemoryResearchStore, MemoryWorkerStore } from "../src/index.js"

portContract(
  "memory",
  () =>
    Layer.mergeAll(
      MemoryResearchStore.layer,
      MemoryWorkerStore.layer,
      MemoryBudgetLedger.layer,
      MemoryAutopilotStore.layer
    ).pipe(Layer.provideMerge(MemoryLease.layer))
)
