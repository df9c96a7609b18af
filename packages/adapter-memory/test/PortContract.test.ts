import { Layer } from "effect"
import { portContract } from "@foreman/testing/PortContract"
import { MemoryBudgetLedger, MemoryLease, MemoryResearchStore, MemoryWorkerStore } from "../src/index.js"

portContract(
  "memory",
  () =>
    Layer.mergeAll(
      MemoryResearchStore.layer,
      MemoryWorkerStore.layer,
      MemoryBudgetLedger.layer
    ).pipe(Layer.provideMerge(MemoryLease.layer))
)
